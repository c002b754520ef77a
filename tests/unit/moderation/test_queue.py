"""The moderators' queue, and how moderators resolve flags: hide or dismiss."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.discussion import service as discussion_service
from app.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from app.moderation import service
from app.moderation.models import Flag, FlagResolution
from app.works import service as works_service
from tests.unit.moderation.conftest import NOW, World, later, make_comment, make_work


def flags(db: Session) -> list[Flag]:
    return list(db.scalars(select(Flag).order_by(Flag.id)))


def resolve(
    db: Session, world: World, *, action: str, reason: str = "", **item: Any
) -> service.Resolution:
    return service.resolve(
        db,
        actor=world.moderator,
        community=world.community,
        action=action,
        reason=reason,
        now=later(30),
        **item,
    )


def test_queue_groups_flags_per_item_oldest_first(db, world):
    fans = world.fans
    second = make_comment(db, world.proposal, fans[4], body="Second")
    service.flag_work(db, actor=fans[0], work=world.work, reason="Work 1", now=NOW)
    service.flag_comment(db, actor=fans[0], comment=second, reason="Comment 1", now=later(1))
    service.flag_work(db, actor=fans[1], work=world.work, reason="Work 2", now=later(2))
    service.flag_comment(db, actor=fans[1], comment=world.comment, reason="C", now=later(3))

    queue = service.queue(db, actor=world.moderator, community=world.community)

    assert [(i.kind, i.item_id) for i in queue.items] == [
        ("work", world.work.id),
        ("comment", second.id),
        ("comment", world.comment.id),
    ]
    work_item = queue.items[0]
    assert work_item.count == 2
    assert [f.reason for f in work_item.flags] == ["Work 1", "Work 2"]
    assert [f.flagger for f in work_item.flags] == [fans[0], fans[1]]
    assert work_item.first_flagged_at == NOW
    assert work_item.proposal is None
    assert queue.items[1].proposal == world.proposal
    assert queue.items[1].key == f"comment-{second.id}"
    assert not any(i.pending_review for i in queue.items)
    assert queue.next_cursor is None
    assert service.open_count(db, world.community) == 3


def test_queue_marks_items_hidden_pending_review(db, world):
    for fan in world.fans[:3]:
        service.flag_comment(db, actor=fan, comment=world.comment, reason="Rude", now=NOW)
    [item] = service.queue(db, actor=world.moderator, community=world.community).items
    assert item.pending_review
    assert item.count == 3
    assert not item.removed


def test_queue_pages_with_a_cursor(db, world):
    works = [make_work(db, world.community, world.author, title=f"W{i}") for i in range(3)]
    for work in works:
        service.flag_work(db, actor=world.fans[0], work=work, reason="a", now=NOW)
    first = service.queue(db, actor=world.moderator, community=world.community, limit=2)
    assert [i.work for i in first.items] == works[:2]
    assert first.next_cursor
    rest = service.queue(
        db, actor=world.moderator, community=world.community, limit=2, cursor=first.next_cursor
    )
    assert [i.work for i in rest.items] == works[2:]
    assert rest.next_cursor is None
    with pytest.raises(ValidationFailed):
        service.queue(db, actor=world.moderator, community=world.community, cursor="zz")


def test_queue_holds_only_open_flags_of_this_community(db, world):
    foreign = make_work(db, world.other, world.outsider)
    from tests.factories import add_member

    add_member(db, world.other, world.fans[0])
    service.flag_work(db, actor=world.fans[0], work=foreign, reason="a", now=NOW)
    service.flag_work(db, actor=world.fans[0], work=world.work, reason="a", now=NOW)
    assert service.open_count(db, world.community) == 1
    resolve(db, world, action="dismiss", work=world.work)
    assert service.queue(db, actor=world.moderator, community=world.community).items == []
    assert service.open_count(db, world.community) == 0
    assert service.open_count(db, world.other) == 1


def test_only_moderators_and_admins_see_the_queue(db, world):
    for actor in (world.fans[0], world.outsider, None):
        with pytest.raises((PermissionDenied, NotAuthenticated)):
            service.queue(db, actor=actor, community=world.community)
    assert service.queue(db, actor=world.admin, community=world.community).items == []


def test_hide_resolves_every_open_flag_and_hides_the_comment(db, world):
    for fan in world.fans[:2]:
        service.flag_comment(db, actor=fan, comment=world.comment, reason="Rude", now=NOW)
    before = discussion_service.counts(db, world.proposal).comments

    result = resolve(db, world, action="hide", reason=" Personal attack ", comment=world.comment)

    assert result == service.Resolution(service.Action.hide, 2, False)
    assert world.comment.is_removed
    assert world.comment.hidden_by_id == world.moderator.id
    assert world.comment.hidden_reason == "Personal attack"
    assert discussion_service.counts(db, world.proposal).comments == before - 1
    for flag in flags(db):
        assert flag.resolution == FlagResolution.hidden
        assert flag.resolved_by_id == world.moderator.id
        assert flag.resolved_at == later(30)


def test_hide_a_work_pending_review(db, world):
    for fan in world.fans[:3]:
        service.flag_work(db, actor=fan, work=world.work, reason="Stolen", now=NOW)
    assert world.work.is_pending_review
    resolve(db, world, action="hide", reason="Traced from another artist", work=world.work)
    assert world.work.is_removed
    assert world.work.hidden_reason == "Traced from another artist"
    assert world.work.hidden_at == NOW
    assert {f.resolution for f in flags(db)} == {FlagResolution.hidden}


def test_dismiss_restores_an_item_hidden_pending_review(db, world):
    before = discussion_service.counts(db, world.proposal).comments
    for fan in world.fans[:3]:
        service.flag_comment(db, actor=fan, comment=world.comment, reason="Rude", now=NOW)
        service.flag_work(db, actor=fan, work=world.work, reason="Rude", now=NOW)
    assert world.comment.is_pending_review
    assert world.work.is_pending_review

    result = resolve(db, world, action="dismiss", comment=world.comment)
    assert result == service.Resolution(service.Action.dismiss, 3, True)
    assert world.comment.is_visible
    assert discussion_service.counts(db, world.proposal).comments == before

    assert resolve(db, world, action="dismiss", work=world.work).restored
    assert world.work.hidden_at is None
    assert {f.resolution for f in flags(db)} == {FlagResolution.dismissed}


def test_dismiss_leaves_a_visible_item_alone_and_a_removed_one_removed(db, world):
    service.flag_work(db, actor=world.fans[0], work=world.work, reason="a", now=NOW)
    assert not resolve(db, world, action="dismiss", work=world.work).restored
    assert world.work.hidden_at is None
    service.flag_comment(db, actor=world.fans[0], comment=world.comment, reason="a", now=NOW)
    discussion_service.hide_comment(
        db, actor=world.moderator, comment=world.comment, reason="Spam", now=NOW
    )
    assert not resolve(db, world, action="dismiss", comment=world.comment).restored
    assert world.comment.is_removed


def test_resolve_is_for_moderators_of_the_items_community(db, world):
    service.flag_work(db, actor=world.fans[0], work=world.work, reason="a", now=NOW)
    with pytest.raises(PermissionDenied):
        service.resolve(
            db,
            actor=world.fans[1],
            community=world.community,
            work=world.work,
            action="dismiss",
            now=NOW,
        )
    foreign = make_work(db, world.other, world.outsider)
    with pytest.raises(NotFound):
        resolve(db, world, action="dismiss", work=foreign)
    assert all(f.resolved_at is None for f in flags(db))


def test_resolve_refuses_bad_input_without_changing_anything(db, world):
    for fan in world.fans[:3]:
        service.flag_comment(db, actor=fan, comment=world.comment, reason="Rude", now=NOW)
    for action, reason in (("hide", ""), ("hide", "z" * 501), ("hide", "a\x00"), ("ban", "x")):
        with pytest.raises(ValidationFailed):
            resolve(db, world, action=action, reason=reason, comment=world.comment)
    assert all(f.resolved_at is None for f in flags(db))
    assert world.comment.is_pending_review


def test_resolving_twice_is_a_conflict(db, world):
    service.flag_work(db, actor=world.fans[0], work=world.work, reason="a", now=NOW)
    resolve(db, world, action="dismiss", work=world.work)
    with pytest.raises(Conflict, match="no open flags"):
        resolve(db, world, action="hide", reason="x", work=world.work)
    assert world.work.hidden_at is None


def test_hide_and_restore_work_are_for_moderators(db, world):
    with pytest.raises(PermissionDenied):
        works_service.hide_work(db, actor=world.fans[0], work=world.work, reason="x", now=NOW)
    with pytest.raises(ValidationFailed):
        works_service.hide_work(db, actor=world.moderator, work=world.work, reason=" ", now=NOW)
    works_service.hide_work(db, actor=world.moderator, work=world.work, reason="x", now=NOW)
    with pytest.raises(PermissionDenied):
        works_service.restore_work(db, actor=world.fans[0], work=world.work)
    works_service.restore_work(db, actor=world.moderator, work=world.work)
    assert world.work.hidden_at is None
    assert world.work.hidden_reason == ""
