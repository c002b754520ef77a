"""Background work on a timer, inside the app process: the poll sweep, the mail worker.

Each job is a plain function that opens its own sessions; it runs in a thread, so a slow
database never blocks the event loop, and a failure is logged and tried again next turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress

from anyio import to_thread

log = logging.getLogger(__name__)


async def every(interval: float, stop: asyncio.Event, job: Callable[[], object], what: str) -> None:
    """Run `job` now and every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            await to_thread.run_sync(job)
        except Exception:  # the loop must outlive a database that is briefly away
            log.exception("%s failed; it runs again in %s seconds.", what, interval)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
