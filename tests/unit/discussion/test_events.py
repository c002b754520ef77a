"""The in-process broker: publishing wakes subscribers; a session publishes on commit only."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from app import events
from app.discussion.models import Comment
from tests.support.loops import run
from tests.unit.discussion.conftest import World, post


class Recorder(events.Broker):
    """A broker that also remembers what was published."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[str] = []

    def publish(self, channel: str) -> None:
        self.published.append(channel)
        super().publish(channel)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(events, "broker", recorder)
    return recorder


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine of its own (a SQLite file), so commits here really commit."""
    engine = create_engine(f"sqlite:///{tmp_path / 'events.sqlite'}")
    yield engine
    engine.dispose()


def test_publish_wakes_subscribers_of_that_channel_only():
    broker = events.Broker()

    async def scenario() -> None:
        with (
            broker.subscribe("thread:1") as one,
            broker.subscribe("thread:1") as also_one,
            broker.subscribe("thread:2") as two,
        ):
            assert broker.subscriber_count("thread:1") == 2
            assert await one.wait(0.01) is False
            # Published from another thread, as a request's commit does.
            publisher = threading.Thread(target=broker.publish, args=("thread:1",))
            publisher.start()
            assert await one.wait(2) is True
            assert await also_one.wait(2) is True
            assert await two.wait(0.05) is False
            publisher.join()
            # The flag clears once seen.
            assert await one.wait(0.01) is False
        assert broker.subscriber_count("thread:1") == 0
        assert broker.subscriber_count("thread:2") == 0
        broker.publish("thread:1")  # nobody listens: nothing happens

    run(scenario())


def test_a_wake_before_the_wait_is_not_lost():
    broker = events.Broker()

    async def scenario() -> None:
        with broker.subscribe("c") as subscription:
            broker.publish("c")
            await asyncio.sleep(0)  # let the threadsafe callback run
            assert await subscription.wait(0.01) is True

    run(scenario())


def test_commit_publishes_and_rollback_does_not(recorder: Recorder, own_engine: Engine):
    with Session(own_engine) as session:
        session.execute(select(1))
        events.notify(session, "thread:7")
        events.notify(session, "thread:7")
        assert recorder.published == []
        session.commit()
        assert recorder.published == ["thread:7"]

        session.execute(select(1))
        events.notify(session, "thread:8")
        session.rollback()
        assert recorder.published == ["thread:7"]
        # What was rolled back is forgotten, not published by the next commit.
        session.execute(select(1))
        session.commit()
        assert recorder.published == ["thread:7"]


def test_a_subscriber_is_woken_by_a_commit(own_engine: Engine):
    async def scenario() -> None:
        with events.broker.subscribe("thread:9") as subscription:

            def write() -> None:
                with Session(own_engine) as session:
                    session.execute(select(1))
                    events.notify(session, "thread:9")
                    session.commit()

            await asyncio.to_thread(write)
            assert await subscription.wait(2) is True

    run(scenario())


def test_posting_a_comment_publishes_its_thread_on_commit(
    recorder: Recorder, db: Session, world: World
):
    # The test session joins an outer transaction with savepoints: its commit releases the
    # savepoint, and the session's own transaction still ends, so `after_commit` fires.
    comment = post(db, world.proposal, world.fan, "Hello")
    channel = events.thread_channel(world.proposal.id)
    assert recorder.published == []
    db.commit()
    assert recorder.published == [channel]
    assert db.get(Comment, comment.id) is not None


def test_a_rolled_back_comment_publishes_nothing(recorder: Recorder, db: Session, world: World):
    post(db, world.proposal, world.fan, "Never mind")
    db.rollback()
    db.commit()
    assert recorder.published == []
