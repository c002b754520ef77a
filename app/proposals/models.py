"""Tables of the proposals domain."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.communities.models import Category, Community
from app.db import Base, UTCDateTime, created_at, intpk, str_enum, timestamp
from app.i18n import N_
from app.works.models import Work


class ProposalState(enum.StrEnum):
    draft = "draft"
    deliberation = "deliberation"
    voting = "voting"
    passed = "passed"
    rejected = "rejected"
    withdrawn = "withdrawn"
    ratified = "ratified"

    @property
    def label(self) -> str:
        """The state's name in English, marked for the catalogs: pages show `_(label)`."""
        return STATE_LABELS[self]


STATE_LABELS = {
    ProposalState.draft: N_("Draft"),
    ProposalState.deliberation: N_("Deliberation"),
    ProposalState.voting: N_("Voting"),
    ProposalState.passed: N_("Passed"),
    ProposalState.rejected: N_("Rejected"),
    ProposalState.withdrawn: N_("Withdrawn"),
    ProposalState.ratified: N_("Ratified"),
}


class ProposalKind(enum.StrEnum):
    new = "new"
    amend = "amend"
    repeal = "repeal"


class AuthorRole(enum.StrEnum):
    author = "author"
    coauthor = "coauthor"


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (
        # One index per sort of the list page (newest, recently active, closing soon).
        Index(None, "community_id", "listed_at"),
        Index(None, "community_id", "last_activity_at"),
        Index(None, "community_id", "deadline_at"),
        # The list's state and language filters: a rare one starts from its few ids.
        Index(None, "community_id", "state"),
        Index(None, "community_id", "language"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[ProposalKind] = mapped_column(str_enum(ProposalKind), default=ProposalKind.new)
    target_clause: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[ProposalState] = mapped_column(
        str_enum(ProposalState), default=ProposalState.draft
    )
    # The current text, copied from the latest revision so lists and search need no join.
    title: Mapped[str] = mapped_column(String(140))
    summary: Mapped[str] = mapped_column(String(500), default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    norm_text: Mapped[str] = mapped_column(Text, default="")
    revision_number: Mapped[int] = mapped_column(Integer, default=1)
    #: The language it is written in (`app.i18n.CONTENT_LANGUAGES`); None: not recorded.
    language: Mapped[str | None] = mapped_column(String(16))

    created_at: Mapped[created_at]
    # When it entered the list: creation for drafts, publication after that.
    listed_at: Mapped[timestamp]
    last_activity_at: Mapped[timestamp]
    # The next deadline: the end of the minimum deliberation, later the poll's closing time.
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_may_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ratified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    community: Mapped[Community] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")
    tags: Mapped[list[ProposalTag]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="ProposalTag.tag"
    )

    @property
    def tag_names(self) -> list[str]:
        # Sorted here too: tags just assigned in memory are not in the loader's order yet.
        return sorted(t.tag for t in self.tags)


class ProposalTag(Base):
    __tablename__ = "proposal_tags"
    __table_args__ = (Index(None, "tag"),)

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)


class ProposalAuthor(Base):
    """The author and the co-authors: who may edit, and who is credited."""

    __tablename__ = "proposal_authors"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[AuthorRole] = mapped_column(str_enum(AuthorRole))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[created_at]

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class Revision(Base):
    """An immutable version of a proposal's text; every edit makes one."""

    __tablename__ = "proposal_revisions"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(140))
    summary: Mapped[str] = mapped_column(String(500))
    rationale: Mapped[str] = mapped_column(Text)
    norm_text: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(String(300), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    author: Mapped[User | None] = relationship(lazy="joined")


class EventKind(enum.StrEnum):
    created = "created"
    edited = "edited"
    published = "published"
    withdrawn = "withdrawn"
    coauthor_added = "coauthor_added"
    coauthor_removed = "coauthor_removed"
    recategorized = "recategorized"
    locked = "locked"
    unlocked = "unlocked"
    poll_opened = "poll_opened"
    round_started = "round_started"
    objection_ruled = "objection_ruled"
    poll_closed = "poll_closed"
    ratified = "ratified"
    returned = "returned"


class ProposalEvent(Base):
    """Append-only log of what happened to a proposal, shown as its timeline."""

    __tablename__ = "proposal_events"
    __table_args__ = (Index(None, "proposal_id", "created_at"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(String(500), default="")
    revision_number: Mapped[int | None]
    created_at: Mapped[created_at]

    actor: Mapped[User | None] = relationship(lazy="joined")


class Follow(Base):
    __tablename__ = "proposal_follows"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[created_at]


class ExhibitStance(enum.StrEnum):
    acceptable = "acceptable"
    unacceptable = "unacceptable"
    borderline = "borderline"

    @property
    def label(self) -> str:
        """The stance's name in English, marked for the catalogs: pages show `_(label)`."""
        return STANCE_LABELS[self]


STANCE_LABELS = {
    ExhibitStance.acceptable: N_("Acceptable"),
    ExhibitStance.unacceptable: N_("Unacceptable"),
    ExhibitStance.borderline: N_("Borderline"),
}


class Exhibit(Base):
    """A work attached to a proposal as an example, with the stance it illustrates."""

    __tablename__ = "exhibits"
    __table_args__ = (UniqueConstraint("proposal_id", "work_id"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    stance: Mapped[ExhibitStance] = mapped_column(str_enum(ExhibitStance))
    note: Mapped[str] = mapped_column(String(1000), default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    work: Mapped[Work] = relationship(lazy="joined")
    added_by: Mapped[User | None] = relationship(lazy="joined")
