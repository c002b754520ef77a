"""The public moderation log: every moderator action writes one entry, private details never,
and the database itself refuses to change or delete an entry."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.communities import moderation_log
from app.communities import service as communities_service
from app.communities.models import LogAction, ModerationLogEntry
from app.discussion import service as discussion_service
from app.errors import ValidationFailed
from app.guidelines import service as guidelines_service
from app.moderation import appeals, members, service
from app.moderation import log as log_service
from app.polls import service as polls_service
from app.proposals import service as proposals_service
from app.proposals.models import ProposalState
from app.works import service as works_service
from tests.unit.moderation.conftest import NOW, World, later, make_poll_with_objection


def entries(db: Session, world: World) -> list[ModerationLogEntry]:
    return list(
        db.scalars(
            select(ModerationLogEntry)
            .where(ModerationLogEntry.community_id == world.community.id)
            .order_by(ModerationLogEntry.id)
        )
    )


def last(db: Session, world: World) -> ModerationLogEntry:
    return entries(db, world)[-1]


def test_a_role_change_is_logged_with_the_member_and_roles(db, world):
    communities_service.change_role(
        db,
        actor=world.moderator,
        community=world.community,
        username=world.fans[0].username,
        role="rights_holder",
        reason="Speaks for the studio",
        now=NOW,
    )
    entry = last(db, world)
    assert entry.action == LogAction.role_changed
    assert (entry.actor_id, entry.member_id) == (world.moderator.id, world.fans[0].id)
    assert entry.detail == "fan → rights holder"
    assert entry.reason == "Speaks for the studio"
    assert entry.created_at == NOW


def test_hides_and_restores_of_comments_and_works_are_logged(db, world):
    discussion_service.hide_comment(
        db, actor=world.moderator, comment=world.comment, reason="Insults", now=NOW
    )
    discussion_service.restore_comment(
        db, actor=world.moderator, comment=world.comment, reason="Misread it", now=later(1)
    )
    works_service.hide_work(db, actor=world.moderator, work=world.work, reason="Traced", now=NOW)
    works_service.restore_work(db, actor=world.moderator, work=world.work, now=later(2))
    log = entries(db, world)
    assert [e.action for e in log] == [
        LogAction.comment_hidden,
        LogAction.comment_restored,
        LogAction.work_hidden,
        LogAction.work_restored,
    ]
    assert [e.reason for e in log] == ["Insults", "Misread it", "Traced", ""]
    assert log[0].comment_id == world.comment.id
    assert log[0].proposal_id == world.proposal.id
    assert log[0].member_id == world.author.id
    assert log[2].work_id == world.work.id


def test_restoring_something_shown_logs_nothing(db, world):
    discussion_service.restore_comment(db, actor=world.moderator, comment=world.comment)
    works_service.restore_work(db, actor=world.moderator, work=world.work)
    assert entries(db, world) == []


def test_locks_and_unlocks_are_logged(db, world):
    for locked in (True, False):
        proposals_service.set_locked(
            db,
            actor=world.moderator,
            proposal=world.proposal,
            locked=locked,
            reason="Heated" if locked else "",
            now=NOW,
        )
    assert [(e.action, e.reason, e.proposal_id) for e in entries(db, world)] == [
        (LogAction.proposal_locked, "Heated", world.proposal.id),
        (LogAction.proposal_unlocked, "", world.proposal.id),
    ]


def test_a_ruling_is_logged_without_naming_the_objector(db, world):
    poll, ballot = make_poll_with_objection(db, world)
    polls_service.rule_not_paramount(
        db,
        actor=world.moderator,
        poll=poll,
        ballot_id=ballot.id,
        reason="Out of scope",
        now=later(2),
    )
    entry = last(db, world)
    assert entry.action == LogAction.objection_ruled
    assert entry.member_id is None
    assert (entry.proposal_id, entry.reason) == (world.proposal.id, "Out of scope")


def test_ratification_and_return_are_logged(db, world):
    poll, _ = make_poll_with_objection(db, world)
    polls_service.close_early(db, actor=world.moderator, poll=poll, now=later(5))
    # Whatever the tally, a decided poll can be returned; force "passed" to test both paths.
    world.proposal.state = ProposalState.passed
    guidelines_service.send_back(
        db, actor=world.moderator, proposal=world.proposal, reason="Needs examples", now=later(6)
    )
    entry = last(db, world)
    assert (entry.action, entry.reason) == (LogAction.proposal_returned, "Needs examples")
    world.proposal.state = ProposalState.passed
    guidelines_service.ratify(
        db, actor=world.moderator, proposal=world.proposal, note="Agreed", now=later(7)
    )
    ratified = [e for e in entries(db, world) if e.action == LogAction.proposal_ratified]
    assert [(e.detail, e.reason) for e in ratified] == [("as moderator", "Agreed")]


def test_warnings_suspensions_lifts_and_appeals_are_logged(db, world):
    fan = world.fans[0]
    members.warn(
        db,
        actor=world.moderator,
        community=world.community,
        username=fan.username,
        message="Private words",
        now=NOW,
    )
    suspension = members.suspend(
        db,
        actor=world.moderator,
        community=world.community,
        username=fan.username,
        days=3,
        reason="Spam",
        now=NOW,
    )
    appeal = appeals.appeal(
        db, actor=fan, community=world.community, suspension=suspension, message="Sorry", now=NOW
    )
    appeals.decide(
        db, actor=world.moderator, appeal=appeal, decision="grant", reason="Fair", now=later(1)
    )
    log = entries(db, world)
    assert [e.action for e in log] == [
        LogAction.member_warned,
        LogAction.member_suspended,
        LogAction.suspension_lifted,
        LogAction.appeal_granted,
    ]
    assert "Private words" not in {e.reason for e in log} | {e.detail for e in log}
    assert log[1].detail.startswith("for 3 days, until 2026-12-04")
    assert "Sorry" not in {e.reason for e in log}


def test_the_public_view_names_members_only_where_that_is_public(db, world):
    fan = world.fans[0]
    members.warn(
        db,
        actor=world.moderator,
        community=world.community,
        username=fan.username,
        message="Calm down",
        reason="Tone",
        now=NOW,
    )
    discussion_service.hide_comment(
        db, actor=world.moderator, comment=world.comment, reason="Insults", now=NOW
    )
    members.suspend(
        db,
        actor=world.moderator,
        community=world.community,
        username=fan.username,
        days=1,
        reason="Spam",
        now=NOW,
    )
    view = log_service.public_page(db, world.community)
    named = {item.action: item.member for item in view.items}
    assert named[LogAction.member_suspended] == fan
    assert named[LogAction.member_warned] is None
    assert named[LogAction.comment_hidden] is None
    private = log_service.items(db, [i.entry for i in view.items], public=False)
    assert {i.action: i.member for i in private}[LogAction.member_warned] == fan


def test_the_log_pages_by_key_newest_first_and_filters(db, world):
    for n in range(5):
        moderation_log.record(
            db,
            community=world.community,
            action=LogAction.proposal_locked if n % 2 else LogAction.proposal_unlocked,
            actor=world.moderator,
            now=later(n),
            reason=f"#{n}",
        )
    first = moderation_log.page(db, world.community, limit=2)
    assert [e.reason for e in first.entries] == ["#4", "#3"]
    rest = moderation_log.page(db, world.community, limit=2, cursor=first.next_cursor)
    assert [e.reason for e in rest.entries] == ["#2", "#1"]
    end = moderation_log.page(db, world.community, limit=2, cursor=rest.next_cursor)
    assert ([e.reason for e in end.entries], end.next_cursor) == (["#0"], None)
    locked = moderation_log.page(db, world.community, action=LogAction.proposal_locked)
    assert [e.reason for e in locked.entries] == ["#3", "#1"]
    assert moderation_log.page(db, world.other).entries == []


@pytest.mark.parametrize(
    "cursor", ["zz", "WyJ4Il0", "WzAsMV0", "Wy0xXQ", "WzEwMDAwMDAwMDAwMDAwMDAwMDAwMF0"]
)
def test_a_bad_cursor_or_filter_is_a_field_error(db, world, cursor):
    with pytest.raises(ValidationFailed) as caught:
        moderation_log.page(db, world.community, cursor=cursor)
    assert set(caught.value.fields) == {"cursor"}
    with pytest.raises(ValidationFailed) as caught:
        moderation_log.parse_action("nonsense")
    assert set(caught.value.fields) == {"action"}


def test_the_database_refuses_to_update_or_delete_an_entry(db, world):
    entry = moderation_log.record(
        db,
        community=world.community,
        action=LogAction.proposal_locked,
        actor=world.moderator,
        now=NOW,
        reason="Original",
    )
    for statement in (
        update(ModerationLogEntry)
        .where(ModerationLogEntry.id == entry.id)
        .values(reason="Rewritten"),
        delete(ModerationLogEntry).where(ModerationLogEntry.id == entry.id),
        text("UPDATE moderation_log SET actor_id = NULL"),
        text("DELETE FROM moderation_log"),
    ):
        with pytest.raises(IntegrityError, match="append-only"), db.begin_nested():
            db.execute(statement)
    db.expire_all()
    assert db.scalar(
        select(ModerationLogEntry.reason).where(ModerationLogEntry.id == entry.id)
    ) == ("Original")
    assert db.scalar(select(func.count(ModerationLogEntry.id))) >= 1


def test_resolving_flags_logs_through_the_hide(db, world):
    service.flag_comment(db, actor=world.fans[0], comment=world.comment, reason="Rude", now=NOW)
    service.resolve(
        db,
        actor=world.moderator,
        community=world.community,
        comment=world.comment,
        action="hide",
        reason="Rude indeed",
        now=later(1),
    )
    entry = last(db, world)
    assert (entry.action, entry.reason) == (LogAction.comment_hidden, "Rude indeed")
    # Who flagged it is nowhere in the log.
    assert world.fans[0].id not in {entry.actor_id, entry.member_id}
