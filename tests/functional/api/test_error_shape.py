"""Every error from the API is JSON of one shape, never an HTML page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_community, make_user
from tests.functional.api.helpers import assert_error

BROWSER = {"Accept": "text/html,application/xhtml+xml"}


@pytest.mark.parametrize(
    ("method", "url", "status", "code"),
    [
        ("GET", "/api/v1/no-such-thing", 404, "not_found"),
        ("GET", "/api/v1/communities/miku/nothing", 404, "not_found"),
        ("GET", "/api/v1", 404, "not_found"),
        ("DELETE", "/api/v1/communities", 405, "method_not_allowed"),
        ("PUT", "/api/v1/communities/miku", 405, "method_not_allowed"),
        ("GET", "/api/v1/communities/miku/join", 405, "method_not_allowed"),
        ("GET", "/api/v1/communities/no-such-community", 404, "not_found"),
        ("GET", "/api/v1/me", 401, "not_authenticated"),
        ("GET", "/api/v1/communities?limit=1000", 422, "validation_failed"),
    ],
)
def test_errors_are_json_even_for_a_browser(client, db, method, url, status, code):
    make_community(db, "miku")
    response = client.request(method, url, headers=BROWSER)
    assert_error(response, status, code)
    assert "<html" not in response.text


def test_a_405_keeps_the_allow_header(client):
    # Starlette names the methods of the first route that matched the path only.
    response = client.delete("/api/v1/communities")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('{"name": 5, "slug": ["x"]}', "application/json"),
        ("name=Form&slug=form", "application/x-www-form-urlencoded"),
        ("", "application/json"),
    ],
)
def test_malformed_bodies_are_422_json_errors(client, db, bearer, content, content_type):
    admin = make_user(db, is_admin=True)
    response = client.post(
        "/api/v1/communities",
        content=content,
        headers={**bearer(admin), "Content-Type": content_type},
    )
    error = assert_error(response, 422, "validation_failed")
    assert error["fields"]


def test_a_revoked_token_is_a_401(client, db, bearer):
    from app.accounts import service as accounts_service
    from app.accounts.models import AccessToken
    from app.db import utcnow

    user = make_user(db)
    headers = bearer(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token_id = db.query(AccessToken.id).filter(AccessToken.user_id == user.id).scalar()
    accounts_service.revoke_token(db, actor=user, token_id=token_id, now=utcnow())
    assert_error(client.get("/api/v1/me", headers=headers), 401, "not_authenticated")


def test_an_unknown_api_path_with_credentials_is_still_json(client, db, bearer):
    headers: dict[str, Any] = {**bearer(make_user(db)), **BROWSER}
    assert_error(client.post("/api/v1/nothing/here", headers=headers), 404, "not_found")
