"""The worker's jobs: mail at once, daily digests (a line per notification with its link,
grouped by community), only to verified addresses, each once even with two workers at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import migrate
from app.db import create_db_engine, make_session_factory
from app.mail.models import OutboxMail
from app.notifications import jobs, service
from app.notifications.models import Delivery, Kind, Notification
from app.worker import notification_jobs_once
from tests.conftest import make_settings
from tests.factories import add_member, make_community, make_user
from tests.unit.notifications.conftest import prefer, told
from tests.unit.polls.conftest import NOW, Town

LINKS = jobs.Links("https://norms.example.org/", "a-secret-for-signing-unsubscribe-links-012345")
#: 09:30 UTC: past the default digest hour (8).
MORNING = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def tell(db: Session, users, text: str = "Rin replied to your comment.", **fields) -> None:
    service.notify(
        db,
        recipients=users,
        kind=fields.pop("kind", Kind.reply),
        text=text,
        url=fields.pop("url", "/c/miku/proposals/1/comments/2"),
        now=fields.pop("now", NOW),
        **fields,
    )


def outbox(db: Session, kind: str | None = None) -> list[OutboxMail]:
    query = select(OutboxMail).order_by(OutboxMail.id)
    if kind is not None:
        query = query.where(OutboxMail.kind == kind)
    return list(db.scalars(query))


def test_mail_at_once_goes_to_verified_members_who_want_it(db, town: Town, clean):
    wants, unverified, in_app, muted = town.fans
    prefer(db, wants, Delivery.email)
    prefer(db, unverified, Delivery.email, verified=False)
    prefer(db, in_app, Delivery.in_app)
    prefer(db, muted, Delivery.email, muted=(Kind.reply,))
    tell(db, [wants, unverified, in_app, muted], community=town.community)
    assert jobs.mail_at_once(db, now=NOW, links=LINKS) == 2  # the two left pending
    (mail,) = outbox(db, "notification")
    assert mail.to_address == wants.email
    assert mail.user_id == wants.id
    assert mail.subject == "Rin replied to your comment."
    assert "<https://norms.example.org/c/miku/proposals/1/comments/2>" in mail.body
    token = service.unsubscribe_token(LINKS.secret, wants.id, Kind.reply)
    link = f"https://norms.example.org/notifications/unsubscribe/{token}"
    assert f"Stop mail about replies to my comments: <{link}>" in mail.body
    assert mail.headers == {
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
    # Everything is settled: nothing is mailed twice.
    assert all(n.mailed_at is not None for notes in told(db).values() for n in notes)
    assert jobs.mail_at_once(db, now=NOW, links=LINKS) == 0


def test_a_member_who_changed_to_the_app_only_is_not_mailed_what_waited(db, town: Town, clean):
    prefer(db, town.fan, Delivery.email)
    tell(db, [town.fan])
    prefer(db, town.fan, Delivery.in_app)
    assert jobs.mail_at_once(db, now=NOW, links=LINKS) == 1
    assert outbox(db) == []


def test_digests_wait_for_the_digest_job(db, town: Town, clean):
    prefer(db, town.fan, Delivery.digest)
    tell(db, [town.fan])
    assert jobs.mail_at_once(db, now=NOW, links=LINKS) == 0
    assert told(db)[town.fan.id][0].mailed_at is None


def test_the_digest_time_is_the_latest_digest_hour():
    assert jobs.digest_due_since(MORNING, 8) == MORNING.replace(hour=8, minute=0)
    assert jobs.digest_due_since(MORNING, 10) == MORNING.replace(hour=10, minute=0) - timedelta(1)


def test_a_digest_groups_a_line_per_notification_by_community(db, town: Town, clean):
    reader = town.fan
    prefer(db, reader, Delivery.digest)
    other = make_community(db, name="Kaito Fans")
    add_member(db, other, reader)
    tell(db, [reader], "Rin replied to your comment.", community=town.community)
    tell(
        db,
        [reader],
        "Kaito Fans published version 2 of its guidelines.",
        kind=Kind.guidelines,
        url="/c/kaito/guidelines",
        community=other,
    )
    tell(db, [reader], "Len replied to your comment.", url="/c/miku/x", community=town.community)
    assert jobs.send_digests(db, now=MORNING, hour=8, links=LINKS) == 1
    (mail,) = outbox(db, "digest")
    assert mail.to_address == reader.email
    assert mail.subject == "Norms Forum digest: 3 notifications"
    body = mail.body
    miku, kaito = town.community.name, "Kaito Fans"
    assert body.index(miku) < body.index("Rin replied") < body.index("Len replied")
    assert body.index(kaito) < body.index("Kaito Fans published")
    assert (
        "- Rin replied to your comment. "
        "<https://norms.example.org/c/miku/proposals/1/comments/2>" in body
    )
    assert "- Len replied to your comment. <https://norms.example.org/c/miku/x>" in body
    # An unsubscribe link per kind it holds, and one for the digest itself (also the header).
    everything = LINKS.unsubscribe(reader.id, "all")
    assert (
        f"Stop mail about replies to my comments: <{LINKS.unsubscribe(reader.id, Kind.reply)}>"
        in body
    )
    assert LINKS.unsubscribe(reader.id, Kind.guidelines) in body
    assert LINKS.unsubscribe(reader.id, Kind.objection) not in body
    assert mail.headers is not None
    assert mail.headers["List-Unsubscribe"] == f"<{everything}>"
    # Today's digest went out: no second one today, whatever arrives.
    tell(db, [reader], "Later news.")
    assert jobs.send_digests(db, now=MORNING + timedelta(hours=3), hour=8, links=LINKS) == 0
    assert len(outbox(db, "digest")) == 1
    # Tomorrow's carries what came since.
    assert jobs.send_digests(db, now=MORNING + timedelta(days=1), hour=8, links=LINKS) == 1
    latest = outbox(db, "digest")[-1]
    assert "Later news." in latest.body
    assert "Rin replied" not in latest.body


def test_no_digest_before_the_hour_nor_without_news_nor_unverified(db, town: Town, clean):
    early = MORNING.replace(hour=7)
    prefer(db, town.fans[0], Delivery.digest)
    prefer(db, town.fans[1], Delivery.digest, verified=False)
    prefer(db, town.fans[2], Delivery.digest, muted=(Kind.reply,))
    prefer(db, town.fans[3], Delivery.digest)  # nothing happened to them
    tell(db, town.fans[:3])
    # Yesterday's digest went out at 08:00: before today's hour nothing is due.
    for fan in town.fans:
        service.preference_of(db, fan).digest_sent_at = early - timedelta(hours=23)
    db.flush()
    assert jobs.send_digests(db, now=early, hour=8, links=LINKS) == 0
    assert jobs.send_digests(db, now=MORNING, hour=8, links=LINKS) == 4
    assert [m.to_address for m in outbox(db)] == [town.fans[0].email]
    # What was not mailed is settled all the same, not carried to tomorrow's digest.
    assert all(n.mailed_at is not None for notes in told(db).values() for n in notes)


def test_a_long_digest_stops_at_a_hundred_lines_and_links_the_rest(db, town: Town, clean):
    prefer(db, town.fan, Delivery.digest)
    for i in range(jobs.DIGEST_LINES + 5):
        tell(db, [town.fan], f"News {i}.")
    jobs.send_digests(db, now=MORNING, hour=8, links=LINKS)
    (mail,) = outbox(db)
    assert mail.subject == f"Norms Forum digest: {jobs.DIGEST_LINES + 5} notifications"
    assert mail.body.count("\n- ") == jobs.DIGEST_LINES
    assert "And 5 more: <https://norms.example.org/notifications>" in mail.body


def _seed(url: str, readers: int) -> list[int]:
    """Members wanting digests or mail at once, with news waiting; all committed."""
    engine = create_db_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            community = make_community(db)
            people = [make_user(db) for _ in range(readers * 2)]
            for i, person in enumerate(people):
                add_member(db, community, person)
                person.email_verified_at = NOW
                service.save_preference(
                    db,
                    actor=person,
                    delivery="digest" if i % 2 else "email",
                    muted_kinds=[],
                )
            for n in range(3):
                tell(db, people, f"News {n}.", community=community)
            db.commit()
            return [p.id for p in people]
    finally:
        engine.dispose()


def test_two_workers_at_once_write_each_mail_and_digest_once(make_database_url):
    url = make_database_url("notification-race")
    migrate.upgrade(url)
    people = _seed(url, readers=10)
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    settings = make_settings(url, notification_digest_hour=8)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def work() -> None:
        start.wait()
        try:
            notification_jobs_once(factory, settings, MORNING)
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with Session(engine) as db:
        mails = list(db.scalars(select(OutboxMail)))
        digests = sorted(m.user_id or 0 for m in mails if m.kind == "digest")
        at_once = sorted(m.user_id or 0 for m in mails if m.kind == "notification")
        # Every other member wants a digest (one each), the rest mail at once (three each).
        assert digests == sorted(people[1::2])
        assert at_once == sorted(u for u in people[0::2] for _ in range(3))
        assert db.scalar(select(Notification.id).where(Notification.mailed_at.is_(None))) is None
    engine.dispose()
