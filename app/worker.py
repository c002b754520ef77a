"""The background worker: notification jobs (reminders, mail at once, daily digests), then the
outbox.

`normsforum worker` runs it as a process of its own; in development the app runs it too.
Every step is safe with several workers at once (see `app.mail.service.claim` and
`app.notifications.jobs`); no transaction is open while mail is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from app import idempotency
from app.config import Settings
from app.db import SessionFactory, utcnow
from app.mail import service as mail_service
from app.mail.sender import Sender, sender_for
from app.notifications import jobs as notification_jobs

log = logging.getLogger(__name__)


def deliver_mail(
    session_factory: SessionFactory, sender: Sender, now: datetime | None = None
) -> int:
    """Send what waits in the outbox, a batch at a time; the number of mails sent."""
    now = now or utcnow()
    with session_factory(False) as reader:
        if not mail_service.has_waiting(reader, now):
            return 0
    total = 0
    while True:
        with session_factory(True) as db:
            claimed = mail_service.claim(db, now)
            db.commit()
        if not claimed:
            return total
        sent, failed = mail_service.send_claimed(claimed, sender)
        for mail_id, error in failed.items():
            log.warning("Mail %d was not sent: %s", mail_id, error)
        with session_factory(True) as db:
            mail_service.settle(db, sent, failed, utcnow())
            db.commit()
        total += len(sent)
        if failed:
            # The server is in trouble: the rest waits for the next turn.
            return total


def _drain(session_factory: SessionFactory, job: Callable[[Session], int], batch: int) -> int:
    """Run a job a batch per transaction until a batch comes back short; items taken."""
    total = 0
    while True:
        with session_factory(True) as db:
            taken = job(db)
            db.commit()
        total += taken
        if taken < batch:
            return total


def notification_jobs_once(
    session_factory: SessionFactory, settings: Settings, now: datetime | None = None
) -> int:
    """The notification jobs of one turn: how many polls, notifications and digests were taken.

    Reminders come first, so that the mail jobs of the same turn carry them.
    """
    now = now or utcnow()
    hour = settings.notification_digest_hour
    with session_factory(False) as reader:
        due = notification_jobs.due(reader, now=now, hour=hour)
    if not due:
        return 0
    links = notification_jobs.Links(settings.base_url, settings.secret, settings.default_language)
    batch = notification_jobs.BATCH
    total = 0
    if due.reminders:
        total += _drain(
            session_factory, lambda db: notification_jobs.remind_closing_polls(db, now=now), batch
        )
    if due.mail or due.reminders:
        # Reminders just written may be mailed at once in this very turn.
        total += _drain(
            session_factory,
            lambda db: notification_jobs.mail_at_once(db, now=now, links=links),
            batch,
        )
    if due.digests:
        total += _drain(
            session_factory,
            lambda db: notification_jobs.send_digests(db, now=now, hour=hour, links=links),
            batch,
        )
    return total


def forget_idempotency_keys(session_factory: SessionFactory, now: datetime | None = None) -> int:
    """Delete idempotency keys past their lifetime, a batch per transaction; how many went."""
    now = now or utcnow()
    with session_factory(False) as reader:
        if not idempotency.has_expired(reader, now):
            return 0
    return _drain(
        session_factory, lambda db: idempotency.forget_expired(db, now), idempotency.EXPIRE_BATCH
    )


def work_once(session_factory: SessionFactory, settings: Settings) -> int:
    """One turn of every job the worker does; the number of mails sent."""
    taken = notification_jobs_once(session_factory, settings)
    if taken:
        log.info("Notification jobs took %d items (polls, notifications, digests).", taken)
    forget_idempotency_keys(session_factory)
    return deliver_mail(session_factory, sender_for(settings))
