"""Closing polls past their time for good: `normsforum sweep` from cron, and the app's own loop.

Every process may sweep at once (see `service.sweep`); a cheap read comes first so that idle
processes never queue for the write lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from app import jobs
from app.db import SessionFactory, utcnow
from app.polls import service

log = logging.getLogger(__name__)

BATCH = 100


def sweep_once(session_factory: SessionFactory, now: datetime | None = None) -> int:
    """Close every poll due at `now` (default: the present), a batch per transaction."""
    now = now or utcnow()
    with session_factory(False) as reader:
        if not service.has_due_polls(reader, now):
            return 0
    closed = 0
    with session_factory(True) as db:
        while True:
            swept = service.sweep(db, now, batch=BATCH)
            db.commit()
            closed += swept
            # A short batch means nothing is left, or other sweepers hold the rest.
            if swept < BATCH:
                return closed


async def sweep_forever(
    session_factory: Callable[[], SessionFactory], interval: float, stop: asyncio.Event
) -> None:
    """Sweep now and every `interval` seconds until `stop` is set; failures are logged, and
    the next turn tries again."""

    def turn() -> None:
        closed = sweep_once(session_factory())
        if closed:
            log.info("Closed %d poll(s) past their closing time.", closed)

    await jobs.every(interval, stop, turn, "The poll sweep")
