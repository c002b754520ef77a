"""CSRF: unsafe cookie-authenticated requests need the token and a same-site Origin."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import Membership
from tests.conftest import csrf_token, form_token_in, log_in, post_form
from tests.factories import PASSWORD, make_community, make_user


@pytest.fixture
def miku(db, client):
    user = make_user(db, "miku", display_name="Miku")
    log_in(client, "miku")
    return user


def display_name(db: Session, user: User) -> str:
    db.expire_all()
    stored = db.scalar(select(User).where(User.id == user.id))
    assert stored is not None
    name: str = stored.display_name
    return name


def test_form_token_matches_the_page(client):
    assert form_token_in(client.get("/login").text) == csrf_token(client)
    assert f'<meta name="csrf-token" content="{csrf_token(client)}">' in client.get("/").text


def test_post_without_token_is_refused_and_changes_nothing(client, db, miku):
    response = client.post("/profile", data={"display_name": "Hacked"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "The form expired or was sent from elsewhere" in response.text
    assert display_name(db, miku) == "Miku"


def test_post_with_a_wrong_token_is_refused(client, db, miku):
    response = client.post("/profile", data={"display_name": "Hacked", "csrf_token": "0" * 64})
    assert response.status_code == 403
    assert display_name(db, miku) == "Miku"


def test_token_of_another_browser_is_refused(client, db, miku):
    token = csrf_token(client)
    session = client.cookies["nf_session"]
    client.cookies.clear()
    client.cookies.set("nf_session", session)
    client.cookies.set("nf_csrf", "another-browsers-secret")
    assert client.get("/profile").status_code == 200  # still signed in
    response = client.post("/profile", data={"display_name": "Hacked", "csrf_token": token})
    assert response.status_code == 403
    assert display_name(db, miku) == "Miku"


def test_foreign_origin_is_refused_even_with_a_valid_token(client, db, miku):
    response = post_form(
        client, "/profile", {"display_name": "Hacked"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert "another site" in response.text
    assert display_name(db, miku) == "Miku"


@pytest.mark.parametrize("origin", ["null", "http://testserver.evil.example", "https://testserver"])
def test_lookalike_origins_are_refused(client, db, miku, origin):
    response = post_form(client, "/profile", {"display_name": "Hacked"}, headers={"Origin": origin})
    assert response.status_code == 403


def test_same_origin_with_a_valid_token_is_accepted(client, db, miku):
    response = post_form(
        client, "/profile", {"display_name": "Changed"}, headers={"Origin": "http://testserver"}
    )
    assert response.status_code == 303
    assert display_name(db, miku) == "Changed"


def test_login_form_needs_the_token_too(client, db):
    make_user(db, "miku")
    response = client.post("/login", data={"login": "miku", "password": PASSWORD})
    assert response.status_code == 403
    assert "nf_session" not in client.cookies


def test_logout_without_token_keeps_the_session(client, db, miku):
    assert client.post("/logout").status_code == 403
    assert client.get("/profile").status_code == 200


def test_cookie_authenticated_json_write_needs_the_header(client, db, miku):
    make_community(db, "vocaloid")
    refused = client.post("/api/v1/communities/vocaloid/join")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert db.scalar(select(Membership).where(Membership.user_id == miku.id)) is None

    wrong = client.post("/api/v1/communities/vocaloid/join", headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403

    accepted = client.post(
        "/api/v1/communities/vocaloid/join", headers={"X-CSRF-Token": csrf_token(client)}
    )
    assert accepted.status_code == 201, accepted.text
    assert db.scalar(select(Membership).where(Membership.user_id == miku.id)) is not None


def test_json_body_cannot_smuggle_the_form_field(client, db, miku):
    make_community(db, "vocaloid")
    response = client.post(
        "/api/v1/communities/vocaloid/join", json={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 403


def test_header_token_works_for_forms_too(client, db, miku):
    # htmx sends the token as a header (static/js/app.js).
    response = client.post(
        "/profile",
        data={"display_name": "Via htmx"},
        headers={"X-CSRF-Token": csrf_token(client), "HX-Request": "true"},
    )
    assert response.status_code == 303
    assert display_name(db, miku) == "Via htmx"


def test_safe_methods_need_no_token(client, db, miku):
    assert client.get("/profile").status_code == 200
    assert client.head("/").status_code in (200, 405)


def test_every_browser_gets_a_csrf_cookie_once(client):
    first = client.get("/")
    cookie = next(c for c in first.headers.get_list("set-cookie") if c.startswith("nf_csrf="))
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    second = client.get("/")
    assert not any(c.startswith("nf_csrf=") for c in second.headers.get_list("set-cookie"))
