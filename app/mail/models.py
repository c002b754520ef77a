"""The outbox: every mail is written here in the transaction of the event that causes it,
and a worker sends it afterwards, so a rolled-back request never mails anyone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, created_at, intpk


class OutboxMail(Base):
    __tablename__ = "mail_outbox"
    __table_args__ = (
        # The worker's question: what is still to send, oldest first.
        Index(None, "sent_at", "id"),
    )

    id: Mapped[intpk]
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: What the mail is about (verify_email, password_reset, notification, digest, ...).
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[created_at]
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A worker claimed it and is sending it until then; after that, another may try.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    #: Extra header fields, e.g. List-Unsubscribe on notification mail (RFC 2369, RFC 8058).
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
