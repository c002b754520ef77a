"""Tables of the communities domain."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import Base, UTCDateTime, created_at, intpk, str_enum


class Role(enum.StrEnum):
    fan = "fan"
    creator = "creator"
    rights_holder = "rights_holder"
    moderator = "moderator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.fan: "Fan",
    Role.creator: "Creator",
    Role.rights_holder: "Rights holder",
    Role.moderator: "Moderator",
}


def role_column(*, nullable: bool = False) -> Mapped[Role]:
    return mapped_column(
        str_enum(Role, length=16),
        nullable=nullable,
    )


class Community(Base):
    __tablename__ = "communities"

    id: Mapped[intpk]
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Voting on a proposal may open only this long after it was published.
    min_deliberation_hours: Mapped[int] = mapped_column(default=72, server_default="72")
    # A comment or work flagged by this many different members is hidden pending review;
    # 0 turns automatic hiding off.
    flag_hide_threshold: Mapped[int] = mapped_column(default=3, server_default="3")
    # A passed proposal becomes a guideline once a moderator ratifies it, and, when this is
    # set, a rights holder co-signs it too.
    ratification_requires_rights_holder: Mapped[bool] = mapped_column(
        default=False, server_default=false()
    )


class Category(Base):
    """A heading proposals are filed under (and, later, a section of the guidelines)."""

    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("community_id", "slug"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(default=0)
    # Archived categories keep their proposals but take no new ones.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Membership(Base):
    __tablename__ = "memberships"
    # The unique pair also serves every lookup by community.
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = role_column()
    joined_at: Mapped[created_at]

    user: Mapped[User] = relationship(lazy="joined")
    community: Mapped[Community] = relationship(lazy="joined")


class RoleChange(Base):
    """Append-only record of joins, leaves and role changes: who, when, why."""

    __tablename__ = "role_changes"

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # None as the old role is a join; None as the new role is a leave.
    old_role: Mapped[Role | None] = role_column(nullable=True)
    new_role: Mapped[Role | None] = role_column(nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id], lazy="joined")
