"""Idempotency keys: a write under a key is done once; refusals give the key back; keys expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import idempotency, worker
from app.db import utcnow
from app.idempotency import IdempotencyKey, KeyReused
from app.ratelimit import RateLimitHit
from tests.conftest import _joined_session
from tests.factories import make_user


def keys(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(IdempotencyKey)) or 0


def hits(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(RateLimitHit)) or 0


def write(db: Session, user_id: int, key: str | None, payload: dict[str, object], marker: int):
    """A stand-in write: one rate-limit hit, recorded under the key."""
    now = utcnow()
    with idempotency.attempt(
        db, user_id=user_id, key=key, action="test", payload=payload, now=now
    ) as attempt:
        if attempt.replay is not None:
            return attempt.replay
        db.add(RateLimitHit(bucket="test", key=str(marker), at=now))
        db.flush()
        attempt.record(result_id=marker, status_code=201, response={"marker": marker})
    return None


def test_the_first_write_is_done_and_a_retry_gets_its_answer(db):
    user = make_user(db)

    first = write(db, user.id, "k-1", {"a": 1}, marker=7)
    again = write(db, user.id, "k-1", {"a": 1}, marker=8)

    assert first is None
    assert again == idempotency.Stored("test", 7, 201, {"marker": 7})
    assert hits(db) == 1
    assert keys(db) == 1


def test_without_a_key_every_write_is_done(db):
    user = make_user(db)

    write(db, user.id, None, {"a": 1}, marker=1)
    write(db, user.id, None, {"a": 1}, marker=2)

    assert hits(db) == 2
    assert keys(db) == 0


def test_the_same_key_with_another_request_is_refused(db):
    user = make_user(db)
    write(db, user.id, "k-1", {"a": 1}, marker=1)

    with pytest.raises(KeyReused) as refused:
        write(db, user.id, "k-1", {"a": 2}, marker=2)

    assert refused.value.status == 422
    assert refused.value.code == "idempotency_key_reused"
    assert "different request" in refused.value.message
    assert hits(db) == 1


def test_keys_belong_to_their_user(db):
    one, two = make_user(db), make_user(db)

    write(db, one.id, "shared", {"a": 1}, marker=1)
    assert write(db, two.id, "shared", {"a": 1}, marker=2) is None

    assert hits(db) == 2


def test_a_refused_write_gives_its_key_back_and_undoes_what_it_began(db):
    user = make_user(db)

    def refused_write() -> None:
        with idempotency.attempt(
            db, user_id=user.id, key="k-1", action="test", payload={}, now=utcnow()
        ):
            db.add(RateLimitHit(bucket="test", key="half", at=utcnow()))
            db.flush()
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        refused_write()

    assert (hits(db), keys(db)) == (0, 0)
    # The key is free: the next try with it is done.
    assert write(db, user.id, "k-1", {"other": True}, marker=3) is None
    assert hits(db) == 1


def test_a_write_that_records_nothing_gives_its_key_back(db):
    # A form shown again with its problems returns without recording.
    user = make_user(db)
    with idempotency.attempt(
        db, user_id=user.id, key="k-1", action="test", payload={}, now=utcnow()
    ) as attempt:
        assert attempt.keyed

    assert keys(db) == 0


def test_the_fingerprint_ignores_key_order_but_not_values():
    assert idempotency.fingerprint("a", {"x": 1, "y": "é"}) == idempotency.fingerprint(
        "a", {"y": "é", "x": 1}
    )
    assert idempotency.fingerprint("a", {"x": 1}) != idempotency.fingerprint("a", {"x": 2})
    assert idempotency.fingerprint("a", {"x": 1}) != idempotency.fingerprint("b", {"x": 1})


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("0b9f7c2e-6d1a-4e8b-9a55-3c2d1e0f9a8b", True),
        ("x", True),
        ("a" * 100, True),
        ("a" * 101, False),
        ("", False),
        ("with space", False),
        ("caf\u00e9", False),
        ("nul\x00", False),
    ],
)
def test_keys_are_1_to_100_visible_ascii_characters(key, valid):
    assert idempotency.valid_key(key) is valid


def test_an_expired_key_is_a_new_request(db):
    user = make_user(db)
    write(db, user.id, "k-1", {"a": 1}, marker=1)
    row = db.scalar(select(IdempotencyKey))
    assert row is not None
    row.created_at = utcnow() - idempotency.LIFETIME - timedelta(minutes=1)
    db.flush()

    assert write(db, user.id, "k-1", {"a": 2}, marker=2) is None

    assert hits(db) == 2
    assert keys(db) == 1


def test_the_worker_forgets_expired_keys_only(db, connection):
    user = make_user(db)
    now = utcnow()
    for n, age in enumerate((timedelta(hours=25), timedelta(hours=23), timedelta(0))):
        db.add(
            IdempotencyKey(
                user_id=user.id,
                key=f"k-{n}",
                action="test",
                fingerprint="0" * 64,
                result_id=n,
                status_code=200,
                created_at=now - age,
            )
        )
    db.flush()
    assert idempotency.has_expired(db, now)

    sessions = lambda write: _joined_session(connection)  # noqa: E731

    forgotten = worker.forget_idempotency_keys(sessions, now)

    assert forgotten == 1
    db.expire_all()
    assert sorted(db.scalars(select(IdempotencyKey.key))) == ["k-1", "k-2"]
    assert not idempotency.has_expired(db, now)
    assert worker.forget_idempotency_keys(sessions, now) == 0
