"""The communities resources of the JSON API: list, create, read and update."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.communities import service
from app.communities.models import Community, Role
from tests.conftest import csrf_token, log_in
from tests.factories import add_member, make_community, make_user
from tests.functional.api.helpers import assert_error


def all_pages(client: TestClient, url: str, limit: int) -> list[list[dict[str, Any]]]:
    """Follow next_cursor to the end; returns the pages."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = client.get(url, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "paging does not end"


def test_list_communities_pages_with_limit_and_cursor(client, db):
    created = [make_community(db) for _ in range(5)]
    add_member(db, created[0], make_user(db))

    pages = all_pages(client, "/api/v1/communities", limit=2)

    assert all(len(page) <= 2 for page in pages)
    items = [item for page in pages for item in page]
    ids = [item["id"] for item in items]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    assert {c.id for c in created} <= set(ids)
    first = next(item for item in items if item["id"] == created[0].id)
    assert first["member_count"] == 1
    assert first["slug"] == created[0].slug
    assert first["url"] == f"http://testserver/c/{created[0].slug}"


def test_the_last_page_has_no_next_cursor(client, db):
    make_community(db)
    body = client.get("/api/v1/communities", params={"limit": 100}).json()
    assert body["next_cursor"] is None
    assert body["items"]


def test_a_full_page_has_a_cursor_that_continues_after_it(client, db):
    for _ in range(3):
        make_community(db)
    first = client.get("/api/v1/communities", params={"limit": 1}).json()
    assert first["next_cursor"]
    second = client.get(
        "/api/v1/communities", params={"limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert second["items"][0]["id"] > first["items"][0]["id"]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!",
        "%%%",
        base64.urlsafe_b64encode(b"abc").decode(),
        base64.urlsafe_b64encode(b"-5").decode(),
        base64.urlsafe_b64encode(b"9" * 30).decode(),  # beyond any 64-bit id
        "x" * 65,
    ],
)
def test_a_bad_cursor_is_a_422_error(client, cursor):
    response = client.get("/api/v1/communities", params={"cursor": cursor})
    error = assert_error(response, 422, "validation_failed")
    assert "cursor" in error["fields"]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten"])
def test_a_limit_out_of_range_is_a_422_error(client, limit):
    response = client.get("/api/v1/communities", params={"limit": limit})
    error = assert_error(response, 422, "validation_failed")
    assert "limit" in error["fields"]


def test_an_admin_creates_a_community_with_a_write_token(client, db, bearer):
    admin = make_user(db, is_admin=True)

    response = client.post(
        "/api/v1/communities",
        json={"name": "Hatsune Miku Fans", "slug": "miku", "description": "Fan works."},
        headers=bearer(admin),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["slug"] == "miku"
    assert body["name"] == "Hatsune Miku Fans"
    assert body["member_count"] == 1
    assert body["url"] == "http://testserver/c/miku"
    community = db.scalar(select(Community).where(Community.slug == "miku"))
    assert community is not None
    assert body["id"] == community.id
    membership = service.membership_of(db, community, admin)
    assert membership is not None
    assert membership.role == Role.moderator


def test_a_fan_may_not_create_a_community(client, db, bearer):
    fan = make_user(db)
    response = client.post(
        "/api/v1/communities", json={"name": "Fan Club", "slug": "fan-club"}, headers=bearer(fan)
    )
    assert_error(response, 403, "forbidden")
    assert db.scalar(select(Community.id).where(Community.slug == "fan-club")) is None


def test_reading_me_without_credentials_is_a_401(client):
    assert_error(client.get("/api/v1/me"), 401, "not_authenticated")


def test_a_read_token_may_not_write(client, db, bearer):
    admin = make_user(db, is_admin=True)
    response = client.post(
        "/api/v1/communities",
        json={"name": "Read Only", "slug": "read-only"},
        headers=bearer(admin, scope="read"),
    )
    assert_error(response, 403, "forbidden")
    assert client.get("/api/v1/communities", headers=bearer(admin, scope="read")).status_code == 200


def test_an_invalid_token_is_a_401(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer nf_not-a-real-token"})
    assert_error(response, 401, "not_authenticated")


def test_create_errors_name_the_fields(client, db, bearer):
    admin = make_user(db, is_admin=True)
    make_community(db, "taken")
    response = client.post(
        "/api/v1/communities", json={"name": "OK name", "slug": "taken"}, headers=bearer(admin)
    )
    error = assert_error(response, 422, "validation_failed")
    assert set(error["fields"]) == {"slug"}

    response = client.post("/api/v1/communities", json={"name": "No slug"}, headers=bearer(admin))
    assert "slug" in assert_error(response, 422, "validation_failed")["fields"]


def test_cookie_authenticated_writes_need_the_csrf_header(client, db):
    make_user(db, "site_admin", is_admin=True)
    log_in(client, "site_admin")
    body = {"name": "Cookie Made", "slug": "cookie-made"}

    refused = client.post("/api/v1/communities", json=body)
    assert_error(refused, 403, "forbidden")

    accepted = client.post(
        "/api/v1/communities", json=body, headers={"X-CSRF-Token": csrf_token(client)}
    )
    assert accepted.status_code == 201, accepted.text


def test_get_one_community(client, db):
    community = make_community(db, "miku", name="Hatsune Miku Fans", description="*Fan* works")
    add_member(db, community, make_user(db))
    add_member(db, community, make_user(db))

    response = client.get("/api/v1/communities/miku")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == community.id
    assert body["description"] == "*Fan* works"
    assert body["member_count"] == 2
    assert body["created_at"].endswith(("Z", "+00:00"))


def test_an_unknown_slug_is_a_404_json_error(client):
    response = client.get("/api/v1/communities/nothing-here")
    error = assert_error(response, 404, "not_found")
    assert error["fields"] == {}


def test_a_moderator_patches_the_community(client, db, bearer):
    community = make_community(db, "miku", name="Old Name", description="old")
    moderator = make_user(db)
    add_member(db, community, moderator, Role.moderator)

    response = client.patch(
        "/api/v1/communities/miku", json={"description": "new"}, headers=bearer(moderator)
    )

    assert response.status_code == 200, response.text
    assert response.json()["description"] == "new"
    assert response.json()["name"] == "Old Name"
    db.expire_all()
    assert community.description == "new"


def test_a_fan_may_not_patch_the_community(client, db, bearer):
    community = make_community(db, "miku", name="Old Name")
    fan = make_user(db)
    add_member(db, community, fan)
    response = client.patch("/api/v1/communities/miku", json={"name": "Mine"}, headers=bearer(fan))
    assert_error(response, 403, "forbidden")
    db.expire_all()
    assert community.name == "Old Name"


def test_a_patch_with_a_bad_name_is_a_422(client, db, bearer):
    make_community(db, "miku")
    admin = make_user(db, is_admin=True)
    response = client.patch("/api/v1/communities/miku", json={"name": "x"}, headers=bearer(admin))
    assert set(assert_error(response, 422, "validation_failed")["fields"]) == {"name"}


def test_a_patch_of_an_unknown_community_is_a_404(client, db, bearer):
    admin = make_user(db, is_admin=True)
    response = client.patch(
        "/api/v1/communities/nope", json={"name": "Nope"}, headers=bearer(admin)
    )
    assert_error(response, 404, "not_found")
