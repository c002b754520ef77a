"""Appeals: once per decision, by the member it was about; moderators grant or deny."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.communities import permissions as community_permissions
from app.communities.models import Role
from app.discussion import service as discussion_service
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.moderation import appeals, members
from app.moderation.models import AppealDecision
from app.notifications.models import Notification
from app.works import service as works_service
from tests.factories import add_member, make_user
from tests.unit.moderation.conftest import NOW, World, later, make_comment


def hide_comment(db, world: World):
    return discussion_service.hide_comment(
        db, actor=world.moderator, comment=world.comment, reason="Insults", now=NOW
    )


def suspend(db, world: World, user=None):
    return members.suspend(
        db,
        actor=world.moderator,
        community=world.community,
        username=(user or world.fans[0]).username,
        days=7,
        reason="Spam",
        now=NOW,
    )


def test_the_author_appeals_a_hidden_comment_once(db, world):
    hide_comment(db, world)
    appeal = appeals.appeal(
        db,
        actor=world.author,
        community=world.community,
        comment=world.comment,
        message="  It was a joke.  ",
        now=later(1),
    )
    assert (appeal.kind, appeal.message, appeal.decided_at) == ("comment", "It was a joke.", None)
    with pytest.raises(Conflict, match="once"):
        appeals.appeal(
            db,
            actor=world.author,
            community=world.community,
            comment=world.comment,
            message="Again",
            now=later(2),
        )


def test_what_may_be_appealed_and_by_whom(db, world):
    with pytest.raises(Conflict, match="Only a comment a moderator has hidden"):
        appeals.appeal(
            db,
            actor=world.author,
            community=world.community,
            comment=world.comment,
            message="Why",
            now=NOW,
        )
    hide_comment(db, world)
    with pytest.raises(PermissionDenied):
        appeals.appeal(
            db,
            actor=world.fans[0],
            community=world.community,
            comment=world.comment,
            message="Why",
            now=NOW,
        )
    with pytest.raises(NotFound):
        appeals.appeal(
            db,
            actor=world.author,
            community=world.other,
            comment=world.comment,
            message="Why",
            now=NOW,
        )
    with pytest.raises(Conflict, match="Only a work"):
        appeals.appeal(
            db,
            actor=world.author,
            community=world.community,
            work=world.work,
            message="Why",
            now=NOW,
        )
    suspension = suspend(db, world)
    with pytest.raises(NotFound):
        appeals.appeal(
            db,
            actor=world.fans[1],
            community=world.community,
            suspension=suspension,
            message="Why",
            now=NOW,
        )
    with pytest.raises(Conflict, match="over"):
        appeals.appeal(
            db,
            actor=world.fans[0],
            community=world.community,
            suspension=suspension,
            message="Why",
            now=suspension.ends_at,
        )


@pytest.mark.parametrize("message", ["", "   ", "x" * 2001, "a\x00b"])
def test_an_appeal_needs_a_message(db, world, message):
    hide_comment(db, world)
    with pytest.raises(ValidationFailed) as caught:
        appeals.appeal(
            db,
            actor=world.author,
            community=world.community,
            comment=world.comment,
            message=message,
            now=NOW,
        )
    assert set(caught.value.fields) == {"message"}


def test_a_suspended_member_may_appeal_and_a_grant_lifts_it(db, world):
    fan = world.fans[0]
    suspension = suspend(db, world)
    appeal = appeals.appeal(
        db, actor=fan, community=world.community, suspension=suspension, message="Sorry", now=NOW
    )
    decided = appeals.decide(
        db, actor=world.moderator, appeal=appeal, decision="grant", reason="Fair", now=later(1)
    )
    assert (decided.decision, decided.decision_reason) == (AppealDecision.granted, "Fair")
    assert suspension.lifted_at == later(1)
    community_permissions.ensure_can_participate(
        db, actor=fan, community=world.community, now=later(2)
    )
    texts = [n.text for n in db.scalars(select(Notification).where(Notification.user_id == fan.id))]
    assert any("was granted: Fair" in t for t in texts)
    # One notification for one decision: not also "your suspension was lifted".
    assert not any("was lifted" in t for t in texts)


def test_granting_shows_a_comment_or_work_again_and_denying_does_not(db, world):
    hide_comment(db, world)
    works_service.hide_work(db, actor=world.moderator, work=world.work, reason="Traced", now=NOW)
    on_comment = appeals.appeal(
        db,
        actor=world.author,
        community=world.community,
        comment=world.comment,
        message="Context",
        now=NOW,
    )
    on_work = appeals.appeal(
        db,
        actor=world.author,
        community=world.community,
        work=world.work,
        message="Mine",
        now=NOW,
    )
    appeals.decide(
        db, actor=world.moderator, appeal=on_comment, decision="grant", reason="Ok", now=later(1)
    )
    appeals.decide(
        db, actor=world.moderator, appeal=on_work, decision="deny", reason="Traced", now=later(1)
    )
    assert world.comment.is_visible
    assert world.work.is_removed
    assert on_work.decision == AppealDecision.denied


def test_only_this_communitys_moderators_decide_and_only_once(db, world):
    hide_comment(db, world)
    appeal = appeals.appeal(
        db,
        actor=world.author,
        community=world.community,
        comment=world.comment,
        message="Context",
        now=NOW,
    )
    elsewhere = make_user(db)
    add_member(db, world.other, elsewhere, Role.moderator)
    for actor in (world.author, world.fans[0], elsewhere):
        with pytest.raises(PermissionDenied):
            appeals.decide(db, actor=actor, appeal=appeal, decision="grant", reason="x", now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        appeals.decide(
            db, actor=world.moderator, appeal=appeal, decision="maybe", reason="x", now=NOW
        )
    assert set(caught.value.fields) == {"decision"}
    with pytest.raises(ValidationFailed) as caught:
        appeals.decide(
            db, actor=world.moderator, appeal=appeal, decision="deny", reason=" ", now=NOW
        )
    assert set(caught.value.fields) == {"reason"}
    appeals.decide(db, actor=world.moderator, appeal=appeal, decision="deny", reason="No", now=NOW)
    with pytest.raises(Conflict, match="decided already"):
        appeals.decide(
            db, actor=world.admin, appeal=appeal, decision="grant", reason="Yes", now=later(1)
        )


def test_who_reads_an_appeal_and_the_moderators_list(db, world):
    hide_comment(db, world)
    appeal = appeals.appeal(
        db,
        actor=world.author,
        community=world.community,
        comment=world.comment,
        message="Context",
        now=NOW,
    )
    assert appeals.get_appeal(db, appeal.id, viewer=world.author) is appeal
    assert appeals.get_appeal(db, appeal.id, viewer=world.moderator) is appeal
    for viewer in (world.fans[0], world.outsider):
        with pytest.raises(NotFound):
            appeals.get_appeal(db, appeal.id, viewer=viewer)
    with pytest.raises(NotFound):
        appeals.get_appeal(db, 2**70, viewer=world.moderator)
    page = appeals.appeals(db, actor=world.moderator, community=world.community)
    assert page.items == [appeal]
    assert appeals.open_count(db, world.community) == 1
    appeals.decide(db, actor=world.moderator, appeal=appeal, decision="deny", reason="No", now=NOW)
    assert appeals.appeals(db, actor=world.moderator, community=world.community).items == []
    decided = appeals.appeals(db, actor=world.moderator, community=world.community, decided=True)
    assert decided.items == [appeal]
    with pytest.raises(PermissionDenied):
        appeals.appeals(db, actor=world.author, community=world.community)
    with pytest.raises(ValidationFailed):
        appeals.appeals(db, actor=world.moderator, community=world.community, cursor="zz")


def test_appeals_page_by_key(db, world):
    comments = [make_comment(db, world.proposal, world.author, f"#{n}") for n in range(3)]
    made = []
    for comment in comments:
        discussion_service.hide_comment(
            db, actor=world.moderator, comment=comment, reason="x", now=NOW
        )
        made.append(
            appeals.appeal(
                db,
                actor=world.author,
                community=world.community,
                comment=comment,
                message="m",
                now=NOW,
            )
        )
    first = appeals.appeals(db, actor=world.moderator, community=world.community, limit=2)
    assert first.items == made[:2]
    rest = appeals.appeals(
        db, actor=world.moderator, community=world.community, limit=2, cursor=first.next_cursor
    )
    assert (rest.items, rest.next_cursor) == (made[2:], None)
