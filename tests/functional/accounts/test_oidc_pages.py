"""Sign-in with OpenID Connect through the app, against the real test provider on loopback.

The app runs in the test's transaction (TestClient); the provider's side of the browser is a
real HTTP client, and the provider's redirect back is handed to the app as the browser would.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import Identity, User, UserSession
from app.mail.models import OutboxMail
from tests.conftest import csrf_token, log_in, post_form
from tests.factories import PASSWORD, make_user
from tests.oidc.fixtures import ACCOUNTS, PROVIDER_DISPLAY_NAME, LoopbackProvider, through_provider

START = "/auth/oidc/testid/start"


def to_provider(client: TestClient, start: str = START) -> str:
    response = client.get(start)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    assert parts.netloc == "testserver", url
    return f"{parts.path}?{parts.query}"


def sign_in(
    client: TestClient,
    browser: httpx.Client,
    login: str = "hatsune",
    password: str | None = None,
    start: str = START,
) -> Any:
    """Start at the app, sign in at the provider, and hand its answer back to the app."""
    password = password if password is not None else ACCOUNTS[login]["password"]
    back = through_provider(browser, to_provider(client, start), login, password)
    return client.get(callback_path(back))


def counts(db: Session) -> tuple[int, int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count(User.id))) or 0,
        db.scalar(select(func.count(Identity.id))) or 0,
        db.scalar(select(func.count(UserSession.id))) or 0,
    )


def finish_signup(client: TestClient, **values: str) -> Any:
    form = client.get("/auth/oidc/signup")
    assert form.status_code == 200, form.text
    return post_form(client, "/auth/oidc/signup", values)


@pytest.fixture
def client(oidc_app: FastAPI, client_for) -> TestClient:
    """This module's browser talks to the app that offers the test provider."""
    test_client: TestClient = client_for(oidc_app)
    return test_client


def test_sign_in_buttons_on_the_sign_in_and_registration_pages(client):
    for path in ("/login", "/register"):
        html = client.get(path).text
        assert f'href="{START}"' in html
        assert f"Sign in with {PROVIDER_DISPLAY_NAME}" in html
    assert f'href="{START}?next=/c/miku"' in client.get("/login?next=/c/miku").text


def test_the_authorization_request_uses_pkce_state_and_nonce(client):
    location = to_provider(client)
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0]
    assert query["nonce"][0]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    assert query["redirect_uri"] == ["http://testserver/auth/oidc/testid/callback"]
    # The flow is remembered in a cookie of its own, for the OIDC paths only.
    assert "nf_oidc_flow" in client.cookies
    assert "session" not in client.cookies


