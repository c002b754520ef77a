"""A community for the poll pages: members who joined a month ago, a proposal whose minimum
deliberation is over, and helpers to open polls and vote through the services."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import Community, Role
from app.db import utcnow
from app.polls import service
from app.polls.models import Ballot, Poll
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from tests.conftest import log_in
from tests.factories import add_member, make_community, make_user

HTMX = {"HX-Request": "true"}


@dataclass
class Town:
    community: Community
    moderator: User
    author: User
    fans: list[User]
    rights_holder: User
    #: Joined after the poll opened: not on its roll.
    newcomer: User
    outsider: User
    #: In deliberation, its minimum period over.
    proposal: Proposal

    @property
    def fan(self) -> User:
        return self.fans[0]

    def url(self, suffix: str = "") -> str:
        return f"/c/{self.community.slug}/proposals/{self.proposal.id}{suffix}"


def publish(db: Session, community: Community, author: User, at: datetime, title: str) -> Proposal:
    values = proposals_service.ProposalDraft(
        title=title,
        summary="Derivative drawings name the artist they build on.",
        norm_text="Every derivative drawing credits the illustrator.",
    )
    proposal = proposals_service.create_proposal(
        db, actor=author, community=community, values=values, now=at
    )
    proposals_service.publish(db, actor=author, proposal=proposal, now=at)
    return proposal


@pytest.fixture(name="town")
def town_fixture(db: Session) -> Town:
    now = utcnow()
    joined = now - timedelta(days=30)
    community = make_community(db, "vocaloid", name="Vocaloid Fans")
    moderator = make_user(db, "mod_gumi", display_name="Gumi Moderator")
    author = make_user(db, "creator_ia", display_name="IA Creator")
    fans = [
        make_user(db, f"fan_{name}", display_name=f"{name.capitalize()} Fan")
        for name in ("miku", "rin", "len", "teto")
    ]
    rights_holder = make_user(db, "rights_office", display_name="Rights Office")
    add_member(db, community, moderator, Role.moderator, joined_at=joined)
    add_member(db, community, author, Role.creator, joined_at=joined)
    for fan in fans:
        add_member(db, community, fan, Role.fan, joined_at=joined)
    add_member(db, community, rights_holder, Role.rights_holder, joined_at=joined)
    newcomer = make_user(db, "newcomer_una", display_name="Una Newcomer")
    proposal = publish(db, community, author, now - timedelta(days=12), "Credit the illustrator")
    outsider = make_user(db, "passer_by", display_name="Passer By")
    return Town(community, moderator, author, fans, rights_holder, newcomer, outsider, proposal)


def set_policy(db: Session, town: Town, **settings: object) -> None:
    service.set_policy(
        db,
        actor=town.moderator,
        community=town.community,
        settings=dict(settings),
        now=utcnow() - timedelta(days=20),
    )


def open_poll(
    db: Session, town: Town, *, ago: timedelta = timedelta(hours=1), **overrides: object
) -> Poll:
    """The town's poll, opened by the moderator `ago`; the newcomer joins after."""
    poll = service.open_poll(
        db,
        actor=town.moderator,
        proposal=town.proposal,
        now=utcnow() - ago,
        overrides=overrides,
    )
    add_member(db, town.community, town.newcomer, Role.fan)
    return poll


def vote(db: Session, poll: Poll, user: User, position: str, reason: str = "") -> Ballot:
    if not reason and position in ("concern", "object"):
        reason = f"A reason to {position} from {user.username}."
    return service.cast_ballot(
        db, actor=user, poll=poll, position=position, reason=reason, now=utcnow()
    )


def poll_url(town: Town, poll: Poll, suffix: str = "") -> str:
    return f"/c/{town.community.slug}/polls/{poll.id}{suffix}"


def as_user(client: TestClient, user: User | None) -> None:
    """Sign `client` in as `user` (or out, for None)."""
    client.cookies.clear()
    if user is not None:
        log_in(client, user.username)


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no error for {field_id}"
    return unescape(match.group(1))


def textarea(html: str, field_id: str) -> str:
    match = re.search(rf'<textarea id="{field_id}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {field_id}"
    return unescape(match.group(1))


def input_value(html: str, field_id: str) -> str:
    match = re.search(rf'<input id="{field_id}"[^>]*value="([^"]*)"', html)
    assert match, f"no input {field_id}"
    return unescape(match.group(1))


def checked(html: str, name: str) -> str | None:
    """The value of the checked radio button called `name`."""
    match = re.search(rf'<input type="radio" name="{name}" value="([^"]+)" checked', html)
    return match.group(1) if match else None
