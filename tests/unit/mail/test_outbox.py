"""The outbox: mail is queued in the event's transaction and sent afterwards, by SMTP or to the
log, once even with several workers, and kept with its error when the server refuses it."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import migrate
from app.db import create_db_engine, make_session_factory, utcnow
from app.errors import PermissionDenied
from app.mail import service
from app.mail.models import OutboxMail
from app.mail.sender import ConsoleSender, SMTPSender, message, sender_for
from app.worker import deliver_mail
from tests.conftest import make_settings
from tests.factories import make_user
from tests.support.smtp import body, smtp_server

NOW = utcnow()


class Refusing:
    def send(self, mail: OutboxMail) -> None:
        raise ConnectionRefusedError("the mail server is down")


class Keeping:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, mail: OutboxMail) -> None:
        self.sent.append(mail.subject)


def queue(db: Session, n: int = 1) -> list[OutboxMail]:
    return [
        service.queue(
            db,
            to=f"fan{i}@example.org",
            subject=f"Hello {i}",
            body="Hi.",
            kind="test",
            now=utcnow(),
        )
        for i in range(n)
    ]


def test_claimed_mail_is_leased_then_settled(db):
    mails = queue(db, 3)
    now = utcnow()
    claimed = service.claim(db, now)
    assert [m.id for m in claimed] == [m.id for m in mails]
    # Another worker finds nothing while the lease runs.
    assert service.claim(db, now) == []
    assert not service.has_waiting(db, now)
    sent, failed = service.send_claimed(claimed, Keeping())
    service.settle(db, sent, failed, now)
    assert all(m.sent_at == now for m in mails)
    assert service.claim(db, now + timedelta(hours=1)) == []


def test_a_refused_mail_keeps_its_error_and_is_tried_again_up_to_a_limit(db):
    (mail,) = queue(db)
    now = utcnow()
    for attempt in range(1, service.MAX_ATTEMPTS + 1):
        claimed = service.claim(db, now)
        assert claimed == [mail]
        sent, failed = service.send_claimed(claimed, Refusing())
        service.settle(db, sent, failed, now)
        assert mail.attempts == attempt
        assert "the mail server is down" in mail.last_error
        assert mail.sent_at is None
    assert service.claim(db, now) == []


def test_an_abandoned_lease_runs_out_and_another_worker_sends_it(db):
    (mail,) = queue(db)
    now = utcnow()
    service.claim(db, now)
    later = now + service.LEASE + timedelta(seconds=1)
    assert service.claim(db, later) == [mail]


def test_the_console_sender_logs_the_whole_mail(db, caplog):
    (mail,) = queue(db)
    with caplog.at_level(logging.INFO, logger="app.mail"):
        ConsoleSender(make_settings("sqlite://")).send(mail)
    assert "fan0@example.org" in caplog.text
    assert "Hello 0" in caplog.text


def test_smtp_delivers_through_a_real_server_on_loopback(db):
    with smtp_server() as (port, inbox):
        settings = make_settings(
            "sqlite://", smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
        )
        assert isinstance(sender_for(settings), SMTPSender)
        mail = service.queue(
            db,
            to="luka@example.org",
            subject="Verify your address",
            body="Open https://norms.example.org/verify?t=abc to verify.",
            kind="verify_email",
            now=utcnow(),
        )
        sender_for(settings).send(mail)
    (received,) = inbox.to("luka@example.org")
    assert received["Subject"] == "Verify your address"
    assert received["From"] == settings.mail_from
    assert "https://norms.example.org/verify?t=abc" in body(received)


def test_only_admins_read_the_outbox(db):
    queue(db)
    with pytest.raises(PermissionDenied):
        service.recent(db, actor=make_user(db))
    assert len(service.recent(db, actor=make_user(db, is_admin=True))) >= 1


def test_workers_at_once_send_each_mail_once(make_database_url):
    """Two workers drain one outbox through a real SMTP server: every mail arrives once."""
    url = make_database_url("outbox-race")
    migrate.upgrade(url)
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    with factory(True) as db:
        queue(db, 30)
        db.commit()
    with smtp_server() as (port, inbox):
        settings = make_settings(url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        start = threading.Barrier(2)

        def work() -> None:
            start.wait()
            deliver_mail(factory, sender_for(settings))

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(m["To"] for m in inbox.messages) == sorted(
        f"fan{i}@example.org" for i in range(30)
    )
    with factory(False) as db:
        assert all(m.sent_at is not None for m in db.scalars(select(OutboxMail)))
    engine.dispose()


@pytest.mark.parametrize("quoted", ["Miku\r\nBcc: victim@example.org", "a\x0bb\x85c\u2028d"])
def test_a_subject_quoting_line_breaks_is_one_line_that_can_be_sent(db, quoted):
    # Subjects quote what members typed (a community's name, a reason); a line break there
    # makes a header no mail library accepts, and the mail could never be sent.
    mail = service.queue(
        db, to="fan@example.org", subject=f"News of {quoted}", body="Hi.", kind="test", now=NOW
    )
    assert mail.subject == "News of " + " ".join(quoted.split())
    headers = message(mail, "Norms Forum <noreply@localhost>")
    assert headers["Subject"] == mail.subject
    assert headers["Bcc"] is None
