"""A community with a moderator, members and an outsider; a published proposal exhibiting a
video, a text and an image; helpers to post comments without meeting the rate limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app import ratelimit
from app.accounts.models import User
from app.communities.models import Community, Role
from app.discussion import anchors, service
from app.discussion.models import Comment
from app.proposals import exhibits as exhibits_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.works import service as works_service
from app.works.models import Work
from tests.factories import add_member, make_community, make_user

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EXCERPT = "The song goes on. She sings the chorus. Then she sings the chorus again, louder."


def later(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


@dataclass
class World:
    community: Community
    moderator: User
    author: User
    fan: User
    other_fan: User
    outsider: User
    proposal: Proposal
    video: Work
    text: Work
    image: Work
    unexhibited: Work


def make_proposal(
    db: Session, community: Community, author: User, *, publish: bool = True
) -> Proposal:
    proposal = proposals_service.create_proposal(
        db,
        actor=author,
        community=community,
        values=proposals_service.ProposalDraft(
            title="Credit the original illustrator",
            summary="Derivative drawings name the artist they build on.",
            norm_text="Every derivative drawing credits the original illustrator by name.",
        ),
        now=NOW,
    )
    if publish:
        proposals_service.publish(db, actor=author, proposal=proposal, now=NOW)
    return proposal


def make_work(db: Session, community: Community, actor: User, **fields: str) -> Work:
    """A work by the service; `fields` may give title, url, medium, excerpt, duration_seconds."""
    return works_service.create_work(
        db,
        actor=actor,
        community=community,
        values=works_service.WorkDraft(
            title=fields.pop("title", "Rin's Dance"),
            creator_name="Len",
            url=fields.pop("url", "https://example.org/rins-dance"),
            medium=fields.pop("medium", "video"),
            license="CC BY 4.0",
            excerpt=fields.pop("excerpt", ""),
            duration_seconds=fields.pop("duration_seconds", ""),
        ),
        now=NOW,
    )


def exhibit(db: Session, proposal: Proposal, actor: User, work: Work) -> None:
    exhibits_service.add_exhibit(
        db, actor=actor, proposal=proposal, work_id=work.id, stance="borderline", note="", now=NOW
    )


@pytest.fixture
def world(db: Session) -> World:
    community = make_community(db, name="Miku Fans")
    moderator, author, fan, other_fan = (make_user(db) for _ in range(4))
    add_member(db, community, moderator, Role.moderator)
    for user in (author, fan, other_fan):
        add_member(db, community, user)
    proposal = make_proposal(db, community, author)
    video = make_work(db, community, author, duration_seconds="215.5")
    text = make_work(
        db,
        community,
        author,
        title="Chorus",
        medium="text",
        excerpt=EXCERPT,
        url="https://t.example",
    )
    image = make_work(db, community, author, title="Fan art", medium="image")
    unexhibited = make_work(db, community, author, title="Elsewhere", medium="image")
    for work in (video, text, image):
        exhibit(db, proposal, author, work)
    return World(
        community=community,
        moderator=moderator,
        author=author,
        fan=fan,
        other_fan=other_fan,
        outsider=make_user(db),
        proposal=proposal,
        video=video,
        text=text,
        image=image,
        unexhibited=unexhibited,
    )


def post(
    db: Session,
    proposal: Proposal,
    author: User,
    body: str = "A thought.",
    *,
    parent: Comment | None = None,
    alignment: str | None = None,
    anchor: anchors.AnchorInput | None = None,
    now: datetime = NOW,
) -> Comment:
    """A comment by the service; the author's rate limit is cleared after it."""
    comment = service.post_comment(
        db,
        actor=author,
        proposal=proposal,
        draft=service.CommentDraft(
            body=body,
            parent=parent.id if parent is not None else None,
            alignment=alignment,
            anchor=anchor,
        ),
        now=now,
    )
    ratelimit.clear(db, bucket="comment", key=str(author.id))
    return comment
