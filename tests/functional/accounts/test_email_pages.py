"""Email verification, change of address and password reset through the app, with the mail
sent through a real SMTP server on loopback and the link followed from the received message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import passwords
from app.accounts.models import User
from app.db import utcnow
from app.mail import service as mail_service
from app.mail.models import OutboxMail
from app.mail.sender import SMTPSender
from app.main import create_app
from tests.conftest import csrf_token, form_token_in, log_in, make_settings, post_form
from tests.factories import PASSWORD, make_user
from tests.support.smtp import Inbox, body, smtp_server

NEW_PASSWORD = "a brand new pass phrase"


@pytest.fixture(scope="module")
def smtp_module() -> Iterator[tuple[int, Inbox]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def smtp(smtp_module: tuple[int, Inbox]) -> tuple[int, Inbox]:
    """The module's SMTP server, its inbox emptied for each test."""
    smtp_module[1].messages.clear()
    return smtp_module


@pytest.fixture(scope="module")
def mail_app(database_url: str, smtp_module: tuple[int, Inbox]) -> Iterator[FastAPI]:
    """One app for the module (building one costs most of a second), mailing by SMTP."""
    port, _ = smtp_module
    app = create_app(
        make_settings(database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    )
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(mail_app: FastAPI, client_for, smtp) -> TestClient:
    test_client: TestClient = client_for(mail_app)
    return test_client


def deliver(db: Session, app: FastAPI) -> None:
    """What the worker does, in the test's transaction: claim, send by SMTP, settle."""
    now = utcnow()
    claimed = mail_service.claim(db, now)
    sent, failed = mail_service.send_claimed(claimed, SMTPSender(app.state.settings))
    assert not failed, failed
    mail_service.settle(db, sent, failed, now)


def link_in(inbox: Inbox, address: str, path: str) -> str:
    """The path and query of the last link to `path` mailed to `address`."""
    messages = inbox.to(address)
    assert messages, f"no mail to {address}"
    found = re.findall(r"http://testserver(/\S+)", body(messages[-1]))
    assert found, body(messages[-1])
    assert urlsplit(found[0]).path == path
    return str(found[0])


def test_registration_then_verification_by_the_mailed_link(client, mail_app, smtp, db):
    _, inbox = smtp
    response = post_form(
        client,
        "/register",
        {
            "username": "hatsune",
            "display_name": "Hatsune",
            "email": "hatsune@example.org",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303
    assert "We sent a link to hatsune@example.org" in client.get("/").text
    profile = client.get("/profile").text
    assert "not confirmed" in profile
    assert "Send the link again" in profile
    assert client.get("/api/v1/me").json()["email_verified"] is False

    deliver(db, mail_app)
    (message,) = inbox.to("hatsune@example.org")
    assert message["Subject"] == "Confirm your email address for Norms Forum"
    link = link_in(inbox, "hatsune@example.org", "/verify-email")
    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm hatsune@example.org" in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/verify-email", data={"csrf_token": form_token_in(page.text), "token": token.group(1)}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/profile"
    profile = client.get("/profile").text
    assert "hatsune@example.org is confirmed as your address" in profile
    assert "not confirmed" not in profile
    assert client.get("/api/v1/me").json()["email_verified"] is True
    # The link worked once.
    again = client.get(link)
    assert again.status_code == 400
    assert "This link does not work" in again.text


def test_verification_needs_no_sign_in_and_a_get_changes_nothing(client, db):
    user = make_user(db, "miku")
    user.email_verified_at = None
    db.flush()
    log_in(client, "miku")
    post_form(client, "/profile/verification")
    (mail,) = db.scalars(select(OutboxMail).where(OutboxMail.kind == "verify_email")).all()
    link = re.search(r"http://testserver(/\S+)", mail.body)
    assert link
    post_form(client, "/logout")
    # Mail scanners open links: only the button confirms.
    assert client.get(link.group(1)).status_code == 200
    db.expire_all()
    assert not user.email_verified
    token = link.group(1).split("token=")[1]
    response = post_form(client, "/verify-email", {"token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    db.expire_all()
    assert user.email_verified


def test_resend_is_refused_once_verified_and_when_too_frequent(client, db):
    make_user(db, "miku")
    log_in(client, "miku")
    response = post_form(client, "/profile/verification")
    assert response.status_code == 303
    assert "Your email address is verified already." in client.get("/profile").text
    user = db.scalar(select(User).where(User.username == "miku"))
    assert user is not None
    user.email_verified_at = None
    db.flush()
    for _ in range(3):
        post_form(client, "/profile/verification")
    refused = post_form(client, "/profile/verification")
    # A rate limit answers 429 with Retry-After, not a redirect.
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many mails to this address" in refused.text
    assert len(db.scalars(select(OutboxMail).where(OutboxMail.user_id == user.id)).all()) == 3


def test_password_reset_by_the_mailed_link(client, client_for, mail_app, smtp, db):
    _, inbox = smtp
    user = make_user(db, "miku", display_name="Miku")
    elsewhere = client_for(mail_app)
    elsewhere.cookies.clear()
    log_in(elsewhere, "miku")
    assert 'href="/password/forgot"' in client.get("/login").text
    assert client.get("/password/forgot").status_code == 200
    response = post_form(client, "/password/forgot", {"email": "miku@example.org"})
    assert response.status_code == 303
    assert response.headers["location"] == "/password/forgot"
    known_page = client.get("/password/forgot").text
    deliver(db, mail_app)
    link = link_in(inbox, "miku@example.org", "/password/reset")
    page = client.get(link)
    assert page.status_code == 200
    assert "Choose a new password" in page.text
    token = link.split("token=")[1]
    weak = post_form(client, "/password/reset", {"token": token, "new_password": "short"})
    assert weak.status_code == 422
    assert "Use at least 10 characters." in weak.text
    response = post_form(client, "/password/reset", {"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 303
    assert "Your new password is set, Miku." in client.get("/").text
    assert client.get("/profile").status_code == 200
    # Everyone else who knew the old password is signed out.
    assert elsewhere.get("/profile").status_code == 303
    db.expire_all()
    assert passwords.verify_password(user.password_hash, NEW_PASSWORD)
    # Used once; the page says so and offers a new link.
    used = client.get(link)
    assert used.status_code == 400
    assert 'href="/password/forgot"' in used.text
    replay = post_form(
        client, "/password/reset", {"token": token, "new_password": "another phrase!"}
    )
    assert replay.status_code == 400

    # An unknown address: the same answer, and no mail.
    post_form(client, "/logout")
    client.get("/")
    response = post_form(client, "/password/forgot", {"email": "nobody@example.org"})
    assert response.status_code == 303
    assert response.headers["location"] == "/password/forgot"
    unknown_page = client.get("/password/forgot").text
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", unknown_page) == strip.sub("", known_page)
    deliver(db, mail_app)
    assert inbox.to("nobody@example.org") == []


def test_reset_requests_are_limited_alike(client, db):
    make_user(db, "miku")
    for address in ("miku@example.org", "nobody@example.org"):
        for _ in range(3):
            assert post_form(client, "/password/forgot", {"email": address}).status_code == 303
        response = post_form(client, "/password/forgot", {"email": address})
        assert response.status_code == 429
        assert "Too many mails to this address" in response.text
        assert response.headers["retry-after"].isdigit()


def test_bad_reset_and_verification_links(client):
    for path in ("/password/reset", "/verify-email"):
        for query in ("", "?token=", "?token=nonsense", "?token=%00%ff" + "x" * 5000):
            response = client.get(path + query)
            assert response.status_code == 400, (path, query)
            assert "This link does not work" in response.text
        assert post_form(client, path, {"token": "nonsense"}).status_code == 400


def test_change_of_address_by_the_mailed_link(client, mail_app, smtp, db):
    _, inbox = smtp
    user = make_user(db, "miku")
    log_in(client, "miku")
    refused = post_form(
        client, "/profile/email", {"email": "new@example.org", "current_password": "wrong"}
    )
    assert refused.status_code == 422
    assert "This is not your current password." in refused.text
    assert 'value="new@example.org"' in refused.text
    response = post_form(
        client, "/profile/email", {"email": "new@example.org", "current_password": PASSWORD}
    )
    assert response.status_code == 303
    profile = client.get("/profile").text
    assert "We sent a link to new@example.org" in profile
    assert "Waiting for confirmation: <strong>new@example.org</strong>" in profile
    deliver(db, mail_app)
    (notice,) = inbox.to("miku@example.org")
    assert "new@example.org" in body(notice)
    link = link_in(inbox, "new@example.org", "/verify-email")
    page = client.get(link)
    assert "in place of its current address" in page.text
    post_form(client, "/verify-email", {"token": link.split("token=")[1]})
    db.expire_all()
    assert user.email == "new@example.org"
    assert user.email_verified
    # Sign in with the new address.
    post_form(client, "/logout")
    log_in(client, "new@example.org")


def test_provider_only_accounts_get_a_link_to_set_a_password(client, mail_app, smtp, db):
    _, inbox = smtp
    user = make_user(db, "miku")
    user.password_hash = None
    db.flush()
    log_in_via_session(client, db, user)
    profile = client.get("/profile").text
    assert "Set a password" in profile
    assert "Change password" not in profile
    response = post_form(client, "/profile/password-link")
    assert response.status_code == 303
    deliver(db, mail_app)
    link = link_in(inbox, "miku@example.org", "/password/reset")
    response = post_form(
        client, "/password/reset", {"token": link.split("token=")[1], "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 303
    db.expire_all()
    assert user.has_password
    assert "Change password" in client.get("/profile").text


def log_in_via_session(client: TestClient, db: Session, user: User) -> None:
    """Sign a passwordless account in the way a provider sign-in ends: with a session."""
    from app.accounts import service

    token = service.start_session(
        db,
        user=user,
        now=utcnow(),
        settings=client.app.state.settings,  # type: ignore[attr-defined]
    )
    client.cookies.set("nf_session", token)


def test_the_admins_outbox_shows_the_mails(client, db):
    make_user(db, "admin", is_admin=True)
    post_form(client, "/password/forgot", {"email": "admin@example.org"})
    log_in(client, "admin")
    page = client.get("/admin/outbox").text
    assert "Reset your Norms Forum password" in page
    assert "/password/reset?token=" in page


def test_the_api_resends_the_verification_mail(client, db):
    user = make_user(db, "miku")
    log_in(client, "miku")
    headers = {"x-csrf-token": csrf_token(client)}
    refused = client.post("/api/v1/me/verification-mail", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == "Your email address is verified already."
    user.email_verified_at = None
    db.flush()
    response = client.post("/api/v1/me/verification-mail", headers=headers)
    assert response.status_code == 202
    assert response.json() == {"sent_to": "miku@example.org"}
    assert client.get("/api/v1/me").json()["email_verified"] is False
