"""The discussion JSON API: the thread, comments, replies, edits, versions and moderation,
through the HTTP app with Bearer tokens and with a browser session plus the CSRF header."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app import paging, ratelimit
from app.discussion import service, thread
from app.discussion.models import Comment
from tests.conftest import csrf_token, log_in
from tests.functional.discussion.conftest import Cast
from tests.unit.discussion.conftest import post

NOT_FOUND_CODE = "not_found"


def thread_url(proposal_id: int) -> str:
    return f"/api/v1/proposals/{proposal_id}/comments"


def create(client: TestClient, cast: Cast, headers: dict[str, str], **body: Any) -> Any:
    return client.post(
        thread_url(cast.proposal.id), json={"body": "Hello", **body}, headers=headers
    )


def test_post_a_comment_with_a_time_anchor(client, db, cast, bearer):
    anchor = {"work": cast.video.id, "kind": "time", "start": 83.5, "end": 95}
    response = create(
        client, cast, bearer(cast.fan), body="I *agree*", alignment="supports", anchor=anchor
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["proposal"] == cast.proposal.id
    assert (body["parent"], body["depth"], body["author"]) == (None, 0, "fan_luka")
    assert body["alignment"] == "supports"
    assert body["body"] == "I *agree*"
    assert "<em>agree</em>" in body["body_html"]
    assert body["state"] == "visible"
    assert body["removed_reason"] is None
    assert (body["edit_count"], body["reply_count"], body["edited_at"]) == (0, 0, None)
    assert body["replies"] == []
    assert body["more_replies"] == 0
    assert body["replies_cursor"] is None
    assert body["continues"] is False
    assert body["anchor"]["work"] == cast.video.id
    assert body["anchor"]["kind"] == "time"
    assert (body["anchor"]["start"], body["anchor"]["end"]) == (83.5, 95)
    assert body["anchor"]["label"] == "▶ 1:23.5–1:35"
    assert body["anchor"]["fragment_url"] == "https://example.org/rins-dance#t=83.5,95"
    assert db.get(Comment, body["id"]) is not None


def test_quote_and_region_anchors(client, cast, bearer):
    quote = create(
        client,
        cast,
        bearer(cast.fan),
        anchor={"work": cast.text.id, "kind": "quote", "exact": "the chorus", "suffix": " again"},
    )
    assert quote.status_code == 201, quote.text
    anchor = quote.json()["anchor"]
    assert anchor["exact"] == "the chorus"
    assert anchor["suffix"] == " again"
    assert anchor["prefix"]
    assert anchor["fragment_url"] is None
    region = create(
        client,
        cast,
        bearer(cast.other_fan),
        anchor={"work": cast.image.id, "kind": "region", "x": 10, "y": 20, "w": 30, "h": 25},
    )
    assert region.status_code == 201, region.text
    assert region.json()["anchor"]["label"] == "▢ region 30×25% at 10%, 20%"


def test_replies_nest(client, cast, bearer):
    top = create(client, cast, bearer(cast.fan)).json()
    reply = create(client, cast, bearer(cast.author), parent=top["id"])
    assert reply.status_code == 201, reply.text
    assert reply.json()["depth"] == 1
    assert reply.json()["alignment"] is None
    page = client.get(thread_url(cast.proposal.id)).json()
    assert set(page) == {"items", "next_cursor"}
    (item,) = page["items"]
    assert item["reply_count"] == 1
    assert [r["id"] for r in item["replies"]] == [reply.json()["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"anchor": {"work": 0, "kind": "time", "start": 300, "end": 310}}, "anchor.work"),
        ({"alignment": "loves"}, "alignment"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({"body": "a\u0000b"}, "body"),
        ({"parent": 2**70}, "parent"),
        ({"parent": 2**31}, "parent"),
        ({"parent": -1}, "parent"),
        ({"anchor": {"work": 2**70, "kind": "time"}}, "anchor.work"),
        ({"anchor": {"work": 1, "kind": "x" * 100}}, "anchor.kind"),
        ({"anchor": {"work": 1, "kind": "time", "start": "1:23"}}, "anchor.start"),
        # Pydantic's own errors on `body` are named "request" by the shared error handler
        # (it drops every "body" part of an error's location): only the status is checked.
        ({"body": 123}, None),
        ({"body": "x" * 30_000}, None),
        ({"anchor": "time"}, "anchor"),
    ],
)
def test_invalid_input_is_a_422_naming_the_field(client, cast, bearer, body, field):
    response = create(client, cast, bearer(cast.fan), **body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_failed"
    if field is not None:
        assert field in response.json()["error"]["fields"]


def test_anchor_problems_keep_their_field_names(client, cast, bearer):
    headers = bearer(cast.fan)
    late = create(
        client,
        cast,
        headers,
        anchor={"work": cast.video.id, "kind": "time", "start": 300, "end": 1},
    )
    assert late.status_code == 422
    assert set(late.json()["error"]["fields"]) == {"anchor.start", "anchor.end"}
    assert "3:35.5 long" in late.json()["error"]["fields"]["anchor.start"]
    missing = create(
        client, cast, headers, anchor={"work": cast.text.id, "kind": "quote", "exact": "nope"}
    )
    assert set(missing.json()["error"]["fields"]) == {"anchor.exact"}


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_in_anchors_are_refused_not_a_500(client, cast, bearer, raw):
    anchor = f'{{"work": {cast.video.id}, "kind": "time", "start": {raw}, "end": 10}}'
    text = f'{{"body": "x", "anchor": {anchor}}}'
    headers = {**bearer(cast.fan), "Content-Type": "application/json"}
    response = client.post(thread_url(cast.proposal.id), content=text, headers=headers)
    assert response.status_code == 422, response.text
    assert "anchor.start" in response.json()["error"]["fields"]
    box = f'"x": 1, "y": 1, "w": 5, "h": {raw}'
    region = f'{{"body": "x", "anchor": {{"work": {cast.image.id}, "kind": "region", {box}}}}}'
    response = client.post(thread_url(cast.proposal.id), content=region, headers=headers)
    assert response.status_code == 422, response.text
    assert "anchor.h" in response.json()["error"]["fields"]


def test_who_may_post(client, db, cast, bearer):
    assert create(client, cast, {}).status_code == 401
    outsider = create(client, cast, bearer(cast.outsider))
    assert outsider.status_code == 403
    assert outsider.json()["error"]["code"] == "forbidden"
    assert create(client, cast, bearer(cast.fan, scope="read")).status_code == 403
    draft = client.post(thread_url(cast.draft.id), json={"body": "x"}, headers=bearer(cast.fan))
    assert draft.status_code == 404
    by_author = client.post(
        thread_url(cast.draft.id), json={"body": "x"}, headers=bearer(cast.author)
    )
    assert by_author.status_code == 409
    assert (
        client.post(thread_url(2**31 - 1), json={"body": "x"}, headers=bearer(cast.fan)).status_code
        == 404
    )
    assert (
        client.post(thread_url(2**31), json={"body": "x"}, headers=bearer(cast.fan)).status_code
        == 422
    )
    assert db.scalar(select(func.count(Comment.id))) == 0


def test_a_locked_proposal_and_a_deleted_parent_are_conflicts(client, db, cast, bearer):
    top = post(db, cast.proposal, cast.fan)
    service.delete_comment(db, actor=cast.fan, comment=top, now=top.created_at)
    reply = create(client, cast, bearer(cast.author), parent=top.id)
    assert reply.status_code == 409
    assert reply.json()["error"]["code"] == "conflict"
    locked = client.post(
        f"/api/v1/proposals/{cast.proposal.id}/lock",
        json={"reason": "Cooling off"},
        headers=bearer(cast.moderator),
    )
    assert locked.status_code == 200, locked.text
    assert create(client, cast, bearer(cast.fan)).status_code == 409


def test_the_rate_limit_answers_429_with_retry_after(client, cast, bearer):
    headers = bearer(cast.fan)
    for i in range(service.POST_LIMIT):
        assert create(client, cast, headers, body=f"#{i}").status_code == 201
    response = create(client, cast, headers, body="one more")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_browser_sessions_need_the_csrf_header(client, cast):
    log_in(client, "fan_luka")
    assert client.post(thread_url(cast.proposal.id), json={"body": "x"}).status_code == 403
    response = client.post(
        thread_url(cast.proposal.id),
        json={"body": "From the browser"},
        headers={"X-CSRF-Token": csrf_token(client)},
    )
    assert response.status_code == 201, response.text
    assert response.json()["author"] == "fan_luka"
    comment_id = response.json()["id"]
    edited = client.patch(
        f"/api/v1/comments/{comment_id}",
        json={"body": "Edited in the browser"},
        headers={"X-CSRF-Token": csrf_token(client)},
    )
    assert edited.status_code == 200, edited.text
    assert client.delete(f"/api/v1/comments/{comment_id}").status_code == 403
    deleted = client.delete(
        f"/api/v1/comments/{comment_id}", headers={"X-CSRF-Token": csrf_token(client)}
    )
    assert deleted.status_code == 204


def test_the_thread_pages_and_filters(client, db, cast, bearer):
    made = [post(db, cast.proposal, cast.fan, f"#{i}") for i in range(5)]
    anchored = create(
        client,
        cast,
        bearer(cast.author),
        parent=made[1].id,
        anchor={"work": cast.image.id, "kind": "region", "x": 0, "y": 0, "w": 50, "h": 50},
    ).json()
    url = thread_url(cast.proposal.id)
    first = client.get(url, params={"limit": 2}).json()
    assert [c["id"] for c in first["items"]] == [made[0].id, made[1].id]
    rest = client.get(url, params={"limit": 10, "cursor": first["next_cursor"]}).json()
    assert [c["id"] for c in rest["items"]] == [c.id for c in made[2:]]
    assert rest["next_cursor"] is None
    filtered = client.get(url, params={"work": cast.image.id}).json()["items"]
    assert [c["id"] for c in filtered] == [anchored["id"]]
    assert client.get(url, params={"work": cast.video.id}).json()["items"] == []
    for params in (
        {"limit": 0},
        {"limit": 101},
        {"cursor": "zz"},
        {"work": 0},
        {"work": 2**64},
        {"work": 2**31},
        {"cursor": paging.encode(2**31)},
        {"limit": "many"},
        {"cursor": "x" * 65},
    ):
        bad = client.get(url, params=params)
        assert bad.status_code == 422, params
        assert bad.json()["error"]["code"] == "validation_failed"


def test_drafts_threads_are_hidden_from_all_but_their_authors(client, cast, bearer):
    url = thread_url(cast.draft.id)
    assert client.get(url).status_code == 404
    assert client.get(url, headers=bearer(cast.fan)).status_code == 404
    own = client.get(url, headers=bearer(cast.author))
    assert own.status_code == 200
    assert own.json() == {"items": [], "next_cursor": None}
    assert client.get(thread_url(999_999)).status_code == 404


def test_more_replies_through_the_replies_cursor(client, db, cast):
    top = post(db, cast.proposal, cast.fan)
    replies = [post(db, cast.proposal, cast.author, f"r{i}", parent=top) for i in range(9)]
    (item,) = client.get(thread_url(cast.proposal.id)).json()["items"]
    shown = [r["id"] for r in item["replies"]]
    assert shown == [r.id for r in replies[: thread.REPLIES_SHOWN[0]]]
    assert item["more_replies"] == 9 - len(shown)
    cursor = item["replies_cursor"]
    while cursor:
        page = client.get(f"/api/v1/comments/{top.id}/replies", params={"cursor": cursor}).json()
        assert set(page) == {"items", "more_replies", "replies_cursor"}
        shown += [r["id"] for r in page["items"]]
        assert page["more_replies"] == 9 - len(shown)
        cursor = page["replies_cursor"]
    assert shown == [r.id for r in replies]
    first = client.get(f"/api/v1/comments/{top.id}/replies").json()
    assert [r["id"] for r in first["items"]] == [r.id for r in replies[:4]]
    bad = client.get(f"/api/v1/comments/{top.id}/replies", params={"cursor": "zz"})
    assert bad.status_code == 422
    for wrong in (paging.encode(1, -2, 0), paging.encode(2**31, 4, 0), paging.encode(1, 2)):
        response = client.get(f"/api/v1/comments/{top.id}/replies", params={"cursor": wrong})
        assert response.status_code == 422
    wrong = paging.encode(1, True, 0)
    assert (
        client.get(f"/api/v1/comments/{top.id}/replies", params={"cursor": wrong}).status_code
        == 422
    )


def test_deep_threads_continue_at_the_comment(client, db, cast):
    parent = None
    chain = []
    for _ in range(thread.INLINE_DEPTH + 2):
        parent = post(db, cast.proposal, cast.fan, parent=parent)
        chain.append(parent)
    item = client.get(thread_url(cast.proposal.id)).json()["items"][0]
    while item["replies"]:
        assert item["continues"] is False
        item = item["replies"][0]
    assert item["id"] == chain[thread.INLINE_DEPTH].id
    assert item["continues"] is True
    sub = client.get(f"/api/v1/comments/{item['id']}")
    assert sub.status_code == 200
    assert [r["id"] for r in sub.json()["replies"]] == [chain[thread.INLINE_DEPTH + 1].id]
    assert client.get("/api/v1/comments/999999").status_code == 404
    # Ids are 32-bit on PostgreSQL: past that, an input error rather than a driver failure.
    assert client.get(f"/api/v1/comments/{2**31 - 1}").status_code == 404
    for too_big in (2**31, 2**40, 2**64):
        assert client.get(f"/api/v1/comments/{too_big}").status_code == 422
        assert client.get(f"/api/v1/comments/{too_big}/replies").status_code == 422
    assert client.get("/api/v1/comments/abc").status_code == 422


def test_edit_and_versions(client, db, cast, bearer):
    comment = post(db, cast.proposal, cast.fan, "First", alignment="supports")
    url = f"/api/v1/comments/{comment.id}"
    edited = client.patch(url, json={"body": "Second"}, headers=bearer(cast.fan))
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["body"], body["edit_count"], body["alignment"]) == ("Second", 1, "supports")
    assert body["edited_at"] is not None
    stance = client.patch(url, json={"alignment": "opposes"}, headers=bearer(cast.fan))
    assert stance.json()["alignment"] == "opposes"
    assert stance.json()["edit_count"] == 1
    versions = client.get(f"{url}/versions").json()
    assert [(v["number"], v["body"]) for v in versions["items"]] == [(1, "First")]
    assert (
        client.patch(url, json={"body": "Mine"}, headers=bearer(cast.other_fan)).status_code == 403
    )
    assert client.patch(url, json={"body": "x"}).status_code == 401
    bad = client.patch(url, json={"alignment": "maybe"}, headers=bearer(cast.fan))
    assert bad.status_code == 422
    assert "alignment" in bad.json()["error"]["fields"]
    assert client.patch(url, json={"body": ["x"]}, headers=bearer(cast.fan)).status_code == 422
    assert client.get("/api/v1/comments/999999/versions").status_code == 404


def test_delete_keeps_replies_and_blanks_the_comment(client, db, cast, bearer):
    top = post(db, cast.proposal, cast.fan, "Going away", alignment="opposes")
    reply = post(db, cast.proposal, cast.author, "Still here", parent=top)
    url = f"/api/v1/comments/{top.id}"
    assert client.delete(url, headers=bearer(cast.author)).status_code == 403
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=bearer(cast.fan)).status_code == 204
    (item,) = client.get(thread_url(cast.proposal.id)).json()["items"]
    assert item["state"] == "deleted"
    assert (item["body"], item["body_html"], item["author"]) == (None, None, None)
    assert [r["body"] for r in item["replies"]] == ["Still here"]
    assert reply.id == item["replies"][0]["id"]
    assert client.delete(url, headers=bearer(cast.fan)).status_code == 409
    assert client.patch(url, json={"body": "x"}, headers=bearer(cast.fan)).status_code == 409
    assert client.get(f"{url}/versions", headers=bearer(cast.moderator)).json()["items"] == []
    assert client.delete("/api/v1/comments/999999", headers=bearer(cast.fan)).status_code == 404


def test_moderators_hide_and_restore(client, db, cast, bearer):
    comment = post(db, cast.proposal, cast.fan, "Rude words")
    service.edit_comment(
        db, actor=cast.fan, comment=comment, body="Ruder words", now=comment.created_at
    )
    url = f"/api/v1/comments/{comment.id}"
    denied = client.post(f"{url}/hide", json={"reason": "No"}, headers=bearer(cast.author))
    assert denied.status_code == 403
    no_reason = client.post(f"{url}/hide", json={"reason": " "}, headers=bearer(cast.moderator))
    assert no_reason.status_code == 422
    assert "reason" in no_reason.json()["error"]["fields"]
    assert client.post(f"{url}/hide", json={}, headers=bearer(cast.moderator)).status_code == 422
    hidden = client.post(f"{url}/hide", json={"reason": "Insults"}, headers=bearer(cast.moderator))
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["state"] == "removed"
    assert hidden.json()["removed_reason"] == "Insults"
    assert hidden.json()["body"] == "Ruder words"  # moderators still read it
    as_fan = client.get(url, headers=bearer(cast.other_fan)).json()
    assert (as_fan["body"], as_fan["author"], as_fan["state"]) == (None, None, "removed")
    assert as_fan["removed_reason"] == "Insults"
    assert client.get(f"{url}/versions").json()["items"] == []
    assert len(client.get(f"{url}/versions", headers=bearer(cast.moderator)).json()["items"]) == 1
    assert client.get(url, headers=bearer(cast.moderator)).json()["author"] == "fan_luka"
    assert client.post(f"{url}/restore", headers=bearer(cast.fan)).status_code == 403
    restored = client.post(f"{url}/restore", headers=bearer(cast.moderator))
    assert restored.status_code == 200
    assert restored.json()["state"] == "visible"
    assert restored.json()["removed_reason"] is None
    assert client.get(url).json()["body"] == "Ruder words"


def test_pending_review_shows_as_such(client, db, cast, bearer):
    comment = post(db, cast.proposal, cast.fan, "Flagged")
    service.hide_pending_review(db, comment, comment.created_at)
    item = client.get(f"/api/v1/comments/{comment.id}").json()
    assert (item["state"], item["body"], item["removed_reason"]) == ("pending_review", None, None)
    as_mod = client.get(f"/api/v1/comments/{comment.id}", headers=bearer(cast.moderator)).json()
    assert as_mod["body"] == "Flagged"


def test_comments_of_drafts_are_not_found(client, db, cast, bearer):
    # A draft's thread takes no comments; one put there directly still stays invisible.
    comment = post(db, cast.proposal, cast.fan)
    comment.proposal_id = cast.draft.id
    db.flush()
    ratelimit.clear(db, bucket="comment", key=str(cast.fan.id))
    assert client.get(f"/api/v1/comments/{comment.id}").status_code == 404
    assert client.get(f"/api/v1/comments/{comment.id}", headers=bearer(cast.fan)).status_code == 404
    assert (
        client.get(f"/api/v1/comments/{comment.id}", headers=bearer(cast.author)).status_code == 200
    )


def test_the_openapi_schema_documents_discussion(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/proposals/{proposal_id}/comments": {"get", "post"},
        "/api/v1/comments/{comment_id}": {"get", "patch", "delete"},
        "/api/v1/comments/{comment_id}/replies": {"get"},
        "/api/v1/comments/{comment_id}/versions": {"get"},
        "/api/v1/comments/{comment_id}/hide": {"post"},
        "/api/v1/comments/{comment_id}/restore": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
        for method in methods:
            responses = paths[path][method]["responses"]
            assert {"401", "403", "404", "422", "429"} <= set(responses), (path, method)
    assert "409" in paths["/api/v1/proposals/{proposal_id}/comments"]["post"]["responses"]
    assert "409" in paths["/api/v1/comments/{comment_id}"]["patch"]["responses"]
    components = schema["components"]["schemas"]
    assert {"CommentOut", "CommentCreate", "AnchorIn", "AnchorOut", "RepliesOut"} <= set(components)
