"""Users, universities, roles and invites; seed the consortium's universities.

Reviewed by hand: booleans default with sa.true() so PostgreSQL accepts them, and the six
member universities are inserted here once, so an admin who later hides one does not see it
come back at the next start.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 21:44:16.325500
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEED_UNIVERSITIES = [
    (
        "dulaty",
        "KZ",
        "M.Kh. Dulaty Taraz Regional University",
        "Таразский региональный университет имени М.Х. Дулати",
        "М.Х. Дулати атындағы Тараз өңірлік университеті",
    ),
    (
        "zhetysu",
        "KZ",
        "Zhetysu University named after I. Zhansugurov",
        "Жетысуский университет имени И. Жансугурова",
        "І. Жансүгіров атындағы Жетісу университеті",
    ),
    (
        "arkalyk",
        "KZ",
        "Y. Altynsarin Arkalyk Pedagogical Institute",
        "Аркалыкский педагогический институт имени И. Алтынсарина",
        "Ы. Алтынсарин атындағы Арқалық педагогикалық институты",
    ),
    (
        "kokshetau",
        "KZ",
        "Sh. Ualikhanov Kokshetau University",
        "Кокшетауский университет имени Ш. Уалиханова",
        "Ш. Уәлиханов атындағы Көкшетау университеті",
    ),
    (
        "shadrinsk",
        "RU",
        "Shadrinsk State Pedagogical University",
        "Шадринский государственный педагогический университет",
        "Шадринск мемлекеттік педагогикалық университеті",
    ),
    (
        "tspu",
        "UZ",
        "Tashkent State Pedagogical University named after Nizami",
        "Ташкентский государственный педагогический университет имени Низами",
        "Низами атындағы Ташкент мемлекеттік педагогикалық университеті",
    ),
]


def upgrade() -> None:
    op.create_table(
        "university",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_ru", sa.String(length=200), nullable=False),
        sa.Column("name_kk", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "created_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_university")),
        sa.UniqueConstraint("code", name=op.f("uq_university_code")),
    )
    op.create_table(
        "app_user",
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.String(length=128), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("telegram_language", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=True),
        sa.Column("consent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "university_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("group_name", sa.String(length=200), nullable=True),
        sa.Column("awaiting", sa.String(length=32), nullable=True),
        sa.Column("onboarded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reachable", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "created_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["university.id"],
            name=op.f("fk_app_user_university_id_university"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_app_user_telegram_id")),
    )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_app_user_university_id"), ["university_id"], unique=False
        )

    op.create_table(
        "invite",
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "university_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "created_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_invite_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["university.id"],
            name=op.f("fk_invite_university_id_university"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite")),
        sa.UniqueConstraint("code", name=op.f("uq_invite_code")),
    )
    op.create_table(
        "user_role",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column(
            "university_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "granted_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "created_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            models.base.UTCDateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["app_user.id"],
            name=op.f("fk_user_role_granted_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["university.id"],
            name=op.f("fk_user_role_university_id_university"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_user_role_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_role")),
        sa.UniqueConstraint("user_id", "role", name=op.f("uq_user_role_user_id_role")),
    )
    op.create_table(
        "invite_use",
        sa.Column(
            "invite_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("used_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["invite_id"],
            ["invite.id"],
            name=op.f("fk_invite_use_invite_id_invite"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_invite_use_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_use")),
        sa.UniqueConstraint("invite_id", "user_id", name=op.f("uq_invite_use_invite_id_user_id")),
    )

    university = sa.table(
        "university",
        sa.column("code", sa.String),
        sa.column("country", sa.String),
        sa.column("name_en", sa.String),
        sa.column("name_ru", sa.String),
        sa.column("name_kk", sa.String),
    )
    op.bulk_insert(
        university,
        [
            {"code": code, "country": country, "name_en": en, "name_ru": ru, "name_kk": kk}
            for code, country, en, ru, kk in SEED_UNIVERSITIES
        ],
    )


def downgrade() -> None:
    op.drop_table("invite_use")
    op.drop_table("user_role")
    op.drop_table("invite")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_user_university_id"))

    op.drop_table("app_user")
    op.drop_table("university")
