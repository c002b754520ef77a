"""A community with a moderator, members and an outsider, and a builder of works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import Community, Role
from app.works import service
from app.works.models import Work
from tests.factories import add_member, make_community, make_user

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class World:
    community: Community
    other: Community
    moderator: User
    member: User
    fan: User
    outsider: User


@pytest.fixture
def world(db: Session) -> World:
    community = make_community(db, name="Miku Fans")
    other = make_community(db, name="Other Fans")
    moderator, member, fan = make_user(db), make_user(db), make_user(db)
    add_member(db, community, moderator, Role.moderator)
    add_member(db, community, member)
    add_member(db, community, fan)
    outsider = make_user(db)
    add_member(db, other, outsider)
    return World(community, other, moderator, member, fan, outsider)


def values(**overrides: object) -> service.WorkDraft:
    draft = service.WorkDraft(
        title="Rin's Dance",
        creator_name="Len",
        url="https://example.org/rins-dance",
        medium="video",
        license="CC BY 4.0",
    )
    return replace(draft, **overrides)  # type: ignore[arg-type]


MakeWork = Callable[..., Work]


@pytest.fixture
def make_work(db: Session, world: World) -> MakeWork:
    def make(
        *, actor: User | None = None, community: Community | None = None, **overrides: object
    ) -> Work:
        parents = overrides.pop("parents", [])
        return service.create_work(
            db,
            actor=actor or world.member,
            community=community or world.community,
            values=values(
                parents=[str(p.id) for p in parents],  # type: ignore[attr-defined]
                **overrides,
            ),
            now=NOW,
        )

    return make
