"""A notification is written once, whatever language its actor reads, and each reader reads it
in their own; mail speaks its recipient's language (their saved one, else the site's)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import i18n
from app.accounts import email_links
from app.db import utcnow
from app.mail.models import OutboxMail
from app.notifications import jobs, service
from app.notifications.models import Kind, Notification
from tests.conftest import log_in, make_settings
from tests.functional.api.helpers import assert_error
from tests.functional.discussion.conftest import Cast
from tests.unit.discussion.conftest import post

JAPANESE = {"Accept-Language": "ja"}
LINKS = jobs.Links("https://norms.example.org", "a-secret-for-signing-unsubscribe-links-012345")


def reply_to_fan(db: Session, cast: Cast) -> Notification:
    """Meiko, reading in English, replies to Luka's comment."""
    mine = post(db, cast.proposal, cast.fan, "My view.")
    with i18n.speaking("en"):
        post(db, cast.proposal, cast.other_fan, "A reply.", parent=mine)
    note = db.scalar(select(Notification).where(Notification.user_id == cast.fan.id))
    assert note is not None
    return note


def test_a_notification_is_stored_as_a_message_with_its_values(db: Session, cast: Cast):
    note = reply_to_fan(db, cast)
    assert note.message == "%(actor)s replied to your comment on “%(title)s”."
    assert note.params == {"actor": "User fan_meiko", "title": cast.proposal.title}
    assert note.text == f"User fan_meiko replied to your comment on “{cast.proposal.title}”."
    with i18n.speaking("ja"):
        assert note.rendered == (
            f"User fan_meikoが「{cast.proposal.title}」でのあなたのコメントに返信しました。"
        )


def test_each_reader_reads_it_in_their_language(client, db: Session, cast: Cast, bearer):
    reply_to_fan(db, cast)
    japanese = f"User fan_meikoが「{cast.proposal.title}」でのあなたのコメントに返信しました。"
    log_in(client, "fan_luka")
    assert japanese in client.get("/notifications", headers=JAPANESE).text
    english = client.get("/notifications").text
    assert "User fan_meiko replied to your comment on" in english
    headers = bearer(cast.fan)
    (item,) = client.get("/api/v1/notifications", headers={**headers, **JAPANESE}).json()["items"]
    assert item["text"] == japanese
    (item,) = client.get("/api/v1/notifications", headers=headers).json()["items"]
    assert item["text"].startswith("User fan_meiko replied")


def test_older_notifications_keep_their_english_text(client, db: Session, cast: Cast):
    service.notify(
        db, recipients=[cast.fan], kind=Kind.reply, text="Written long ago.", url="/", now=utcnow()
    )
    log_in(client, "fan_luka")
    assert "Written long ago." in client.get("/notifications", headers=JAPANESE).text


def test_a_notification_mail_speaks_the_recipients_language(db: Session, cast: Cast):
    note = reply_to_fan(db, cast)
    cast.fan.locale = "ja"
    with i18n.speaking("en"):
        subject, body, _headers = jobs.at_once_mail(note, cast.fan, LINKS)
        assert i18n.current() == "en"
    assert (
        subject == f"User fan_meikoが「{cast.proposal.title}」でのあなたのコメントに返信しました。"
    )
    assert body.startswith("User fan_lukaさん、こんにちは。")
    assert "Hello" not in body
    subject, body, _headers = jobs.digest_mail(cast.fan, [note], LINKS)
    assert "Norms Forum" in subject
    assert "1件" in subject
    # Without a saved language, the site's default.
    cast.fan.locale = None
    subject, body, _headers = jobs.at_once_mail(note, cast.fan, LINKS)
    assert body.startswith("Hello User fan_luka,")
    in_japanese = jobs.Links(LINKS.base_url, LINKS.secret, "ja")
    subject, body, _headers = jobs.at_once_mail(note, cast.fan, in_japanese)
    assert body.startswith("User fan_lukaさん、こんにちは。")


def test_account_mail_speaks_the_members_language(db: Session, cast: Cast, database_url: str):
    settings = make_settings(database_url)
    cast.fan.locale = "ja"
    now = utcnow() + timedelta(days=1)
    with i18n.speaking("en"):
        email_links.send_verification(db, user=cast.fan, now=now, settings=settings)
    mail = db.scalar(
        select(OutboxMail).where(OutboxMail.kind == "verify_email").order_by(OutboxMail.id.desc())
    )
    assert mail is not None
    assert mail.subject == "Norms Forumのメールアドレスを確認してください"
    assert mail.body.startswith("User fan_lukaさん、こんにちは。")
    assert "48時間" in mail.body


def test_account_mail_without_a_saved_language_speaks_the_pages(
    db: Session, cast: Cast, database_url: str
):
    # Someone who signed up through the Japanese pages gets the mail in Japanese, though
    # the site's default is English; outside a request (a worker), the site's default.
    settings = make_settings(database_url)
    cast.fan.locale = None
    now = utcnow() + timedelta(days=1)
    with i18n.speaking("ja"):
        email_links.send_verification(db, user=cast.fan, now=now, settings=settings)
    email_links.send_verification(
        db, user=cast.fan, now=now + timedelta(hours=1), settings=settings
    )
    subjects = db.scalars(
        select(OutboxMail.subject).where(OutboxMail.kind == "verify_email").order_by(OutboxMail.id)
    ).all()
    assert subjects[-2:] == [
        "Norms Forumのメールアドレスを確認してください",
        "Confirm your email address for Norms Forum",
    ]


def test_an_api_error_message_is_translated_but_not_its_code(client, cast: Cast, bearer):
    headers = bearer(cast.fan)
    url = "/api/v1/notifications/read"
    english = assert_error(
        client.post(url, json={"ids": [2**30]}, headers=headers), 404, "not_found"
    )
    assert english["message"] == "There is no such notification."
    japanese = assert_error(
        client.post(url, json={"ids": [2**30]}, headers={**headers, **JAPANESE}), 404, "not_found"
    )
    assert japanese["message"] == "その通知は見つかりません。"
