"""The registration page and form."""

from __future__ import annotations

from httpx2 import Response
from sqlalchemy import select

from app.accounts.models import User, UserSession
from tests.conftest import post_form
from tests.factories import PASSWORD, make_user

FORM = {
    "username": "MikuFan",
    "display_name": "Miku Fan",
    "email": "miku@example.org",
    "password": PASSWORD,
}


def set_cookie_headers(response: Response) -> list[str]:
    headers: list[str] = response.headers.get_list("set-cookie")
    return headers


def test_register_page(client):
    response = client.get("/register")
    assert response.status_code == 200
    assert "Create an account" in response.text
    for name in ("username", "display_name", "email", "password", "csrf_token"):
        assert f'name="{name}"' in response.text


def test_register_page_sends_signed_in_users_to_their_profile(client, db):
    make_user(db, "miku")
    from tests.conftest import log_in

    log_in(client, "miku")
    response = client.get("/register")
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"


def test_register_signs_in(client, db):
    response = post_form(client, "/register", FORM)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(c for c in set_cookie_headers(response) if c.startswith("nf_session="))
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # plain http in tests

    user = db.scalar(select(User).where(User.username == "mikufan"))
    assert user is not None
    assert db.scalar(select(UserSession).where(UserSession.user_id == user.id)) is not None

    home = client.get("/")
    assert "Welcome, Miku Fan!" in home.text
    assert 'class="nav-user">Miku Fan</a>' in home.text
    assert "Sign out" in home.text
    assert "Create account</a>" not in home.text


def test_field_errors_re_render_the_form(client, db):
    make_user(db, "miku")
    response = post_form(
        client,
        "/register",
        {"username": "MIKU", "display_name": "  ", "email": "not-an-email", "password": "hunter2"},
    )
    assert response.status_code == 422
    html = response.text
    assert "Please correct the marked fields." in html
    assert '<p class="field-error" id="f-username-error">That username is taken.</p>' in html
    assert (
        '<p class="field-error" id="f-display_name-error">Enter the name others will see.' in html
    )
    assert 'id="f-email-error"' in html
    assert '<p class="field-error" id="f-password-error">Use at least 10 characters.</p>' in html
    assert 'aria-invalid="true"' in html
    # What was typed is kept, except the password.
    assert 'value="MIKU"' in html
    assert 'value="not-an-email"' in html
    assert "hunter2" not in html
    assert "nf_session" not in "".join(set_cookie_headers(response))
    assert db.scalar(select(User).where(User.email == "not-an-email")) is None


def test_typed_password_is_not_sent_back_even_when_valid(client):
    response = post_form(client, "/register", {**FORM, "email": "nope"})
    assert response.status_code == 422
    assert PASSWORD not in response.text
    assert 'value="MikuFan"' in response.text


def test_typed_values_are_escaped(client):
    response = post_form(client, "/register", {**FORM, "username": '"><b>x', "email": "nope"})
    assert response.status_code == 422
    assert '"><b>x' not in response.text
    assert "&#34;&gt;&lt;b&gt;x" in response.text


def test_registration_rate_limit_is_a_429_page(make_app, client_for):
    client = client_for(make_app(registrations_per_ip=1))
    assert post_form(client, "/register", FORM).status_code == 303
    client.cookies.clear()
    response = post_form(
        client, "/register", {**FORM, "username": "second", "email": "second@example.org"}
    )
    assert response.status_code == 429
    assert "Too many new accounts from your network" in response.text
    assert int(response.headers["retry-after"]) > 0
    assert 'value="second"' in response.text
