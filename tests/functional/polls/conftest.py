"""A community whose members joined a month ago, a proposal past its deliberation period,
poll and ballot helpers, and Bearer headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import Community, Role
from app.db import utcnow
from app.polls import service
from app.polls.models import Ballot, Poll
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from tests.factories import add_member, make_community, make_user
from tests.functional.proposals.conftest import bearer  # noqa: F401 (a fixture)

Headers = dict[str, str]


@dataclass
class Forum:
    community: Community
    moderator: User
    author: User
    fans: list[User]
    rights_holder: User
    outsider: User
    #: In deliberation, its minimum period over: a poll may open on it now.
    proposal: Proposal

    @property
    def fan(self) -> User:
        return self.fans[0]

    @property
    def voters(self) -> list[User]:
        return [self.moderator, self.author, *self.fans, self.rights_holder]


def publish(
    db: Session, community: Community, author: User, at: datetime, title: str = ""
) -> Proposal:
    values = proposals_service.ProposalDraft(
        title=title or "Credit the original illustrator",
        summary="Derivative drawings name the artist they build on.",
        norm_text="Every derivative drawing credits the illustrator.",
    )
    proposal = proposals_service.create_proposal(
        db, actor=author, community=community, values=values, now=at
    )
    proposals_service.publish(db, actor=author, proposal=proposal, now=at)
    return proposal


@pytest.fixture
def forum(db: Session) -> Forum:
    now = utcnow()
    joined = now - timedelta(days=30)
    community = make_community(db, "miku", name="Hatsune Miku Fans")
    moderator = make_user(db, "mod_rin", display_name="Rin Moderator")
    author = make_user(db, "author_kaito", display_name="Kaito Author")
    fans = [
        make_user(db, f"fan_{name}", display_name=f"{name.capitalize()} Fan")
        for name in ("luka", "meiko", "len")
    ]
    rights_holder = make_user(db, "rights_crypton", display_name="Crypton Rights")
    add_member(db, community, moderator, Role.moderator, joined_at=joined)
    add_member(db, community, author, Role.creator, joined_at=joined)
    for fan in fans:
        add_member(db, community, fan, Role.fan, joined_at=joined)
    add_member(db, community, rights_holder, Role.rights_holder, joined_at=joined)
    proposal = publish(db, community, author, now - timedelta(days=12))
    return Forum(
        community, moderator, author, fans, rights_holder, make_user(db, "outsider"), proposal
    )


OpenPoll = Callable[..., Poll]


@pytest.fixture
def open_poll(db: Session, forum: Forum) -> OpenPoll:
    """`open_poll(at=now, **overrides)`: the forum's poll, opened by the moderator."""

    def make(at: datetime | None = None, **overrides: object) -> Poll:
        return service.open_poll(
            db,
            actor=forum.moderator,
            proposal=forum.proposal,
            now=at or utcnow(),
            overrides=overrides,
        )

    return make


@pytest.fixture
def poll(open_poll: OpenPoll) -> Poll:
    return open_poll()


def vote(
    client: TestClient, headers: Headers, poll_id: int, position: str, reason: str = ""
) -> Any:
    if not reason and position in ("concern", "object"):
        reason = f"A reason to {position}."
    return client.put(
        f"/api/v1/polls/{poll_id}/ballot",
        json={"position": position, "reason": reason},
        headers=headers,
    )


def ballot_count(db: Session, poll_id: int) -> int:
    return db.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll_id)) or 0


def error(response: Any, status: int) -> dict[str, Any]:
    """The shared error body of a refused request, checked for its status and shape."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()["error"]
    assert set(body) == {"code", "message", "fields"}
    return body
