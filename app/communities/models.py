"""Tables of the communities domain."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.accounts.models import User
from app.db import Base, UTCDateTime, created_at, intpk, str_enum
from app.i18n import N_


class Role(enum.StrEnum):
    fan = "fan"
    creator = "creator"
    rights_holder = "rights_holder"
    moderator = "moderator"

    @property
    def label(self) -> str:
        """The English name; pages show it translated (`_(role.label)`)."""
        return ROLE_LABELS[self]

    @property
    def plural_label(self) -> str:
        """The English name of the role's members as a group ("Fans"), to translate likewise."""
        return ROLE_PLURAL_LABELS[self]


ROLE_LABELS = {
    Role.fan: N_("Fan"),
    Role.creator: N_("Creator"),
    Role.rights_holder: N_("Rights holder"),
    Role.moderator: N_("Moderator"),
}

ROLE_PLURAL_LABELS = {
    Role.fan: N_("Fans"),
    Role.creator: N_("Creators"),
    Role.rights_holder: N_("Rights holders"),
    Role.moderator: N_("Moderators"),
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
    #: The language its guidelines are written in and authoritative in (BCP 47, one of
    #: `app.i18n.CONTENT_LANGUAGES`); translations of clauses are into other languages.
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")


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


class LogAction(enum.StrEnum):
    """What a moderator did, as the public moderation log names it."""

    role_changed = "role_changed"
    comment_hidden = "comment_hidden"
    comment_restored = "comment_restored"
    work_hidden = "work_hidden"
    work_restored = "work_restored"
    proposal_locked = "proposal_locked"
    proposal_unlocked = "proposal_unlocked"
    objection_ruled = "objection_ruled"
    proposal_ratified = "proposal_ratified"
    proposal_returned = "proposal_returned"
    member_warned = "member_warned"
    member_suspended = "member_suspended"
    suspension_lifted = "suspension_lifted"
    appeal_granted = "appeal_granted"
    appeal_denied = "appeal_denied"

    @property
    def label(self) -> str:
        """The English words; pages show them translated (`_(action.label)`)."""
        return LOG_ACTION_LABELS[self]


LOG_ACTION_LABELS = {
    LogAction.role_changed: N_("changed a member's role"),
    LogAction.comment_hidden: N_("hid a comment"),
    LogAction.comment_restored: N_("restored a comment"),
    LogAction.work_hidden: N_("hid a work"),
    LogAction.work_restored: N_("restored a work"),
    LogAction.proposal_locked: N_("locked a proposal"),
    LogAction.proposal_unlocked: N_("unlocked a proposal"),
    LogAction.objection_ruled: N_("ruled an objection not paramount"),
    LogAction.proposal_ratified: N_("ratified a proposal"),
    LogAction.proposal_returned: N_("returned a proposal to deliberation"),
    LogAction.member_warned: N_("warned a member"),
    LogAction.member_suspended: N_("suspended a member"),
    LogAction.suspension_lifted: N_("lifted a suspension"),
    LogAction.appeal_granted: N_("granted an appeal"),
    LogAction.appeal_denied: N_("denied an appeal"),
}


class ModerationLogEntry(Base):
    """One moderator action in the community's public log: who, when, what, and why.

    Append-only: the migration installs triggers that refuse UPDATE and DELETE on this table,
    on SQLite and PostgreSQL alike. Its foreign keys have no ON DELETE action for the same
    reason: a row the log names cannot be deleted from under it. Private details (who
    flagged, a warning's text, an appeal's message) are never written here.
    """

    __tablename__ = "moderation_log"
    # The log is read newest first, a page at a time, per community.
    __table_args__ = (Index(None, "community_id", "id"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    action: Mapped[LogAction] = mapped_column(str_enum(LogAction, length=32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The member the action concerns (a role, a suspension, the author of a hidden item);
    # the public log shows it only where the action is public anyway.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    # A public detail in a few words: "fan → creator", "until 2026-12-12 10:00 UTC".
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[created_at]

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    member: Mapped[User | None] = relationship(foreign_keys=[member_id], lazy="joined")


class Suspension(Base):
    """A member barred from posting, voting and flagging in one community until `ends_at`.

    Kept apart from the membership, so that leaving and joining again does not shed it.
    """

    __tablename__ = "suspensions"
    __table_args__ = (Index(None, "community_id", "user_id", "ends_at"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    suspended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[created_at]
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lift_reason: Mapped[str] = mapped_column(String(500), default="")

    member: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    suspended_by: Mapped[User | None] = relationship(foreign_keys=[suspended_by_id], lazy="joined")
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id], lazy="joined")
    community: Mapped[Community] = relationship(lazy="joined")

    def is_active(self, now: datetime) -> bool:
        return self.lifted_at is None and now < self.ends_at

    @property
    def ended_at(self) -> datetime:
        """When it stopped (or stops) applying: lifted early, or at its end."""
        return self.lifted_at if self.lifted_at is not None else self.ends_at


class MemberWarning(Base):
    """A moderator's private message to a member, shown to them until they acknowledge it."""

    __tablename__ = "member_warnings"
    __table_args__ = (Index(None, "user_id", "acknowledged_at"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    warned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Private: only the member and the community's moderators read it.
    message: Mapped[str] = mapped_column(Text)
    # Public, optional: what the public log says about it.
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[created_at]
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # `user.moderation_warnings` lets the page header show a member's unread warnings without
    # the accounts domain knowing about moderation.
    member: Mapped[User] = relationship(
        foreign_keys=[user_id],
        lazy="joined",
        backref=backref("moderation_warnings", order_by="MemberWarning.id", lazy="select"),
    )
    warned_by: Mapped[User | None] = relationship(foreign_keys=[warned_by_id], lazy="joined")
    community: Mapped[Community] = relationship(lazy="joined")
