"""notify(): in the event's transaction, never to the actor, never twice, one statement for a
whole community, mail left pending only for members whose preference may mail it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import events
from app.communities.models import Membership
from app.notifications import service
from app.notifications.models import Delivery, Kind, Notification
from tests.factories import add_member, make_community, make_user
from tests.unit.notifications.conftest import prefer, told
from tests.unit.polls.conftest import NOW, Town


def tell(db: Session, recipients, actor=None, **fields) -> list[int]:
    return service.notify(
        db,
        recipients=recipients,
        kind=fields.pop("kind", Kind.reply),
        text=fields.pop("text", "Rin replied to your comment."),
        url=fields.pop("url", "/c/miku/proposals/1"),
        now=NOW,
        actor=actor,
        **fields,
    )


def test_everyone_once_and_never_the_actor(db, town: Town, clean):
    fan, other = town.fans[0], town.fans[1]
    made = tell(db, [fan, fan.id, other, town.author], actor=town.author)
    assert sorted(made) == sorted([fan.id, other.id])
    found = told(db)
    assert set(found) == {fan.id, other.id}
    assert all(len(notes) == 1 for notes in found.values())
    note = found[fan.id][0]
    assert (note.kind, note.text, note.url) == (
        Kind.reply,
        "Rin replied to your comment.",
        "/c/miku/proposals/1",
    )
    assert note.actor_id == town.author.id
    assert note.created_at == NOW
    assert note.read_at is None


def test_nobody_but_the_actor_writes_nothing(db, town: Town, clean):
    assert tell(db, [town.author], actor=town.author) == []
    assert tell(db, []) == []
    assert told(db) == {}


def test_a_query_of_recipients_is_deduplicated_and_spares_the_actor(db, town: Town, clean):
    members = select(Membership.user_id).where(Membership.community_id == town.community.id)
    twice = members.union_all(members)
    made = tell(db, twice, actor=town.moderator, community=town.community)
    everyone = set(db.scalars(members))
    assert set(made) == everyone - {town.moderator.id}
    assert len(made) == len(set(made))
    assert all(n.community_id == town.community.id for notes in told(db).values() for n in notes)


def test_a_hidden_actor_is_spared_but_not_recorded(db, town: Town, clean):
    tell(db, [town.author, town.fan], actor=town.fan, show_actor=False)
    (note,) = told(db)[town.author.id]
    assert note.actor_id is None
    assert town.fan.id not in told(db)


def test_long_text_and_url_are_cut_to_their_columns(db, town: Town, clean):
    tell(db, [town.fan], text="x" * 500, url="/" + "y" * 500)
    (note,) = told(db)[town.fan.id]
    assert len(note.text) == service.TEXT_MAX
    assert len(note.url) == service.URL_MAX


def test_mail_is_left_pending_only_where_a_preference_may_mail_it(db, town: Town, clean):
    in_app, at_once, digest, muted = town.fans
    prefer(db, at_once, Delivery.email)
    prefer(db, digest, Delivery.digest)
    prefer(db, muted, Delivery.email, muted=(Kind.reply,))
    tell(db, [in_app, at_once, digest, muted])
    found = told(db)
    assert found[in_app.id][0].mailed_at == NOW
    assert found[at_once.id][0].mailed_at is None
    assert found[digest.id][0].mailed_at is None
    assert found[muted.id][0].mailed_at == NOW
    # Muting one kind leaves the others mailed.
    tell(db, [muted], kind=Kind.guidelines)
    assert told(db, Kind.guidelines)[muted.id][0].mailed_at is None


def test_a_kind_whose_name_is_part_of_another_is_not_muted_by_it(db, town: Town, clean):
    # LIKE wildcards in a kind's name ("_") must not match other names.
    prefer(db, town.fan, Delivery.email, muted=(Kind.poll_closing,))
    tell(db, [town.fan], kind=Kind.poll_opened)
    assert told(db)[town.fan.id][0].mailed_at is None


def test_nothing_is_told_when_the_event_rolls_back(db, town: Town, clean):
    savepoint = db.begin_nested()
    tell(db, [town.fan])
    savepoint.rollback()
    assert told(db) == {}


def test_a_whole_community_is_told_in_one_insert(db, clean):
    community = make_community(db)
    people = [make_user(db) for _ in range(300)]
    for person in people:
        add_member(db, community, person)
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        made = tell(
            db,
            select(Membership.user_id).where(Membership.community_id == community.id),
            actor=people[0],
            kind=Kind.guidelines,
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(made) == 299
    assert len([s for s in statements if s.lstrip().upper().startswith("INSERT")]) == 1


class Recorder(events.Broker):
    """A broker that also remembers what was published."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[str] = []

    def publish(self, channel: str) -> None:
        self.published.append(channel)
        super().publish(channel)


def test_each_member_told_is_woken_after_the_commit_only(db, town: Town, monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(events, "broker", recorder)
    db.commit()
    tell(db, [town.fan, town.author], actor=town.author)
    db.rollback()
    db.commit()
    assert recorder.published == []
    tell(db, [town.fan, town.author], actor=town.author)
    assert recorder.published == []
    db.commit()
    assert recorder.published == [service.user_channel(town.fan.id)]


def test_notifications_of_a_member_go_when_the_member_goes(db, town: Town, clean):
    tell(db, [town.fan])
    db.delete(town.fan)
    db.flush()
    assert db.scalar(select(Notification).where(Notification.user_id == town.fan.id)) is None


def test_unread_count_can_be_capped(db, town: Town, clean):
    for _ in range(5):
        tell(db, [town.fan])
    assert service.unread_count(db, town.fan.id) == 5
    assert service.unread_count(db, town.fan.id, cap=3) == 3
    later = NOW + timedelta(minutes=1)
    service.mark_all_read(db, actor=town.fan, now=later)
    assert service.unread_count(db, town.fan.id) == 0
