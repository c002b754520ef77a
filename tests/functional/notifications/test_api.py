"""The notifications JSON API: my list paged per API.md, the unread count, marking read, my
preferences; members only ever see and touch their own."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from app.notifications import service
from app.notifications.models import Delivery, Kind
from tests.functional.api.helpers import assert_error
from tests.functional.discussion.conftest import Cast
from tests.functional.notifications.conftest import Tell

Bearer = Callable[..., dict[str, str]]


def test_my_list_newest_first_with_a_cursor(client, cast: Cast, tell: Tell, bearer: Bearer):
    ids = tell(cast.fan, 5)
    tell(cast.other_fan, 2)
    headers = bearer(cast.fan, "read")
    first = client.get("/api/v1/notifications?limit=2", headers=headers)
    assert first.status_code == 200
    body = first.json()
    assert [n["id"] for n in body["items"]] == ids[::-1][:2]
    item = body["items"][0]
    assert set(item) == {
        "id",
        "kind",
        "text",
        "url",
        "community",
        "actor",
        "created_at",
        "read_at",
        "read",
    }
    assert item["url"] == "http://testserver/c/miku"
    assert (item["kind"], item["read"], item["read_at"]) == ("reply", False, None)
    seen = [n["id"] for n in body["items"]]
    cursor = body["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/notifications?limit=2&cursor={cursor}", headers=headers)
        seen += [n["id"] for n in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert seen == ids[::-1]


def test_unread_only_and_the_count(client, db: Session, cast: Cast, tell: Tell, bearer: Bearer):
    first, second = tell(cast.fan, 2)
    headers = bearer(cast.fan)
    client.post("/api/v1/notifications/read", json={"ids": [first]}, headers=headers)
    unread = client.get("/api/v1/notifications?unread=true", headers=headers).json()
    assert [n["id"] for n in unread["items"]] == [second]
    assert client.get("/api/v1/notifications/unread-count", headers=headers).json() == {"unread": 1}


def test_bad_paging_is_an_input_error(client, cast: Cast, bearer: Bearer):
    headers = bearer(cast.fan, "read")
    assert_error(
        client.get("/api/v1/notifications?limit=101", headers=headers), 422, "validation_failed"
    )
    assert_error(
        client.get("/api/v1/notifications?cursor=%%%", headers=headers), 422, "validation_failed"
    )
    assert_error(
        client.get("/api/v1/notifications?limit=0", headers=headers), 422, "validation_failed"
    )


def test_mark_read_by_ids_or_all(client, db: Session, cast: Cast, tell: Tell, bearer: Bearer):
    ids = tell(cast.fan, 4)
    headers = bearer(cast.fan)
    response = client.post("/api/v1/notifications/read", json={"ids": ids[:2]}, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread": 2}
    response = client.post(
        "/api/v1/notifications/read", json={"all": True, "up_to": ids[2]}, headers=headers
    )
    assert response.json() == {"marked": 1, "unread": 1}
    response = client.post("/api/v1/notifications/read", json={"all": True}, headers=headers)
    assert response.json() == {"marked": 1, "unread": 0}


def test_nobody_marks_or_reads_anothers(
    client, db: Session, cast: Cast, tell: Tell, bearer: Bearer
):
    (theirs,) = tell(cast.other_fan)
    mine = tell(cast.fan)
    headers = bearer(cast.fan)
    response = client.post(
        "/api/v1/notifications/read", json={"ids": [*mine, theirs]}, headers=headers
    )
    assert_error(response, 404, "not_found")
    assert service.unread_count(db, cast.other_fan.id) == 1
    assert service.unread_count(db, cast.fan.id) == 1
    listed = client.get("/api/v1/notifications", headers=headers).json()["items"]
    assert theirs not in [n["id"] for n in listed]


def test_mark_read_needs_ids_or_all_but_not_both(client, cast: Cast, tell: Tell, bearer: Bearer):
    (note,) = tell(cast.fan)
    headers = bearer(cast.fan)
    for body in ({}, {"ids": [note], "all": True}, {"ids": [0]}, {"ids": [2**63]}, {"ids": "x"}):
        response = client.post("/api/v1/notifications/read", json=body, headers=headers)
        assert_error(response, 422, "validation_failed")


def test_signed_out_and_read_only_tokens_are_refused(client, cast: Cast, bearer: Bearer):
    assert_error(client.get("/api/v1/notifications"), 401, "not_authenticated")
    assert_error(client.get("/api/v1/me/notification-preferences"), 401, "not_authenticated")
    read_only = bearer(cast.fan, "read")
    response = client.post("/api/v1/notifications/read", json={"all": True}, headers=read_only)
    assert_error(response, 403, "forbidden")
    response = client.put(
        "/api/v1/me/notification-preferences", json={"delivery": "email"}, headers=read_only
    )
    assert_error(response, 403, "forbidden")


def test_cookie_writes_need_the_csrf_header(client, cast: Cast):
    from tests.conftest import csrf_token, log_in

    log_in(client, "fan_luka")
    assert_error(client.post("/api/v1/notifications/read", json={"all": True}), 403, "forbidden")
    response = client.post(
        "/api/v1/notifications/read",
        json={"all": True},
        headers={"X-CSRF-Token": csrf_token(client)},
    )
    assert response.status_code == 200


def test_preferences_read_and_replace(client, db: Session, cast: Cast, bearer: Bearer):
    headers = bearer(cast.fan)
    got = client.get("/api/v1/me/notification-preferences", headers=headers).json()
    assert got["delivery"] == "in_app"
    assert got["muted_kinds"] == []
    assert [k["kind"] for k in got["kinds"]] == [k.value for k in Kind]
    assert got["digest_hour_utc"] == 8
    assert got["email_verified"] is True
    response = client.put(
        "/api/v1/me/notification-preferences",
        json={"delivery": "email", "muted_kinds": ["guidelines", "reply"]},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["muted_kinds"] == ["reply", "guidelines"]
    preference = service.preference_of(db, cast.fan)
    assert preference.delivery == Delivery.email
    assert preference.muted == {Kind.reply, Kind.guidelines}
    # Another member's preferences are theirs alone.
    other = client.get("/api/v1/me/notification-preferences", headers=bearer(cast.other_fan))
    assert other.json()["delivery"] == "in_app"


def test_bad_preferences_are_input_errors(client, cast: Cast, bearer: Bearer):
    headers = bearer(cast.fan)
    bodies: list[dict[str, object]] = [
        {"delivery": "pigeon"},
        {"delivery": "email", "muted_kinds": ["gossip"]},
        {"muted_kinds": []},
        {"delivery": "email", "muted_kinds": "reply"},
    ]
    for body in bodies:
        response = client.put("/api/v1/me/notification-preferences", json=body, headers=headers)
        error = assert_error(response, 422, "validation_failed")
        assert error["fields"]


def test_the_openapi_schema_documents_the_notifications_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/v1/notifications"]) == {"get"}
    assert set(paths["/api/v1/notifications/unread-count"]) == {"get"}
    assert "404" in paths["/api/v1/notifications/read"]["post"]["responses"]
    assert set(paths["/api/v1/me/notification-preferences"]) == {"get", "put"}
    assert not any(path.startswith("/notifications") for path in paths)
