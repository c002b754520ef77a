"""Reads remembered for a session are asked once, and forgotten as soon as it writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from app.communities import service as communities_service
from app.communities.models import Community, Membership, Role
from app.remembered import for_one_request, remembered
from tests.factories import add_member, make_community, make_user


@contextmanager
def counted(db: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


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


def test_membership_is_looked_up_once_per_page(db):
    for_one_request(db)
    community = make_community(db, "miku")
    fan = make_user(db, "fan_luka")
    add_member(db, community, fan)
    db.flush()
    with counted(db) as statements:
        first = communities_service.membership_of(db, community, fan)
        again = communities_service.membership_of(db, community, fan)
    assert first is again is not None
    assert len(statements) == 1


def test_a_change_waiting_to_be_flushed_is_seen(db):
    for_one_request(db)
    community = make_community(db, "miku")
    fan = make_user(db, "fan_luka")
    assert communities_service.membership_of(db, community, fan) is None
    # Not flushed yet: the query flushes it, as it would without remembering.
    db.add(Membership(community_id=community.id, user_id=fan.id, role=Role.fan))
    assert communities_service.membership_of(db, community, fan) is not None


def test_statements_and_rollbacks_forget(db):
    for_one_request(db)
    community = make_community(db, "miku")
    fan = make_user(db, "fan_luka")
    membership = add_member(db, community, fan)
    db.flush()
    assert communities_service.membership_of(db, community, fan) is membership
    db.execute(update(Membership).where(Membership.id == membership.id).values(role=Role.creator))
    db.execute(delete(Membership).where(Membership.id == membership.id))
    assert communities_service.membership_of(db, community, fan) is None

    savepoint = db.begin_nested()
    add_member(db, community, fan)
    db.flush()
    assert communities_service.membership_of(db, community, fan) is not None
    savepoint.rollback()
    assert communities_service.membership_of(db, community, fan) is None


def test_a_row_lock_forgets(db):
    # A check made after waiting for a lock must see what the other transaction left.
    for_one_request(db)
    community = make_community(db, "miku")
    fan = make_user(db, "fan_luka")
    membership = add_member(db, community, fan)
    db.flush()
    assert communities_service.membership_of(db, community, fan) is membership
    db.execute(select(Community.id).where(Community.id == community.id).with_for_update())
    with counted(db) as statements:
        communities_service.membership_of(db, community, fan)
    assert len(statements) == 1
    db.refresh(community, with_for_update=True)
    with counted(db) as statements:
        communities_service.membership_of(db, community, fan)
    assert len(statements) == 1
