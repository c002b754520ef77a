"""Sliding-window rate limits kept in the database, shared by every app process behind a proxy."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, intpk, timestamp
from app.errors import RateLimited
from app.i18n import gettext as _
from app.i18n import ngettext

KEY_LENGTH = 320


class RateLimitHit(Base):
    """One counted attempt in a bucket (e.g. failed logins) for a key (an IP or an account)."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index(None, "bucket", "key", "at"),)

    id: Mapped[intpk]
    bucket: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    at: Mapped[timestamp]


def _storable(key: str) -> str:
    """The key as stored: whatever a client typed must fit the column (and PostgreSQL text)."""
    if len(key) <= KEY_LENGTH and "\x00" not in key:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def check(
    db: Session, *, bucket: str, key: str, limit: int, window: timedelta, now: datetime, what: str
) -> None:
    """Raise `RateLimited` when `key` has used up `limit` hits within `window`; `what` counts
    them in English ("mails to this address"), marked with `N_` and translated here."""
    since = now - window
    key = _storable(key)
    count, oldest = db.execute(
        select(func.count(RateLimitHit.id), func.min(RateLimitHit.at)).where(
            RateLimitHit.bucket == bucket, RateLimitHit.key == key, RateLimitHit.at > since
        )
    ).one()
    if count >= limit:
        remaining = (oldest + window - now).total_seconds()
        retry_after = max(1, int(remaining) + 1)
        minutes = max(1, math.ceil(remaining / 60))
        raise RateLimited(
            ngettext(
                "Too many %(what)s. Please wait %(num)d minute and try again.",
                "Too many %(what)s. Please wait %(num)d minutes and try again.",
                minutes,
                what=_(what),
            ),
            retry_after=retry_after,
        )


def hit(db: Session, *, bucket: str, key: str, now: datetime) -> None:
    db.add(RateLimitHit(bucket=bucket, key=_storable(key), at=now))
    db.flush()


def clear(db: Session, *, bucket: str, key: str) -> None:
    db.execute(
        delete(RateLimitHit).where(
            RateLimitHit.bucket == bucket, RateLimitHit.key == _storable(key)
        )
    )


def prune(db: Session, *, older_than: datetime) -> int:
    """Forget hits no window can still count; returns how many went."""
    result = db.execute(delete(RateLimitHit).where(RateLimitHit.at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
