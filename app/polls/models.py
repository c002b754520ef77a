"""Tables of the polls domain: policies, polls and their rounds, the frozen roll, ballots."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.communities.models import Role, role_column
from app.db import Base, UTCDateTime, created_at, intpk, str_enum, timestamp
from app.i18n import N_
from app.proposals.models import Proposal


class Position(enum.StrEnum):
    consent = "consent"
    concern = "concern"
    object = "object"
    stand_aside = "stand_aside"

    @property
    def label(self) -> str:
        return POSITION_LABELS[self]


POSITION_LABELS = {
    Position.consent: N_("Consent"),
    Position.concern: N_("Consent with concerns"),
    Position.object: N_("Object"),
    Position.stand_aside: N_("Stand aside"),
}
#: Positions that must say why.
REASONED = frozenset({Position.concern, Position.object})


class Outcome(enum.StrEnum):
    passed = "passed"
    rejected = "rejected"
    withdrawn = "withdrawn"


class PolicyChange(Base):
    """A community's poll policy as a moderator saved it; the latest row is in force."""

    __tablename__ = "poll_policy_changes"
    __table_args__ = (Index(None, "community_id", "id"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    changed_by: Mapped[User | None] = relationship(lazy="joined")


class Poll(Base):
    """A weighted consent poll on a proposal; its policy is frozen when it opens."""

    __tablename__ = "polls"
    __table_args__ = (
        UniqueConstraint("proposal_id", "number"),
        # The sweep looks for open polls past their closing time.
        Index(None, "closed_at", "closes_at"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    # The proposal's first poll is 1; a proposal returned to deliberation may be polled again.
    number: Mapped[int]
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    current_round: Mapped[int] = mapped_column(Integer, default=1)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[timestamp]
    closes_at: Mapped[timestamp]
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who closed it early; null when it closed at its time (or its proposal was withdrawn).
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[Outcome | None] = mapped_column(str_enum(Outcome), nullable=True)
    # The tally as frozen at close (see app.polls.tally.Tally); null while open.
    tally: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    proposal: Mapped[Proposal] = relationship(lazy="joined")
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id], lazy="joined")
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id], lazy="joined")


class PollRound(Base):
    """A round of a poll: on one revision of the proposal; amending the text starts the next."""

    __tablename__ = "poll_rounds"
    __table_args__ = (UniqueConstraint("poll_id", "number"),)

    id: Mapped[intpk]
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    number: Mapped[int]
    revision_number: Mapped[int]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[timestamp]

    started_by: Mapped[User | None] = relationship(lazy="joined")


class Voter(Base):
    """A member on a poll's electoral roll, with the role and weight frozen when it opened."""

    __tablename__ = "poll_voters"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = role_column()
    # The group the voter counts in: their role, or under `constituency` weights the
    # constituency their role belongs to.
    constituency: Mapped[str] = mapped_column(String(24))
    weight: Mapped[int]


class Ballot(Base):
    """One position a voter took in a round. Append-only: changing a ballot adds a row and
    takes the `latest` mark from the one before; only latest ballots of the current round count.
    """

    __tablename__ = "ballots"
    __table_args__ = (
        # One counted ballot per voter per round, whatever races the requests run.
        Index(
            "uq_ballots_latest",
            "poll_id",
            "round_number",
            "voter_id",
            unique=True,
            sqlite_where=text("latest"),
            postgresql_where=text("latest"),
        ),
        # The counted ballots of a round, in the order they were cast, and its objections:
        # pages of them cost the same in a poll of ten ballots or of a million.
        Index(
            "ix_ballots_counted",
            "poll_id",
            "round_number",
            "id",
            sqlite_where=text("latest = 1"),
            postgresql_where=text("latest"),
        ),
        Index(
            "ix_ballots_objections",
            "poll_id",
            "round_number",
            "id",
            sqlite_where=text("latest = 1 AND position = 'object'"),
            postgresql_where=text("latest AND position = 'object'"),
        ),
        UniqueConstraint("poll_id", "receipt"),
    )

    id: Mapped[intpk]
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    round_number: Mapped[int]
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    position: Mapped[Position] = mapped_column(str_enum(Position))
    reason: Mapped[str] = mapped_column(String(2000), default="")
    receipt: Mapped[str] = mapped_column(String(16))
    latest: Mapped[bool] = mapped_column(Boolean, default=True)
    cast_at: Mapped[timestamp]

    voter: Mapped[User] = relationship(lazy="joined")
    ruling: Mapped[ObjectionRuling | None] = relationship(lazy="joined", back_populates="ballot")


class ObjectionRuling(Base):
    """A moderator's public ruling that an objection is not paramount: it counts as a concern."""

    __tablename__ = "objection_rulings"

    id: Mapped[intpk]
    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("ballots.id", ondelete="CASCADE"), unique=True
    )
    reason: Mapped[str] = mapped_column(String(500))
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    ballot: Mapped[Ballot] = relationship(back_populates="ruling")
    moderator: Mapped[User | None] = relationship(lazy="joined")
