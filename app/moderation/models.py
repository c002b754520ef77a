"""Tables of the moderation domain: members' flags, and appeals against moderators' decisions.

Warnings, suspensions and the public log live with the communities (`app.communities.models`):
every domain below this one checks suspensions and writes the log.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.communities.models import Suspension
from app.db import Base, UTCDateTime, created_at, intpk, str_enum


class FlagResolution(enum.StrEnum):
    hidden = "hidden"
    dismissed = "dismissed"
    #: A flagged proposal's thread was locked.
    locked = "locked"


class Flag(Base):
    """A member's report that a comment, a work or a proposal breaks the rules; one per member
    and item."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("comment_id", "flagger_id"),
        UniqueConstraint("work_id", "flagger_id"),
        UniqueConstraint("proposal_id", "flagger_id"),
        CheckConstraint(
            "(CASE WHEN comment_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN work_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN proposal_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
        # The moderators' queue: a community's open flags, oldest first.
        Index(None, "community_id", "resolved_at", "id"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    flagger_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[created_at]
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[FlagResolution | None] = mapped_column(str_enum(FlagResolution))

    flagger: Mapped[User | None] = relationship(foreign_keys=[flagger_id], lazy="joined")


class AppealDecision(enum.StrEnum):
    granted = "granted"
    denied = "denied"


class Appeal(Base):
    """A member asks the moderators, once, to undo a hide of their comment or work, or their
    suspension. The message is private; the decision and its reason go in the public log."""

    __tablename__ = "appeals"
    __table_args__ = (
        # Once per decision appealed: whoever appeals, an item or a suspension has one appeal.
        UniqueConstraint("comment_id"),
        UniqueConstraint("work_id"),
        UniqueConstraint("suspension_id"),
        CheckConstraint(
            "(CASE WHEN comment_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN work_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN suspension_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_target",
        ),
        # The queue: a community's open appeals, oldest first.
        Index(None, "community_id", "decided_at", "id"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    appellant_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    suspension_id: Mapped[int | None] = mapped_column(
        ForeignKey("suspensions.id", ondelete="CASCADE")
    )
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created_at]
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision: Mapped[AppealDecision | None] = mapped_column(str_enum(AppealDecision))
    decision_reason: Mapped[str] = mapped_column(String(500), default="")

    appellant: Mapped[User] = relationship(foreign_keys=[appellant_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")
    suspension: Mapped[Suspension | None] = relationship(lazy="joined")

    @property
    def kind(self) -> str:
        if self.comment_id is not None:
            return "comment"
        return "work" if self.work_id is not None else "suspension"
