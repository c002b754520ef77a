"""Two app processes on one database: a comment posted through one reaches, as a live event,
a viewer connected to the other. On PostgreSQL the processes relay events to each other
(LISTEN/NOTIFY), so it arrives at once; SQLite has no such channel and the stream finds it on
its next look at the database."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import httpx
from sqlalchemy.orm import Session

from app import migrate
from app.accounts import service as accounts_service
from app.communities.models import Role
from app.db import create_db_engine, utcnow
from app.proposals import service as proposals_service
from tests.factories import add_member, make_community, make_user
from tests.support.live import serve


def seed(url: str) -> tuple[int, str]:
    """A published proposal in community "miku" and a member's write token."""
    engine = create_db_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            community = make_community(db, "miku")
            member = make_user(db)
            add_member(db, community, member, Role.fan, joined_at=utcnow() - timedelta(days=30))
            proposal = proposals_service.create_proposal(
                db,
                actor=member,
                community=community,
                values=proposals_service.ProposalDraft(
                    title="Credit the illustrator", norm_text="Credit the illustrator."
                ),
                now=utcnow() - timedelta(days=5),
            )
            proposals_service.publish(
                db, actor=member, proposal=proposal, now=utcnow() - timedelta(days=5)
            )
            _, token = accounts_service.create_token(
                db, actor=member, name="live", scope="write", now=utcnow()
            )
            db.commit()
            return proposal.id, token
    finally:
        engine.dispose()


def test_a_comment_posted_through_one_process_reaches_a_viewer_of_another(
    make_database_url, db_kind
):
    url = make_database_url("live-two")
    migrate.upgrade(url)
    proposal_id, token = seed(url)
    # On PostgreSQL the streams look in the database only every minute: an arrival within
    # seconds can only come from the other process's notification.
    poll = "60" if db_kind == "postgresql" else "1"
    settings = {"live_poll_seconds": poll, "sweep_interval_seconds": "0"}
    with serve(url, **settings) as writer, serve(url, **settings) as reader:
        received: list[str] = []
        connected = threading.Event()
        arrived = threading.Event()

        def watch() -> None:
            events_url = f"{reader}/c/miku/proposals/{proposal_id}/events"
            with httpx.stream("GET", events_url, timeout=30) as response:
                for line in response.iter_lines():
                    connected.set()
                    received.append(line)
                    if "live across processes" in line:
                        arrived.set()
                        return

        viewer = threading.Thread(target=watch, daemon=True)
        viewer.start()
        assert connected.wait(10), "the stream did not start"
        posted = httpx.post(
            f"{writer}/api/v1/proposals/{proposal_id}/comments",
            json={"body": "A comment, live across processes."},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert posted.status_code == 201, posted.text
        started = time.monotonic()
        assert arrived.wait(15), received
        elapsed = time.monotonic() - started
        if db_kind == "postgresql":
            assert elapsed < 5, elapsed
        assert any(line == "event: comment" for line in received)
