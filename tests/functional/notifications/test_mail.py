"""Notification mail end to end: an event, the worker's turn, a real SMTP server on loopback,
and the unsubscribe link in the received mail, followed through the app."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app import worker
from app.notifications import service
from app.notifications.models import Kind
from tests.conftest import _joined_session, make_settings
from tests.functional.discussion.conftest import Cast
from tests.support.smtp import body, smtp_server
from tests.unit.discussion.conftest import post


def subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_a_reply_is_mailed_at_once_with_a_working_unsubscribe_link(
    client: TestClient, connection: Connection, db: Session, cast: Cast, database_url: str
):
    service.save_preference(db, actor=cast.fan, delivery="email", muted_kinds=[])
    mine = post(db, cast.proposal, cast.fan, "My view.")
    post(db, cast.proposal, cast.other_fan, "A reply.", parent=mine)

    def factory(write: bool) -> Session:
        return _joined_session(connection)

    with smtp_server() as (port, inbox):
        settings = make_settings(
            database_url,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            base_url="https://norms.example.org",
        )
        assert worker.work_once(factory, settings) == 1
        (received,) = inbox.to(cast.fan.email)
        # Nothing more on the next turn.
        assert worker.work_once(factory, settings) == 0
    text = body(received).replace("\r\n", "\n")
    assert subject(received) == (
        f"User fan_meiko replied to your comment on “{cast.proposal.title}”."
    )
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = received["List-Unsubscribe"].strip("<>")
    assert f"Stop mail about replies to my comments: <{unsubscribe}>" in text
    assert "<https://norms.example.org/c/miku/proposals/" in text
    # The link, as a mail program's one-click button posts it.
    client.cookies.clear()
    response = client.post(
        urlsplit(unsubscribe).path,
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    preference = service.preference_of(db, cast.fan)
    db.refresh(preference)
    assert preference.muted == {Kind.reply}
    # The next reply shows in the app and is not mailed.
    post(db, cast.proposal, cast.other_fan, "Another reply.", parent=mine)
    with smtp_server() as (port, inbox):
        settings = make_settings(
            database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
        )
        assert worker.work_once(factory, settings) == 0
    assert inbox.messages == []
    assert service.unread_count(db, cast.fan.id) == 2


def test_a_digest_arrives_with_a_line_per_notification(
    connection: Connection, db: Session, cast: Cast, database_url: str
):
    service.save_preference(db, actor=cast.fan, delivery="digest", muted_kinds=[])
    mine = post(db, cast.proposal, cast.fan, "My view.")
    post(db, cast.proposal, cast.other_fan, "One.", parent=mine)
    post(db, cast.proposal, cast.author, "Two.", parent=mine)

    def factory(write: bool) -> Session:
        return _joined_session(connection)

    with smtp_server() as (port, inbox):
        # The digest hour is now, whatever the time of the test run: 0 is always past.
        settings = make_settings(
            database_url,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            notification_digest_hour=0,
        )
        assert worker.work_once(factory, settings) == 1
        assert worker.work_once(factory, settings) == 0
    (received,) = inbox.to(cast.fan.email)
    assert subject(received) == "Norms Forum digest: 2 notifications"
    text = body(received).replace("\r\n", "\n")
    assert "Hatsune Miku Fans\n=================" in text
    assert text.count("\n- ") == 2
    assert "- User fan_meiko replied to your comment" in text
    assert "- User author_kaito replied to your comment" in text
    assert received["List-Unsubscribe"].startswith("<http://testserver/notifications/unsubscribe/")
