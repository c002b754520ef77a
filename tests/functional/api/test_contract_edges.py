"""Edges of the API contract: JSON for every /api/ path, 401 (not a CSRF 403) without a login."""

from tests.conftest import log_in
from tests.factories import make_community, make_user


def test_an_unknown_api_version_answers_json(client):
    for path in ("/api", "/api/nothing", "/api/v2/communities"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]["code"] == "not_found"


def test_an_api_write_without_any_login_is_401(client, db):
    make_community(db, "open")
    response = client.post("/api/v1/communities/open/join")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_signed_in_browser_still_needs_the_csrf_header_for_api_writes(client, db):
    make_community(db, "open")
    make_user(db, "rin")
    log_in(client, "rin")
    response = client.post("/api/v1/communities/open/join")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
