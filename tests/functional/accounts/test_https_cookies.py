"""Over https the session and CSRF cookies are Secure and use the __Host- prefix."""

from __future__ import annotations

import pytest

from tests.conftest import form_token_in
from tests.factories import PASSWORD, make_user

BASE = "https://forum.example"


@pytest.fixture
def https_client(make_app, client_for):
    return client_for(make_app(base_url=BASE), base_url=BASE)


def cookie_attributes(response, name: str) -> list[str]:
    header = next(c for c in response.headers.get_list("set-cookie") if c.startswith(name + "="))
    return [part.strip().lower() for part in header.split(";")]


def test_csrf_cookie_is_host_prefixed_and_secure(https_client):
    response = https_client.get("/login")
    attributes = cookie_attributes(response, "__Host-nf_csrf")
    assert "secure" in attributes
    assert "httponly" in attributes
    assert "path=/" in attributes
    assert not any(a.startswith("domain=") for a in attributes)


def test_session_cookie_is_host_prefixed_and_secure(https_client, db):
    make_user(db, "miku", display_name="Miku")
    token = form_token_in(https_client.get("/login").text)
    response = https_client.post(
        "/login", data={"csrf_token": token, "login": "miku", "password": PASSWORD}
    )
    assert response.status_code == 303, response.text
    attributes = cookie_attributes(response, "__Host-nf_session")
    assert "secure" in attributes
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert not any(a.startswith("domain=") for a in attributes)
    assert not any(c.startswith("nf_session=") for c in response.headers.get_list("set-cookie"))
    assert 'class="nav-user">Miku</a>' in https_client.get("/").text


def test_logout_clears_the_host_prefixed_cookie(https_client, db):
    make_user(db, "miku")
    token = form_token_in(https_client.get("/login").text)
    https_client.post("/login", data={"csrf_token": token, "login": "miku", "password": PASSWORD})
    token = form_token_in(https_client.get("/").text)
    response = https_client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    attributes = cookie_attributes(response, "__Host-nf_session")
    assert "secure" in attributes
    assert "__Host-nf_session" not in https_client.cookies


def test_flash_cookie_is_host_prefixed_and_secure_over_https(https_client, db):
    make_user(db, "miku")
    token = form_token_in(https_client.get("/login").text)
    response = https_client.post(
        "/login", data={"csrf_token": token, "login": "miku", "password": PASSWORD}
    )
    attributes = cookie_attributes(response, "__Host-nf_flash")
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(attributes)
    assert not any(c.startswith("nf_flash=") for c in response.headers.get_list("set-cookie"))
    # Shown once, then deleted, with the flags a browser needs to accept the deletion.
    shown = https_client.get("/")
    assert "Signed in as" in shown.text
    assert {"secure", "httponly", "path=/"} <= set(cookie_attributes(shown, "__Host-nf_flash"))
    assert "__Host-nf_flash" not in https_client.cookies


def test_foreign_origin_is_refused_over_https(https_client, db):
    make_user(db, "miku")
    token = form_token_in(https_client.get("/login").text)
    response = https_client.post(
        "/login",
        data={"csrf_token": token, "login": "miku", "password": PASSWORD},
        headers={"Origin": "http://forum.example"},
    )
    assert response.status_code == 403
