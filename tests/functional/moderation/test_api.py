"""The moderation JSON API: flag comments and works, read the queue, resolve."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db import utcnow
from app.moderation import service
from app.moderation.models import Flag

QUEUE = "/api/v1/communities/miku/flags"
RESOLVE = "/api/v1/communities/miku/flags/resolve"


def flag_count(db) -> int:
    return db.scalar(select(func.count(Flag.id))) or 0


def test_flag_a_comment(client, db, cast, bearer):
    response = client.post(
        f"/api/v1/comments/{cast.comment.id}/flags",
        json={"reason": "Dismissive"},
        headers=bearer(cast.fans[0]),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["comment"] == cast.comment.id
    assert body["work"] is None
    assert body["community"] == "miku"
    assert body["reason"] == "Dismissive"
    assert body["item_state"] == "visible"


def test_the_third_flag_hides_the_work_pending_review(client, db, cast, bearer):
    url = f"/api/v1/works/{cast.work.id}/flags"
    states = [
        client.post(url, json={"reason": "Traced"}, headers=bearer(fan)).json()["item_state"]
        for fan in cast.fans
    ]
    assert states == ["visible", "visible", "pending_review"]


def test_flag_errors(client, db, cast, bearer, monkeypatch):
    url = f"/api/v1/comments/{cast.comment.id}/flags"
    fan = bearer(cast.fans[0])
    assert client.post(url, json={"reason": "x"}).status_code == 401
    forbidden = client.post(url, json={"reason": "x"}, headers=bearer(cast.outsider))
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    own = client.post(url, json={"reason": "x"}, headers=bearer(cast.author))
    assert own.status_code == 403
    assert (
        client.post(url, json={"reason": "x"}, headers=bearer(cast.fans[0], "read")).status_code
        == 403
    )
    for missing in ("/api/v1/comments/999999/flags", "/api/v1/works/999999/flags"):
        assert client.post(missing, json={"reason": "x"}, headers=fan).status_code == 404
    for bad in ({"reason": ""}, {"reason": "x" * 501}, {"reason": "a\u0000b"}, {}, {"reason": 3}):
        response = client.post(url, json=bad, headers=fan)
        assert response.status_code == 422, bad
        assert "reason" in response.json()["error"]["fields"]
    for bad_id in ("0", "-1", "abc", str(2**64)):
        assert (
            client.post(
                f"/api/v1/comments/{bad_id}/flags", json={"reason": "x"}, headers=fan
            ).status_code
            == 422
        )
    assert client.post(url, json={"reason": "x"}, headers=fan).status_code == 201
    again = client.post(url, json={"reason": "x"}, headers=fan)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    monkeypatch.setattr(service, "FLAG_LIMIT", 1)
    limited = client.post(f"/api/v1/works/{cast.work.id}/flags", json={"reason": "x"}, headers=fan)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert flag_count(db) == 1


def test_the_queue(client, db, cast, bearer):
    for fan in cast.fans[:2]:
        service.flag_work(db, actor=fan, work=cast.work, reason=f"By {fan.username}", now=utcnow())
    service.flag_comment(db, actor=cast.fans[0], comment=cast.comment, reason="Rude", now=utcnow())
    assert client.get(QUEUE).status_code == 401
    assert client.get(QUEUE, headers=bearer(cast.fans[0])).status_code == 403
    assert (
        client.get("/api/v1/communities/nope/flags", headers=bearer(cast.moderator)).status_code
        == 404
    )
    response = client.get(QUEUE, headers=bearer(cast.moderator, "read"))
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    work, comment = body["items"]
    assert work["kind"] == "work"
    assert work["work"] == cast.work.id
    assert work["flag_count"] == 2
    assert [f["flagger"] for f in work["flags"]] == ["fan_luka", "fan_kaito"]
    assert work["page_url"] == f"/c/miku/works/{cast.work.id}"
    assert work["state"] == "visible"
    assert comment["kind"] == "comment"
    assert comment["proposal"] == cast.proposal.id
    assert comment["author"] == "member_len"
    assert comment["page_url"] == f"/c/miku/proposals/{cast.proposal.id}/comments/{cast.comment.id}"
    first = client.get(QUEUE, params={"limit": 1}, headers=bearer(cast.moderator)).json()
    assert [i["kind"] for i in first["items"]] == ["work"]
    rest = client.get(
        QUEUE, params={"limit": 1, "cursor": first["next_cursor"]}, headers=bearer(cast.moderator)
    ).json()
    assert [i["kind"] for i in rest["items"]] == ["comment"]
    for params in ({"cursor": "zz"}, {"limit": 0}, {"limit": 101}):
        assert client.get(QUEUE, params=params, headers=bearer(cast.moderator)).status_code == 422


def test_resolve(client, db, cast, bearer):
    for fan in cast.fans:
        service.flag_comment(db, actor=fan, comment=cast.comment, reason="Rude", now=utcnow())
    service.flag_work(db, actor=cast.fans[0], work=cast.work, reason="x", now=utcnow())
    mod = bearer(cast.moderator)
    dismissed = client.post(
        RESOLVE, json={"comment": cast.comment.id, "action": "dismiss"}, headers=mod
    )
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json() == {
        "action": "dismiss",
        "resolved": 3,
        "restored": True,
        "state": "visible",
    }
    again = client.post(
        RESOLVE, json={"comment": cast.comment.id, "action": "dismiss"}, headers=mod
    )
    assert again.status_code == 409
    hidden = client.post(
        RESOLVE, json={"work": cast.work.id, "action": "hide", "reason": "Spam"}, headers=mod
    )
    assert hidden.status_code == 200
    assert hidden.json()["state"] == "removed"


def test_resolve_errors(client, db, cast, bearer):
    service.flag_work(db, actor=cast.fans[0], work=cast.work, reason="x", now=utcnow())
    mod = bearer(cast.moderator)
    ok = {"work": cast.work.id, "action": "dismiss"}
    assert client.post(RESOLVE, json=ok).status_code == 401
    assert client.post(RESOLVE, json=ok, headers=bearer(cast.fans[1])).status_code == 403
    assert (
        client.post("/api/v1/communities/kaito/flags/resolve", json=ok, headers=mod).status_code
        == 403
    )
    assert (
        client.post(RESOLVE, json={"work": 999999, "action": "dismiss"}, headers=mod).status_code
        == 404
    )
    for bad in (
        {"action": "dismiss"},
        {"work": cast.work.id, "comment": cast.comment.id, "action": "dismiss"},
        {"work": cast.work.id, "action": "ban"},
        {"work": cast.work.id, "action": "hide"},
        {"work": cast.work.id, "action": "hide", "reason": "a\u0000"},
        {"work": 0, "action": "dismiss"},
        {"work": 2**64, "action": "dismiss"},
    ):
        assert client.post(RESOLVE, json=bad, headers=mod).status_code == 422, bad
    assert all(f.resolved_at is None for f in db.scalars(select(Flag)))


def test_openapi_documents_the_endpoints(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path, method, statuses in (
        (
            "/api/v1/comments/{comment_id}/flags",
            "post",
            {"201", "401", "403", "404", "409", "422", "429"},
        ),
        (
            "/api/v1/works/{work_id}/flags",
            "post",
            {"201", "401", "403", "404", "409", "422", "429"},
        ),
        ("/api/v1/communities/{slug}/flags", "get", {"200", "401", "403", "404", "422"}),
        (
            "/api/v1/communities/{slug}/flags/resolve",
            "post",
            {"200", "401", "403", "404", "409", "422"},
        ),
    ):
        operation = paths[path][method]
        assert statuses <= set(operation["responses"]), path
        assert operation["summary"]
    assert "FlagCreate" in schema["components"]["schemas"]
    assert "ResolveIn" in schema["components"]["schemas"]
