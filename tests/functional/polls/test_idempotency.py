"""Ballots under idempotency keys: a retried ballot is cast once and answered as the first
time, through the API (`Idempotency-Key`) and the poll's form (a hidden key per render)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import migrate
from app.db import create_db_engine
from app.idempotency import IdempotencyKey
from app.polls.models import Ballot
from tests.conftest import log_in, post_form
from tests.functional.polls.conftest import Forum, ballot_count, error
from tests.support.live import serve
from tests.support.polls import seed_poll

KEY = "6f1c0a52-1d8e-4c55-b0b4-8a1f3f0e2c71"


def put_ballot(
    client: TestClient,
    poll_id: int,
    headers: dict[str, str],
    position: str = "consent",
    reason: str = "",
    key: str | None = KEY,
) -> Any:
    return client.put(
        f"/api/v1/polls/{poll_id}/ballot",
        json={"position": position, "reason": reason},
        headers={**headers, "Idempotency-Key": key} if key else headers,
    )


def form_key(html: str) -> str:
    match = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert match, "no idempotency key in the form"
    return match.group(1)


def test_a_retried_ballot_is_cast_once_and_answered_as_the_first_time(
    client, db, forum, poll, bearer
):
    headers = bearer(forum.fan)

    first = put_ballot(client, poll.id, headers, "concern", "Mind the merch.")
    again = put_ballot(client, poll.id, headers, "concern", "Mind the merch.")

    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert ballot_count(db, poll.id) == 1


def test_the_same_key_with_another_ballot_is_refused_and_casts_nothing(
    client, db, forum, poll, bearer
):
    headers = bearer(forum.fan)
    put_ballot(client, poll.id, headers, "consent")

    response = put_ballot(client, poll.id, headers, "object", "No.")

    problem = error(response, 422)
    assert problem["code"] == "idempotency_key_reused"
    assert "different request" in problem["message"]
    assert ballot_count(db, poll.id) == 1


def test_each_new_key_casts_a_new_ballot(client, db, forum, poll, bearer):
    headers = bearer(forum.fan)

    put_ballot(client, poll.id, headers, "consent", key="first")
    put_ballot(client, poll.id, headers, "consent", key="second")
    put_ballot(client, poll.id, headers, "consent", key=None)

    assert ballot_count(db, poll.id) == 3


def test_keys_are_each_members_own(client, db, forum, poll, bearer):
    put_ballot(client, poll.id, bearer(forum.fan), "consent")
    response = put_ballot(client, poll.id, bearer(forum.author), "consent")

    assert response.status_code == 200
    assert "idempotent-replayed" not in response.headers
    assert ballot_count(db, poll.id) == 2


def test_a_refused_ballot_leaves_its_key_free(client, db, forum, poll, bearer):
    headers = bearer(forum.fan)

    refused = put_ballot(client, poll.id, headers, "object", "")
    fixed = put_ballot(client, poll.id, headers, "object", "Now with a reason.")

    assert refused.status_code == 422
    assert fixed.status_code == 200, fixed.text
    assert "idempotent-replayed" not in fixed.headers
    assert ballot_count(db, poll.id) == 1


def test_a_malformed_key_is_refused(client, db, forum, poll, bearer):
    headers = bearer(forum.fan)

    for key in ("k" * 101, "two words"):
        response = put_ballot(client, poll.id, headers, key=key)
        assert "Idempotency-Key" in error(response, 422)["fields"]
    assert ballot_count(db, poll.id) == 0


def test_the_header_is_documented(client):
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/polls/{poll_id}/ballot"]
    parameters = {p["name"]: p for p in operation["put"]["parameters"]}

    assert parameters["Idempotency-Key"]["in"] == "header"
    assert parameters["Idempotency-Key"]["required"] is False


def test_every_render_of_the_ballot_form_carries_a_new_key(client, forum: Forum, poll):
    log_in(client, forum.fan.username)
    url = f"/c/miku/polls/{poll.id}"

    first, second = form_key(client.get(url).text), form_key(client.get(url).text)

    assert first != second


def test_the_ballot_form_sent_twice_casts_once(client, db: Session, forum: Forum, poll):
    log_in(client, forum.fan.username)
    key = form_key(client.get(f"/c/miku/polls/{poll.id}").text)
    data = {"position": "consent", "reason": "", "page": "poll", "idempotency_key": key}

    first = post_form(client, f"/c/miku/polls/{poll.id}/ballot", data)
    again = post_form(client, f"/c/miku/polls/{poll.id}/ballot", data)

    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert ballot_count(db, poll.id) == 1
    page = client.get(again.headers["location"]).text
    assert "Your ballot was cast: Consent" in page
    key_row = db.scalar(select(IdempotencyKey))
    assert key_row is not None
    assert key_row.action == "form:ballot"


def test_the_ballot_form_replayed_over_htmx_answers_with_the_panel(
    client, db: Session, forum: Forum, poll
):
    log_in(client, forum.fan.username)
    data = {"position": "stand_aside", "page": "poll", "idempotency_key": "form-key-1"}
    htmx = {"HX-Request": "true"}

    first = post_form(client, f"/c/miku/polls/{poll.id}/ballot", data, headers=htmx)
    again = post_form(client, f"/c/miku/polls/{poll.id}/ballot", data, headers=htmx)

    assert first.status_code == again.status_code == 200
    assert 'id="poll"' in again.text
    assert "Your ballot was cast: Stand aside" in again.text
    assert ballot_count(db, poll.id) == 1


def test_a_refused_ballot_form_shows_a_fresh_key_and_keeps_none(client, db, forum: Forum, poll):
    log_in(client, forum.fan.username)
    data = {"position": "object", "reason": "", "page": "poll", "idempotency_key": "form-key-2"}

    refused = post_form(client, f"/c/miku/polls/{poll.id}/ballot", data)

    assert refused.status_code == 422
    assert form_key(refused.text) != "form-key-2"
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_concurrent_retries_with_one_key_cast_one_ballot(make_database_url):
    """Ten copies of one request at once, through a real server: one ballot, ten equal answers
    (the others wait for the first to commit, then replay it)."""
    url = make_database_url("idempotent_ballots")
    migrate.upgrade(url)
    seeded = seed_poll(url, voters=2, tokens=True)
    name = seeded.voters[0]
    headers = {"Authorization": f"Bearer {seeded.tokens[name]}", "Idempotency-Key": KEY}
    body = {"position": "concern", "reason": "Sent ten times at once."}

    with serve(url, sweep_interval_seconds="0") as base, httpx.Client(base_url=base) as http:

        def send(_: int) -> httpx.Response:
            return http.put(
                f"/api/v1/polls/{seeded.poll_id}/ballot", json=body, headers=headers, timeout=60
            )

        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(send, range(10)))

    assert [a.status_code for a in answers] == [200] * 10
    assert len({a.text for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 9
    engine = create_db_engine(url)
    try:
        with Session(engine) as db:
            stored = db.scalar(select(func.count()).where(Ballot.poll_id == seeded.poll_id))
    finally:
        engine.dispose()
    assert stored == 1
