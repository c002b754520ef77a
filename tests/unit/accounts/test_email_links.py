"""Mailed links: address verification (registration and change of address) and password reset.
Single use, expiring, stored as a keyed hash, void once the account moved on; reset requests
for unknown addresses look like those for known ones."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import email_links, passwords, service
from app.accounts.email_links import InvalidLink
from app.accounts.models import EmailToken, EmailTokenPurpose, User, UserSession
from app.errors import Conflict, RateLimited, ValidationFailed
from app.mail.models import OutboxMail
from tests.conftest import make_settings
from tests.factories import PASSWORD, make_user

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
NEW_PASSWORD = "a brand new pass phrase"


@pytest.fixture
def settings(database_url):
    return make_settings(database_url, base_url="https://norms.example.org")


def mails(db: Session, to: str, kind: str | None = None) -> list[OutboxMail]:
    query = select(OutboxMail).where(OutboxMail.to_address == to).order_by(OutboxMail.id)
    if kind:
        query = query.where(OutboxMail.kind == kind)
    return list(db.scalars(query))


def token_in(mail: OutboxMail, path: str) -> str:
    match = re.search(r"https://norms\.example\.org(/\S+)", mail.body)
    assert match, mail.body
    url = urlsplit(match.group(1))
    assert url.path == path
    return parse_qs(url.query)["token"][0]


def unverified(db: Session, name: str = "miku") -> User:
    user = make_user(db, name)
    user.email_verified_at = None
    db.flush()
    return user


def register(db: Session, settings, **fields: str) -> User:
    return service.register(
        db,
        username=fields.get("username", "miku"),
        display_name="Miku",
        email=fields.get("email", "miku@example.org"),
        password=PASSWORD,
        client_ip="203.0.113.9",
        now=NOW,
        settings=settings,
    )


def test_registration_mails_a_verification_link(db, settings):
    user = register(db, settings)
    assert not user.email_verified
    (mail,) = mails(db, "miku@example.org")
    assert mail.kind == "verify_email"
    assert mail.user_id == user.id
    assert "48 hours" in mail.body
    token = token_in(mail, "/verify-email")
    # Only a keyed hash is stored, never the token itself.
    row = db.scalar(select(EmailToken).where(EmailToken.user_id == user.id))
    assert row is not None
    assert token not in row.token_hash
    assert row.expires_at == NOW + timedelta(hours=48)

    assert email_links.verify_email(db, token=token, now=NOW, settings=settings) is user
    assert user.email_verified_at == NOW


def test_a_verification_link_works_once(db, settings):
    register(db, settings)
    token = token_in(mails(db, "miku@example.org")[0], "/verify-email")
    email_links.verify_email(db, token=token, now=NOW, settings=settings)
    with pytest.raises(InvalidLink):
        email_links.verify_email(db, token=token, now=NOW, settings=settings)


def test_an_expired_or_unknown_link_does_nothing(db, settings):
    user = register(db, settings)
    token = token_in(mails(db, "miku@example.org")[0], "/verify-email")
    later = NOW + timedelta(hours=48)
    for value, when in ((token, later), ("nonsense", NOW), ("", NOW), ("x\x00y", NOW)):
        with pytest.raises(InvalidLink):
            email_links.verify_email(db, token=value, now=when, settings=settings)
    assert not user.email_verified


def test_a_link_is_void_under_another_secret(db, settings, database_url):
    register(db, settings)
    token = token_in(mails(db, "miku@example.org")[0], "/verify-email")
    rotated = make_settings(database_url, secret_key="another-secret-" + "x" * 40)
    with pytest.raises(InvalidLink):
        email_links.check_verification(db, token=token, now=NOW, settings=rotated)


def test_resending_is_refused_when_verified_and_rate_limited(db, settings):
    user = register(db, settings)
    # The registration mail counts: two more fit into the hour (3 by default).
    for _ in range(2):
        email_links.resend_verification(db, actor=user, now=NOW, settings=settings)
    with pytest.raises(RateLimited):
        email_links.resend_verification(db, actor=user, now=NOW, settings=settings)
    email_links.resend_verification(
        db, actor=user, now=NOW + timedelta(hours=1, seconds=1), settings=settings
    )
    assert len(mails(db, "miku@example.org", "verify_email")) == 4
    # Every link still works until it expires.
    first = token_in(mails(db, "miku@example.org")[0], "/verify-email")
    email_links.verify_email(db, token=first, now=NOW, settings=settings)
    with pytest.raises(Conflict):
        email_links.resend_verification(db, actor=user, now=NOW, settings=settings)


def test_accounts_made_by_the_operator_count_as_verified(db):
    assert make_user(db).email_verified


def test_reset_for_a_known_and_an_unknown_address(db, settings):
    user = make_user(db, "miku")
    email_links.request_password_reset(
        db, email=" Miku@Example.org ", client_ip="ip", now=NOW, settings=settings
    )
    email_links.request_password_reset(
        db, email="nobody@example.org", client_ip="ip", now=NOW, settings=settings
    )
    assert mails(db, "nobody@example.org") == []
    (mail,) = mails(db, "miku@example.org", "password_reset")
    assert "60 minutes" in mail.body
    token = token_in(mail, "/password/reset")
    email_links.check_reset(db, token=token, now=NOW, settings=settings)
    email_links.reset_password(
        db,
        token=token,
        new_password=NEW_PASSWORD,
        now=NOW + timedelta(minutes=1),
        settings=settings,
    )
    assert passwords.verify_password(user.password_hash, NEW_PASSWORD)
    with pytest.raises(InvalidLink):
        email_links.check_reset(db, token=token, now=NOW, settings=settings)


def test_reset_limits_count_unknown_addresses_too(db, settings):
    make_user(db, "miku")
    for address in ("miku@example.org", "nobody@example.org"):
        for _ in range(3):
            email_links.request_password_reset(
                db, email=address, client_ip=address, now=NOW, settings=settings
            )
        with pytest.raises(RateLimited) as caught:
            email_links.request_password_reset(
                db, email=address, client_ip=address, now=NOW, settings=settings
            )
        assert (
            caught.value.message
            == "Too many mails to this address. Please wait 60 minutes and try again."
        )


def test_reset_limit_per_network(db, database_url):
    settings = make_settings(database_url, password_resets_per_ip=2)
    for n in range(2):
        email_links.request_password_reset(
            db, email=f"a{n}@example.org", client_ip="ip", now=NOW, settings=settings
        )
    with pytest.raises(RateLimited):
        email_links.request_password_reset(
            db, email="b@example.org", client_ip="ip", now=NOW, settings=settings
        )


def test_reset_ends_every_session_and_voids_other_links(db, settings):
    user = unverified(db)
    service.start_session(db, user=user, now=NOW, settings=settings)
    for _ in range(2):
        email_links.request_password_reset(
            db, email=user.email, client_ip="ip", now=NOW, settings=settings
        )
    first, second = (token_in(m, "/password/reset") for m in mails(db, user.email))
    email_links.reset_password(
        db, token=second, new_password=NEW_PASSWORD, now=NOW, settings=settings
    )
    assert db.scalars(select(UserSession).where(UserSession.user_id == user.id)).all() == []
    # The link proved the address.
    assert user.email_verified_at == NOW
    with pytest.raises(InvalidLink):
        email_links.reset_password(
            db, token=first, new_password="yet another phrase", now=NOW, settings=settings
        )


def test_a_reset_link_older_than_the_password_is_void(db, settings):
    user = make_user(db, "miku")
    email_links.request_password_reset(
        db, email=user.email, client_ip="ip", now=NOW, settings=settings
    )
    token = token_in(mails(db, user.email)[0], "/password/reset")
    service.change_password(
        db,
        actor=user,
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        now=NOW + timedelta(minutes=1),
    )
    with pytest.raises(InvalidLink, match="the account changed"):
        email_links.check_reset(db, token=token, now=NOW + timedelta(minutes=2), settings=settings)


def test_a_weak_new_password_keeps_the_link(db, settings):
    user = make_user(db, "miku")
    email_links.request_password_reset(
        db, email=user.email, client_ip="ip", now=NOW, settings=settings
    )
    token = token_in(mails(db, user.email)[0], "/password/reset")
    with pytest.raises(ValidationFailed) as caught:
        email_links.reset_password(
            db, token=token, new_password="short", now=NOW, settings=settings
        )
    assert "new_password" in caught.value.fields
    email_links.reset_password(
        db, token=token, new_password=NEW_PASSWORD, now=NOW, settings=settings
    )


def test_a_claimed_link_cannot_be_claimed_again(db, settings):
    """Two requests racing with one link: the conditional update lets one through."""
    user = make_user(db, "miku")
    email_links.request_password_reset(
        db, email=user.email, client_ip="ip", now=NOW, settings=settings
    )
    token = token_in(mails(db, user.email)[0], "/password/reset")
    row = email_links.check_reset(db, token=token, now=NOW, settings=settings)
    email_links._claim(db, row, NOW)
    with pytest.raises(InvalidLink, match="used already"):
        email_links._claim(db, row, NOW)


def test_changing_the_address_waits_for_the_new_one(db, settings):
    user = make_user(db, "miku")
    address = email_links.request_email_change(
        db,
        actor=user,
        new_email=" New@Example.org",
        current_password=PASSWORD,
        now=NOW,
        settings=settings,
    )
    assert address == "new@example.org"
    assert user.email == "miku@example.org"
    assert email_links.pending_email(db, actor=user, now=NOW) == "new@example.org"
    (notice,) = mails(db, "miku@example.org", "email_change_notice")
    assert "new@example.org" in notice.body
    token = token_in(mails(db, "new@example.org")[0], "/verify-email")
    email_links.verify_email(db, token=token, now=NOW, settings=settings)
    assert user.email == "new@example.org"
    assert user.email_verified_at == NOW
    assert email_links.pending_email(db, actor=user, now=NOW) is None


def test_a_change_of_address_needs_the_password_and_a_free_address(db, settings):
    user = make_user(db, "miku")
    make_user(db, "rin")

    def errors(**fields: str) -> dict[str, str]:
        with pytest.raises(ValidationFailed) as caught:
            email_links.request_email_change(
                db,
                actor=user,
                new_email=fields.get("email", "new@example.org"),
                current_password=fields.get("password", PASSWORD),
                now=NOW,
                settings=settings,
            )
        return caught.value.fields

    assert "current_password" in errors(password="wrong")
    assert "Another account" in errors(email="rin@example.org")["email"]
    assert "already" in errors(email="miku@example.org")["email"]
    assert "email" in errors(email="not an address")


def test_a_newer_change_voids_the_older_and_a_taken_address_is_refused(db, settings):
    user = make_user(db, "miku")
    for address in ("one@example.org", "two@example.org"):
        email_links.request_email_change(
            db,
            actor=user,
            new_email=address,
            current_password=PASSWORD,
            now=NOW,
            settings=settings,
        )
    one = token_in(mails(db, "one@example.org")[0], "/verify-email")
    two = token_in(mails(db, "two@example.org")[0], "/verify-email")
    with pytest.raises(InvalidLink):
        email_links.verify_email(db, token=one, now=NOW, settings=settings)
    # Someone else took the address in the meantime.
    make_user(db, "two")
    with pytest.raises(Conflict):
        email_links.verify_email(db, token=two, now=NOW, settings=settings)
    assert user.email == "miku@example.org"


def test_a_reset_link_to_a_former_address_is_void(db, settings):
    user = make_user(db, "miku")
    email_links.request_password_reset(
        db, email=user.email, client_ip="ip", now=NOW, settings=settings
    )
    token = token_in(mails(db, "miku@example.org")[0], "/password/reset")
    email_links.request_email_change(
        db,
        actor=user,
        new_email="new@example.org",
        current_password=PASSWORD,
        now=NOW,
        settings=settings,
    )
    change = token_in(mails(db, "new@example.org")[0], "/verify-email")
    email_links.verify_email(db, token=change, now=NOW, settings=settings)
    with pytest.raises(InvalidLink):
        email_links.check_reset(db, token=token, now=NOW, settings=settings)


def test_a_password_link_for_provider_only_accounts(db, settings):
    user = make_user(db, "miku")
    with pytest.raises(Conflict):
        email_links.send_password_link(db, actor=user, now=NOW, settings=settings)
    user.password_hash = None
    email_links.send_password_link(db, actor=user, now=NOW, settings=settings)
    (mail,) = mails(db, user.email, "password_reset")
    assert mail.subject == "Set a password for Norms Forum"
    token = token_in(mail, "/password/reset")
    email_links.reset_password(
        db, token=token, new_password=NEW_PASSWORD, now=NOW, settings=settings
    )
    assert user.has_password


def test_links_use_the_configured_address_and_the_purpose(db, settings):
    user = make_user(db, "miku")
    email_links.request_password_reset(
        db, email=user.email, client_ip="ip", now=NOW, settings=settings
    )
    token = token_in(mails(db, user.email)[0], "/password/reset")
    # A reset link is no verification link, and the other way round.
    with pytest.raises(InvalidLink):
        email_links.check_verification(db, token=token, now=NOW, settings=settings)
    row = db.scalar(select(EmailToken).where(EmailToken.user_id == user.id))
    assert row is not None
    assert row.purpose == EmailTokenPurpose.password_reset
