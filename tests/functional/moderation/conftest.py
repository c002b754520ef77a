"""The cast of the moderation pages: community "miku" with a moderator, an author, fans and
an outsider; a published proposal with a comment by the author, and a work he registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities.models import Community, Role
from app.db import utcnow
from app.discussion.models import Comment
from app.proposals.models import Proposal
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
