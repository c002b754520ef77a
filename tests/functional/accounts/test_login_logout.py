"""Signing in and out through the browser."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import UserSession
from app.accounts.service import GENERIC_LOGIN_ERROR
from tests.conftest import log_in, post_form
from tests.factories import PASSWORD, make_user


def signed_in_as(client, display_name: str) -> bool:
    return f'class="nav-user">{display_name}</a>' in client.get("/").text


def test_login_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="login"' in response.text
    assert 'name="password"' in response.text


def test_login_success(client, db):
    make_user(db, "miku", display_name="Miku")
    response = post_form(client, "/login", {"login": "Miku@Example.org", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert client.cookies.get("nf_session")
    assert signed_in_as(client, "Miku")


def test_login_follows_a_safe_next_only(client, db):
    make_user(db, "miku")
    ok = post_form(client, "/login", {"login": "miku", "password": PASSWORD, "next": "/profile"})
    assert ok.headers["location"] == "/profile"
    client.cookies.clear()
    evil = post_form(
        client, "/login", {"login": "miku", "password": PASSWORD, "next": "//evil.example/"}
    )
    assert evil.headers["location"] == "/"


def test_login_page_keeps_the_next_target(client):
    response = client.get("/login?next=/c/miku")
    assert 'name="next" value="/c/miku"' in response.text
    assert 'value="https://evil.example"' not in client.get("/login?next=https://evil.example").text


def test_login_rotates_the_session_token(client, db):
    make_user(db, "miku", display_name="Miku")
    make_user(db, "rin", display_name="Rin")
    log_in(client, "miku")
    before = client.cookies["nf_session"]
    log_in(client, "rin")
    after = client.cookies["nf_session"]
    assert after != before
    assert signed_in_as(client, "Rin")
    # The cookie from before the sign-in is worthless now.
    client.cookies.clear()
    client.cookies.set("nf_session", before)
    assert client.get("/profile").status_code == 303
    assert len(db.scalars(select(UserSession)).all()) == 1


def test_wrong_password_shows_the_generic_message(client, db):
    make_user(db, "miku")
    wrong = post_form(client, "/login", {"login": "miku", "password": "not my password"})
    unknown = post_form(client, "/login", {"login": "nobody", "password": "not my password"})
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert GENERIC_LOGIN_ERROR.replace("'", "&#39;") in response.text
        assert "nf_session" not in client.cookies
    assert 'name="login" type="text" value="miku"' in wrong.text
    assert "not my password" not in wrong.text


def test_failed_attempts_are_stored_even_though_the_page_is_an_error(make_app, client_for, db):
    make_user(db, "miku")
    client = client_for(make_app(login_failures_per_account=2))
    for _ in range(2):
        assert (
            post_form(client, "/login", {"login": "miku", "password": "nope nope"}).status_code
            == 400
        )
    response = post_form(client, "/login", {"login": "miku", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts for this account" in response.text
    assert 1 <= int(response.headers["retry-after"]) <= 15 * 60 + 1
    assert 'value="miku"' in response.text
    assert "nf_session" not in client.cookies


def test_rate_limit_per_ip(make_app, client_for, db):
    make_user(db, "miku")
    client = client_for(make_app(login_attempts_per_ip=2))
    for name in ("rin", "len"):
        post_form(client, "/login", {"login": name, "password": "nope nope"})
    response = post_form(client, "/login", {"login": "miku", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many sign-in attempts from your network" in response.text
    assert response.headers["retry-after"].isdigit()


def test_overlong_and_odd_logins_are_a_normal_failure(client):
    for login in ("x" * 2000, "mi\x00ku", "miku\x00@example.org"):
        response = post_form(client, "/login", {"login": login, "password": "whatever!!"})
        assert response.status_code == 400


def test_logout_ends_the_server_session(client, db):
    make_user(db, "miku", display_name="Miku")
    log_in(client, "miku")
    token = client.cookies["nf_session"]
    response = post_form(client, "/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "nf_session" not in client.cookies
    assert "You are signed out." in client.get("/").text
    # Replaying the old cookie is anonymous: the server forgot the session.
    client.cookies.set("nf_session", token)
    assert not signed_in_as(client, "Miku")
    response = client.get("/profile")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/profile"


def test_logout_needs_post(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    assert client.get("/logout").status_code == 405
    assert client.get("/profile").status_code == 200


def test_signed_in_user_visiting_login_is_redirected(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    response = client.get("/login?next=/profile")
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"
