"""Reading and marking one's own notifications, preferences, and one-click unsubscribe tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.errors import NotFound, ValidationFailed
from app.notifications import service
from app.notifications.models import Delivery, Kind
from tests.unit.notifications.conftest import prefer, told
from tests.unit.polls.conftest import NOW, Town

SECRET = "a-secret-for-signing-unsubscribe-links-0123456789"


def tell(db: Session, user, n: int = 1, kind: Kind = Kind.reply) -> list[int]:
    for i in range(n):
        service.notify(db, recipients=[user], kind=kind, text=f"News {i}", url="/", now=NOW)
    return [note.id for note in told(db)[user.id]]


def test_a_page_is_the_members_own_newest_first_paged_by_key(db, town: Town, clean):
    ids = tell(db, town.fan, 5)
    tell(db, town.author, 2)
    first = service.page(db, actor=town.fan, limit=2)
    assert [n.id for n in first.items] == ids[::-1][:2]
    assert first.next_before == ids[3]
    second = service.page(db, actor=town.fan, before=first.next_before, limit=2)
    assert [n.id for n in second.items] == [ids[2], ids[1]]
    last = service.page(db, actor=town.fan, before=second.next_before, limit=2)
    assert [n.id for n in last.items] == [ids[0]]
    assert last.next_before is None
    assert all(n.user_id == town.fan.id for n in first.items + second.items + last.items)


def test_unread_only_and_the_page_size_limit(db, town: Town, clean):
    ids = tell(db, town.fan, 3)
    service.mark_read(db, actor=town.fan, notification_id=ids[1], now=NOW)
    unread = service.page(db, actor=town.fan, unread_only=True)
    assert [n.id for n in unread.items] == [ids[2], ids[0]]
    assert len(service.page(db, actor=town.fan, limit=10_000).items) == 3


def test_marking_read_is_for_ones_own_notifications_only(db, town: Town, clean):
    (mine,) = tell(db, town.fan)
    with pytest.raises(NotFound):
        service.mark_read(db, actor=town.author, notification_id=mine, now=NOW)
    with pytest.raises(NotFound):
        service.mark_read(db, actor=town.fan, notification_id=2**40, now=NOW)
    note = service.mark_read(db, actor=town.fan, notification_id=mine, now=NOW)
    assert note.read_at == NOW
    # Marking again keeps the first time.
    later = service.mark_read(db, actor=town.fan, notification_id=mine, now=NOW + timedelta(1))
    assert later.read_at == NOW


def test_marking_several_refuses_any_that_is_not_ones_own(db, town: Town, clean):
    mine = tell(db, town.fan, 2)
    (theirs,) = tell(db, town.author)
    with pytest.raises(NotFound):
        service.mark_many_read(db, actor=town.fan, ids=[*mine, theirs], now=NOW)
    assert service.unread_count(db, town.fan.id) == 2
    assert service.unread_count(db, town.author.id) == 1
    assert service.mark_many_read(db, actor=town.fan, ids=mine, now=NOW) == 2
    assert service.mark_many_read(db, actor=town.fan, ids=mine, now=NOW) == 0
    assert service.mark_many_read(db, actor=town.fan, ids=[], now=NOW) == 0
    with pytest.raises(ValidationFailed):
        service.mark_many_read(db, actor=town.fan, ids=list(range(1, 200)), now=NOW)


def test_mark_all_read_up_to_the_newest_seen(db, town: Town, clean):
    ids = tell(db, town.fan, 3)
    tell(db, town.author, 1)
    assert service.latest_id(db, town.fan) == ids[-1]
    assert service.mark_all_read(db, actor=town.fan, now=NOW, up_to=ids[1]) == 2
    assert service.unread_count(db, town.fan.id) == 1
    assert service.mark_all_read(db, actor=town.fan, now=NOW) == 1
    assert service.unread_count(db, town.author.id) == 1


def test_preferences_default_to_the_app_only_and_are_checked(db, town: Town):
    preference = service.preference_of(db, town.fan)
    assert (preference.delivery, preference.muted) == (Delivery.in_app, frozenset())
    with pytest.raises(ValidationFailed) as refused:
        service.save_preference(db, actor=town.fan, delivery="pigeon", muted_kinds=["gossip"])
    assert set(refused.value.fields) == {"delivery", "muted_kinds"}
    saved = service.save_preference(
        db, actor=town.fan, delivery="digest", muted_kinds=["reply", "guidelines", "reply"]
    )
    assert saved.delivery == Delivery.digest
    assert saved.muted == {Kind.reply, Kind.guidelines}
    assert saved.muted_kinds == "guidelines,reply"
    again = service.save_preference(db, actor=town.fan, delivery="email", muted_kinds=[])
    assert again.id == saved.id
    assert service.preference_of(db, town.fan).muted == frozenset()


def test_an_unsubscribe_token_is_for_one_member_and_one_kind(db, town: Town):
    prefer(db, town.fan, Delivery.email)
    token = service.unsubscribe_token(SECRET, town.fan.id, Kind.reply)
    subscription = service.read_unsubscribe(db, secret=SECRET, token=token)
    assert (subscription.user, subscription.scope) == (town.fan, Kind.reply)
    assert subscription.what == "mail about “replies to my comments”"
    assert not subscription.done(service.preference_of(db, town.fan))
    service.unsubscribe(db, subscription)
    preference = service.preference_of(db, town.fan)
    assert preference.muted == {Kind.reply}
    assert preference.delivery == Delivery.email
    assert subscription.done(preference)
    # Twice is harmless.
    service.unsubscribe(db, subscription)
    assert service.preference_of(db, town.fan).muted == {Kind.reply}


def test_the_all_scope_stops_every_notification_mail(db, town: Town):
    prefer(db, town.fan, Delivery.digest)
    token = service.unsubscribe_token(SECRET, town.fan.id, "all")
    subscription = service.read_unsubscribe(db, secret=SECRET, token=token)
    service.unsubscribe(db, subscription)
    assert service.preference_of(db, town.fan).delivery == Delivery.in_app


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nonsense",
        "W3sidSI6MX1d.abc",
        service.unsubscribe_token("another-secret", 1, Kind.reply),
    ],
)
def test_a_token_not_made_here_is_not_found(db, town: Town, token):
    with pytest.raises(NotFound):
        service.read_unsubscribe(db, secret=SECRET, token=token)


def test_a_tampered_or_stale_token_is_not_found(db, town: Town):
    token = service.unsubscribe_token(SECRET, town.fan.id, Kind.reply)
    signature = token.rsplit(".", 1)[1]
    other = service.unsubscribe_token(SECRET, town.author.id, Kind.reply)
    with pytest.raises(NotFound):
        service.read_unsubscribe(db, secret=SECRET, token=f"{other.rsplit('.', 1)[0]}.{signature}")
    # Signed here, but for a kind or a member that does not exist.
    for forged in (
        service._serializer(SECRET).dumps([town.fan.id, "gossip"]),
        service._serializer(SECRET).dumps([2**40, "reply"]),
        service._serializer(SECRET).dumps({"u": town.fan.id}),
    ):
        with pytest.raises(NotFound):
            service.read_unsubscribe(db, secret=SECRET, token=forged)
