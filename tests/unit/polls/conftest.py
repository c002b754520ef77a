"""A community whose members joined a month ago, a published proposal, and poll helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import Community, Role
from app.polls import service
from app.polls.models import Ballot, Poll
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from tests.factories import add_member, make_community, make_user

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
JOINED = NOW - timedelta(days=30)
PUBLISHED = NOW - timedelta(days=4)


@dataclass
class Town:
    community: Community
    moderator: User
    author: User
    fans: list[User]
    creator: User
    rights_holder: User
    newcomer: User
    outsider: User

    @property
    def fan(self) -> User:
        return self.fans[0]


@pytest.fixture
def town(db: Session) -> Town:
    community = make_community(db, name="Miku Fans")
    moderator, author, creator, rights_holder = (make_user(db) for _ in range(4))
    add_member(db, community, moderator, Role.moderator, joined_at=JOINED)
    add_member(db, community, author, Role.fan, joined_at=JOINED)
    add_member(db, community, creator, Role.creator, joined_at=JOINED)
    add_member(db, community, rights_holder, Role.rights_holder, joined_at=JOINED)
    fans = [make_user(db) for _ in range(4)]
    for fan in fans:
        add_member(db, community, fan, Role.fan, joined_at=JOINED)
    newcomer = make_user(db)
    add_member(db, community, newcomer, Role.fan, joined_at=NOW + timedelta(hours=1))
    return Town(community, moderator, author, fans, creator, rights_holder, newcomer, make_user(db))


def publish(db: Session, town: Town, *, at: datetime = PUBLISHED, **fields: str) -> Proposal:
    values = proposals_service.ProposalDraft(
        title=fields.get("title", "Credit the original illustrator"),
        summary="Derivative drawings name the artist they build on.",
        norm_text=fields.get("norm_text", "Every derivative drawing credits the illustrator."),
    )
    proposal = proposals_service.create_proposal(
        db, actor=town.author, community=town.community, values=values, now=at
    )
    proposals_service.publish(db, actor=town.author, proposal=proposal, now=at)
    return proposal


@pytest.fixture
def proposal(db: Session, town: Town) -> Proposal:
    return publish(db, town)


OpenPoll = Callable[..., Poll]


@pytest.fixture
def open_poll(db: Session, town: Town, proposal: Proposal) -> OpenPoll:
    """`open_poll(actor=author, at=NOW, **overrides)`: a poll on the proposal."""

    def make(actor: User | None = None, at: datetime = NOW, **overrides: object) -> Poll:
        return service.open_poll(
            db, actor=actor or town.author, proposal=proposal, now=at, overrides=overrides
        )

    return make


def vote(
    db: Session, poll: Poll, user: User, position: str, reason: str = "", at: datetime = NOW
) -> Ballot:
    return service.cast_ballot(
        db,
        actor=user,
        poll=poll,
        position=position,
        reason=reason or ("Because." if position in ("concern", "object") else ""),
        now=at + timedelta(minutes=1),
    )


def set_policy(db: Session, town: Town, **settings: object) -> None:
    service.set_policy(
        db,
        actor=town.moderator,
        community=town.community,
        settings=dict(settings.items()),
        now=NOW - timedelta(days=10),
    )
