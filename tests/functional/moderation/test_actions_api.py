"""The moderation JSON API beyond flags: proposals in the queue, restore, works' hide and
restore, warnings, suspensions, appeals and records; its refusals and error shape."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.communities.models import Role
from app.db import utcnow
from app.discussion import service as discussion_service
from app.moderation import service
from app.moderation.models import Appeal
from tests.factories import add_member, make_user

BASE = "/api/v1/communities/miku"


def error(response) -> dict[str, Any]:
    body: dict[str, dict[str, Any]] = response.json()
    assert set(body) == {"error"}
    return body["error"]


def test_proposals_in_the_queue_and_their_resolution(client, db, cast, bearer):
    fan = bearer(cast.fans[0])
    flagged = client.post(
        f"/api/v1/proposals/{cast.proposal.id}/flags", json={"reason": "Spam"}, headers=fan
    )
    assert flagged.status_code == 201, flagged.text
    assert flagged.json()["proposal"] == cast.proposal.id
    mod = bearer(cast.moderator)
    [item] = client.get(f"{BASE}/flags", headers=mod).json()["items"]
    assert (item["kind"], item["proposal"], item["locked"]) == ("proposal", cast.proposal.id, False)
    assert item["page_url"] == f"/c/miku/proposals/{cast.proposal.id}"
    assert item["author"] == "member_len"
    hide = client.post(
        f"{BASE}/flags/resolve",
        json={"proposal": cast.proposal.id, "action": "hide", "reason": "x"},
        headers=mod,
    )
    assert hide.status_code == 422
    assert error(hide)["fields"] == {"action": "Choose lock or dismiss."}
    both = client.post(
        f"{BASE}/flags/resolve",
        json={"proposal": cast.proposal.id, "work": cast.work.id, "action": "dismiss"},
        headers=mod,
    )
    assert both.status_code == 422
    locked = client.post(
        f"{BASE}/flags/resolve",
        json={"proposal": cast.proposal.id, "action": "lock", "reason": "Flame war"},
        headers=mod,
    )
    assert locked.status_code == 200, locked.text
    assert locked.json() == {"action": "lock", "resolved": 1, "restored": False, "state": "visible"}
    own = client.post(
        f"/api/v1/proposals/{cast.proposal.id}/flags",
        json={"reason": "x"},
        headers=bearer(cast.author),
    )
    assert own.status_code == 403


def test_restore_and_the_works_hide_and_restore(client, db, cast, bearer):
    mod = bearer(cast.moderator)
    hidden = client.post(
        f"/api/v1/works/{cast.work.id}/hide", json={"reason": "Traced"}, headers=mod
    )
    assert hidden.status_code == 200, hidden.text
    assert hidden.json() == {"comment": None, "work": cast.work.id, "state": "removed"}
    assert (
        client.post(
            f"/api/v1/works/{cast.work.id}/hide", json={"reason": ""}, headers=mod
        ).status_code
        == 422
    )
    shown = client.post(f"/api/v1/works/{cast.work.id}/restore", headers=mod)
    assert shown.json()["state"] == "visible"
    fan = bearer(cast.fans[0])
    for path in (f"/api/v1/works/{cast.work.id}/hide", f"/api/v1/works/{cast.work.id}/restore"):
        assert client.post(path, json={"reason": "x"}, headers=fan).status_code == 403
    discussion_service.hide_comment(
        db, actor=cast.moderator, comment=cast.comment, reason="Rude", now=utcnow()
    )
    restore = client.post(
        f"{BASE}/moderation/restore",
        json={"comment": cast.comment.id, "reason": "Misread"},
        headers=mod,
    )
    assert restore.status_code == 200, restore.text
    assert restore.json()["state"] == "visible"
    again = client.post(
        f"{BASE}/moderation/restore", json={"comment": cast.comment.id}, headers=mod
    )
    assert again.status_code == 409
    assert error(again)["code"] == "conflict"
    neither = client.post(f"{BASE}/moderation/restore", json={}, headers=mod)
    assert neither.status_code == 422
    assert set(error(neither)["fields"]) == {"comment", "work"}


def test_warnings_through_the_api(client, db, cast, bearer):
    mod = bearer(cast.moderator)
    url = f"{BASE}/members/fan_luka/warnings"
    created = client.post(url, json={"message": "Be kind.", "reason": "Tone"}, headers=mod)
    assert created.status_code == 201, created.text
    warning = created.json()
    assert (warning["member"], warning["moderator"], warning["message"]) == (
        "fan_luka",
        "mod_rin",
        "Be kind.",
    )
    assert warning["acknowledged_at"] is None
    fan = bearer(cast.fans[0])
    pending = client.get("/api/v1/warnings", params={"pending": "true"}, headers=fan).json()
    assert [w["id"] for w in pending["items"]] == [warning["id"]]
    blocked = client.post(
        f"/api/v1/proposals/{cast.proposal.id}/comments", json={"body": "Hi"}, headers=fan
    )
    assert blocked.status_code == 403
    assert error(blocked)["code"] == "warning_unacknowledged"
    ack = client.post(f"/api/v1/warnings/{warning['id']}/acknowledge", headers=fan)
    assert ack.status_code == 200
    assert ack.json()["acknowledged_at"] is not None
    other = client.post(
        f"/api/v1/warnings/{warning['id']}/acknowledge", headers=bearer(cast.fans[1])
    )
    assert other.status_code == 404
    assert client.post("/api/v1/warnings/0/acknowledge", headers=fan).status_code == 422
    assert client.get("/api/v1/warnings", params={"pending": "true"}, headers=fan).json() == {
        "items": []
    }
    for bad, field in (
        ({"message": ""}, "message"),
        ({"message": "x", "reason": "y" * 501}, "reason"),
    ):
        response = client.post(url, json=bad, headers=mod)
        assert response.status_code == 422
        assert field in error(response)["fields"]
    assert client.post(url, json={"message": "x"}, headers=fan).status_code == 403
    assert (
        client.post(
            f"{BASE}/members/nobody/warnings", json={"message": "x"}, headers=mod
        ).status_code
        == 404
    )
    assert client.post(url, json={"message": "x"}).status_code == 401


def test_suspensions_through_the_api(client, db, cast, bearer):
    mod = bearer(cast.moderator)
    url = f"{BASE}/members/fan_luka/suspension"
    for bad in (
        {"days": 0, "reason": "x"},
        {"days": 366, "reason": "x"},
        {"days": 3, "reason": ""},
    ):
        assert client.post(url, json=bad, headers=mod).status_code == 422, bad
    created = client.post(url, json={"days": 3, "reason": "Spam"}, headers=mod)
    assert created.status_code == 201, created.text
    suspension = created.json()
    assert (suspension["member"], suspension["active"], suspension["reason"]) == (
        "fan_luka",
        True,
        "Spam",
    )
    again = client.post(url, json={"days": 3, "reason": "Spam"}, headers=mod)
    assert again.status_code == 409
    listed = client.get(f"{BASE}/suspensions", headers=mod).json()["items"]
    assert [s["member"] for s in listed] == ["fan_luka"]
    assert client.get(f"{BASE}/suspensions", headers=bearer(cast.fans[1])).status_code == 403
    record = client.get(f"{BASE}/members/fan_luka/moderation", headers=mod).json()
    assert record["suspended_until"] == suspension["ends_at"]
    assert [e["action"] for e in record["log"]] == ["member_suspended"]
    lifted = client.post(f"{url}/lift", json={"reason": "Sorry"}, headers=mod)
    assert lifted.status_code == 200
    assert lifted.json()["active"] is False
    assert client.post(f"{url}/lift", json={"reason": "Again"}, headers=mod).status_code == 409
    myself = client.post(
        f"{BASE}/members/mod_rin/suspension", json={"days": 1, "reason": "x"}, headers=mod
    )
    assert myself.status_code == 403
    assert "yourself" in error(myself)["message"]


def test_another_communitys_moderator_does_nothing_here(client, db, cast, bearer):
    elsewhere = make_user(db, "mod_kaito")
    add_member(db, cast.other, elsewhere, Role.moderator)
    headers = bearer(elsewhere)
    service.flag_comment(db, actor=cast.fans[0], comment=cast.comment, reason="x", now=utcnow())
    for method, path, body in (
        ("GET", f"{BASE}/flags", None),
        ("POST", f"{BASE}/flags/resolve", {"comment": cast.comment.id, "action": "dismiss"}),
        ("POST", f"{BASE}/moderation/restore", {"comment": cast.comment.id}),
        ("POST", f"{BASE}/members/fan_luka/warnings", {"message": "x"}),
        ("POST", f"{BASE}/members/fan_luka/suspension", {"days": 1, "reason": "x"}),
        ("POST", f"{BASE}/members/fan_luka/suspension/lift", {"reason": "x"}),
        ("GET", f"{BASE}/suspensions", None),
        ("GET", f"{BASE}/appeals", None),
        ("GET", f"{BASE}/members/fan_luka/moderation", None),
        ("POST", f"/api/v1/works/{cast.work.id}/hide", {"reason": "x"}),
    ):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        assert error(response)["code"] == "forbidden"


def test_appeals_through_the_api(client, db, cast, bearer):
    discussion_service.hide_comment(
        db, actor=cast.moderator, comment=cast.comment, reason="Rude", now=utcnow()
    )
    author = bearer(cast.author)
    url = f"{BASE}/appeals"
    none = client.post(url, json={"message": "x"}, headers=author)
    assert none.status_code == 422
    assert set(error(none)["fields"]) == {"comment", "work", "suspension"}
    created = client.post(
        url, json={"comment": cast.comment.id, "message": "Irony"}, headers=author
    )
    assert created.status_code == 201, created.text
    appeal = created.json()
    assert (appeal["kind"], appeal["appellant"], appeal["decision"]) == (
        "comment",
        "member_len",
        None,
    )
    assert appeal["page_url"] == f"/c/miku/proposals/{cast.proposal.id}/comments/{cast.comment.id}"
    twice = client.post(url, json={"comment": cast.comment.id, "message": "Again"}, headers=author)
    assert twice.status_code == 409
    mod = bearer(cast.moderator)
    listed = client.get(url, headers=mod).json()
    assert [a["id"] for a in listed["items"]] == [appeal["id"]]
    assert client.get(url, params={"state": "closed"}, headers=mod).status_code == 422
    assert client.get(f"/api/v1/appeals/{appeal['id']}", headers=author).status_code == 200
    assert (
        client.get(f"/api/v1/appeals/{appeal['id']}", headers=bearer(cast.fans[0])).status_code
        == 404
    )
    decision = f"/api/v1/appeals/{appeal['id']}/decision"
    assert (
        client.post(decision, json={"decision": "grant", "reason": "x"}, headers=author).status_code
        == 403
    )
    assert (
        client.post(decision, json={"decision": "maybe", "reason": "x"}, headers=mod).status_code
        == 422
    )
    granted = client.post(decision, json={"decision": "grant", "reason": "Fair"}, headers=mod)
    assert granted.status_code == 200, granted.text
    assert granted.json()["decision"] == "granted"
    assert (
        client.post(decision, json={"decision": "deny", "reason": "No"}, headers=mod).status_code
        == 409
    )
    decided = client.get(url, params={"state": "decided"}, headers=mod).json()
    assert [a["decision"] for a in decided["items"]] == ["granted"]
    mine = client.get(f"{BASE}/moderation/mine", headers=author).json()
    assert mine["hidden"] == []
    assert [a["decision"] for a in mine["appeals"]] == ["granted"]
    assert mine["log"] == []
    assert db.scalar(select(Appeal.decision_reason)) == "Fair"


def test_the_new_operations_declare_their_errors(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        schema = test_client.get("/openapi.json").json()
    paths = [
        ("/api/v1/proposals/{proposal_id}/flags", "post"),
        ("/api/v1/communities/{slug}/moderation/restore", "post"),
        ("/api/v1/works/{work_id}/hide", "post"),
        ("/api/v1/works/{work_id}/restore", "post"),
        ("/api/v1/communities/{slug}/members/{username}/warnings", "post"),
        ("/api/v1/warnings", "get"),
        ("/api/v1/warnings/{warning_id}/acknowledge", "post"),
        ("/api/v1/communities/{slug}/members/{username}/suspension", "post"),
        ("/api/v1/communities/{slug}/members/{username}/suspension/lift", "post"),
        ("/api/v1/communities/{slug}/suspensions", "get"),
        ("/api/v1/communities/{slug}/appeals", "post"),
        ("/api/v1/communities/{slug}/appeals", "get"),
        ("/api/v1/appeals/{appeal_id}", "get"),
        ("/api/v1/appeals/{appeal_id}/decision", "post"),
        ("/api/v1/communities/{slug}/members/{username}/moderation", "get"),
        ("/api/v1/communities/{slug}/moderation/mine", "get"),
        ("/api/v1/communities/{slug}/moderation-log", "get"),
    ]
    for path, method in paths:
        responses = schema["paths"][path][method]["responses"]
        assert {"401", "403", "422", "429"} <= set(responses), (path, method)
        for status, declared in responses.items():
            if status.startswith(("4", "5")):
                ref = declared["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorResponse"), (path, method, status)
