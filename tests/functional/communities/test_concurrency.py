"""Membership and community changes sent several times at once change once (found by
tests/security/test_races.py on PostgreSQL: a double "leave" recorded several departures, a
double role change several entries in the public record, and a double "add category" made
several categories of one name, or failed with a 500 on their address)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service
from app.communities.models import (
    Category,
    Community,
    LogAction,
    Membership,
    ModerationLogEntry,
    Role,
    RoleChange,
)
from app.db import utcnow
from app.errors import Conflict, ValidationFailed
from tests.factories import add_member, make_community, make_user
from tests.support.races import at_once, committed, reading, refused

TIMES = 8


@dataclass(frozen=True)
class Seeded:
    url: str
    community: int
    moderators: tuple[int, int]
    leaver: int
    promoted: str


@pytest.fixture(scope="module")
def seeded(make_database_url) -> Seeded:
    url = make_database_url("community-races")
    long_ago = utcnow() - timedelta(days=30)
    with committed(url) as db:
        community = make_community(db)
        mod_a, mod_b, leaver, promoted = (make_user(db) for _ in range(4))
        for moderator in (mod_a, mod_b):
            add_member(db, community, moderator, Role.moderator, joined_at=long_ago)
        for fan in (leaver, promoted):
            add_member(db, community, fan, joined_at=long_ago)
        db.flush()
        return Seeded(url, community.id, (mod_a.id, mod_b.id), leaver.id, promoted.username)


def loaded(db: Session, user_id: int, community_id: int) -> tuple[User, Community]:
    user, community = db.get(User, user_id), db.get(Community, community_id)
    assert user is not None
    assert community is not None
    return user, community


def count(url: str, query: Select[int]) -> int:
    with reading(url) as db:
        return int(db.scalar(query) or 0)


def test_a_member_leaving_at_once_leaves_once(seeded: Seeded):
    def leave(db: Session) -> object:
        user, community = loaded(db, seeded.leaver, seeded.community)
        service.leave(db, actor=user, community=community, now=utcnow())
        return None

    outcomes = at_once(seeded.url, TIMES, leave)
    assert len(refused(outcomes)) == TIMES - 1
    assert all(isinstance(o, Conflict) for o in refused(outcomes))
    mine = Membership.user_id == seeded.leaver
    assert count(seeded.url, select(func.count(Membership.id)).where(mine)) == 0
    left = select(func.count(RoleChange.id)).where(
        RoleChange.user_id == seeded.leaver, RoleChange.new_role.is_(None)
    )
    assert count(seeded.url, left) == 1


def test_a_role_given_at_once_by_two_moderators_is_recorded_once(seeded: Seeded):
    counter = iter(range(TIMES))

    def promote(db: Session) -> object:
        moderator, community = loaded(db, seeded.moderators[next(counter) % 2], seeded.community)
        return service.change_role(
            db,
            actor=moderator,
            community=community,
            username=seeded.promoted,
            role="creator",
            reason="Makes songs.",
            now=utcnow(),
        )

    assert refused(at_once(seeded.url, TIMES, promote)) == []
    changes = select(func.count(RoleChange.id)).where(RoleChange.new_role == Role.creator)
    assert count(seeded.url, changes) == 1
    logged = select(func.count(ModerationLogEntry.id)).where(
        ModerationLogEntry.action == LogAction.role_changed
    )
    assert count(seeded.url, logged) == 1


def test_a_category_added_at_once_is_added_once(seeded: Seeded):
    def add(db: Session) -> object:
        moderator, community = loaded(db, seeded.moderators[0], seeded.community)
        return service.add_category(db, actor=moderator, community=community, name="Songs")

    outcomes = at_once(seeded.url, TIMES, add)
    assert len(refused(outcomes)) == TIMES - 1
    assert all(isinstance(o, ValidationFailed) for o in refused(outcomes))
    assert count(seeded.url, select(func.count(Category.id))) == 1
