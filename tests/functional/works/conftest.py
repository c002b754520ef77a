"""A community with members, an outsider, another community, and builders of works and tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities.models import Community, Role
from app.db import utcnow
from app.works import service
from app.works.models import Work
from tests.factories import add_member, make_community, make_user

Headers = dict[str, str]


@dataclass
class Cast:
    community: Community
    other: Community
    moderator: User
    member: User
    fan: User
    outsider: User


@pytest.fixture
def cast(db: Session) -> Cast:
    community = make_community(db, "miku", name="Hatsune Miku Fans")
    other = make_community(db, "kaito", name="Kaito Fans")
    moderator = make_user(db, "mod_rin", display_name="Rin Moderator")
    member = make_user(db, "member_len", display_name="Len Member")
    fan = make_user(db, "fan_luka", display_name="Luka Fan")
    outsider = make_user(db, "outsider", display_name="Passer By")
    add_member(db, community, moderator, Role.moderator)
    add_member(db, community, member)
    add_member(db, community, fan)
    add_member(db, other, outsider)
    return Cast(community, other, moderator, member, fan, outsider)


MakeWork = Callable[..., Work]


@pytest.fixture
def work(db: Session, cast: Cast) -> MakeWork:
    """`work(actor=..., community=..., parents=[...], **fields)`: a work made by the service."""

    def make(
        *,
        actor: User | None = None,
        community: Community | None = None,
        parents: list[Work] | None = None,
        **fields: str,
    ) -> Work:
        values = service.WorkDraft(
            title=fields.pop("title", "Rin's Dance"),
            creator_name=fields.pop("creator_name", "Len"),
            url=fields.pop("url", "https://example.org/rins-dance"),
            medium=fields.pop("medium", "video"),
            license=fields.pop("license", "CC BY 4.0"),
            parents=[str(p.id) for p in parents or []],
            **fields,
        )
        return service.create_work(
            db,
            actor=actor or cast.member,
            community=community or cast.community,
            values=values,
            now=utcnow(),
        )

    return make


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
