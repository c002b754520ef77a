"""Service calls raced in threads, each in a transaction of its own (as requests served by
several threads or processes), on a committed database of the kind under test.

SQLite serializes writers (the app's write sessions begin IMMEDIATE), so there a race only
shows that the calls queue up cleanly; PostgreSQL runs them side by side, which is where a
check-then-write without a lock or a unique constraint shows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from app import migrate
from app.db import create_db_engine, make_session_factory
from app.errors import DomainError

Outcome = object | DomainError


def at_once(url: str, count: int, act: Callable[[Session], object]) -> list[Outcome]:
    """Run `act(db)` `count` times at once, each in its own write session, committed when it
    returns; what each returned or the domain error it raised. Any other exception fails."""
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    start = threading.Barrier(count)
    outcomes: list[Outcome] = [None] * count
    failures: list[BaseException] = []

    def run(n: int) -> None:
        with factory(True) as db:
            start.wait()
            try:
                outcomes[n] = act(db)
                db.commit()
            except DomainError as exc:
                db.rollback()
                outcomes[n] = exc
            except BaseException as exc:  # anything else would be a 500: collected, then failed
                db.rollback()
                failures.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    if failures:
        raise failures[0]
    return outcomes


def refused(outcomes: list[Outcome]) -> list[DomainError]:
    return [o for o in outcomes if isinstance(o, DomainError)]


@contextmanager
def committed(url: str) -> Iterator[Session]:
    """A session on a fresh migrated database whose work is committed at the end."""
    migrate.upgrade(url)
    engine = create_db_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            yield db
            db.commit()
    finally:
        engine.dispose()


@contextmanager
def reading(url: str) -> Iterator[Session]:
    """A session to look at what the race left."""
    engine = create_db_engine(url)
    try:
        with Session(engine) as db:
            yield db
    finally:
        engine.dispose()
