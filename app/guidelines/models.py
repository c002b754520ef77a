"""Tables of the guidelines domain: the published document, its versions, clauses and their
versions with provenance and credits, and ratifications."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import Base, UTCDateTime, created_at, intpk, str_enum, timestamp
from app.i18n import N_
from app.proposals.models import Proposal


class Source(enum.StrEnum):
    imported = "imported"
    ratified = "ratified"


class Change(enum.StrEnum):
    added = "added"
    amended = "amended"
    repealed = "repealed"
    imported = "imported"


class Credit(enum.StrEnum):
    proposer = "proposer"
    coauthor = "coauthor"
    amender = "amender"
    objector = "objector"
    ratifier = "ratifier"

    @property
    def label(self) -> str:
        return CREDIT_LABELS[self]


CREDIT_LABELS = {
    Credit.proposer: N_("Proposed by"),
    Credit.coauthor: N_("Co-authored by"),
    Credit.amender: N_("Amended by"),
    Credit.objector: N_("Improved by the objection of"),
    Credit.ratifier: N_("Ratified by"),
}


class Decision(enum.StrEnum):
    ratify = "ratify"
    send_back = "return"


class Section(Base):
    """A numbered section of a community's guidelines: one per proposal category."""

    __tablename__ = "guideline_sections"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(80))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[created_at]


class Clause(Base):
    """A numbered clause (`3.2`); its text lives in its versions. Numbers are never reused."""

    __tablename__ = "guideline_clauses"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(ForeignKey("guideline_sections.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(16))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(140))
    created_at: Mapped[created_at]

    section: Mapped[Section] = relationship(lazy="joined")


class ClauseTag(Base):
    """An applicability tag moderators put on a clause (a medium, commercial use, AI)."""

    __tablename__ = "guideline_clause_tags"

    clause_id: Mapped[int] = mapped_column(
        ForeignKey("guideline_clauses.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class DocumentVersion(Base):
    """One published state of a community's guidelines; every change makes the next one."""

    __tablename__ = "guideline_versions"
    __table_args__ = (UniqueConstraint("community_id", "number"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    number: Mapped[int]
    source: Mapped[Source] = mapped_column(str_enum(Source))
    # The changelog entry, in words.
    summary: Mapped[str] = mapped_column(String(500))
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="SET NULL"), index=True
    )
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[timestamp]

    published_by: Mapped[User | None] = relationship(lazy="joined")
    proposal: Mapped[Proposal | None] = relationship(lazy="joined")


class ClauseVersion(Base):
    """A clause's text from one document version until the next change, with provenance.

    A repeal is a version too (`change` repealed, no text in force), so a clause's history
    says who repealed it and why.
    """

    __tablename__ = "guideline_clause_versions"
    __table_args__ = (
        UniqueConstraint("clause_id", "version"),
        # The current document: versions nothing superseded yet. Its cost follows the number
        # of current clauses, whatever the history behind them.
        Index(None, "community_id", "to_version"),
        Index(None, "community_id", "from_version"),
    )

    id: Mapped[intpk]
    clause_id: Mapped[int] = mapped_column(ForeignKey("guideline_clauses.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    version: Mapped[int]
    change: Mapped[Change] = mapped_column(str_enum(Change))
    text: Mapped[str] = mapped_column(Text)
    from_version: Mapped[int]
    to_version: Mapped[int | None]
    effective_from: Mapped[timestamp]
    effective_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Provenance: where the text came from and how the community consented to it.
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="SET NULL"), index=True
    )
    revision_number: Mapped[int | None]
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("polls.id", ondelete="SET NULL"))
    tally: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    objections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The language of `text`: the authoritative one, which translations are made from.
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")

    clause: Mapped[Clause] = relationship(lazy="joined")
    proposal: Mapped[Proposal | None] = relationship(lazy="joined")

    @property
    def in_force(self) -> bool:
        return self.change != Change.repealed


class ClauseCredit(Base):
    """Who shaped a clause version, and how: the negotiated authorship the guidelines credit."""

    __tablename__ = "guideline_credits"
    __table_args__ = (UniqueConstraint("clause_version_id", "user_id", "credit"),)

    id: Mapped[intpk]
    clause_version_id: Mapped[int] = mapped_column(
        ForeignKey("guideline_clause_versions.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The name as it was credited, kept if the account goes.
    name: Mapped[str] = mapped_column(String(80))
    credit: Mapped[Credit] = mapped_column(str_enum(Credit))

    user: Mapped[User | None] = relationship(lazy="joined")


class Translation(Base):
    """A clause version's title and text in another language, made by a moderator.

    It belongs to the version it translates: once the clause changes, the translation still
    exists but is out of date, and pages say so rather than show it as current.
    """

    __tablename__ = "guideline_translations"
    __table_args__ = (
        UniqueConstraint("version_id", "language"),
        Index(None, "clause_id", "language"),
        Index(None, "community_id", "language"),
    )

    id: Mapped[intpk]
    version_id: Mapped[int] = mapped_column(
        ForeignKey("guideline_clause_versions.id", ondelete="CASCADE")
    )
    clause_id: Mapped[int] = mapped_column(ForeignKey("guideline_clauses.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(140))
    text: Mapped[str] = mapped_column(Text)
    translator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    updated_at: Mapped[timestamp]

    translator: Mapped[User | None] = relationship(lazy="joined")


class Ratification(Base):
    """A moderator's (or a rights holder's) decision on a passed proposal: ratify or return."""

    __tablename__ = "ratifications"
    __table_args__ = (Index(None, "proposal_id", "poll_id"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Which signature it is: "moderator" or "rights_holder".
    capacity: Mapped[str] = mapped_column(String(16))
    decision: Mapped[Decision] = mapped_column(str_enum(Decision))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[created_at]

    actor: Mapped[User | None] = relationship(lazy="joined")
