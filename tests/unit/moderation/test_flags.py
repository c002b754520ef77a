"""Members flag comments and works; enough different members hide an item pending review."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.discussion import service as discussion_service
from app.errors import Conflict, NotAuthenticated, PermissionDenied, RateLimited, ValidationFailed
from app.moderation import service
from app.moderation.models import Flag
from tests.unit.moderation.conftest import NOW, later, make_comment, make_work


def flag_count(db) -> int:
    return db.scalar(select(func.count(Flag.id))) or 0


def test_a_member_flags_a_comment(db, world):
    flag = service.flag_comment(
        db, actor=world.fans[0], comment=world.comment, reason="  Insulting.  ", now=NOW
    )
    assert flag.comment_id == world.comment.id
    assert flag.work_id is None
    assert flag.community_id == world.community.id
    assert flag.flagger_id == world.fans[0].id
    assert flag.reason == "Insulting."
    assert flag.resolved_at is None
    assert world.comment.is_visible


def test_a_member_flags_a_work(db, world):
    flag = service.flag_work(db, actor=world.fans[0], work=world.work, reason="Stolen art", now=NOW)
    assert (flag.work_id, flag.comment_id) == (world.work.id, None)
    assert world.work.hidden_at is None


def test_only_members_flag(db, world):
    with pytest.raises(PermissionDenied):
        service.flag_comment(db, actor=world.outsider, comment=world.comment, reason="x", now=NOW)
    with pytest.raises(PermissionDenied):
        service.flag_work(db, actor=world.admin, work=world.work, reason="x", now=NOW)
    with pytest.raises(NotAuthenticated):
        service.flag_work(db, actor=None, work=world.work, reason="x", now=NOW)
    assert flag_count(db) == 0


def test_not_your_own_comment_or_work(db, world):
    with pytest.raises(PermissionDenied, match="your own comment"):
        service.flag_comment(db, actor=world.author, comment=world.comment, reason="x", now=NOW)
    with pytest.raises(PermissionDenied, match="You registered this work"):
        service.flag_work(db, actor=world.author, work=world.work, reason="x", now=NOW)
    assert flag_count(db) == 0


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "bad\x00byte"])
def test_the_reason_is_required_and_bounded(db, world, reason):
    with pytest.raises(ValidationFailed) as caught:
        service.flag_comment(db, actor=world.fans[0], comment=world.comment, reason=reason, now=NOW)
    assert set(caught.value.fields) == {"reason"}
    assert flag_count(db) == 0


def test_a_reason_of_500_characters_is_accepted(db, world):
    flag = service.flag_work(db, actor=world.fans[0], work=world.work, reason="y" * 500, now=NOW)
    assert len(flag.reason) == 500


def test_one_flag_per_member_and_item(db, world):
    service.flag_comment(db, actor=world.fans[0], comment=world.comment, reason="a", now=NOW)
    with pytest.raises(Conflict, match="already flagged"):
        service.flag_comment(db, actor=world.fans[0], comment=world.comment, reason="b", now=NOW)
    service.flag_work(db, actor=world.fans[0], work=world.work, reason="a", now=NOW)
    with pytest.raises(Conflict, match="already flagged"):
        service.flag_work(db, actor=world.fans[0], work=world.work, reason="b", now=NOW)
    # Another member may still flag both.
    service.flag_comment(db, actor=world.fans[1], comment=world.comment, reason="c", now=NOW)
    assert flag_count(db) == 3


def test_a_double_submit_past_the_check_is_a_conflict_and_the_session_survives(
    db, world, monkeypatch
):
    service.flag_comment(db, actor=world.fans[0], comment=world.comment, reason="a", now=NOW)
    monkeypatch.setattr(service, "_already", lambda existing, what: None)
    with pytest.raises(Conflict, match="already flagged"):
        service.flag_comment(db, actor=world.fans[0], comment=world.comment, reason="b", now=NOW)
    monkeypatch.undo()
    assert flag_count(db) == 1
    # The session is still usable: only the savepoint was rolled back.
    service.flag_comment(db, actor=world.fans[1], comment=world.comment, reason="c", now=NOW)
    assert flag_count(db) == 2


def test_a_member_whose_flag_was_reviewed_cannot_flag_again(db, world):
    service.flag_work(db, actor=world.fans[0], work=world.work, reason="a", now=NOW)
    service.resolve(
        db,
        actor=world.moderator,
        community=world.community,
        work=world.work,
        action="dismiss",
        now=later(1),
    )
    with pytest.raises(Conflict, match="reviewed"):
        service.flag_work(db, actor=world.fans[0], work=world.work, reason="again", now=later(2))


def test_items_a_moderator_hid_or_an_author_deleted_are_not_flagged(db, world):
    discussion_service.hide_comment(
        db, actor=world.moderator, comment=world.comment, reason="Off topic", now=NOW
    )
    with pytest.raises(Conflict, match="already hidden"):
        service.flag_comment(db, actor=world.fans[0], comment=world.comment, reason="x", now=NOW)
    gone = make_comment(db, world.proposal, world.fans[1], body="Oops")
    discussion_service.delete_comment(db, actor=world.fans[1], comment=gone, now=NOW)
    with pytest.raises(Conflict, match="deleted"):
        service.flag_comment(db, actor=world.fans[0], comment=gone, reason="x", now=NOW)
    from app.works import service as works_service

    works_service.hide_work(db, actor=world.moderator, work=world.work, reason="Spam", now=NOW)
    with pytest.raises(Conflict, match="already hidden"):
        service.flag_work(db, actor=world.fans[0], work=world.work, reason="x", now=NOW)
    assert flag_count(db) == 0


def test_comment_hidden_pending_review_at_exactly_the_threshold(db, world):
    assert world.community.flag_hide_threshold == 3
    before = discussion_service.counts(db, world.proposal).comments
    for fan in world.fans[:2]:
        service.flag_comment(db, actor=fan, comment=world.comment, reason="Rude", now=NOW)
    assert world.comment.is_visible
    assert discussion_service.counts(db, world.proposal).comments == before
    service.flag_comment(db, actor=world.fans[2], comment=world.comment, reason="Rude", now=NOW)
    assert world.comment.is_pending_review
    assert not world.comment.is_removed
    assert world.comment.hidden_at == NOW
    assert discussion_service.counts(db, world.proposal).comments == before - 1
    assert discussion_service.recount(db, world.proposal).comments == before - 1
    # More flags on an item pending review are recorded and change nothing else.
    service.flag_comment(db, actor=world.fans[3], comment=world.comment, reason="Rude", now=NOW)
    assert world.comment.is_pending_review
    assert discussion_service.counts(db, world.proposal).comments == before - 1


def test_work_hidden_pending_review_at_exactly_the_threshold(db, world):
    world.community.flag_hide_threshold = 2
    service.flag_work(db, actor=world.fans[0], work=world.work, reason="a", now=NOW)
    assert world.work.hidden_at is None
    service.flag_work(db, actor=world.fans[1], work=world.work, reason="b", now=later(1))
    assert world.work.is_pending_review
    assert world.work.hidden_at == later(1)
    assert world.work.hidden_by_id is None


def test_threshold_zero_never_hides(db, world):
    world.community.flag_hide_threshold = 0
    for fan in world.fans:
        service.flag_comment(db, actor=fan, comment=world.comment, reason="Rude", now=NOW)
        service.flag_work(db, actor=fan, work=world.work, reason="Rude", now=NOW)
    assert world.comment.is_visible
    assert world.work.hidden_at is None


def test_only_open_flags_count_towards_the_threshold(db, world):
    for fan in world.fans[:3]:
        service.flag_work(db, actor=fan, work=world.work, reason="a", now=NOW)
    assert world.work.is_pending_review
    service.resolve(
        db,
        actor=world.moderator,
        community=world.community,
        work=world.work,
        action="dismiss",
        now=later(1),
    )
    assert world.work.hidden_at is None
    for fan in world.fans[3:5]:
        service.flag_work(db, actor=fan, work=world.work, reason="b", now=later(2))
    assert world.work.hidden_at is None


def test_flagging_is_rate_limited(db, world, monkeypatch):
    monkeypatch.setattr(service, "FLAG_LIMIT", 2)
    works = [make_work(db, world.community, world.author, title=f"W{i}") for i in range(3)]
    service.flag_work(db, actor=world.fans[0], work=works[0], reason="a", now=NOW)
    service.flag_work(db, actor=world.fans[0], work=works[1], reason="a", now=later(1))
    with pytest.raises(RateLimited):
        service.flag_work(db, actor=world.fans[0], work=works[2], reason="a", now=later(2))
    # Other members are not held back, and the window slides.
    service.flag_work(db, actor=world.fans[1], work=works[2], reason="a", now=later(2))
    service.flag_work(db, actor=world.fans[0], work=works[2], reason="a", now=later(61))
    assert flag_count(db) == 4


def test_the_default_limit_is_twenty_an_hour(db, world):
    works = [make_work(db, world.community, world.author, title=f"W{i}") for i in range(21)]
    for work in works[:20]:
        service.flag_work(db, actor=world.fans[0], work=work, reason="a", now=NOW)
    with pytest.raises(RateLimited):
        service.flag_work(db, actor=world.fans[0], work=works[20], reason="a", now=NOW)


def test_has_flagged_and_flagged_comment_ids(db, world):
    other = make_comment(db, world.proposal, world.fans[1], body="Another")
    service.flag_comment(db, actor=world.fans[0], comment=world.comment, reason="a", now=NOW)
    assert service.has_flagged(db, world.fans[0], comment=world.comment)
    assert not service.has_flagged(db, world.fans[0], comment=other)
    assert not service.has_flagged(db, None, work=world.work)
    ids = [world.comment.id, other.id]
    assert service.flagged_comment_ids(db, world.fans[0], ids) == {world.comment.id}
    assert service.flagged_comment_ids(db, world.fans[2], ids) == set()
