"""Reads remembered for a session are asked once, and forgotten as soon as it writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Community, Membership, Role
from app.remembered import for_one_request, remembered
from tests.factories import add_member, make_community, make_user
from tests.support.statements import counting


@dataclass
class Miku:
    """A request's session, a community and a fan who is (`membership`) or is not a member."""

    db: Session
    community: Community
    fan: User
    membership: Membership | None = None

    def asked(self) -> Membership | None:
        return communities_service.membership_of(self.db, self.community, self.fan)


@pytest.fixture
def miku(db: Session) -> Miku:
    for_one_request(db)
    return Miku(db, make_community(db, "miku"), make_user(db, "fan_luka"))


@pytest.fixture
def member(miku: Miku) -> Miku:
    miku.membership = add_member(miku.db, miku.community, miku.fan)
    miku.db.flush()
    return miku


def counter() -> Callable[[], int]:
    calls: list[int] = []

    def load() -> int:
        calls.append(1)
        return len(calls)

    return load


def test_a_read_is_asked_once_until_the_session_writes(db):
    load = counter()
    for_one_request(db)
    assert remembered(db, "k", load) == 1
    assert remembered(db, "k", load) == 1
    assert remembered(db, "other", load) == 2
    make_user(db, "fan_luka")
    db.flush()
    assert remembered(db, "k", load) == 3


def test_only_a_requests_session_remembers(db):
    # A session that outlives requests (a worker's, a test's) would miss what others commit.
    load = counter()
    assert remembered(db, "k", load) == 1
    assert remembered(db, "k", load) == 2


def test_membership_is_looked_up_once_per_page(member: Miku):
    with counting(member.db.connection()) as statements:
        first, again = member.asked(), member.asked()
    assert first is again is member.membership
    assert len(statements) == 1


def test_a_change_waiting_to_be_flushed_is_seen(miku: Miku):
    assert miku.asked() is None
    # Not flushed yet: the query flushes it, as it would without remembering.
    miku.db.add(Membership(community_id=miku.community.id, user_id=miku.fan.id, role=Role.fan))
    assert miku.asked() is not None


def test_statements_and_rollbacks_forget(member: Miku):
    db, membership = member.db, member.membership
    assert membership is not None
    assert member.asked() is membership
    db.execute(update(Membership).where(Membership.id == membership.id).values(role=Role.creator))
    db.execute(delete(Membership).where(Membership.id == membership.id))
    assert member.asked() is None

    savepoint = db.begin_nested()
    add_member(db, member.community, member.fan)
    db.flush()
    assert member.asked() is not None
    savepoint.rollback()
    assert member.asked() is None


def test_a_row_lock_forgets(member: Miku):
    # A check made after waiting for a lock must see what the other transaction left.
    db, community = member.db, member.community
    assert member.asked() is member.membership
    db.execute(select(Community.id).where(Community.id == community.id).with_for_update())
    with counting(db.connection()) as statements:
        member.asked()
    assert len(statements) == 1
    db.refresh(community, with_for_update=True)
    with counting(db.connection()) as statements:
        member.asked()
    assert len(statements) == 1
