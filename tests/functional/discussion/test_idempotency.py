"""Comments under idempotency keys: a retried comment is posted once and answered as the
first time, through the API (`Idempotency-Key`) and the comment forms (a key per render)."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.discussion.models import Comment, ThreadStats
from app.idempotency import IdempotencyKey
from tests.conftest import log_in, post_form
from tests.functional.discussion.conftest import Cast

KEY = "c0ffee00-1d8e-4c55-b0b4-8a1f3f0e2c71"
HTMX = {"HX-Request": "true"}


def comments(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Comment)) or 0


def post_comment(client, cast: Cast, headers, body="Kept once.", key=KEY, **extra):
    return client.post(
        f"/api/v1/proposals/{cast.proposal.id}/comments",
        json={"body": body, **extra},
        headers={**headers, "Idempotency-Key": key},
    )


def form_keys(html: str) -> list[str]:
    return re.findall(r'name="idempotency_key" value="([^"]+)"', html)


def test_a_retried_comment_is_posted_once_and_answered_as_the_first_time(
    client, db, cast: Cast, bearer
):
    headers = bearer(cast.fan)

    first = post_comment(client, cast, headers, alignment="supports")
    again = post_comment(client, cast, headers, alignment="supports")

    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert comments(db) == 1
    # The thread's counts moved once.
    stats = db.get(ThreadStats, cast.proposal.id)
    assert stats is not None
    db.refresh(stats)
    assert (stats.comments, stats.supports) == (1, 1)


def test_the_same_key_with_another_text_is_refused(client, db, cast: Cast, bearer):
    headers = bearer(cast.fan)
    post_comment(client, cast, headers, body="The first text.")

    response = post_comment(client, cast, headers, body="Another text.")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert comments(db) == 1


def test_the_same_key_on_another_thread_is_refused(client, db, cast: Cast, bearer):
    headers = bearer(cast.author)
    post_comment(client, cast, headers)

    response = client.post(
        f"/api/v1/proposals/{cast.draft.id}/comments",
        json={"body": "Kept once."},
        headers={**headers, "Idempotency-Key": KEY},
    )

    assert response.status_code == 422
    assert comments(db) == 1


def test_a_refused_comment_leaves_its_key_free(client, db, cast: Cast, bearer):
    headers = bearer(cast.fan)

    refused = post_comment(client, cast, headers, body="   ")
    posted = post_comment(client, cast, headers, body="Now with words.")

    assert refused.status_code == 422
    assert posted.status_code == 201
    assert "idempotent-replayed" not in posted.headers
    assert comments(db) == 1


def test_the_comment_form_sent_twice_posts_once(client, db, cast: Cast):
    log_in(client, cast.fan.username)
    page = client.get(f"/c/miku/proposals/{cast.proposal.id}").text
    keys = form_keys(page)
    assert keys, "the comment form carries a key"
    assert len(set(keys)) == len(keys)
    data = {"body": "Posted with a double click.", "idempotency_key": keys[0]}

    first = post_form(client, f"/c/miku/proposals/{cast.proposal.id}/comments", data)
    again = post_form(client, f"/c/miku/proposals/{cast.proposal.id}/comments", data)

    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert comments(db) == 1
    row = db.scalar(select(IdempotencyKey))
    assert row is not None
    assert row.action == "form:comment"


def test_the_comment_form_replayed_over_htmx_answers_the_comment(client, db, cast: Cast):
    log_in(client, cast.fan.username)
    data = {"body": "Posted in place, twice.", "idempotency_key": "form-key-3"}
    url = f"/c/miku/proposals/{cast.proposal.id}/comments"

    first = post_form(client, url, data, headers=HTMX)
    again = post_form(client, url, data, headers=HTMX)

    assert first.status_code == again.status_code == 201
    assert "Posted in place, twice." in again.text
    comment = db.scalar(select(Comment))
    assert comment is not None
    assert f'id="comment-{comment.id}"' in again.text
    assert comments(db) == 1


def test_a_refused_comment_form_keeps_no_key(client, db, cast: Cast):
    log_in(client, cast.fan.username)
    data = {"body": "", "idempotency_key": "form-key-4"}

    refused = post_form(client, f"/c/miku/proposals/{cast.proposal.id}/comments", data)

    assert refused.status_code == 422
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    assert "form-key-4" not in form_keys(refused.text)
