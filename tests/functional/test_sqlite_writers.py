"""SQLite under many concurrent writers: writes wait for the lock in turn instead of failing.

In WAL mode a deferred transaction (`BEGIN`) that has read and then writes cannot take the
write lock if another writer committed since its read: SQLite answers SQLITE_BUSY at once,
without waiting in the busy handler ("database is locked"). So a request that may write
(POST, PUT, PATCH, DELETE) begins with `BEGIN IMMEDIATE` (`app.db`): it takes the write lock
before its first read and waits for it, while GETs stay deferred (readers never block the
writer in WAL). PostgreSQL has no such lock: these tests are SQLite's alone.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import migrate
from app.db import create_db_engine, make_session_factory
from app.discussion.models import Comment
from app.polls.models import Ballot
from tests.support.live import serve
from tests.support.polls import seed_poll

# SQLite's single writer lock; PostgreSQL locks rows.
pytestmark = pytest.mark.database("sqlite")
WRITERS = 32


@pytest.fixture
def sqlite_url(make_database_url) -> str:
    url: str = make_database_url("writers")
    migrate.upgrade(url)
    return url


@pytest.fixture
def counter_engine(sqlite_url: str) -> Iterator[Engine]:
    """The app's engine on a fresh file database, with a one-row counter to race on."""
    engine = create_db_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield engine
    engine.dispose()


def _read(session: Session) -> int:
    return int(session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one())


def _write(session: Session, n: int) -> None:
    session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n})


def test_a_deferred_transaction_cannot_write_after_another_writer_committed(counter_engine):
    # The cause, shown once: the busy handler does not help a reader that wants to write.
    sessions = make_session_factory(counter_engine)
    with sessions(False) as late, sessions(True) as first:
        _read(late)
        _write(first, _read(first) + 1)
        first.commit()
        with pytest.raises(OperationalError, match="database is locked"):
            _write(late, 1)


def test_a_write_session_takes_the_lock_first_and_waits_its_turn(counter_engine):
    sessions = make_session_factory(counter_engine)
    holding, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            holding.wait(10)
            with sessions(True) as writer:
                # Waits here (BEGIN IMMEDIATE) until the first writer commits.
                _write(writer, _read(writer) + 1)
                writer.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with sessions(True) as first:
        value = _read(first)  # the write lock is taken here
        holding.set()
        assert not done.wait(0.3), "the second writer did not wait for the lock"
        _write(first, value + 1)
        first.commit()
    thread.join(30)
    assert not errors, errors
    with sessions(False) as reader:
        assert _read(reader) == 2  # neither update was lost


def test_reads_stay_deferred_and_do_not_block_a_writer(counter_engine):
    sessions = make_session_factory(counter_engine)
    with sessions(False) as reader:
        assert _read(reader) == 0
        # A reader holds no lock that a writer must wait for.
        with sessions(True) as writer:
            _write(writer, 5)
            writer.commit()
        assert _read(reader) == 0  # its snapshot
    with sessions(False) as reader:
        assert _read(reader) == 5


def test_32_threads_read_then_write_at_once_and_none_fails(counter_engine):
    sessions = make_session_factory(counter_engine)
    start = threading.Barrier(WRITERS)

    def increment(_: int) -> None:
        start.wait(10)
        with sessions(True) as writer:
            _write(writer, _read(writer) + 1)
            writer.commit()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(increment, range(WRITERS)))
    with sessions(False) as reader:
        assert _read(reader) == WRITERS  # every one counted, none lost


def test_32_concurrent_writers_post_comments_and_cast_ballots_through_the_server(sqlite_url):
    seeded = seed_poll(sqlite_url, voters=WRITERS, tokens=True)
    names = list(seeded.voters)
    start = threading.Barrier(WRITERS)

    with (
        serve(sqlite_url, sweep_interval_seconds="0") as base,
        httpx.Client(base_url=base, timeout=120) as http,
    ):

        def member(n: int) -> list[int]:
            headers = {"Authorization": f"Bearer {seeded.tokens[names[n]]}"}
            start.wait(30)
            statuses = []
            for round_ in range(3):
                comment = http.post(
                    f"/api/v1/proposals/{seeded.proposal_id}/comments",
                    json={"body": f"Comment {round_} of {names[n]}.", "alignment": "supports"},
                    headers=headers,
                )
                statuses.append(comment.status_code)
                ballot = http.put(
                    f"/api/v1/polls/{seeded.poll_id}/ballot",
                    json={"position": "consent", "reason": f"Round {round_}."},
                    headers=headers,
                )
                statuses.append(ballot.status_code)
            return statuses

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            answers = [
                status for statuses in pool.map(member, range(WRITERS)) for status in statuses
            ]

    assert all(200 <= status < 300 for status in answers), Counter(answers)
    engine = create_db_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            comments = connection.scalar(
                select(func.count())
                .select_from(Comment)
                .where(Comment.proposal_id == seeded.proposal_id)
            )
            ballots = connection.scalar(
                select(func.count()).select_from(Ballot).where(Ballot.poll_id == seeded.poll_id)
            )
    finally:
        engine.dispose()
    assert comments == WRITERS * 3
    assert ballots == WRITERS * 3
