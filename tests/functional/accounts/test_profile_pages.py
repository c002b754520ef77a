"""The profile page: memberships, display name, password change, access tokens; public pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts import passwords
from app.accounts.models import AccessToken, User
from app.communities.models import Role
from tests.conftest import log_in, post_form
from tests.factories import PASSWORD, add_member, make_community, make_user

NEW_PASSWORD = "a completely new phrase"


def test_anonymous_profile_redirects_to_login(client):
    response = client.get("/profile")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/profile"


def test_profile_shows_memberships(client, db):
    miku = make_user(db, "miku")
    add_member(db, make_community(db, "vocaloid", name="Vocaloid Fans"), miku, Role.moderator)
    make_community(db, "other", name="Not Joined")
    log_in(client, "miku")
    html = client.get("/profile").text
    assert 'href="/c/vocaloid">Vocaloid Fans</a>' in html
    assert "role-moderator" in html
    assert "Not Joined" not in html
    assert "miku@example.org" in html


def test_profile_without_memberships(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    assert "You have not joined a community yet." in client.get("/profile").text


def test_display_name_change(client, db):
    miku = make_user(db, "miku")
    log_in(client, "miku")
    response = post_form(client, "/profile", {"display_name": "  Hatsune Miku "})
    assert response.status_code == 303
    assert "Your profile was saved." in client.get("/profile").text
    db.refresh(miku)
    assert miku.display_name == "Hatsune Miku"


def test_display_name_error_keeps_the_value(client, db):
    miku = make_user(db, "miku", display_name="Miku")
    log_in(client, "miku")
    response = post_form(client, "/profile", {"display_name": "x" * 65})
    assert response.status_code == 422
    assert "Use at most 64 characters." in response.text
    assert 'value="' + "x" * 65 + '"' in response.text
    db.refresh(miku)
    assert miku.display_name == "Miku"


def test_password_change_ends_other_sessions(client, app, db):
    miku = make_user(db, "miku", display_name="Miku")
    log_in(client, "miku")
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as other:
        log_in(other, "miku")
        assert other.get("/profile").status_code == 200
        before = client.cookies["nf_session"]

        response = post_form(
            client,
            "/profile/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/profile"

        # The other browser is signed out...
        assert other.get("/profile").status_code == 303
        # ...this one stays signed in, with a new token; the old one is dead.
        after = client.cookies["nf_session"]
        assert after != before
        page = client.get("/profile")
        assert page.status_code == 200
        assert "Password changed. You were signed out everywhere else." in page.text
        client.cookies.clear()
        client.cookies.set("nf_session", before)
        assert client.get("/profile").status_code == 303
    db.refresh(miku)
    assert passwords.verify_password(miku.password_hash, NEW_PASSWORD)


def test_password_change_errors(client, db):
    miku = make_user(db, "miku")
    log_in(client, "miku")
    old_hash = miku.password_hash
    response = post_form(
        client,
        "/profile/password",
        {"current_password": "wrong password", "new_password": "short"},
    )
    assert response.status_code == 422
    assert "This is not your current password." in response.text
    assert "Use at least 10 characters." in response.text
    assert "wrong password" not in response.text
    # Still signed in with the same session.
    assert client.get("/profile").status_code == 200
    db.refresh(miku)
    assert miku.password_hash == old_hash


def test_new_password_works_for_login(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    post_form(
        client, "/profile/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    client.cookies.clear()
    response = post_form(client, "/login", {"login": "miku", "password": PASSWORD})
    assert response.status_code == 400
    log_in(client, "miku", NEW_PASSWORD)


def test_token_is_shown_once(client, db):
    miku = make_user(db, "miku")
    log_in(client, "miku")
    response = post_form(client, "/profile/tokens", {"name": "my script", "scope": "write"})
    assert response.status_code == 201
    match = re.search(r'id="new-token-value">(nf_[A-Za-z0-9_-]+)</code>', response.text)
    assert match, response.text
    plain = match.group(1)
    assert "it will not be shown again" in response.text

    token = db.scalar(select(AccessToken).where(AccessToken.user_id == miku.id))
    assert token is not None
    assert token.name == "my script"
    assert token.scope.value == "write"

    again = client.get("/profile")
    assert plain not in again.text
    assert "my script" in again.text
    assert f"<code>{plain[:10]}…</code>" in again.text


def test_token_form_errors(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    post_form(client, "/profile/tokens", {"name": "ci", "scope": "read"})
    response = post_form(client, "/profile/tokens", {"name": "ci", "scope": "admin"})
    assert response.status_code == 422
    assert "You have a token with this name already." in response.text
    assert "Choose read or write." in response.text
    assert 'id="new-token-value"' not in response.text


def test_revoke_token(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    post_form(client, "/profile/tokens", {"name": "ci", "scope": "read"})
    token = db.scalar(select(AccessToken).where(AccessToken.name == "ci"))
    assert token is not None
    response = post_form(client, f"/profile/tokens/{token.id}/revoke")
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"
    page = client.get("/profile").text
    assert "Token “ci” was revoked." in page
    assert 'class="revoked"' in page
    db.refresh(token)
    assert token.revoked_at is not None


def test_cannot_revoke_someone_elses_token(client, db):
    rin = make_user(db, "rin")
    from app.accounts import service
    from app.db import utcnow

    token, _ = service.create_token(db, actor=rin, name="rins", scope="read", now=utcnow())
    make_user(db, "miku")
    log_in(client, "miku")
    response = post_form(client, f"/profile/tokens/{token.id}/revoke")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    db.refresh(token)
    assert token.revoked_at is None


def test_public_user_page(client, db):
    miku = make_user(db, "miku", display_name="Hatsune Miku")
    add_member(db, make_community(db, "vocaloid", name="Vocaloid Fans"), miku)
    response = client.get("/u/MIKU")
    assert response.status_code == 200
    assert "Hatsune Miku" in response.text
    assert "@miku" in response.text
    assert "Vocaloid Fans" in response.text
    # The email address is private.
    assert "miku@example.org" not in response.text


def test_unknown_user_page_is_an_html_404(client):
    for path in ("/u/nobody", "/u/mi%00ku", "/u/" + "x" * 300):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Page not found" in response.text


def test_profile_write_is_visible_in_the_database_after_the_request(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    post_form(client, "/profile", {"display_name": "Stored"})
    db.expire_all()
    stored = db.scalar(select(User).where(User.username == "miku"))
    assert stored is not None
    assert stored.display_name == "Stored"
