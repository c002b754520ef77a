"""The last-moderator rule holds when two moderators act at the same moment.

Two real sessions on a committed database of their own: the first leaves (or demotes the other)
and keeps its transaction open; the second must wait for it rather than count the moderators
while the first one's change is invisible to it. Waiting is shown by a short lock timeout on the
second session, not by timing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import migrate
from app.accounts.models import User
from app.communities import service
from app.communities.models import Community, Membership, Role
from app.db import create_db_engine, make_session_factory, utcnow
from app.errors import Conflict, PermissionDenied
from tests.factories import add_member, make_community, make_user


@dataclass
class Setup:
    engine: Engine
    community_id: int
    first_id: int
    second_id: int


@pytest.fixture
def two_moderators(make_database_url) -> Iterator[Setup]:
    url = make_database_url("locks")
    migrate.upgrade(url)
    engine = create_db_engine(url)
    with Session(engine) as db:
        community = make_community(db)
        first, second = make_user(db), make_user(db)
        add_member(db, community, first, Role.moderator)
        add_member(db, community, second, Role.moderator)
        db.commit()
        setup = Setup(engine, community.id, first.id, second.id)
    yield setup
    engine.dispose()


def impatient_session(engine: Engine) -> Session:
    """A writer's session that gives up on a lock after a moment instead of waiting for it."""
    connection = engine.connect().execution_options(sqlite_immediate=True)
    if engine.dialect.name == "sqlite":
        # Before the session's BEGIN IMMEDIATE, which is where SQLite waits for the writer.
        connection.connection.dbapi_connection.execute("PRAGMA busy_timeout = 200")  # type: ignore[union-attr]
        return Session(bind=connection)
    session = Session(bind=connection)
    session.execute(text("SET lock_timeout = '200ms'"))
    return session


def leave(db: Session, setup: Setup, actor_id: int) -> None:
    service.leave(
        db,
        actor=db.get(User, actor_id),
        community=db.get_one(Community, setup.community_id),
        now=utcnow(),
    )


def demote(db: Session, setup: Setup, actor_id: int) -> None:
    target_id = setup.second_id if actor_id == setup.first_id else setup.first_id
    target = db.get_one(User, target_id)
    service.change_role(
        db,
        actor=db.get(User, actor_id),
        community=db.get_one(Community, setup.community_id),
        username=target.username,
        role="fan",
        reason="Only one of us should moderate.",
        now=utcnow(),
    )


Action = Callable[[Session, Setup, int], None]


@pytest.mark.parametrize("action", [leave, demote], ids=["both-leave", "demote-each-other"])
def test_two_moderators_acting_at_once_leave_one_moderator(two_moderators, action: Action):
    setup = two_moderators
    writers = make_session_factory(setup.engine)

    first = writers(True)
    try:
        action(first, setup, setup.first_id)  # done, not committed yet
        second = impatient_session(setup.engine)
        try:
            with pytest.raises(OperationalError):
                action(second, setup, setup.second_id)
        finally:
            second.close()
            # Its short lock timeout must not go back to the pool with it.
            connection = second.get_bind()
            assert isinstance(connection, Connection)
            connection.invalidate()
            connection.close()
        first.commit()
    finally:
        first.close()

    with writers(True) as retry:
        # Seen now: the other one left (Conflict) or is no longer a moderator (PermissionDenied).
        with pytest.raises((Conflict, PermissionDenied)):
            action(retry, setup, setup.second_id)
        retry.rollback()

    with Session(setup.engine) as db:
        moderators = db.scalar(
            select(func.count(Membership.id)).where(
                Membership.community_id == setup.community_id, Membership.role == Role.moderator
            )
        )
    assert moderators == 1
