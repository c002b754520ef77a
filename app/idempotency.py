"""Idempotency keys: a write that a client retries after a lost answer is done once.

A client names each ballot or comment it sends with a key of its own (the `Idempotency-Key`
header of the API, or the hidden `idempotency_key` field every form render carries). The key
is stored in the transaction of the write itself, with what the answer said: either both are
committed or neither is, so a retry finds the key exactly when the write happened, and gets
the first answer again without writing anything.

Keys belong to a user: (user, key) is unique. The same key sent with a different request (a
different body, poll or thread) is refused, never taken for the first one. A key taken by a
request still running makes the retry wait for it (the unique index on PostgreSQL, the write
lock on SQLite) and then answers as it did. A refused request gives its key back. Keys are
forgotten after `LIFETIME` (the worker deletes them); a retry after that is a new request.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from app.db import Base, created_at, intpk
from app.errors import Conflict, ValidationFailed
from app.i18n import gettext

KEY_MAX = 100
#: Visible ASCII only: a key travels in an HTTP header, and is compared byte for byte.
KEY_RE = re.compile(r"[!-~]{1,100}")
KEY_PATTERN = r"^[!-~]{1,100}$"
HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
#: How long a key answers retries; clients retry within seconds or minutes, not days.
LIFETIME = timedelta(hours=24)
#: Keys the worker deletes per transaction.
EXPIRE_BATCH = 1000


class IdempotencyKey(Base):
    """A key a user sent with a write, and what the write answered (to answer retries)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        # The worker's question: which keys are past their lifetime.
        Index(None, "created_at"),
    )

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_MAX))
    #: What was done, through which door: `api:ballot`, `form:comment`, ...
    action: Mapped[str] = mapped_column(String(40))
    #: SHA-256 of the action and the request's meaning, to tell a retry from a reuse.
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: The ballot or comment written.
    result_id: Mapped[int | None]
    status_code: Mapped[int | None]
    #: The JSON body of the API's answer, replayed as it was.
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[created_at]


class KeyReused(ValidationFailed):
    """The key came before with another request: answering it as that one would be wrong."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Stored:
    """The answer of the first request with a key."""

    action: str
    result_id: int | None
    status_code: int
    response: dict[str, Any] | None


def fingerprint(action: str, payload: Mapping[str, Any]) -> str:
    """A digest of what a request asks for; equal for a retry, different for anything else."""
    canonical = json.dumps(
        {"action": action, "request": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def valid_key(key: str) -> bool:
    return KEY_RE.fullmatch(key) is not None


class Attempt:
    """A write under a key: `replay` holds the earlier answer (do nothing then), else the
    write goes ahead and `record` stores its answer with the key."""

    def __init__(self, replay: Stored | None, row: IdempotencyKey | None) -> None:
        self.replay = replay
        self._row = row
        self.recorded = False

    @property
    def keyed(self) -> bool:
        return self._row is not None

    def record(
        self, *, result_id: int, status_code: int = 200, response: dict[str, Any] | None = None
    ) -> None:
        """Keep the write's answer with its key (nothing to do for a write without a key)."""
        if self._row is None:
            return
        self._row.result_id = result_id
        self._row.status_code = status_code
        self._row.response = response
        self.recorded = True


@contextmanager
def attempt(
    db: Session,
    *,
    user_id: int,
    key: str | None,
    action: str,
    payload: Mapping[str, Any],
    now: datetime,
) -> Iterator[Attempt]:
    """Take `key` for one write, inside a savepoint of the request's transaction.

    The block runs the write and calls `record`; the savepoint is kept when it did. When the
    block raises, or ends without recording (a refused form shown again), the savepoint is
    rolled back: the key is free again, and whatever the write began is undone.
    Without a key, the block runs as it would without this.
    """
    if key is None:
        yield Attempt(None, None)
        return
    digest = fingerprint(action, payload)
    # Twice at most: a key found expired is deleted, and then taken afresh.
    for _ in range(2):
        savepoint = db.begin_nested()
        row = IdempotencyKey(
            user_id=user_id, key=key, action=action, fingerprint=digest, created_at=now
        )
        try:
            db.add(row)
            db.flush()
        except IntegrityError:
            savepoint.rollback()
            stored = _earlier(db, user_id=user_id, key=key, digest=digest, now=now)
            if stored is None:
                continue
            yield Attempt(stored, None)
            return
        break
    else:
        raise Conflict(gettext("A request with this Idempotency-Key is still being processed."))
    taken = Attempt(None, row)
    try:
        yield taken
    except BaseException:
        _rollback(savepoint)
        raise
    if taken.recorded:
        db.flush()
        savepoint.commit()
    else:
        _rollback(savepoint)


def _rollback(savepoint: SessionTransaction) -> None:
    if savepoint.is_active:
        savepoint.rollback()


def _earlier(db: Session, *, user_id: int, key: str, digest: str, now: datetime) -> Stored | None:
    """The answer stored under a key already taken; None once it expired (and is deleted)."""
    row = db.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )
    if row is None:
        return None
    if row.created_at <= now - LIFETIME:
        db.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
        return None
    if row.fingerprint != digest:
        raise KeyReused(
            gettext(
                "This Idempotency-Key was already used for a different request; "
                "use a new key for every new ballot or comment."
            ),
            fields={HEADER: gettext("Used before with another request.")},
        )
    if row.result_id is None or row.status_code is None:
        # Cannot be committed so (the key is written with its answer), but never guess.
        raise Conflict(gettext("A request with this Idempotency-Key is still being processed."))
    return Stored(row.action, row.result_id, row.status_code, row.response)


def has_expired(db: Session, now: datetime) -> bool:
    """A cheap look before taking the write lock `forget_expired` needs."""
    return (
        db.scalar(
            select(IdempotencyKey.id).where(IdempotencyKey.created_at <= now - LIFETIME).limit(1)
        )
        is not None
    )


def forget_expired(db: Session, now: datetime, *, batch: int = EXPIRE_BATCH) -> int:
    """Delete a batch of keys past their lifetime; how many went."""
    ids = select(IdempotencyKey.id).where(IdempotencyKey.created_at <= now - LIFETIME).limit(batch)
    result = db.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.id.in_(ids.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def forget_user(db: Session, user_id: int) -> None:
    """Delete every key of a user (their account is being deleted)."""
    db.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id))
