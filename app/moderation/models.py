"""Tables of the moderation domain: members' flags on comments and works."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import Base, UTCDateTime, created_at, intpk, str_enum


class FlagResolution(enum.StrEnum):
    hidden = "hidden"
    dismissed = "dismissed"


class Flag(Base):
    """A member's report that a comment or a work breaks the rules; one per member and item."""

    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("comment_id", "flagger_id"),
        UniqueConstraint("work_id", "flagger_id"),
        CheckConstraint("(comment_id IS NULL) <> (work_id IS NULL)", name="one_target"),
        # The moderators' queue: a community's open flags, oldest first.
        Index(None, "community_id", "resolved_at", "id"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    flagger_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[created_at]
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[FlagResolution | None] = mapped_column(str_enum(FlagResolution))

    flagger: Mapped[User | None] = relationship(foreign_keys=[flagger_id], lazy="joined")
