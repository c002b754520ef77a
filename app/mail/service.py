"""Queueing mail in the outbox, and delivering it (the worker)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.errors import PermissionDenied
from app.i18n import gettext as _
from app.mail.models import OutboxMail
from app.mail.sender import Sender

#: After this many failures a mail is left alone (it stays in the outbox with its error).
MAX_ATTEMPTS = 5
#: How long a worker may take to send what it claimed before another may try.
LEASE = timedelta(minutes=5)


def queue(
    db: Session,
    *,
    to: str,
    subject: str,
    body: str,
    kind: str,
    now: datetime,
    user: User | None = None,
    headers: dict[str, str] | None = None,
) -> OutboxMail:
    """Write a mail to the outbox, in the caller's transaction: it leaves only if that commits."""
    mail = OutboxMail(
        to_address=to,
        # A subject is one header line: a line break in what it quotes (a community's name, a
        # moderator's reason) would make the mail one that can never be sent.
        subject=" ".join(subject.split())[:200],
        body=body,
        kind=kind,
        user_id=user.id if user else None,
        created_at=now,
        headers=headers or None,
    )
    db.add(mail)
    db.flush()
    return mail


def claim(db: Session, now: datetime, *, batch: int = 50) -> list[OutboxMail]:
    """Take up to `batch` waiting mails for sending, leased for a few minutes.

    The claim is committed before anything is sent: no transaction (and on SQLite no write
    lock) waits on a mail server. FOR UPDATE SKIP LOCKED lets workers in several processes
    claim different mails; a worker that dies leaves its lease to run out, and the mail is
    sent by another (at least once, never lost).
    """
    waiting = list(
        db.scalars(
            select(OutboxMail)
            .where(
                OutboxMail.sent_at.is_(None),
                OutboxMail.attempts < MAX_ATTEMPTS,
                or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
            )
            .order_by(OutboxMail.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    for mail in waiting:
        mail.claimed_until = now + LEASE
        mail.attempts += 1
    db.flush()
    return waiting


def settle(db: Session, sent: list[int], failed: dict[int, str], now: datetime) -> None:
    """Record what sending the claimed mails did."""
    for mail in db.scalars(select(OutboxMail).where(OutboxMail.id.in_([*sent, *failed]))):
        if mail.id in failed:
            mail.last_error = failed[mail.id][:500]
            mail.claimed_until = None
        else:
            mail.sent_at = now
    db.flush()


def send_claimed(mails: list[OutboxMail], sender: Sender) -> tuple[list[int], dict[int, str]]:
    """Hand each mail to the sender, outside any transaction; which went, which failed."""
    sent: list[int] = []
    failed: dict[int, str] = {}
    for mail in mails:
        try:
            sender.send(mail)
        except Exception as exc:  # any failure of the mail server: try again later
            failed[mail.id] = f"{type(exc).__name__}: {exc}"
        else:
            sent.append(mail.id)
    return sent, failed


def has_waiting(db: Session, now: datetime) -> bool:
    return (
        db.scalar(
            select(OutboxMail.id)
            .where(
                OutboxMail.sent_at.is_(None),
                OutboxMail.attempts < MAX_ATTEMPTS,
                or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now),
            )
            .limit(1)
        )
        is not None
    )


def recent(db: Session, *, actor: User | None, limit: int = 50) -> list[OutboxMail]:
    """The latest mails, for site admins (in development, where nothing leaves the machine)."""
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_("Only site administrators read the outbox."))
    return list(db.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)))
