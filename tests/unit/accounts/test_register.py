"""Registration: field rules, uniqueness, normalisation and the per-IP rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import passwords, service
from app.accounts.models import User
from app.config import Settings
from app.errors import RateLimited, ValidationFailed
from app.ratelimit import RateLimitHit
from tests.conftest import make_settings
from tests.factories import PASSWORD, make_user

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
IP = "203.0.113.7"


def register(
    db: Session, settings: Settings, *, ip: str = IP, now: datetime = NOW, **fields: str
) -> User:
    values = {
        "username": "miku",
        "display_name": "Miku Fan",
        "email": "miku@example.org",
        "password": PASSWORD,
        **fields,
    }
    return service.register(
        db,
        username=values["username"],
        display_name=values["display_name"],
        email=values["email"],
        password=values["password"],
        client_ip=ip,
        now=now,
        settings=settings,
    )


def field_errors(db: Session, settings: Settings, **fields: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        register(db, settings, **fields)
    return caught.value.fields


def test_register_creates_a_user_with_a_hashed_password(db, settings):
    user = register(db, settings)
    stored = db.scalar(select(User).where(User.id == user.id))
    assert stored is not None
    assert stored.username == "miku"
    assert stored.display_name == "Miku Fan"
    assert stored.email == "miku@example.org"
    assert stored.is_admin is False
    assert stored.password_changed_at == NOW
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert passwords.verify_password(stored.password_hash, PASSWORD)


def test_username_and_email_are_lower_cased_and_trimmed(db, settings):
    user = register(
        db, settings, username="  MikuFan ", email=" Miku@Example.ORG ", display_name=" Miku "
    )
    assert user.username == "mikufan"
    assert user.email == "miku@example.org"
    assert user.display_name == "Miku"


@pytest.mark.parametrize(
    "username", ["ab", "a" * 33, "miku fan", "-miku", "_miku", "miku!", "mikü", "", "mi/ku"]
)
def test_bad_usernames_are_refused(db, settings, username):
    errors = field_errors(db, settings, username=username)
    assert set(errors) == {"username"}
    assert "3 to 32 characters" in errors["username"]


@pytest.mark.parametrize("username", ["abc", "a" * 32, "miku-fan_01", "0miku"])
def test_good_usernames_are_accepted(db, settings, username):
    assert register(db, settings, username=username).username == username


def test_taken_username_is_refused_case_insensitively(db, settings):
    make_user(db, "miku")
    errors = field_errors(db, settings, username="MIKU", email="other@example.org")
    assert errors == {"username": "That username is taken."}


def test_taken_email_is_refused_case_insensitively(db, settings):
    make_user(db, "miku")  # miku@example.org
    errors = field_errors(db, settings, username="another", email="MIKU@EXAMPLE.ORG")
    assert errors == {"email": "An account with this email address exists already."}


@pytest.mark.parametrize("email", ["not-an-email", "miku@", "@example.org", "miku@@example.org"])
def test_bad_email_is_refused(db, settings, email):
    errors = field_errors(db, settings, email=email)
    assert set(errors) == {"email"}
    assert errors["email"]


@pytest.mark.parametrize("display_name", ["", "   "])
def test_empty_display_name_is_refused(db, settings, display_name):
    errors = field_errors(db, settings, display_name=display_name)
    assert errors == {"display_name": "Enter the name others will see."}


def test_too_long_display_name_is_refused(db, settings):
    errors = field_errors(db, settings, display_name="x" * 65)
    assert errors == {"display_name": "Use at most 64 characters."}


def test_password_policy_applies(db, settings):
    assert field_errors(db, settings, password="short") == {
        "password": "Use at least 10 characters."
    }
    assert "commonly used" in field_errors(db, settings, password="1234567890")["password"]
    assert field_errors(db, settings, username="mikumikumiku", password="MikuMikuMiku") == {
        "password": "Your password cannot be your username."
    }


def test_every_bad_field_is_reported_at_once(db, settings):
    errors = field_errors(
        db, settings, username="x", display_name="", email="nope", password="short"
    )
    assert set(errors) == {"username", "display_name", "email", "password"}


def test_refused_registration_stores_nothing(db, settings):
    field_errors(db, settings, email="nope")
    assert db.scalar(select(User).where(User.username == "miku")) is None
    assert db.scalars(select(RateLimitHit).where(RateLimitHit.key == IP)).all() == []


def test_registrations_per_ip_are_limited(db, database_url):
    limited = make_settings(database_url, registrations_per_ip=2, registration_window_minutes=60)
    register(db, limited, username="first", email="first@example.org")
    register(
        db, limited, username="second", email="second@example.org", now=NOW + timedelta(minutes=1)
    )
    later = NOW + timedelta(minutes=10)
    with pytest.raises(RateLimited) as caught:
        register(db, limited, username="third", email="third@example.org", now=later)
    assert "new accounts from your network" in caught.value.message
    # The oldest counted registration leaves the window 50 minutes from now.
    assert 50 * 60 <= caught.value.retry_after <= 50 * 60 + 1
    assert db.scalar(select(User).where(User.username == "third")) is None


def test_registration_limit_is_per_ip_and_per_window(db, database_url):
    limited = make_settings(database_url, registrations_per_ip=1, registration_window_minutes=60)
    register(db, limited, username="first", email="first@example.org")
    with pytest.raises(RateLimited):
        register(db, limited, username="second", email="second@example.org")
    # Another network may still register...
    register(db, limited, username="second", email="second@example.org", ip="198.51.100.1")
    # ...and so may the first one once the window has passed.
    after_window = NOW + timedelta(minutes=60, seconds=1)
    register(db, limited, username="third", email="third@example.org", now=after_window)


def test_create_user_refuses_duplicates_and_bad_fields(db):
    from app.errors import Conflict

    make_user(db, "miku")
    with pytest.raises(Conflict):
        make_user(db, "MIKU")
    with pytest.raises(ValidationFailed) as caught:
        make_user(db, "x")
    assert set(caught.value.fields) == {"username"}


def test_get_user_is_case_insensitive_and_raises_not_found(db):
    from app.errors import NotFound

    user = make_user(db, "miku")
    assert service.get_user(db, "Miku") is user
    with pytest.raises(NotFound):
        service.get_user(db, "nobody")


def test_update_profile(db):
    user = make_user(db, "miku")
    assert service.update_profile(db, actor=user, display_name="  Miku Hatsune ").display_name == (
        "Miku Hatsune"
    )
    for bad in ["", "  ", "x" * 65]:
        with pytest.raises(ValidationFailed) as caught:
            service.update_profile(db, actor=user, display_name=bad)
        assert set(caught.value.fields) == {"display_name"}
    assert user.display_name == "Miku Hatsune"


@pytest.mark.parametrize("display_name", ["Mi\x00ku", "Miku\nFan", "Miku\tFan", "Miku\x7f"])
def test_control_characters_in_display_name_are_refused(db, settings, display_name):
    errors = field_errors(db, settings, display_name=display_name)
    assert set(errors) == {"display_name"}
    assert "control characters" in errors["display_name"]
    user = make_user(db, "miku")
    with pytest.raises(ValidationFailed) as caught:
        service.update_profile(db, actor=user, display_name=display_name)
    assert set(caught.value.fields) == {"display_name"}


def test_unicode_display_names_are_fine(db, settings):
    assert register(db, settings, display_name="初音ミク 🎤").display_name == "初音ミク 🎤"


@pytest.mark.parametrize("username", ["mi\x00ku", "x" * 500, "../etc", ""])
def test_get_user_with_an_impossible_name_is_not_found(db, username):
    from app.errors import NotFound

    with pytest.raises(NotFound):
        service.get_user(db, username)
