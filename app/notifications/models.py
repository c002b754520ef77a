"""Tables of notifications: what each member is told, and how they want to hear it."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import i18n
from app.accounts.models import User
from app.communities.models import Community
from app.db import Base, UTCDateTime, created_at, intpk, str_enum
from app.i18n import N_


class Kind(enum.StrEnum):
    reply = "reply"
    proposal_state = "proposal_state"
    poll_opened = "poll_opened"
    poll_closing = "poll_closing"
    objection = "objection"
    new_round = "new_round"
    guidelines = "guidelines"
    moderation = "moderation"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    Kind.reply: N_("Replies to my comments"),
    Kind.proposal_state: N_("Changes of state of proposals I follow"),
    Kind.poll_opened: N_("Polls opening on proposals I follow"),
    Kind.poll_closing: N_("Polls closing within a day that I have not voted in"),
    Kind.objection: N_("Objections to my proposals"),
    Kind.new_round: N_("New rounds of polls I voted in"),
    Kind.guidelines: N_("New versions of my communities' guidelines"),
    Kind.moderation: N_("Moderators' actions on what I wrote"),
}


class Delivery(enum.StrEnum):
    in_app = "in_app"
    email = "email"
    digest = "digest"

    @property
    def label(self) -> str:
        return DELIVERY_LABELS[self]


DELIVERY_LABELS = {
    Delivery.in_app: N_("In the app only"),
    Delivery.email: N_("By email at once"),
    Delivery.digest: N_("In a daily email digest"),
}


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # A member's list, newest first, and their unread count.
        Index(None, "user_id", "id"),
        Index(None, "user_id", "read_at"),
        # The worker's question: what still has to be mailed.
        Index(None, "mailed_at", "id"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[Kind] = mapped_column(str_enum(Kind))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE")
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: One sentence, written in English when the event happened ("Rin replied to your comment
    #: on ..."): what is shown of notifications older than `message`.
    text: Mapped[str] = mapped_column(String(300))
    #: The sentence as a message id (English, with `%(name)s` placeholders) and the values that
    #: fill it, so that each reader reads it in their own language (see `rendered`).
    message: Mapped[str | None] = mapped_column(String(300))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Where it leads, a path on this site.
    url: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[created_at]
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set once mailed at once or in a digest (or when mail does not apply), so never twice.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    community: Mapped[Community | None] = relationship(lazy="joined")

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def rendered(self) -> str:
        """The sentence in the current language (its English `text` when it has no message)."""
        if not self.message:
            return self.text
        try:
            return render(self.message, self.params or {})
        except (KeyError, TypeError, ValueError):
            # A row out of step with the catalogs must not break the page: its English text.
            return self.text


def render(message: str, params: Mapping[str, Any]) -> str:
    """A notification's message in the current language, filled with its values: a value
    whose name ends in `_at` is a moment (ISO 8601), written the reader's way."""
    values: dict[str, object] = {}
    for name, value in params.items():
        if name.endswith("_at") and isinstance(value, str):
            try:
                values[name] = i18n.date_time(datetime.fromisoformat(value))
                continue
            except ValueError:
                pass
        values[name] = value
    return i18n.gettext(message, **values)


class Preference(Base):
    """How a member hears of notifications; a row per member who chose (none: in the app only)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    delivery: Mapped[Delivery] = mapped_column(str_enum(Delivery), default=Delivery.in_app)
    #: Kinds never mailed (comma-separated), set by one-click unsubscribe links.
    muted_kinds: Mapped[str] = mapped_column(String(300), default="")
    #: When the last daily digest went out.
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def muted(self) -> frozenset[Kind]:
        return muted_set(self.muted_kinds)


def muted_set(stored: str) -> frozenset[Kind]:
    """The kinds in a stored `muted_kinds` value (names no longer known are ignored)."""
    return frozenset(Kind(name) for name in stored.split(",") if name in Kind.__members__)


def muted_text(kinds: frozenset[Kind] | set[Kind]) -> str:
    """How a set of muted kinds is stored: sorted, so that equal sets compare equal."""
    return ",".join(sorted(kind.value for kind in kinds))


class PollReminder(Base):
    """A poll whose "closes within a day" reminders were written: one row, so they go out once
    even when several workers look at the same moment (the primary key decides)."""

    __tablename__ = "notification_poll_reminders"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    reminded_at: Mapped[datetime] = mapped_column(UTCDateTime)
