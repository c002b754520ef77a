"""The communities API parts that proposals need: categories and the deliberation period."""

from __future__ import annotations

import pytest

from app.communities import service as communities_service
from app.communities.models import Community
from tests.functional.api.helpers import assert_error


def test_a_community_shows_its_categories_and_deliberation_period(client, cast, bearer):
    no_token: dict[str, str] = {}
    for headers in (no_token, bearer(cast.fan, "read")):
        response = client.get("/api/v1/communities/miku", headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert body["min_deliberation_hours"] == 72
        assert body["categories"] == [
            {
                "slug": "depiction-rules",
                "name": "Depiction rules",
                "description": "",
                "archived": False,
            },
            {"slug": "ai-models", "name": "AI models", "description": "", "archived": False},
        ]


def test_a_moderator_patches_the_deliberation_period(client, db, cast, bearer):
    response = client.patch(
        "/api/v1/communities/miku",
        json={"min_deliberation_hours": 48},
        headers=bearer(cast.moderator),
    )
    assert response.status_code == 200, response.text
    assert response.json()["min_deliberation_hours"] == 48
    assert response.json()["name"] == "Hatsune Miku Fans"
    db.expire_all()
    assert db.get(Community, cast.community.id).min_deliberation_hours == 48


@pytest.mark.parametrize("value", [-1, 2161, "abc", 1.5, 10**30])
def test_a_bad_deliberation_period_is_a_422(client, db, cast, bearer, value):
    response = client.patch(
        "/api/v1/communities/miku",
        json={"min_deliberation_hours": value},
        headers=bearer(cast.moderator),
    )
    error = assert_error(response, 422, "validation_failed")
    assert "min_deliberation_hours" in error["fields"]
    db.expire_all()
    assert db.get(Community, cast.community.id).min_deliberation_hours == 72


def test_fans_cannot_patch_the_community(client, db, cast, bearer):
    response = client.patch(
        "/api/v1/communities/miku", json={"min_deliberation_hours": 1}, headers=bearer(cast.fan)
    )
    assert_error(response, 403, "forbidden")


def test_a_moderator_adds_a_category(client, db, cast, bearer):
    response = client.post(
        "/api/v1/communities/miku/categories",
        json={"name": "Commercial use", "description": "Selling works."},
        headers=bearer(cast.moderator),
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "slug": "commercial-use",
        "name": "Commercial use",
        "description": "Selling works.",
        "archived": False,
    }
    slugs = [c["slug"] for c in client.get("/api/v1/communities/miku").json()["categories"]]
    assert slugs == ["depiction-rules", "ai-models", "commercial-use"]


def test_category_validation_errors(client, cast, bearer):
    headers = bearer(cast.moderator)
    for body, field in (
        ({"name": "x"}, "name"),
        ({"name": "AI models"}, "name"),
        ({"name": "Fine", "description": "d" * 301}, "description"),
        ({}, "name"),
    ):
        response = client.post("/api/v1/communities/miku/categories", json=body, headers=headers)
        assert field in assert_error(response, 422, "validation_failed")["fields"], body


def test_a_moderator_renames_archives_and_restores_a_category(client, db, cast, bearer):
    headers = bearer(cast.moderator)
    path = "/api/v1/communities/miku/categories/ai-models"

    response = client.patch(path, json={"name": "AI and models"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "AI and models"
    assert response.json()["slug"] == "ai-models"

    response = client.patch(path, json={"archived": True}, headers=headers)
    assert response.json()["archived"] is True
    assert response.json()["name"] == "AI and models"
    slugs = [c["slug"] for c in client.get("/api/v1/communities/miku").json()["categories"]]
    assert slugs == ["depiction-rules"]
    # New proposals may no longer be filed there.
    response = client.post(
        "/api/v1/communities/miku/proposals",
        json={"title": "A new norm", "category": "ai-models"},
        headers=bearer(cast.fan),
    )
    assert "category" in assert_error(response, 422, "validation_failed")["fields"]

    response = client.patch(path, json={"archived": False}, headers=headers)
    assert response.json()["archived"] is False
    assert len(communities_service.categories(db, cast.community)) == 2

    response = client.patch(path, json={"name": "x"}, headers=headers)
    assert "name" in assert_error(response, 422, "validation_failed")["fields"]


def test_fans_cannot_manage_categories(client, db, cast, bearer):
    headers = bearer(cast.fan)
    assert_error(
        client.post("/api/v1/communities/miku/categories", json={"name": "Mine"}, headers=headers),
        403,
        "forbidden",
    )
    assert_error(
        client.patch(
            "/api/v1/communities/miku/categories/ai-models",
            json={"archived": True},
            headers=headers,
        ),
        403,
        "forbidden",
    )
    assert len(communities_service.categories(db, cast.community)) == 2


def test_unknown_categories_and_communities_are_404(client, cast, bearer):
    headers = bearer(cast.moderator)
    assert_error(
        client.patch("/api/v1/communities/miku/categories/nope", json={}, headers=headers),
        404,
        "not_found",
    )
    assert_error(
        client.post(
            "/api/v1/communities/nowhere/categories", json={"name": "X y"}, headers=headers
        ),
        404,
        "not_found",
    )
