"""A deep link opened before onboarding is complete is kept on the user and followed after it.

Reviewed by hand: `app_user.pending_start` is a nullable String(64) (64 is Telegram's limit for
a `/start` parameter), so every existing user stays as they are (nothing pending). The bot
stores the `/start <prefix>-<code>` payload there while the person has not finished onboarding
(a second link replaces the first), and clears it in the transaction that takes it once the last
step is done; being on the user row, it survives a restart mid-onboarding and goes with the row
on /delete_my_data. No index: it is only read with the user it belongs to.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:01:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("pending_start", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("pending_start")
