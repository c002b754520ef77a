"""Error responses: friendly HTML pages, JSON with one shape under /api/."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from httpx2 import Response

from tests.conftest import post_form
from tests.factories import make_community


def assert_json_error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body


def test_unknown_html_path_is_a_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text
    assert "There is nothing at this address." in response.text
    assert "<html" in response.text


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1", "/api/v1/communities/x/y/z"])
def test_unknown_api_path_is_a_json_404(client, path):
    assert_json_error(client.get(path), 404, "not_found")


def test_unknown_api_resource_is_a_json_404(client):
    assert_json_error(client.get("/api/v1/communities/no-such"), 404, "not_found")


def test_wrong_method_on_the_api_is_json(client):
    assert_json_error(client.delete("/api/v1/me"), 405, "method_not_allowed")


def test_anonymous_profile_redirects_to_login(client):
    response = client.get("/profile")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/profile"


def test_anonymous_post_is_a_401_page_not_a_redirect(client):
    response = post_form(client, "/profile", {"display_name": "x"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/login"' in response.text


def test_anonymous_me_is_a_json_401(client):
    assert_json_error(client.get("/api/v1/me"), 401, "not_authenticated")


def test_bad_query_parameters_are_a_json_422_with_fields(client):
    body = assert_json_error(client.get("/api/v1/communities?limit=0"), 422, "validation_failed")
    assert "limit" in body["error"]["fields"]
    body = assert_json_error(client.get("/api/v1/communities?limit=101"), 422, "validation_failed")
    assert "limit" in body["error"]["fields"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        base64.urlsafe_b64encode(str(10**30).encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(str(2**63).encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(b"-5").decode().rstrip("="),
    ],
)
def test_bad_cursor_is_a_json_422_not_a_500(client, db, cursor):
    make_community(db)
    body = assert_json_error(
        client.get(f"/api/v1/communities?cursor={cursor}"), 422, "validation_failed"
    )
    assert "cursor" in body["error"]["fields"]


def test_bad_path_parameter_is_an_html_422_page(client, db):
    from tests.conftest import log_in
    from tests.factories import make_user

    make_user(db, "miku")
    log_in(client, "miku")
    response = post_form(client, "/profile/tokens/not-a-number/revoke")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "token_id" in response.text
