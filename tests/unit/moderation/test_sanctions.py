"""Warnings and suspensions: who may give them, to whom, what they do, and how they end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import service as accounts_service
from app.accounts.models import UserSession
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import MemberWarning, Role, Suspension
from app.config import Settings
from app.discussion import service as discussion_service
from app.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from app.moderation import members
from app.notifications.models import Kind, Notification
from tests.conftest import make_settings
from tests.factories import add_member, make_user
from tests.unit.moderation.conftest import NOW, World, later, make_comment


def warn(db, world: World, username: str | None = None, **kw):
    values = {"message": "Please keep it civil.", "reason": "", "now": NOW, **kw}
    return members.warn(
        db,
        actor=values.pop("actor", world.moderator),
        community=values.pop("community", world.community),
        username=username or world.fans[0].username,
        **values,
    )


def suspend(db, world: World, username: str | None = None, **kw):
    values = {"days": 7, "reason": "Spam links", "now": NOW, **kw}
    return members.suspend(
        db,
        actor=values.pop("actor", world.moderator),
        community=values.pop("community", world.community),
        username=username or world.fans[0].username,
        **values,
    )


def notifications(db, user) -> list[Notification]:
    return list(
        db.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


# --- Warnings ---------------------------------------------------------------------------


def test_a_moderator_warns_a_member_who_is_told(db, world):
    warning = warn(db, world, reason="Tone")
    assert (warning.user_id, warning.warned_by_id) == (world.fans[0].id, world.moderator.id)
    assert warning.message == "Please keep it civil."
    assert warning.acknowledged_at is None
    [note] = notifications(db, world.fans[0])
    assert note.kind == Kind.moderation
    assert note.url.endswith(f"/moderation/mine#warning-{warning.id}")
    assert "Please keep it civil" not in note.text


def test_only_this_communitys_moderators_warn(db, world):
    outsider_mod = make_user(db)
    add_member(db, world.other, outsider_mod, Role.moderator)  # moderator elsewhere
    for actor, error in (
        (world.fans[1], PermissionDenied),
        (outsider_mod, PermissionDenied),
        (None, NotAuthenticated),
    ):
        with pytest.raises(error):
            warn(db, world, actor=actor)
    assert warn(db, world, actor=world.admin).warned_by_id == world.admin.id


def test_whom_a_moderator_may_warn(db, world):
    with pytest.raises(PermissionDenied, match="yourself"):
        warn(db, world, world.moderator.username)
    with pytest.raises(NotFound, match="not a member"):
        warn(db, world, world.outsider.username)
    with pytest.raises(NotFound):
        warn(db, world, "nobody_here")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"message": "  "}, "message"),
        ({"message": "x" * 2001}, "message"),
        ({"message": "a\x00b"}, "message"),
        ({"reason": "x" * 501}, "reason"),
    ],
)
def test_a_warning_needs_a_message(db, world, values, field):
    with pytest.raises(ValidationFailed) as caught:
        warn(db, world, **values)
    assert set(caught.value.fields) == {field}
    assert db.scalar(select(func.count(MemberWarning.id))) == 0


def test_an_unread_warning_stops_posting_until_acknowledged(db, world):
    fan = world.fans[0]
    warning = warn(db, world)
    with pytest.raises(community_permissions.WarningUnread) as caught:
        make_comment(db, world.proposal, fan, "Hello")
    assert caught.value.code == "warning_unacknowledged"
    # Only in that community.
    community_permissions.ensure_can_participate(db, actor=fan, community=world.other, now=NOW)
    with pytest.raises(NotFound):
        members.acknowledge(db, actor=world.fans[1], warning=warning, now=later(1))
    members.acknowledge(db, actor=fan, warning=warning, now=later(1))
    members.acknowledge(db, actor=fan, warning=warning, now=later(9))
    assert warning.acknowledged_at == later(1)
    assert make_comment(db, world.proposal, fan, "Hello again").author_id == fan.id


def test_a_member_reads_only_their_own_warnings(db, world):
    warning = warn(db, world)
    assert members.get_warning(db, warning.id, viewer=world.fans[0]) is warning
    for viewer in (world.fans[1], world.moderator):
        with pytest.raises(NotFound):
            members.get_warning(db, warning.id, viewer=viewer)
    with pytest.raises(NotFound):
        members.get_warning(db, 2**70, viewer=world.fans[0])
    assert members.my_warnings(db, world.fans[0], pending_only=True) == [warning]
    assert world.fans[0].moderation_warnings == [warning]


# --- Suspensions ------------------------------------------------------------------------


def test_a_suspension_refuses_the_member_ends_their_sessions_and_tells_them(db, world):
    fan = world.fans[0]
    settings = make_settings("sqlite://")
    accounts_service.start_session(db, user=fan, now=NOW, settings=settings)
    suspension = suspend(db, world)
    assert suspension.ends_at == NOW + timedelta(days=7)
    sessions = select(func.count(UserSession.id)).where(UserSession.user_id == fan.id)
    assert db.scalar(sessions) == 0
    [note] = notifications(db, fan)
    assert "until Dec 8, 2026 12:00 UTC" in note.text
    with pytest.raises(community_permissions.Suspended) as caught:
        make_comment(db, world.proposal, fan, "Hi", now=later(1))
    assert caught.value.code == "suspended"
    assert caught.value.status == 403
    assert "You are suspended in this community until 2026-12-08 12:00 UTC" in caught.value.message
    # Elsewhere they are free, and here again once it is over.
    community_permissions.ensure_can_participate(db, actor=fan, community=world.other, now=NOW)
    after = suspension.ends_at + timedelta(seconds=1)
    assert make_comment(db, world.proposal, fan, "Back", now=after).author_id == fan.id


def test_who_may_suspend_whom(db, world):
    with pytest.raises(PermissionDenied):
        suspend(db, world, actor=world.fans[1])
    elsewhere = make_user(db)
    add_member(db, world.other, elsewhere, Role.moderator)
    with pytest.raises(PermissionDenied):
        suspend(db, world, actor=elsewhere)
    with pytest.raises(PermissionDenied, match="yourself"):
        suspend(db, world, world.moderator.username)
    second = world.fans[4]
    communities_service.change_role(
        db,
        actor=world.moderator,
        community=world.community,
        username=second.username,
        role="moderator",
        reason="Helps",
        now=NOW,
    )
    with pytest.raises(PermissionDenied, match="change their role"):
        suspend(db, world, second.username)
    with pytest.raises(NotFound):
        suspend(db, world, world.outsider.username)
    assert db.scalar(select(func.count(Suspension.id))) == 0


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"days": 0}, {"days"}),
        ({"days": 366}, {"days"}),
        ({"days": None}, {"days"}),
        ({"reason": " "}, {"reason"}),
        ({"days": -1, "reason": ""}, {"days", "reason"}),
    ],
)
def test_a_suspension_needs_a_period_and_a_reason(db, world, values, fields):
    with pytest.raises(ValidationFailed) as caught:
        suspend(db, world, **values)
    assert set(caught.value.fields) == fields


def test_one_suspension_at_a_time_and_lifting_it(db, world):
    fan = world.fans[0]
    suspend(db, world)
    with pytest.raises(Conflict, match="lift that suspension first"):
        suspend(db, world, days=30)
    with pytest.raises(ValidationFailed):
        members.lift(
            db,
            actor=world.moderator,
            community=world.community,
            username=fan.username,
            reason="",
            now=later(1),
        )
    with pytest.raises(PermissionDenied):
        members.lift(
            db,
            actor=fan,
            community=world.community,
            username=fan.username,
            reason="Me",
            now=later(1),
        )
    lifted = members.lift(
        db,
        actor=world.moderator,
        community=world.community,
        username=fan.username,
        reason="Apologised",
        now=later(1),
    )
    assert (lifted.lifted_at, lifted.lift_reason) == (later(1), "Apologised")
    assert not lifted.is_active(later(2))
    assert make_comment(db, world.proposal, fan, "Thanks", now=later(2)).author_id == fan.id
    with pytest.raises(Conflict, match="not suspended"):
        members.lift(
            db,
            actor=world.moderator,
            community=world.community,
            username=fan.username,
            reason="Again",
            now=later(3),
        )
    assert [n.text.split(":")[0] for n in notifications(db, fan)][-1].startswith(
        "Your suspension in"
    )
    suspend(db, world, now=later(4))  # a new one may follow


def test_leaving_and_joining_again_does_not_shed_a_suspension(db, world):
    fan = world.fans[0]
    suspend(db, world)
    communities_service.leave(db, actor=fan, community=world.community, now=later(1))
    with pytest.raises(community_permissions.Suspended):
        communities_service.join(db, actor=fan, community=world.community, now=later(2))


def test_the_list_of_suspensions_in_force(db, world):
    first = suspend(db, world, days=3)
    suspend(db, world, world.fans[1].username, days=1)
    lifted = suspend(db, world, world.fans[2].username)
    members.lift(
        db,
        actor=world.moderator,
        community=world.community,
        username=world.fans[2].username,
        reason="Ok",
        now=later(1),
    )
    found = members.suspensions(db, actor=world.moderator, community=world.community, now=later(2))
    assert [s.user_id for s in found] == [world.fans[1].id, world.fans[0].id]
    assert lifted not in found
    assert first in found
    with pytest.raises(PermissionDenied):
        members.suspensions(db, actor=world.fans[3], community=world.community, now=NOW)


def test_a_members_record(db, world):
    fan = world.author
    warn(db, world, fan.username)
    suspend(db, world, fan.username)
    discussion_service.hide_comment(
        db, actor=world.moderator, comment=world.comment, reason="Rude", now=NOW
    )
    record = members.member_record(
        db, actor=world.moderator, community=world.community, username=fan.username, now=later(1)
    )
    assert record.active is not None
    assert [h.comment for h in record.hidden_comments] == [world.comment]
    assert len(record.warnings) == 1
    assert record.pending_warnings == record.warnings
    assert {e.member_id for e in record.log} == {fan.id}
    mine = members.my_record(db, actor=fan, community=world.community, now=later(1))
    assert mine.log == []
    assert mine.active == record.active
    with pytest.raises(PermissionDenied):
        members.member_record(
            db, actor=world.fans[0], community=world.community, username=fan.username, now=NOW
        )
    with pytest.raises(NotAuthenticated):
        members.my_record(db, actor=None, community=world.community, now=NOW)


def test_a_suspended_member_is_refused_by_the_permission_with_settings_too(db, world):
    db.info[Settings] = make_settings("sqlite://")
    suspend(db, world)
    with pytest.raises(community_permissions.Suspended):
        discussion_service.edit_comment(
            db, actor=world.fans[0], comment=make_comment_of(db, world), body="x", now=later(1)
        )


def make_comment_of(db, world: World):
    """A comment by fans[0], written before their suspension began."""
    comment = world.comment
    comment.author_id = world.fans[0].id
    db.flush()
    return comment
