"""Cyclic garbage collection only at safe points, on Python 3.11.

CPython 3.11 runs its cycle collector inside whichever allocation crosses the threshold, which
may be halfway through a C function building an object. The finalizers a collection calls run
Python code, and Python code may hand the interpreter to another thread. Under concurrent
requests that corrupted the heap: a single worker died of a segmentation fault within seconds
of 32 connections asking for uncached pages (bench/README.md, "A crash under load", and
python/cpython#97922). Python 3.12 runs the collector only between bytecodes, where every
thread's state is whole.

On 3.11, `start` turns automatic collection off and runs the same generational policy from a
thread of its own: `gc.collect` called from Python code is such a point between bytecodes, and
every other thread has given up the interpreter at one too. On 3.12 and later it does nothing.
"""

from __future__ import annotations

import gc
import sys
import threading
import time

#: How often the thread looks at the allocation counts. A request allocates a few thousand
#: objects per millisecond at most, so a young generation collected this late holds some tens
#: of thousands more objects than the interpreter's own threshold would let it.
PERIOD_SECONDS = 0.02

_lock = threading.Lock()
_thread: threading.Thread | None = None


def needed() -> bool:
    """Whether this interpreter may collect inside an allocation (before 3.12)."""
    return sys.version_info < (3, 12)


def start() -> bool:
    """Collect from the collector thread from now on, once per process; whether it runs.

    The interpreter's own policy also puts off a full collection until the oldest generation
    has grown by a quarter, which Python cannot see. Instead, what exists when serving starts
    (modules, routes, settings) is frozen out of collection, which keeps full collections short.
    """
    global _thread
    if not needed():
        return False
    with _lock:
        if _thread is None or not _thread.is_alive():
            gc.disable()
            gc.freeze()
            _thread = threading.Thread(
                target=_collect_forever, name="gc-at-safe-points", daemon=True
            )
            _thread.start()
    return True


def due_generation(counts: tuple[int, int, int], thresholds: tuple[int, ...]) -> int | None:
    """The generation the interpreter would collect at these `gc.get_count()` and
    `gc.get_threshold()`, or None.

    A collection of generation n empties the younger ones and adds one to the count of n + 1,
    so after it the counts say again what is due.
    """
    if thresholds[0] == 0 or counts[0] <= thresholds[0]:
        return None
    if counts[2] > thresholds[2]:
        return 2
    return 1 if counts[1] > thresholds[1] else 0


def _collect_forever() -> None:
    while True:
        time.sleep(PERIOD_SECONDS)
        generation = due_generation(gc.get_count(), gc.get_threshold())
        if generation is not None:
            gc.collect(generation)
