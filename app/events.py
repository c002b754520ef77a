"""Live events within one process: services note them, subscribers wake after the commit.

A service calls `notify(db, channel)`; the note rides on the session and is published only
when the transaction commits, so nobody is woken for a change that was rolled back. An event
carries no data: subscribers re-read the database, which is what makes the design work with
several processes too — a broker that relays notes between processes (PostgreSQL
LISTEN/NOTIFY) can replace the in-process one without touching services or subscribers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

PENDING = "normsforum.events"


class Subscription:
    """One listener's wake-up flag, settable from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """True when woken within `timeout` seconds; clears the flag for the next wait."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class Broker:
    """Channels of subscribers in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, set[Subscription]] = {}

    def publish(self, channel: str) -> None:
        with self._lock:
            subscribers = list(self._channels.get(channel, ()))
        for subscription in subscribers:
            subscription.wake()

    @contextmanager
    def subscribe(self, channel: str) -> Iterator[Subscription]:
        subscription = Subscription(asyncio.get_running_loop())
        with self._lock:
            self._channels.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                listeners = self._channels.get(channel, set())
                listeners.discard(subscription)
                if not listeners:
                    self._channels.pop(channel, None)

    def subscriber_count(self, channel: str) -> int:
        with self._lock:
            return len(self._channels.get(channel, ()))


broker = Broker()


def notify(db: Session, channel: str) -> None:
    """Publish `channel` once the session's transaction commits."""
    db.info.setdefault(PENDING, set()).add(channel)


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    for channel in session.info.pop(PENDING, ()):
        broker.publish(channel)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def thread_channel(proposal_id: int) -> str:
    return f"thread:{proposal_id}"
