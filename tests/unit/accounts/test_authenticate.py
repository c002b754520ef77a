"""Signing in: by username or email, one message for every failure, and the rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import passwords, service
from app.accounts.models import User
from app.config import Settings
from app.errors import NotAuthenticated, RateLimited
from app.ratelimit import RateLimitHit
from tests.conftest import CHEAP_ARGON2, make_settings
from tests.factories import PASSWORD, make_user

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
IP = "203.0.113.7"


def authenticate(
    db: Session,
    settings: Settings,
    login: str,
    password: str = PASSWORD,
    *,
    ip: str = IP,
    now: datetime = NOW,
) -> User:
    return service.authenticate(
        db, login=login, password=password, client_ip=ip, now=now, settings=settings
    )


def fail(
    db: Session, settings: Settings, login: str, *, ip: str = IP, now: datetime = NOW
) -> NotAuthenticated:
    with pytest.raises(NotAuthenticated) as caught:
        authenticate(db, settings, login, "wrong password!", ip=ip, now=now)
    return caught.value


@pytest.fixture
def miku(db):
    return make_user(db, "miku")


@pytest.fixture
def restore_argon2() -> Iterator[None]:
    yield
    passwords.configure(
        time_cost=CHEAP_ARGON2["argon2_time_cost"],
        memory_cost_kib=CHEAP_ARGON2["argon2_memory_cost_kib"],
        parallelism=CHEAP_ARGON2["argon2_parallelism"],
    )


@pytest.mark.parametrize("login", ["miku", "MIKU", "  miku "])
def test_sign_in_by_username(db, settings, miku, login):
    assert authenticate(db, settings, login) is miku


@pytest.mark.parametrize("login", ["miku@example.org", "Miku@Example.ORG"])
def test_sign_in_by_email(db, settings, miku, login):
    assert authenticate(db, settings, login) is miku


def test_unknown_user_and_wrong_password_look_the_same(db, settings, miku):
    with pytest.raises(NotAuthenticated) as caught:
        authenticate(db, settings, "nobody", PASSWORD)
    unknown = caught.value
    wrong = fail(db, settings, "miku")
    unknown_email = fail(db, settings, "nobody@example.org")
    assert unknown.message == wrong.message == unknown_email.message
    assert wrong.message == service.GENERIC_LOGIN_ERROR
    assert unknown.fields == wrong.fields == {}


def test_account_without_password_cannot_sign_in(db, settings, miku):
    miku.password_hash = None
    db.flush()
    with pytest.raises(NotAuthenticated):
        authenticate(db, settings, "miku", "")


def test_failures_per_account_are_limited_whatever_the_ip(db, database_url, miku):
    limited = make_settings(database_url, login_failures_per_account=3)
    for n in range(3):
        fail(db, limited, "miku", ip=f"198.51.100.{n}")
    # Even the right password is refused now, from a fresh address.
    with pytest.raises(RateLimited) as caught:
        authenticate(db, limited, "miku", ip="192.0.2.1")
    assert "failed sign-in attempts for this account" in caught.value.message
    assert 1 <= caught.value.retry_after <= 15 * 60 + 1


def test_username_and_email_share_the_account_limit(db, database_url, miku):
    limited = make_settings(database_url, login_failures_per_account=3)
    fail(db, limited, "miku", ip="198.51.100.1")
    fail(db, limited, "miku@example.org", ip="198.51.100.2")
    fail(db, limited, "MIKU", ip="198.51.100.3")
    for login in ("miku", "miku@example.org"):
        with pytest.raises(RateLimited):
            authenticate(db, limited, login, ip="192.0.2.1")


def test_unknown_accounts_are_limited_too(db, database_url):
    limited = make_settings(database_url, login_failures_per_account=2)
    fail(db, limited, "ghost", ip="198.51.100.1")
    fail(db, limited, "ghost", ip="198.51.100.2")
    with pytest.raises(RateLimited):
        authenticate(db, limited, "ghost", ip="198.51.100.3")


def test_attempts_per_ip_are_limited_across_accounts(db, database_url, miku):
    limited = make_settings(database_url, login_attempts_per_ip=3)
    for login in ("rin", "len", "luka"):
        fail(db, limited, login)
    with pytest.raises(RateLimited) as caught:
        authenticate(db, limited, "miku")
    assert "sign-in attempts from your network" in caught.value.message
    # Another address is not affected.
    assert authenticate(db, limited, "miku", ip="192.0.2.99") is miku


def test_success_clears_the_account_bucket(db, database_url, miku):
    limited = make_settings(database_url, login_failures_per_account=3)
    fail(db, limited, "miku")
    fail(db, limited, "miku")
    assert authenticate(db, limited, "miku") is miku
    fail(db, limited, "miku")
    fail(db, limited, "miku")
    # Four failures in the window, but the success in between reset the count.
    assert authenticate(db, limited, "miku") is miku


def test_success_does_not_clear_the_ip_bucket(db, database_url, miku):
    limited = make_settings(database_url, login_attempts_per_ip=2)
    fail(db, limited, "someone-else")
    authenticate(db, limited, "miku")
    fail(db, limited, "someone-else")
    with pytest.raises(RateLimited):
        authenticate(db, limited, "miku")


def test_failures_older_than_the_window_stop_counting(db, database_url, miku):
    limited = make_settings(database_url, login_failures_per_account=3, login_window_minutes=15)
    for _ in range(3):
        fail(db, limited, "miku", now=NOW)
    one_minute_later = NOW + timedelta(minutes=1)
    with pytest.raises(RateLimited) as caught:
        authenticate(db, limited, "miku", now=one_minute_later)
    assert 14 * 60 <= caught.value.retry_after <= 14 * 60 + 1
    with pytest.raises(RateLimited):
        authenticate(db, limited, "miku", now=NOW + timedelta(minutes=14, seconds=59))
    assert authenticate(db, limited, "miku", now=NOW + timedelta(minutes=15, seconds=1)) is miku


def test_successful_sign_in_records_no_hit(db, settings, miku):
    authenticate(db, settings, "miku")
    assert db.scalars(select(RateLimitHit)).all() == []


def test_very_long_login_is_just_a_failure(db, settings):
    fail(db, settings, "x" * 5000)
    fail(db, settings, "x" * 5000 + "@example.org")


@pytest.mark.usefixtures("restore_argon2")
def test_hash_is_upgraded_when_the_cost_changed(db, settings, miku):
    old_hash = miku.password_hash
    passwords.configure(time_cost=2, memory_cost_kib=16, parallelism=1)
    authenticate(db, settings, "miku")
    assert miku.password_hash != old_hash
    assert miku.password_hash is not None
    assert "t=2" in miku.password_hash
    assert passwords.verify_password(miku.password_hash, PASSWORD)


class CountingHasher(PasswordHasher):
    """An argon2 hasher that counts how often it does the expensive work."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.calls = 0

    def hash(self, password, *, salt=None):
        self.calls += 1
        return super().hash(password, salt=salt)

    def verify(self, hash, password):
        self.calls += 1
        return super().verify(hash, password)


def test_unknown_account_costs_as_much_hashing_as_a_wrong_password(db, settings, monkeypatch):
    make_user(db, "miku")
    hasher = CountingHasher()
    monkeypatch.setattr(passwords, "_hasher", hasher)
    fail(db, settings, "miku")
    wrong_password_work = hasher.calls
    hasher.calls = 0
    fail(db, settings, "nobody")
    fail(db, settings, "nobody@example.org")
    assert wrong_password_work == 1
    assert hasher.calls == 2


@pytest.mark.parametrize("login", ["mi\x00ku", "miku\x00@example.org", "\x00"])
def test_nul_in_the_login_is_just_a_failure(db, settings, miku, login):
    fail(db, settings, login)
    fail(db, settings, login)
