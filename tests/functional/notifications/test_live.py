"""The header's live unread count, read through the HTTP app as server-sent events.

The app here counts every 50 ms and ends each stream after half a second, so a test reads a
whole stream; its sessions join the test's transaction like the `client` fixture's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.main import create_app
from tests.conftest import _joined_session, csrf_token, log_in, make_settings
from tests.functional.discussion.conftest import Cast
from tests.functional.discussion.test_live import read_stream
from tests.functional.notifications.conftest import Tell


@pytest.fixture(scope="module")
def live_app(database_url: str) -> FastAPI:
    return create_app(make_settings(database_url, live_poll_seconds=0.05, live_stream_seconds=0.5))


@pytest.fixture
def live(live_app: FastAPI, connection: Connection, db: Session) -> Iterator[TestClient]:
    live_app.state.session_factory = lambda write: _joined_session(connection)
    with TestClient(live_app, base_url="http://testserver", follow_redirects=False) as client:
        yield client
    db.expire_all()


def unread_events(events: list[dict[str, str]]) -> list[str]:
    return [e["data"] for e in events if e.get("event") == "unread"]


def test_the_count_comes_at_once_and_only_again_when_it_changes(live, cast: Cast, tell: Tell):
    tell(cast.fan, 3)
    tell(cast.other_fan, 5)
    log_in(live, "fan_luka")
    content_type, events = read_stream(live, "/notifications/events")
    assert content_type.startswith("text/event-stream")
    assert events[0] == {"retry": "3000"}
    (count,) = unread_events(events)
    assert '<span class="unread-count" aria-hidden="true">3</span>' in count
    assert "(3 unread)" in count
    assert count.startswith("Notifications")
    assert any(e == {"": "keep-alive"} for e in events)


def test_the_count_follows_marking_read(live, cast: Cast, tell: Tell):
    tell(cast.fan, 2)
    log_in(live, "fan_luka")
    response = live.post("/notifications/read-all", headers={"X-CSRF-Token": csrf_token(live)})
    assert response.status_code == 303
    _, events = read_stream(live, "/notifications/events")
    assert unread_events(events) == ["Notifications"]


def test_many_unread_show_as_99_plus(live, cast: Cast, tell: Tell):
    tell(cast.fan, 120)
    log_in(live, "fan_luka")
    _, events = read_stream(live, "/notifications/events")
    (count,) = unread_events(events)
    assert ">99+</span>" in count
    assert "(more than 99 unread)" in count


def test_signed_out_the_stream_ends_at_once(live):
    response = live.get("/notifications/events")
    assert response.status_code == 204
    assert response.text == ""
