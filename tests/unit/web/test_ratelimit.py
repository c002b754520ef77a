"""The sliding-window rate limit kept in the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import ratelimit
from app.errors import RateLimited
from app.ratelimit import RateLimitHit

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)


def check(
    db: Session, key: str = "k", *, limit: int = 2, now: datetime = NOW, bucket: str = "test"
) -> None:
    ratelimit.check(
        db, bucket=bucket, key=key, limit=limit, window=WINDOW, now=now, what="test attempts"
    )


def test_under_the_limit_passes_and_at_the_limit_refuses(db):
    check(db)
    ratelimit.hit(db, bucket="test", key="k", now=NOW)
    check(db)
    ratelimit.hit(db, bucket="test", key="k", now=NOW + timedelta(minutes=1))
    with pytest.raises(RateLimited) as caught:
        check(db, now=NOW + timedelta(minutes=2))
    assert caught.value.message == "Too many test attempts. Please wait 8 minutes and try again."
    assert caught.value.retry_after == 8 * 60 + 1
    assert caught.value.status == 429


def test_buckets_and_keys_are_separate(db):
    ratelimit.hit(db, bucket="test", key="k", now=NOW)
    check(db, limit=1, key="other")
    check(db, limit=1, bucket="another")
    with pytest.raises(RateLimited):
        check(db, limit=1)


def test_hits_leave_the_window(db):
    ratelimit.hit(db, bucket="test", key="k", now=NOW)
    with pytest.raises(RateLimited):
        check(db, limit=1, now=NOW + WINDOW - timedelta(seconds=1))
    check(db, limit=1, now=NOW + WINDOW)


def test_short_wait_says_one_minute(db):
    ratelimit.hit(db, bucket="test", key="k", now=NOW)
    with pytest.raises(RateLimited) as caught:
        check(db, limit=1, now=NOW + WINDOW - timedelta(seconds=30))
    assert "1 minute and" in caught.value.message
    assert caught.value.retry_after == 31


def test_clear_forgets_one_key(db):
    ratelimit.hit(db, bucket="test", key="k", now=NOW)
    ratelimit.hit(db, bucket="test", key="other", now=NOW)
    ratelimit.clear(db, bucket="test", key="k")
    check(db, limit=1)
    with pytest.raises(RateLimited):
        check(db, limit=1, key="other")


def test_prune_removes_only_old_hits(db):
    ratelimit.hit(db, bucket="test", key="k", now=NOW - timedelta(days=2))
    ratelimit.hit(db, bucket="test", key="k", now=NOW)
    assert ratelimit.prune(db, older_than=NOW - timedelta(days=1)) == 1
    assert db.scalar(select(func.count(RateLimitHit.id))) == 1


@pytest.mark.parametrize("key", ["x" * 5000, "nul\x00byte", "ü" * 400])
def test_any_key_a_client_can_send_is_stored(db, key):
    ratelimit.hit(db, bucket="test", key=key, now=NOW)
    with pytest.raises(RateLimited):
        check(db, key=key, limit=1)
    check(db, key=key[:-1] + "?", limit=1)
    ratelimit.clear(db, bucket="test", key=key)
    check(db, key=key, limit=1)
