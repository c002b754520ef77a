"""The live stream of new comments (server-sent events), read through the HTTP app.

The app here polls every 50 ms and ends each stream after half a second, so a test reads a
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
from app.proposals.models import Proposal
from tests.conftest import _joined_session, log_in, make_settings
from tests.functional.discussion.conftest import Cast
from tests.unit.discussion.conftest import post


@pytest.fixture(scope="module")
def live_app(database_url: str) -> FastAPI:
    return create_app(make_settings(database_url, live_poll_seconds=0.05, live_stream_seconds=0.5))


@pytest.fixture
def live(live_app: FastAPI, connection: Connection, db: Session) -> Iterator[TestClient]:
    live_app.state.session_factory = lambda write: _joined_session(connection)
    with TestClient(live_app, base_url="http://testserver", follow_redirects=False) as client:
        yield client
    db.expire_all()


def events_url(proposal: Proposal, after: int | None = None) -> str:
    url = f"/c/miku/proposals/{proposal.id}/events"
    return url if after is None else f"{url}?after={after}"


def read_stream(
    client: TestClient, url: str, headers: dict[str, str] | None = None
) -> tuple[str, list[dict[str, str]]]:
    """The stream's content type and its events, each as {field: value} (data lines joined)."""
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, response.read()
        text = "".join(response.iter_text())
        content_type = response.headers["content-type"]
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            joined = name == "data" and name in fields
            fields[name] = f"{fields[name]}\n{value}" if joined else value
        events.append(fields)
    return content_type, events


def ids(events: list[dict[str, str]]) -> list[int]:
    return [int(e["id"]) for e in events if "id" in e]


def test_new_comments_stream_as_rendered_html(live, db, cast: Cast):
    before = post(db, cast.proposal, cast.other_fan, "Seen already")
    comment = post(db, cast.proposal, cast.other_fan, "Fresh *news*", alignment="supports")
    log_in(live, "fan_luka")

    content_type, events = read_stream(live, events_url(cast.proposal, after=before.id))

    assert content_type.startswith("text/event-stream")
    assert events[0] == {"retry": "3000"}
    (event,) = [e for e in events if e.get("event") == "comment"]
    assert event["id"] == str(comment.id)
    html = event["data"]
    assert html.startswith(f'<article class="comment" id="comment-{comment.id}"')
    assert html.rstrip().endswith("</article>")
    assert "<em>news</em>" in html
    assert "Supports" in html
    assert f"User {cast.other_fan.username}" in html
    # Rendered for this viewer: a member may reply.
    assert "<summary>Reply</summary>" in html
    assert ids(events) == [comment.id]
    # Nothing else happened, so the rest is keep-alives.
    assert any(e == {"": "keep-alive"} for e in events)


def test_last_event_id_resumes_after_that_comment(live, db, cast: Cast):
    first = post(db, cast.proposal, cast.other_fan, "First")
    second = post(db, cast.proposal, cast.other_fan, "Second")
    reply = post(db, cast.proposal, cast.author, "A reply", parent=first)

    _, everything = read_stream(live, events_url(cast.proposal, after=0))
    assert ids(everything) == [first.id, second.id, reply.id]

    _, resumed = read_stream(
        live, events_url(cast.proposal, after=0), headers={"Last-Event-ID": str(first.id)}
    )
    assert ids(resumed) == [second.id, reply.id]
    reply_event = next(e for e in resumed if e.get("id") == str(reply.id))
    assert f'data-parent="{first.id}"' in reply_event["data"]
    # Signed out: no reply form in what arrives.
    assert "<summary>Reply</summary>" not in reply_event["data"]

    _, by_query = read_stream(live, events_url(cast.proposal, after=second.id))
    assert ids(by_query) == [reply.id]


def test_the_viewers_own_comments_come_as_an_id_alone(live, db, cast: Cast):
    own = post(db, cast.proposal, cast.fan, "My own words")
    other = post(db, cast.proposal, cast.other_fan, "Someone else")
    log_in(live, "fan_luka")

    _, events = read_stream(live, events_url(cast.proposal, after=0))

    assert ids(events) == [own.id, other.id]
    own_event = next(e for e in events if e.get("id") == str(own.id))
    assert own_event == {"id": str(own.id), "": "own comment"}
    assert "My own words" not in str(events)


def test_a_drafts_stream_is_only_for_its_authors(live, db, cast: Cast):
    url = events_url(cast.draft, after=0)
    assert live.get(url).status_code == 404
    log_in(live, "fan_luka")
    assert live.get(url).status_code == 404
    live.cookies.clear()
    log_in(live, "author_kaito")
    content_type, events = read_stream(live, url)
    assert content_type.startswith("text/event-stream")
    assert ids(events) == []


def test_the_page_starts_the_stream_after_its_newest_comment(client, db, cast: Cast):
    post(db, cast.proposal, cast.other_fan, "One")
    newest = post(db, cast.proposal, cast.other_fan, "Two")
    html = client.get(f"/c/miku/proposals/{cast.proposal.id}").text
    assert f'sse-connect="{events_url(cast.proposal, after=newest.id)}"' in html


def test_a_malformed_after_starts_from_the_beginning(live, db, cast: Cast):
    comment = post(db, cast.proposal, cast.other_fan, "Hello")
    _, events = read_stream(live, events_url(cast.proposal) + "?after=abc")
    assert ids(events) == [comment.id]
    _, events = read_stream(live, events_url(cast.proposal), headers={"Last-Event-ID": "-5"})
    assert ids(events) == [comment.id]
