"""The JSON API with personal access tokens (`Authorization: Bearer ...`)."""

from __future__ import annotations

from typing import Any

import pytest
from httpx2 import Response

from app.accounts import service
from app.db import utcnow
from tests.factories import add_member, make_community, make_user


def bearer(plain: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plain}"}


def assert_error_shape(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


@pytest.fixture
def miku(db):
    return make_user(db, "miku", display_name="Miku")


def token_for(db, user, scope: str = "read", name: str = "script") -> str:
    return service.create_token(db, actor=user, name=name, scope=scope, now=utcnow())[1]


def test_me_with_a_token(client, db, miku):
    add_member(db, make_community(db, "vocaloid", name="Vocaloid"), miku)
    plain = token_for(db, miku)
    response = client.get("/api/v1/me", headers=bearer(plain))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "miku"
    assert body["email"] == "miku@example.org"
    assert body["authenticated_by"] == "token"
    assert body["memberships"][0]["community"] == "vocaloid"
    assert body["memberships"][0]["role"] == "fan"


def test_me_with_the_browser_session(client, db, miku):
    from tests.conftest import log_in

    log_in(client, "miku")
    assert client.get("/api/v1/me").json()["authenticated_by"] == "session"


def test_write_token_posts_without_csrf(client, db, miku):
    make_community(db, "vocaloid")
    plain = token_for(db, miku, "write")
    response = client.post("/api/v1/communities/vocaloid/join", headers=bearer(plain))
    assert response.status_code == 201, response.text
    assert response.json()["username"] == "miku"


def test_read_token_cannot_write(client, db, miku):
    make_community(db, "vocaloid")
    plain = token_for(db, miku, "read")
    response = client.post("/api/v1/communities/vocaloid/join", headers=bearer(plain))
    assert_error_shape(response, 403, "forbidden")
    assert "read" in response.json()["error"]["message"]
    me = client.get("/api/v1/me", headers=bearer(plain)).json()
    assert me["memberships"] == []


def test_revoked_token_is_refused(client, db, miku):
    token, plain = service.create_token(db, actor=miku, name="x", scope="write", now=utcnow())
    service.revoke_token(db, actor=miku, token_id=token.id, now=utcnow())
    assert_error_shape(client.get("/api/v1/me", headers=bearer(plain)), 401, "not_authenticated")


@pytest.mark.parametrize(
    "value", ["Bearer nf_not-a-real-token", "bearer   ", "Bearer " + "x" * 3000]
)
def test_invalid_token_is_a_401_json_error(client, db, value):
    response = client.get("/api/v1/me", headers={"Authorization": value})
    assert_error_shape(response, 401, "not_authenticated")


def test_invalid_token_on_a_write_is_401_not_403(client, db):
    make_community(db, "vocaloid")
    response = client.post(
        "/api/v1/communities/vocaloid/join", headers=bearer("nf_not-a-real-token")
    )
    assert_error_shape(response, 401, "not_authenticated")


def test_anonymous_me_is_a_401_json_error(client):
    assert_error_shape(client.get("/api/v1/me"), 401, "not_authenticated")


def test_token_records_its_last_use(client, db, miku):
    token, plain = service.create_token(db, actor=miku, name="x", scope="read", now=utcnow())
    assert token.last_used_at is None
    client.get("/api/v1/me", headers=bearer(plain))
    db.refresh(token)
    assert token.last_used_at is not None
