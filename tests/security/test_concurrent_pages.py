"""One worker process serving many uncached pages at once stays up, and answers each.

On Python 3.11 the cycle collector could run halfway through a C function and let another
request's thread in, which corrupted the heap: the worker died of a segmentation fault within
seconds of such load (`app.collector`). This drives a real server, one process on SQLite (the
crash did not depend on the database), with 16 connections asking for pages no cache answers.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import demo, migrate
from app.db import create_db_engine, utcnow
from app.discussion.models import Alignment, Comment
from app.proposals.models import Proposal, ProposalState
from tests.support import live

CONNECTIONS = 16
SECONDS = 15
#: Top-level comments added to a demo thread, so that its page builds a few thousand objects.
EXTRA_COMMENTS = 150


def _seed(url: str) -> list[str]:
    """The demo community with one long thread; the pages to ask for."""
    migrate.upgrade(url)
    engine = create_db_engine(url)
    try:
        with Session(engine) as db:
            demo.seed(db, now=utcnow())
            shown = db.scalars(
                select(Proposal).where(Proposal.state != ProposalState.draft).order_by(Proposal.id)
            ).all()
            first = shown[0]
            sample = db.scalars(select(Comment).where(Comment.proposal_id == first.id)).first()
            assert sample is not None
            db.add_all(
                Comment(
                    proposal_id=first.id,
                    depth=0,
                    author_id=sample.author_id,
                    alignment=Alignment.neutral,
                    body=sample.body,
                    body_html=sample.body_html,
                    created_at=utcnow(),
                )
                for _ in range(EXTRA_COMMENTS)
            )
            db.commit()
            slug = "miku"
            return [
                f"/c/{slug}",
                f"/c/{slug}/proposals",
                f"/c/{slug}/guidelines",
                f"/api/v1/communities/{slug}/guidelines",
                *(f"/c/{slug}/proposals/{proposal.id}" for proposal in shown),
            ]
    finally:
        engine.dispose()


@pytest.mark.database("sqlite")
def test_one_worker_answers_concurrent_uncached_pages_and_stays_up(make_database_url):
    url = make_database_url("pages")
    paths = _seed(url)
    port = live.free_port()
    base = f"http://127.0.0.1:{port}"
    server = live.launch(url, port, page_cache_mb="0", sweep_interval_seconds="0")
    statuses: Counter[int | str] = Counter()
    lock = threading.Lock()
    try:
        live.wait_until_up(base, server)
        deadline = time.monotonic() + SECONDS

        def visit(offset: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                turn = offset
                while time.monotonic() < deadline and server.poll() is None:
                    try:
                        status: int | str = client.get(paths[turn % len(paths)]).status_code
                    except httpx.TransportError as error:
                        status = type(error).__name__
                    with lock:
                        statuses[status] += 1
                    turn += 1

        visitors = [threading.Thread(target=visit, args=(n,)) for n in range(CONNECTIONS)]
        for visitor in visitors:
            visitor.start()
        for visitor in visitors:
            visitor.join()
        assert server.poll() is None, f"the server died (exit {server.returncode}): {statuses}"
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert set(statuses) == {200}, statuses
    assert statuses[200] > 100
