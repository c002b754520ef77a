"""A committed poll in a database of its own, for tests that run the app or the command in
another process or thread (the sweep, the CLI, concurrent ballots through a real server)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.communities.models import Role
from app.db import create_db_engine, utcnow
from app.polls import service as polls_service
from app.proposals import service as proposals_service
from tests.factories import add_member, make_community, make_user


@dataclass
class SeededPoll:
    poll_id: int
    proposal_id: int
    moderator: str
    voters: list[str]
    #: Write-scope Bearer tokens by username (when asked for).
    tokens: dict[str, str] = field(default_factory=dict)


def seed_poll(
    url: str,
    *,
    voters: int = 3,
    opened_at: datetime | None = None,
    positions: tuple[str, ...] = (),
    tokens: bool = False,
) -> SeededPoll:
    """A community of a moderator and `voters` fans (joined long before), a poll opened by the
    moderator at `opened_at` (default: now) with the default policy, and the first voters'
    ballots in `positions`; all committed."""
    opened_at = opened_at or utcnow()
    engine = create_db_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            community = make_community(db)
            moderator = make_user(db)
            add_member(
                db, community, moderator, Role.moderator, joined_at=opened_at - timedelta(days=30)
            )
            fans = [make_user(db) for _ in range(voters)]
            for fan in fans:
                add_member(db, community, fan, joined_at=opened_at - timedelta(days=30))
            values = proposals_service.ProposalDraft(
                title="Credit the original illustrator",
                summary="Derivative drawings name the artist they build on.",
                norm_text="Every derivative drawing credits the illustrator.",
            )
            published = opened_at - timedelta(days=4)
            proposal = proposals_service.create_proposal(
                db, actor=moderator, community=community, values=values, now=published
            )
            proposals_service.publish(db, actor=moderator, proposal=proposal, now=published)
            poll = polls_service.open_poll(db, actor=moderator, proposal=proposal, now=opened_at)
            for fan, position in zip(fans, positions, strict=False):
                polls_service.cast_ballot(
                    db,
                    actor=fan,
                    poll=poll,
                    position=position,
                    reason=f"{fan.username} says {position}.",
                    now=opened_at + timedelta(minutes=1),
                )
            seeded = SeededPoll(
                poll.id, proposal.id, moderator.username, [fan.username for fan in fans]
            )
            if tokens:
                for fan in fans:
                    _, plain = accounts_service.create_token(
                        db, actor=fan, name="ballots", scope="write", now=utcnow()
                    )
                    seeded.tokens[fan.username] = plain
            db.commit()
    finally:
        engine.dispose()
    return seeded
