"""Live events: services note them, subscribers wake after the commit, in every process.

A service calls `notify(db, channel)`; the note rides on the session and is published only
when the transaction commits, so nobody is woken for a change that was rolled back. An event
carries no data: subscribers re-read the database.

Within a process the broker wakes subscribers directly. Across processes, on PostgreSQL, the
same note is also sent with `pg_notify` inside the transaction (PostgreSQL delivers it at
commit and drops it at rollback), and every process runs a `Listener` that relays what it
hears to its own broker. On SQLite, which has no such channel, streams also look in the
database every few seconds (`live_poll_seconds`), so a change made by another process still
arrives, a little later.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

PENDING = "normsforum.events"
log = logging.getLogger(__name__)


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


#: The PostgreSQL notification channel every process listens on; the payload is our channel.
PG_CHANNEL = "normsforum_events"


def notify(db: Session, channel: str) -> None:
    """Publish `channel` once the session's transaction commits, here and in other processes."""
    pending = db.info.setdefault(PENDING, set())
    if channel in pending:
        return
    pending.add(channel)
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_notify(PG_CHANNEL, channel)))


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    for channel in session.info.pop(PENDING, ()):
        broker.publish(channel)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def thread_channel(proposal_id: int) -> str:
    return f"thread:{proposal_id}"


class Listener:
    """Relays PostgreSQL notifications from other processes to this process's broker.

    A thread with a connection of its own (autocommit, LISTEN); on a lost connection it
    reconnects after a pause, and the streams' own periodic look at the database covers the
    gap.
    """

    def __init__(self, url: str, target: Broker | None = None) -> None:
        self.url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.target = target or broker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-listener", daemon=True)
        self.listening = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {PG_CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in connection.notifies(timeout=1.0):
                            self.target.publish(note.payload)
            except psycopg.Error:
                log.warning("The event listener lost PostgreSQL; it reconnects in 2 s.")
                self.listening.clear()
                self._stop.wait(2.0)
