"""Browser sessions: random tokens stored as hashes, idle and absolute timeouts, sign-out."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.accounts import passwords, service
from app.accounts.models import User, UserSession
from app.config import Settings
from app.errors import ValidationFailed
from tests.conftest import make_settings
from tests.factories import PASSWORD, make_user

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def short_settings(database_url):
    return make_settings(database_url, session_idle_minutes=60, session_absolute_hours=3)


@pytest.fixture
def miku(db):
    return make_user(db, "miku")


def start(
    db: Session, user: User, settings: Settings, now: datetime = NOW, user_agent: str = ""
) -> str:
    return service.start_session(db, user=user, now=now, settings=settings, user_agent=user_agent)


def row_for(db: Session, token: str) -> UserSession | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return db.scalar(select(UserSession).where(UserSession.token_hash == digest))


def test_token_is_long_random_and_only_its_hash_is_stored(db, settings, miku):
    token = start(db, miku, settings, user_agent="Firefox")
    other = start(db, miku, settings)
    assert token != other
    # token_urlsafe: 6 bits per character; at least 128 bits of randomness.
    assert len(token) * 6 >= 128
    row = row_for(db, token)
    assert row is not None
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.user_id == miku.id
    assert row.user_agent == "Firefox"
    assert row.expires_at == NOW + timedelta(hours=settings.session_absolute_hours)
    raw_rows = db.execute(text("SELECT * FROM user_sessions")).all()
    assert raw_rows
    assert all(token not in str(value) for raw in raw_rows for value in raw)


def test_long_user_agent_is_cut(db, settings, miku):
    token = start(db, miku, settings, user_agent="A" * 1000)
    row = row_for(db, token)
    assert row is not None
    assert len(row.user_agent) == 255


def test_session_user_finds_the_user(db, settings, miku):
    token = start(db, miku, settings)
    assert service.session_user(db, token=token, now=NOW, settings=settings) is miku


def test_unknown_token_has_no_user(db, settings, miku):
    start(db, miku, settings)
    assert service.session_user(db, token="made-up", now=NOW, settings=settings) is None


def test_idle_timeout_ends_the_session(db, short_settings, miku):
    kept = start(db, miku, short_settings)
    idle = start(db, miku, short_settings)
    just_before = NOW + timedelta(minutes=59, seconds=59)
    assert service.session_user(db, token=kept, now=just_before, settings=short_settings) is miku
    at_limit = NOW + timedelta(minutes=60)
    assert service.session_user(db, token=idle, now=at_limit, settings=short_settings) is None
    # The expired session is deleted on sight; the other one was active and lives on.
    assert row_for(db, idle) is None
    assert service.session_user(db, token=kept, now=at_limit, settings=short_settings) is miku


def test_activity_keeps_the_session_alive_until_the_absolute_limit(db, short_settings, miku):
    token = start(db, miku, short_settings)
    for minutes in (50, 100, 150):
        now = NOW + timedelta(minutes=minutes)
        assert service.session_user(db, token=token, now=now, settings=short_settings) is miku
    # Last seen 30 minutes ago (not idle), but three hours since sign-in.
    after_absolute = NOW + timedelta(hours=3)
    assert (
        service.session_user(db, token=token, now=after_absolute, settings=short_settings) is None
    )
    assert row_for(db, token) is None


def test_last_seen_is_touched_at_most_once_a_minute(db, settings, miku):
    token = start(db, miku, settings)
    row = row_for(db, token)
    assert row is not None
    service.session_user(db, token=token, now=NOW + timedelta(seconds=30), settings=settings)
    assert row.last_seen_at == NOW
    later = NOW + timedelta(minutes=5)
    service.session_user(db, token=token, now=later, settings=settings)
    db.flush()
    db.expire(row)
    touched = row_for(db, token)
    assert touched is not None
    assert touched.last_seen_at == later


def test_end_session_signs_out_only_that_browser(db, settings, miku):
    token = start(db, miku, settings)
    other = start(db, miku, settings)
    service.end_session(db, token=token)
    assert service.session_user(db, token=token, now=NOW, settings=settings) is None
    assert service.session_user(db, token=other, now=NOW, settings=settings) is miku


def test_change_password_ends_every_session_of_the_user(db, settings, miku):
    rin = make_user(db, "rin")
    tokens = [start(db, miku, settings), start(db, miku, settings)]
    rins = start(db, rin, settings)
    later = NOW + timedelta(minutes=2)
    service.change_password(
        db, actor=miku, current_password=PASSWORD, new_password="a brand new phrase", now=later
    )
    for token in tokens:
        assert service.session_user(db, token=token, now=later, settings=settings) is None
    assert service.session_user(db, token=rins, now=later, settings=settings) is rin
    assert miku.password_changed_at == later
    assert passwords.verify_password(miku.password_hash, "a brand new phrase")
    assert not passwords.verify_password(miku.password_hash, PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        ("wrong password", "a brand new phrase", {"current_password"}),
        (PASSWORD, "short", {"new_password"}),
        (PASSWORD, "qwertyuiop", {"new_password"}),
        (PASSWORD, "MIKU", {"new_password"}),
        (PASSWORD, PASSWORD, {"new_password"}),
        ("wrong password", "short", {"current_password", "new_password"}),
    ],
)
def test_change_password_validates(db, settings, miku, current, new, expected):
    token = start(db, miku, settings)
    old_hash = miku.password_hash
    with pytest.raises(ValidationFailed) as caught:
        service.change_password(db, actor=miku, current_password=current, new_password=new, now=NOW)
    assert set(caught.value.fields) == expected
    assert miku.password_hash == old_hash
    assert service.session_user(db, token=token, now=NOW, settings=settings) is miku


def test_new_password_equal_to_email_is_refused(db, settings, miku):
    with pytest.raises(ValidationFailed) as caught:
        service.change_password(
            db, actor=miku, current_password=PASSWORD, new_password="MIKU@example.org", now=NOW
        )
    assert caught.value.fields == {"new_password": "Your password cannot be your email address."}
