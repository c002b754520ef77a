"""Sliding-window rate limits kept in the database, shared by every app process behind a proxy."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, intpk, timestamp
from app.errors import RateLimited


class RateLimitHit(Base):
    """One counted attempt in a bucket (e.g. failed logins) for a key (an IP or an account)."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index(None, "bucket", "key", "at"),)

    id: Mapped[intpk]
    bucket: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[timestamp]


def check(
    db: Session, *, bucket: str, key: str, limit: int, window: timedelta, now: datetime, what: str
) -> None:
    """Raise `RateLimited` when `key` has used up `limit` hits within `window`."""
    since = now - window
    count, oldest = db.execute(
        select(func.count(RateLimitHit.id), func.min(RateLimitHit.at)).where(
            RateLimitHit.bucket == bucket, RateLimitHit.key == key, RateLimitHit.at > since
        )
    ).one()
    if count >= limit:
        retry_after = max(1, int((oldest + window - now).total_seconds()) + 1)
        minutes = (retry_after + 59) // 60
        raise RateLimited(
            f"Too many {what}. Please wait {minutes} minute{'s' if minutes != 1 else ''} "
            "and try again.",
            retry_after=retry_after,
        )


def hit(db: Session, *, bucket: str, key: str, now: datetime) -> None:
    db.add(RateLimitHit(bucket=bucket, key=key, at=now))
    db.flush()


def clear(db: Session, *, bucket: str, key: str) -> None:
    db.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket, RateLimitHit.key == key))


def prune(db: Session, *, older_than: datetime) -> int:
    """Forget hits no window can still count; returns how many went."""
    result = db.execute(delete(RateLimitHit).where(RateLimitHit.at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
