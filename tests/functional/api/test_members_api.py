"""Membership through the JSON API: join, leave, members and roles, the role log, /me."""

from __future__ import annotations

import pytest

from app.communities import service
from app.communities.models import Role
from tests.factories import add_member, make_community, make_user
from tests.functional.api.helpers import assert_error


@pytest.fixture
def miku(db):
    return make_community(db, "miku", name="Hatsune Miku Fans")


@pytest.fixture
def moderator(db, miku):
    user = make_user(db, "mod_rin", display_name="Rin")
    add_member(db, miku, user, Role.moderator)
    return user


@pytest.fixture
def fan(db, miku):
    user = make_user(db, "fan_luka", display_name="Luka")
    add_member(db, miku, user, Role.fan)
    return user


def test_join_answers_201_with_the_membership_and_again_409(client, db, bearer, miku):
    user = make_user(db, "newcomer", display_name="New Comer")
    headers = bearer(user)

    response = client.post("/api/v1/communities/miku/join", headers=headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["username"] == "newcomer"
    assert body["display_name"] == "New Comer"
    assert body["role"] == "fan"
    membership = service.membership_of(db, miku, user)
    assert membership is not None
    assert body["id"] == membership.id

    again = client.post("/api/v1/communities/miku/join", headers=headers)
    assert_error(again, 409, "conflict")


def test_join_needs_credentials_and_a_real_community(client, db, bearer):
    user = make_user(db)
    assert_error(
        client.post("/api/v1/communities/nope/join", headers=bearer(user)), 404, "not_found"
    )


def test_leave_answers_204_with_no_body(client, db, bearer, miku, fan):
    response = client.post("/api/v1/communities/miku/leave", headers=bearer(fan))
    assert response.status_code == 204
    assert response.content == b""
    assert service.membership_of(db, miku, fan) is None


def test_leaving_when_not_a_member_is_a_409(client, db, bearer, miku):
    user = make_user(db)
    assert_error(
        client.post("/api/v1/communities/miku/leave", headers=bearer(user)), 409, "conflict"
    )


def test_the_last_moderator_cannot_leave(client, db, bearer, miku, moderator):
    response = client.post("/api/v1/communities/miku/leave", headers=bearer(moderator))
    assert_error(response, 409, "conflict")
    assert service.membership_of(db, miku, moderator) is not None


def test_members_are_paged(client, db, miku):
    users = [make_user(db) for _ in range(5)]
    for user in users:
        add_member(db, miku, user)
    add_member(db, make_community(db), make_user(db))

    usernames: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/api/v1/communities/miku/members", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 2
        usernames += [item["username"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert usernames == [u.username for u in users]
    assert all(set(item) >= {"id", "role", "joined_at", "display_name"} for item in body["items"])


def test_members_of_an_unknown_community_is_a_404(client):
    assert_error(client.get("/api/v1/communities/nope/members"), 404, "not_found")


def test_members_with_a_bad_cursor_is_a_422(client, miku):
    response = client.get("/api/v1/communities/miku/members", params={"cursor": "***"})
    assert "cursor" in assert_error(response, 422, "validation_failed")["fields"]


def test_a_moderator_puts_a_role(client, db, bearer, miku, moderator, fan):
    response = client.put(
        "/api/v1/communities/miku/members/fan_luka",
        json={"role": "creator", "reason": "Publishes original songs."},
        headers=bearer(moderator),
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "creator"
    assert response.json()["username"] == "fan_luka"
    db.expire_all()
    membership = service.membership_of(db, miku, fan)
    assert membership is not None
    assert membership.role == Role.creator


def test_an_invalid_role_is_a_422_naming_the_role_field(client, db, bearer, miku, moderator, fan):
    response = client.put(
        "/api/v1/communities/miku/members/fan_luka",
        json={"role": "emperor", "reason": "Because."},
        headers=bearer(moderator),
    )
    error = assert_error(response, 422, "validation_failed")
    assert set(error["fields"]) == {"role"}


def test_a_missing_reason_is_a_422_naming_the_reason_field(
    client, db, bearer, miku, moderator, fan
):
    headers = bearer(moderator)
    url = "/api/v1/communities/miku/members/fan_luka"
    blank = client.put(url, json={"role": "creator", "reason": " "}, headers=headers)
    assert set(assert_error(blank, 422, "validation_failed")["fields"]) == {"reason"}
    absent = client.put(url, json={"role": "creator"}, headers=headers)
    assert "reason" in assert_error(absent, 422, "validation_failed")["fields"]


def test_a_fan_may_not_put_a_role(client, db, bearer, miku, moderator, fan):
    response = client.put(
        "/api/v1/communities/miku/members/fan_luka",
        json={"role": "moderator", "reason": "Trust me."},
        headers=bearer(fan),
    )
    assert_error(response, 403, "forbidden")


def test_put_for_an_unknown_user_or_non_member_is_a_404(client, db, bearer, miku, moderator):
    make_user(db, "outsider")
    headers = bearer(moderator)
    for username in ("outsider", "nobody_at_all"):
        response = client.put(
            f"/api/v1/communities/miku/members/{username}",
            json={"role": "fan", "reason": "Why not."},
            headers=headers,
        )
        assert_error(response, 404, "not_found")


def test_demoting_the_last_moderator_is_a_409(client, db, bearer, miku, moderator):
    response = client.put(
        "/api/v1/communities/miku/members/mod_rin",
        json={"role": "fan", "reason": "Stepping down."},
        headers=bearer(moderator),
    )
    assert_error(response, 409, "conflict")


def test_role_changes_are_public_and_newest_first(client, db, bearer, miku, moderator, fan):
    client.put(
        "/api/v1/communities/miku/members/fan_luka",
        json={"role": "creator", "reason": "Publishes original songs."},
        headers=bearer(moderator),
    )

    response = client.get("/api/v1/communities/miku/role-changes")

    assert response.status_code == 200
    items = response.json()["items"]
    latest = items[0]
    assert latest["username"] == "fan_luka"
    assert latest["changed_by"] == "mod_rin"
    assert (latest["old_role"], latest["new_role"]) == ("fan", "creator")
    assert latest["reason"] == "Publishes original songs."
    joins = [i for i in items if i["old_role"] is None]
    assert {i["username"] for i in joins} == {"mod_rin", "fan_luka"}
    assert_error(client.get("/api/v1/communities/nope/role-changes"), 404, "not_found")


def test_me_shows_memberships_and_roles(client, db, bearer, miku):
    user = make_user(db, "len", display_name="Len")
    other = make_community(db, "remix", name="Remix Circle")
    add_member(db, miku, user, Role.creator)
    add_member(db, other, user, Role.moderator)
    make_community(db, "unjoined")

    response = client.get("/api/v1/me", headers=bearer(user, scope="read"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == "len"
    assert body["email"] == "len@example.org"
    assert body["authenticated_by"] == "token"
    roles = {m["community"]: (m["community_name"], m["role"]) for m in body["memberships"]}
    assert roles == {
        "miku": ("Hatsune Miku Fans", "creator"),
        "remix": ("Remix Circle", "moderator"),
    }


def test_me_follows_a_join_made_through_the_api(client, db, bearer, miku):
    headers = bearer(make_user(db))
    assert client.get("/api/v1/me", headers=headers).json()["memberships"] == []
    client.post("/api/v1/communities/miku/join", headers=headers)
    memberships = client.get("/api/v1/me", headers=headers).json()["memberships"]
    assert [(m["community"], m["role"]) for m in memberships] == [("miku", "fan")]
