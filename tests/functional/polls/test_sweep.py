"""The app's own sweep: a background loop closes polls past their time, survives failures,
and stops with the app."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import migrate
from app.db import SessionFactory, create_db_engine, make_session_factory, utcnow
from app.main import create_app
from app.polls import service, sweeper
from app.polls.models import Outcome, Poll
from app.proposals.models import EventKind, ProposalEvent
from tests.conftest import make_settings
from tests.support.loops import run as run_on_own_loop
from tests.support.polls import seed_poll


def closed_poll(url: str, poll_id: int) -> Poll | None:
    engine = create_db_engine(url)
    try:
        with Session(engine) as db:
            poll = db.get(Poll, poll_id)
            assert poll is not None
            return poll if poll.closed_at is not None else None
    finally:
        engine.dispose()


def test_the_app_closes_due_polls_in_the_background(make_database_url):
    url = make_database_url("sweep")
    migrate.upgrade(url)
    due = seed_poll(
        url, voters=3, opened_at=utcnow() - timedelta(days=8), positions=("consent",) * 2
    )
    running = seed_poll(url, voters=2)
    app = create_app(make_settings(url, sweep_interval_seconds=0.05))

    with TestClient(app):
        deadline = time.monotonic() + 10
        while (poll := closed_poll(url, due.poll_id)) is None and time.monotonic() < deadline:
            time.sleep(0.05)

    assert poll is not None
    assert poll.outcome == Outcome.passed
    assert poll.closed_by_id is None
    assert poll.closed_at == poll.closes_at
    assert closed_poll(url, running.poll_id) is None
    app.state.engine.dispose()


def test_a_failing_sweep_is_logged_and_the_loop_goes_on(make_database_url, caplog):
    url = make_database_url("sweep-fails")
    migrate.upgrade(url)
    due = seed_poll(url, voters=1, opened_at=utcnow() - timedelta(days=8))
    engine = create_db_engine(url)
    working = make_session_factory(engine)
    calls = []

    def factory() -> SessionFactory:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the database is away")
        return working

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(sweeper.sweep_forever(factory, 0.01, stop))
        while len(calls) < 2:
            await asyncio.sleep(0.01)
        stop.set()
        await task

    with caplog.at_level(logging.INFO, logger="app.polls.sweeper"):
        run_on_own_loop(run())
    engine.dispose()

    assert "The poll sweep failed" in caplog.text
    assert "Closed 1 poll(s)" in caplog.text
    assert closed_poll(url, due.poll_id) is not None


def test_nothing_due_takes_no_write_session(make_database_url):
    url = make_database_url("sweep-idle")
    migrate.upgrade(url)
    seed_poll(url, voters=1)
    engine = create_db_engine(url)
    sessions = make_session_factory(engine)
    asked = []

    def factory(write: bool) -> Session:
        asked.append(write)
        return sessions(write)

    assert sweeper.sweep_once(factory) == 0
    assert asked == [False]
    engine.dispose()


def test_sweeps_running_at_once_close_each_poll_once(make_database_url):
    """Several processes (here threads with sessions of their own) sweep at the same moment:
    every due poll ends closed, with one closing event and one frozen tally."""
    url = make_database_url("sweep-race")
    migrate.upgrade(url)
    due = [
        seed_poll(url, voters=2, opened_at=utcnow() - timedelta(days=8), positions=("consent",))
        for _ in range(6)
    ]
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    start = threading.Barrier(4)
    closed: list[int] = []
    failures: list[BaseException] = []

    def sweep() -> None:
        try:
            start.wait()
            with factory(True) as db:
                closed.append(service.sweep(db, utcnow()))
                db.commit()
        except BaseException as exc:  # reported below, with the thread's own traceback
            failures.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sum(closed) == len(due)
    with Session(engine) as db:
        for seeded in due:
            poll = db.get(Poll, seeded.poll_id)
            assert poll is not None
            assert poll.tally is not None
            events = db.scalars(
                select(ProposalEvent.id).where(
                    ProposalEvent.proposal_id == seeded.proposal_id,
                    ProposalEvent.kind == EventKind.poll_closed,
                )
            ).all()
            assert len(events) == 1
    engine.dispose()
