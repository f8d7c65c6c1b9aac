"""Broadcasts and their outbox: one row per message to send, with its delivery state.

A broadcast is written once (its content in one or more languages, its audience) and its
recipients are snapshotted into `delivery` rows when the sender confirms. Sending claims a
delivery (`pending` -> `sending`) before calling Telegram and records the outcome after, so a
crash or restart resumes where it stopped and nobody gets the same broadcast twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime


class Broadcast(IdMixin, TimestampMixin, Base):
    """A message for an audience: draft, scheduled, sending, done or cancelled."""

    __tablename__ = "broadcast"

    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="draft")
    audience_kind: Mapped[str | None] = mapped_column(String(16))
    audience_ref: Mapped[str | None] = mapped_column(String(32))
    # "text", "photo" or "document"; texts maps language -> HTML text (or caption).
    content_kind: Mapped[str | None] = mapped_column(String(16))
    texts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    file_id: Mapped[str | None] = mapped_column(String(256))
    file_name: Mapped[str | None] = mapped_column(String(256))
    # [{"label": {"kk": ..., "ru": ..., "en": ...}, "url": "https://..."}]
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Where the sender's progress message lives, so a restarted bot keeps editing it.
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)


class Delivery(IdMixin, Base):
    """One recipient of one broadcast: pending, sending, sent, failed, skipped or uncertain."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_id"),
        Index("ix_delivery_broadcast_id_state", "broadcast_id", "state"),
    )

    broadcast_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("broadcast.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("app_user.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # This recipient's own message, when it differs per recipient (a lesson, a nudge):
    # {"text": ..., "buttons": [{"label": ..., "data" or "url": ...}]}; None: the broadcast's.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
