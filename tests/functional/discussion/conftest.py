"""A community with named members, a published proposal exhibiting a video, a text and an
image, a draft, and Bearer headers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities.models import Community, Role
from app.db import utcnow
from app.proposals.models import Proposal
from app.works.models import Work
from tests.factories import add_member, make_community, make_user
from tests.unit.discussion.conftest import EXCERPT, exhibit, make_proposal, make_work

Headers = dict[str, str]


@dataclass
class Cast:
    community: Community
    moderator: User
    author: User
    fan: User
    other_fan: User
    outsider: User
    proposal: Proposal
    draft: Proposal
    video: Work
    text: Work
    image: Work


@pytest.fixture
def cast(db: Session) -> Cast:
    community = make_community(db, "miku", name="Hatsune Miku Fans")
    moderator = make_user(db, "mod_rin")
    author = make_user(db, "author_kaito")
    fan = make_user(db, "fan_luka")
    other_fan = make_user(db, "fan_meiko")
    outsider = make_user(db, "outsider")
    add_member(db, community, moderator, Role.moderator)
    for user in (author, fan, other_fan):
        add_member(db, community, user)
    proposal = make_proposal(db, community, author)
    draft = make_proposal(db, community, author, publish=False)
    video = make_work(db, community, author, duration_seconds="215.5")
    text = make_work(db, community, author, title="Chorus", medium="text", excerpt=EXCERPT)
    image = make_work(db, community, author, title="Fan art", medium="image")
    for work in (video, text, image):
        exhibit(db, proposal, author, work)
    return Cast(
        community, moderator, author, fan, other_fan, outsider, proposal, draft, video, text, image
    )


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
