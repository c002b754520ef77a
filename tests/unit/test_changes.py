"""The change counter moves once per commit that changed something a visitor could see."""

from __future__ import annotations

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from app import changes
from app.communities.models import Community
from app.db import utcnow
from app.ratelimit import RateLimitHit


def session_on(connection: Connection) -> Session:
    return Session(bind=connection, join_transaction_mode="create_savepoint")


def counter(connection: Connection) -> int:
    with session_on(connection) as reader:
        value = changes.current(reader)
    assert value is not None
    return value


def test_a_commit_with_visible_changes_moves_it_once(connection):
    start = counter(connection)
    with session_on(connection) as session:
        session.add(Community(slug="miku", name="Miku"))
        session.flush()
        session.add(Community(slug="rin", name="Rin"))
        assert counter(connection) == start
        session.commit()
    assert counter(connection) == start + 1


def test_core_statements_run_through_the_session_count_too(connection):
    start = counter(connection)
    with session_on(connection) as session:
        session.execute(insert(Community).values(slug="len", name="Len", description=""))
        session.commit()
    assert counter(connection) == start + 1


def test_changes_no_visitor_sees_do_not_move_it(connection):
    start = counter(connection)
    with session_on(connection) as session:
        session.add(RateLimitHit(bucket="login", key="127.0.0.1", at=utcnow()))
        session.commit()
        session.commit()
    assert counter(connection) == start


def test_savepoints_wait_for_the_commit_and_rollbacks_forget(connection):
    start = counter(connection)
    with session_on(connection) as session:
        with session.begin_nested():
            session.add(Community(slug="miku", name="Miku"))
        assert counter(connection) == start
        session.rollback()
        session.commit()
    assert counter(connection) == start
    with session_on(connection) as session:
        session.add(Community(slug="miku", name="Miku"))
        savepoint = session.begin_nested()
        session.add(Community(slug="rin", name="Rin"))
        session.flush()
        savepoint.rollback()
        session.commit()
    assert counter(connection) == start + 1
