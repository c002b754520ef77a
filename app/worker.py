"""The background worker: sends the outbox (and, as they are added, other deliveries).

`normsforum worker` runs it as a process of its own; in development the app runs it too.
Every step is safe with several workers at once (see `app.mail.service.claim`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from app.config import Settings
from app.db import SessionFactory, utcnow
from app.mail import service as mail_service
from app.mail.sender import Sender, sender_for

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


def work_once(session_factory: SessionFactory, settings: Settings) -> int:
    """One turn of every job the worker does."""
    return deliver_mail(session_factory, sender_for(settings))
