"""A community with a moderator, an author, several fans and an outsider; a published proposal
with a comment, and a work; builders for more, and the app's settings for a session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import ratelimit
from app.accounts.models import User
from app.communities.models import Community, Membership, Role
from app.config import Settings
from app.discussion import service as discussion_service
from app.discussion.models import Comment
from app.polls import service as polls_service
from app.polls.models import Ballot, Poll
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.works import service as works_service
from app.works.models import Work
from tests.conftest import make_settings
from tests.factories import add_member, make_community, make_user

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def later(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def make_published_proposal(
    db: Session, community: Community, author: User, now: datetime = NOW
) -> Proposal:
    """A proposal in deliberation, so that its thread takes comments."""
    proposal = proposals_service.create_proposal(
        db,
        actor=author,
        community=community,
        values=proposals_service.ProposalDraft(
            title="Credit the original illustrator",
            summary="Derivative drawings name the artist they build on.",
            norm_text="Every derivative drawing credits the original illustrator by name.",
        ),
        now=now,
    )
    proposals_service.publish(db, actor=author, proposal=proposal, now=now)
    return proposal


def make_comment(
    db: Session, proposal: Proposal, author: User, body: str = "A **rude** remark.", now=NOW
) -> Comment:
    comment = discussion_service.post_comment(
        db,
        actor=author,
        proposal=proposal,
        draft=discussion_service.CommentDraft(body=body),
        now=now,
    )
    ratelimit.clear(db, bucket="comment", key=str(author.id))
    return comment


def make_work(
    db: Session, community: Community, actor: User, title: str = "Rin's Dance", now=NOW
) -> Work:
    return works_service.create_work(
        db,
        actor=actor,
        community=community,
        values=works_service.WorkDraft(
            title=title,
            creator_name="Len",
            url="https://example.org/rins-dance",
            medium="video",
            license="CC BY 4.0",
        ),
        now=now,
    )


@dataclass
class World:
    community: Community
    other: Community
    moderator: User
    author: User
    fans: list[User]
    outsider: User
    admin: User
    proposal: Proposal
    comment: Comment
    work: Work


@pytest.fixture
def world(db: Session) -> World:
    community = make_community(db, name="Miku Fans")
    other = make_community(db, name="Kaito Fans")
    moderator, author = make_user(db), make_user(db)
    add_member(db, community, moderator, Role.moderator)
    add_member(db, community, author)
    fans = [make_user(db) for _ in range(5)]
    for fan in fans:
        add_member(db, community, fan)
    outsider = make_user(db)
    add_member(db, other, outsider)
    proposal = make_published_proposal(db, community, author)
    return World(
        community=community,
        other=other,
        moderator=moderator,
        author=author,
        fans=fans,
        outsider=outsider,
        admin=make_user(db, is_admin=True),
        proposal=proposal,
        comment=make_comment(db, proposal, author),
        work=make_work(db, community, author),
    )


def with_settings(db: Session, **overrides: object) -> Settings:
    """Hand the session the app's settings, as each request's session gets them (new-account
    limits apply only then)."""
    settings = make_settings("sqlite://", **overrides)
    db.info[Settings] = settings
    return settings


def make_poll_with_objection(db: Session, world: World) -> tuple[Poll, Ballot]:
    """A poll open on the world's proposal, with fans[0]'s objection in it."""
    proposal = world.proposal
    proposal.voting_may_open_at = NOW - timedelta(hours=1)
    for membership in db.scalars(
        select(Membership).where(Membership.community_id == world.community.id)
    ):
        membership.joined_at = NOW - timedelta(days=30)
    poll = polls_service.open_poll(db, actor=world.moderator, proposal=proposal, now=NOW)
    ballot = polls_service.cast_ballot(
        db, actor=world.fans[0], poll=poll, position="object", reason="Too strict", now=later(1)
    )
    return poll, ballot
