"""Garbage collection at safe points (`app.collector`): the interpreter's policy, from a thread."""

from __future__ import annotations

import gc
import sys
import time
import weakref

import pytest

from app import collector

THRESHOLDS = (700, 10, 10)


@pytest.mark.parametrize(
    ("counts", "due"),
    [
        ((0, 0, 0), None),
        ((700, 10, 10), None),  # the interpreter collects past the threshold, not at it
        ((701, 0, 0), 0),
        ((5000, 10, 10), 0),
        ((701, 11, 0), 1),
        ((701, 11, 10), 1),
        ((701, 0, 11), 2),
        ((701, 11, 11), 2),
        ((3, 11, 11), None),  # older generations wait for the young one to fill
    ],
)
def test_the_due_generation_follows_the_interpreters_thresholds(counts, due):
    assert collector.due_generation(counts, THRESHOLDS) == due


def test_a_threshold_of_zero_means_never():
    assert collector.due_generation((10**6, 100, 100), (0, 10, 10)) is None


def test_only_python_before_3_12_needs_it():
    assert collector.needed() is (sys.version_info < (3, 12))


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_cycles_are_still_collected_once_it_runs():
    running = collector.start()
    assert running is collector.needed()
    assert gc.isenabled() is not running
    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    kept: list[list[object]] = []
    deadline = time.monotonic() + 5
    while gone() is not None and time.monotonic() < deadline:
        # Objects that live on fill the young generation, as a request's would.
        kept.append([[] for _ in range(1000)])
        time.sleep(collector.PERIOD_SECONDS)
    assert gone() is None


def test_it_starts_once_per_process():
    collector.start()
    thread = collector._thread
    collector.start()
    assert collector._thread is thread