def test_first_sign_in_asks_for_a_username_then_creates_the_account(
    client, provider_browser, db, oidc_provider: LoopbackProvider
):
    users_before, identities_before, _ = counts(db)
    response = sign_in(client, provider_browser)
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/oidc/signup"
    # Nothing exists until the username is chosen.
    assert counts(db)[:2] == (users_before, identities_before)
    form = client.get("/auth/oidc/signup")
    assert 'value="hatsune"' in form.text
    assert 'value="Hatsune at the Provider"' in form.text
    assert 'value="hatsune.provider@example.org"' in form.text

    response = post_form(
        client,
        "/auth/oidc/signup",
        {
            "username": "hatsune",
            "display_name": "Hatsune",
            "email": "hatsune.provider@example.org",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "nf_session" in client.cookies
    assert "nf_oidc_signup" not in client.cookies
    user = db.scalar(select(User).where(User.username == "hatsune"))
    assert user is not None
    assert user.password_hash is None
    # The provider vouched for this address: no confirmation mail.
    assert user.email_verified
    assert not db.scalars(select(OutboxMail).where(OutboxMail.user_id == user.id)).all()
    identity = db.scalar(select(Identity).where(Identity.user_id == user.id))
    assert identity is not None
    assert (identity.issuer, identity.subject) == (oidc_provider.issuer, ACCOUNTS["hatsune"]["sub"])
    assert "Welcome, Hatsune!" in client.get("/").text
    profile = client.get("/profile").text
    assert "Test ID (hatsune.provider@example.org)" in profile
    assert "Your only way in" in profile
    assert "Set a password" in profile


def test_the_next_sign_in_enters_the_same_account(
    client, oidc_app, client_for, provider_browser, db
):
    sign_in(client, provider_browser)
    finish_signup(client, username="hatsune", display_name="Hatsune", email="h@example.org")
    users = counts(db)[0]
    with httpx.Client(timeout=10) as other_browser:
        again = client_for(oidc_app, cookies={})
        again.cookies.clear()
        response = sign_in(again, other_browser, start=f"{START}?next=/profile")
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"
    assert counts(db)[0] == users
    assert "Signed in as Hatsune." in again.get("/profile").text


def test_a_different_address_gets_a_confirmation_mail(client, provider_browser, db):
    sign_in(client, provider_browser, "len")
    response = finish_signup(
        client, username="len", display_name="Len", email="len.unverified@example.org"
    )
    assert response.status_code == 303
    user = db.scalar(select(User).where(User.username == "len"))
    assert user is not None
    # The provider did not vouch for it: unconfirmed, and a link is on its way.
    assert not user.email_verified
    (mail,) = db.scalars(select(OutboxMail).where(OutboxMail.user_id == user.id)).all()
    assert mail.kind == "verify_email"
    assert mail.to_address == "len.unverified@example.org"


def test_a_wrong_password_at_the_provider_ends_in_a_clear_error(client, provider_browser, db):
    before = counts(db)
    response = sign_in(client, provider_browser, "hatsune", "not the password")
    assert response.status_code == 400
    assert f"Sign-in with {PROVIDER_DISPLAY_NAME} failed" in response.text
    assert "did not sign you in: The login or password was wrong" in response.text
    assert counts(db) == before
    assert "nf_oidc_flow" not in client.cookies
    assert "nf_session" not in client.cookies


def test_a_tampered_state_ends_in_a_clear_error(client, provider_browser, db):
    before = counts(db)
    back = through_provider(
        provider_browser, to_provider(client), "hatsune", ACCOUNTS["hatsune"]["password"]
    )
    parts = urlsplit(back)
    query = parse_qs(parts.query)
    query["state"] = [query["state"][0][:-2] + "xx"]
    tampered = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    response = client.get(callback_path(tampered))
    assert response.status_code == 400
    assert "its state does not match" in response.text
    assert counts(db) == before
    assert "nf_oidc_signup" not in client.cookies


def test_a_replayed_callback_ends_in_a_clear_error(client, provider_browser, db):
    location = to_provider(client)
    flow_cookie = client.cookies["nf_oidc_flow"]
    back = through_provider(provider_browser, location, "hatsune", ACCOUNTS["hatsune"]["password"])
    first = client.get(callback_path(back))
    assert first.headers["location"] == "/auth/oidc/signup"
    client.cookies.delete("nf_oidc_signup")
    before = counts(db)

    # The same answer again: the browser's flow is finished.
    replay = client.get(callback_path(back))
    assert replay.status_code == 400
    assert "does not belong to a sign-in started in this browser" in replay.text
    # Even with the flow's cookie copied back, the provider's code works only once.
    client.cookies.set("nf_oidc_flow", flow_cookie, path="/auth/oidc/")
    replay = client.get(callback_path(back))
    assert replay.status_code == 400
    assert "its code was used already" in replay.text
    assert counts(db) == before
    assert "nf_oidc_signup" not in client.cookies


def test_a_callback_without_a_flow_or_with_a_forged_one_is_refused(client):
    response = client.get("/auth/oidc/testid/callback?code=abc&state=def")
    assert response.status_code == 400
    client.cookies.set("nf_oidc_flow", "forged.value.here", path="/auth/oidc/")
    response = client.get("/auth/oidc/testid/callback?code=abc&state=def")
    assert response.status_code == 400
    assert "could not be checked" in response.text


def test_an_email_of_a_local_account_does_not_take_it_over(client, provider_browser, db):
    rin = make_user(db, "rin", display_name="Rin Local")
    assert rin.email == "rin@example.org"
    sign_in(client, provider_browser, "rin")
    form = client.get("/auth/oidc/signup")
    assert 'value="rin@example.org"' in form.text
    response = post_form(
        client,
        "/auth/oidc/signup",
        {"username": "rin2", "display_name": "Rin", "email": "rin@example.org"},
    )
    assert response.status_code == 422
    assert "An account with this email address exists already" in response.text
    assert "nf_session" not in client.cookies
    db.expire_all()
    assert db.scalar(select(func.count(Identity.id)).where(Identity.user_id == rin.id)) == 0
    assert client.get("/profile").status_code == 303
    # With an address of their own they get an account of their own.
    response = post_form(
        client,
        "/auth/oidc/signup",
        {"username": "rin2", "display_name": "Rin", "email": "rin.two@example.org"},
    )
    assert response.status_code == 303
    db.expire_all()
    identity = db.scalar(select(Identity).where(Identity.subject == ACCOUNTS["rin"]["sub"]))
    assert identity is not None
    assert identity.user_id != rin.id


def test_signup_form_errors_keep_the_values(client, provider_browser, db):
    sign_in(client, provider_browser)
    before = counts(db)
    response = post_form(
        client,
        "/auth/oidc/signup",
        {"username": "No!", "display_name": "", "email": "not-an-address"},
    )
    assert response.status_code == 422
    assert 'value="No!"' in response.text
    assert "Use 3 to 32 characters" in response.text
    assert counts(db) == before


def test_signup_without_a_pending_sign_in_is_refused(client):
    for response in (client.get("/auth/oidc/signup"), post_form(client, "/auth/oidc/signup")):
        assert response.status_code == 400
        assert "No sign-in is waiting for a username" in response.text
    client.cookies.set("nf_oidc_signup", "forged", path="/auth/oidc/")
    assert client.get("/auth/oidc/signup").status_code == 400


def test_cancelling_the_signup_creates_nothing(client, provider_browser, db):
    sign_in(client, provider_browser)
    before = counts(db)
    response = post_form(client, "/auth/oidc/signup/cancel")
    assert response.status_code == 303
    assert "nf_oidc_signup" not in client.cookies
    assert client.get("/auth/oidc/signup").status_code == 400
    assert counts(db) == before


def test_linking_when_signed_in_then_signing_in_with_it(
    client, oidc_app, client_for, provider_browser, db
):
    miku = make_user(db, "miku", display_name="Miku")
    log_in(client, "miku")
    response = sign_in(client, provider_browser)
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"
    profile = client.get("/profile").text
    assert "Test ID is linked" in profile
    assert "Test ID (hatsune.provider@example.org)" in profile
    db.expire_all()
    (identity,) = db.scalars(select(Identity).where(Identity.user_id == miku.id)).all()
    assert identity.subject == ACCOUNTS["hatsune"]["sub"]

    with httpx.Client(timeout=10) as other_browser:
        other = client_for(oidc_app)
        other.cookies.clear()
        response = sign_in(other, other_browser)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "Signed in as Miku." in other.get("/").text


def test_an_identity_of_another_account_is_not_linked(client, provider_browser, db):
    make_user(db, "miku")
    sign_in(client, provider_browser)
    finish_signup(client, username="hatsune", display_name="Hatsune", email="h@example.org")
    post_form(client, "/logout")
    log_in(client, "miku")
    # The provider still remembers the browser's sign-in there: no login form this time.
    response = sign_in(client, provider_browser)
    assert response.status_code == 400
    assert "signs in to another account here already" in response.text
    db.expire_all()
    owner = db.scalar(
        select(User).join(Identity).where(Identity.subject == ACCOUNTS["hatsune"]["sub"])
    )
    assert owner is not None
    assert owner.username == "hatsune"


def test_unlink_only_while_another_way_in_remains(client, provider_browser, db):
    make_user(db, "miku")
    log_in(client, "miku")
    sign_in(client, provider_browser)
    identity = db.scalar(select(Identity).where(Identity.subject == ACCOUNTS["hatsune"]["sub"]))
    assert identity is not None
    identity_id = identity.id
    response = post_form(client, f"/profile/identities/{identity_id}/unlink")
    assert response.status_code == 303
    assert "The provider account was unlinked." in client.get("/profile").text
    db.expire_all()
    assert db.scalar(select(Identity.id).where(Identity.id == identity_id)) is None


def test_the_only_way_in_cannot_be_unlinked(client, provider_browser, db):
    sign_in(client, provider_browser)
    finish_signup(client, username="hatsune", display_name="Hatsune", email="h@example.org")
    identity = db.scalar(select(Identity).where(Identity.subject == ACCOUNTS["hatsune"]["sub"]))
    assert identity is not None
    response = post_form(client, f"/profile/identities/{identity.id}/unlink")
    assert response.status_code == 303
    assert "This is your only way to sign in." in client.get("/profile").text
    db.expire_all()
    assert db.get(Identity, identity.id) is not None
    assert post_form(client, "/profile/identities/999999/unlink").status_code == 404


def test_unknown_provider_is_not_found(client):
    assert client.get("/auth/oidc/nobody/start").status_code == 404
    assert client.get("/auth/oidc/nobody/callback?code=a&state=b").status_code == 404


def test_failed_callbacks_count_against_the_sign_in_limit(
    make_app, client_for, oidc_provider: LoopbackProvider, db
):
    app = make_app(
        oidc_providers=[oidc_provider.settings_for("http://testserver")], login_attempts_per_ip=1
    )
    client = client_for(app)
    assert client.get("/auth/oidc/testid/callback?code=a&state=b").status_code == 400
    response = client.get("/auth/oidc/testid/callback?code=a&state=b")
    assert response.status_code == 429
    assert "Too many sign-in attempts from your network" in response.text


def test_an_unreachable_provider_is_a_clear_error(make_app, client_for, db):
    closed = {
        "name": "testid",
        "display_name": "Gone ID",
        "issuer": "http://127.0.0.1:9",
        "client_id": "x",
        "client_secret": "y",
    }
    client = client_for(make_app(oidc_providers=[closed]))
    response = client.get(START)
    assert response.status_code == 400
    assert "Gone ID could not be reached" in response.text


def test_me_shows_identities_and_verification(client, provider_browser, db):
    sign_in(client, provider_browser)
    finish_signup(client, username="hatsune", display_name="Hatsune", email="h@example.org")
    me = client.get("/api/v1/me").json()
    assert me["email"] == "h@example.org"
    assert me["email_verified"] is False
    assert me["has_password"] is False
    (identity,) = me["identities"]
    assert identity["provider"] == "testid"
    assert identity["provider_name"] == PROVIDER_DISPLAY_NAME
    assert identity["email"] == "hatsune.provider@example.org"
    # The only way in stays.
    headers = {"x-csrf-token": csrf_token(client)}
    response = client.delete(f"/api/v1/me/identities/{identity['id']}", headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_the_password_sign_in_still_works_beside_providers(client, db):
    make_user(db, "miku")
    response = post_form(client, "/login", {"login": "miku", "password": PASSWORD})
    assert response.status_code == 303
