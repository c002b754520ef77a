"""The cast of the moderation pages: community "miku" with a moderator, an author, fans and
an outsider; a published proposal with a comment by the author, and a work he registered; and
the stage of the suspended-member tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities.models import Community, Membership, Role
from app.db import utcnow
from app.discussion.models import Comment
from app.polls import service as polls_service
from app.polls.models import Poll
from app.proposals import exhibits as exhibits_service
from app.proposals import service as proposals_service
from app.proposals.models import Exhibit, Proposal
from app.works import service as works_service
from app.works.models import Work
from tests.factories import add_member, make_community, make_user
from tests.unit.moderation.conftest import make_comment, make_published_proposal, make_work

Headers = dict[str, str]


@dataclass
class Cast:
    community: Community
    other: Community
    moderator: User
    author: User
    fans: list[User]
    outsider: User
    proposal: Proposal
    comment: Comment
    work: Work


@pytest.fixture
def cast(db: Session) -> Cast:
    community = make_community(db, "miku", name="Hatsune Miku Fans")
    other = make_community(db, "kaito", name="Kaito Fans")
    moderator = make_user(db, "mod_rin", display_name="Rin Moderator")
    author = make_user(db, "member_len", display_name="Len Member")
    fans = [make_user(db, f"fan_{n}", display_name=f"Fan {n}") for n in ("luka", "kaito", "meiko")]
    outsider = make_user(db, "outsider", display_name="Passer By")
    add_member(db, community, moderator, Role.moderator)
    add_member(db, community, author)
    for fan in fans:
        add_member(db, community, fan)
    add_member(db, other, outsider)
    now = utcnow()
    proposal = make_published_proposal(db, community, author, now)
    comment = make_comment(db, proposal, author, "Nobody cares about **credits**.", now)
    work = make_work(db, community, author, "Rin's Dance", now)
    return Cast(community, other, moderator, author, fans, outsider, proposal, comment, work)


@pytest.fixture
def bearer(db: Session) -> Callable[..., Headers]:
    """`bearer(user, scope="write")`: an Authorization header with a fresh token of `user`."""
    counter = iter(range(1000))

    def make(user: User, scope: str = "write") -> Headers:
        _, plain = accounts_service.create_token(
            db, actor=user, name=f"test-{next(counter)}", scope=scope, now=utcnow()
        )
        return {"Authorization": f"Bearer {plain}"}

    return make


@dataclass
class Stage:
    """Everything a suspended member could otherwise write to, in community "miku".

    `member` (fan_luka, a rights holder here, where ratification needs a rights holder's
    co-signature) has a draft, a published proposal whose poll may open, a comment, an image
    work and an exhibit of theirs; there is a poll they are on the roll of, and a proposal
    that passed its poll and waits for ratification.
    """

    cast: Cast
    member: User
    draft: Proposal
    own_proposal: Proposal
    own_comment: Comment
    own_work: Work
    exhibit: Exhibit
    poll: Poll
    passed: Proposal


@pytest.fixture
def stage(db: Session, cast: Cast) -> Stage:
    now = utcnow()
    long_ago = now - timedelta(days=30)
    member = cast.fans[0]
    for membership in db.scalars(
        select(Membership).where(Membership.community_id == cast.community.id)
    ):
        membership.joined_at = long_ago
        if membership.user_id == member.id:
            membership.role = Role.rights_holder
    cast.community.ratification_requires_rights_holder = True
    draft = proposals_service.create_proposal(
        db,
        actor=member,
        community=cast.community,
        values=proposals_service.ProposalDraft(title="Luka's draft", norm_text="Draft text."),
        now=long_ago,
    )
    own_proposal = make_published_proposal(db, cast.community, member, long_ago)
    own_comment = make_comment(db, cast.proposal, member, "Luka's comment", now)
    own_work = works_service.create_work(
        db,
        actor=member,
        community=cast.community,
        values=works_service.WorkDraft(
            title="Luka's sketch",
            creator_name="Luka",
            url="https://example.org/sketch",
            medium="image",
        ),
        now=now,
    )
    exhibit = exhibits_service.add_exhibit(
        db,
        actor=member,
        proposal=cast.proposal,
        work_id=own_work.id,
        stance="acceptable",
        note="",
        now=now,
    )
    voting = make_published_proposal(db, cast.community, cast.author, now - timedelta(days=5))
    poll = polls_service.open_poll(
        db, actor=cast.moderator, proposal=voting, now=now - timedelta(days=1)
    )
    passed = make_published_proposal(db, cast.community, cast.author, now - timedelta(days=9))
    decided = polls_service.open_poll(
        db, actor=cast.moderator, proposal=passed, now=now - timedelta(days=5)
    )
    for voter in (cast.moderator, cast.author, cast.fans[1], cast.fans[2]):
        polls_service.cast_ballot(
            db,
            actor=voter,
            poll=decided,
            position="consent",
            reason="",
            now=now - timedelta(days=4),
        )
    polls_service.close_early(db, actor=cast.moderator, poll=decided, now=now - timedelta(days=3))
    assert passed.state.value == "passed"
    return Stage(cast, member, draft, own_proposal, own_comment, own_work, exhibit, poll, passed)
