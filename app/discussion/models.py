"""Tables of the discussion domain: comments, their earlier versions, anchors and thread counts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import Base, UTCDateTime, created_at, intpk, str_enum
from app.hiding import Hideable
from app.i18n import N_
from app.works.models import Work


class Alignment(enum.StrEnum):
    """Where a top-level comment stands on the proposal."""

    supports = "supports"
    opposes = "opposes"
    neutral = "neutral"
    question = "question"

    @property
    def label(self) -> str:
        """The English label; templates show it translated (`_(alignment.label)`)."""
        return ALIGNMENT_LABELS[self]


ALIGNMENT_LABELS = {
    Alignment.supports: N_("Supports"),
    Alignment.opposes: N_("Opposes"),
    Alignment.neutral: N_("Neutral"),
    Alignment.question: N_("Question"),
}


class AnchorKind(enum.StrEnum):
    time = "time"
    quote = "quote"
    region = "region"


class Comment(Hideable, Base):
    """A post in a proposal's thread. Nothing is ever deleted: deletion and hiding are marks."""

    __tablename__ = "comments"
    __table_args__ = (
        # Top-level comments of a thread in order; replies of one comment in order;
        # everything after a given id (live updates).
        Index(None, "proposal_id", "parent_id", "id"),
        Index(None, "parent_id", "id"),
        Index(None, "proposal_id", "id"),
    )

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    depth: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    alignment: Mapped[Alignment | None] = mapped_column(str_enum(Alignment))
    body: Mapped[str] = mapped_column(Text)
    # The sanitized HTML of `body`, rendered once at write time rather than on every view.
    body_html: Mapped[str] = mapped_column(Text)
    #: The language it is written in (`app.i18n.CONTENT_LANGUAGES`); None: not recorded.
    language: Mapped[str | None] = mapped_column(String(16))
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    edit_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[created_at]
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="joined")

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_visible(self) -> bool:
        return self.deleted_at is None and self.hidden_at is None


class CommentVersion(Base):
    """An earlier text of an edited comment, kept so readers can see what changed."""

    __tablename__ = "comment_versions"
    __table_args__ = (Index(None, "comment_id", "number", unique=True),)

    id: Mapped[intpk]
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    # When this text was written (the comment's creation, or the edit that produced it).
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CommentAnchor(Base):
    """Where in an exhibited work a comment points: a time range, a quote or an image region."""

    __tablename__ = "comment_anchors"
    __table_args__ = (Index(None, "proposal_id", "work_id", "comment_id"),)

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AnchorKind] = mapped_column(str_enum(AnchorKind))
    start: Mapped[float | None] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    exact: Mapped[str | None] = mapped_column(Text)
    prefix: Mapped[str | None] = mapped_column(Text)
    suffix: Mapped[str | None] = mapped_column(Text)
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    w: Mapped[float | None] = mapped_column(Float)
    h: Mapped[float | None] = mapped_column(Float)

    work: Mapped[Work] = relationship(lazy="joined")


class ThreadStats(Base):
    """Counts shown at the top of a thread, kept up to date so a page never counts rows."""

    __tablename__ = "thread_stats"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    comments: Mapped[int] = mapped_column(Integer, default=0)
    supports: Mapped[int] = mapped_column(Integer, default=0)
    opposes: Mapped[int] = mapped_column(Integer, default=0)
    neutral: Mapped[int] = mapped_column(Integer, default=0)
    question: Mapped[int] = mapped_column(Integer, default=0)
