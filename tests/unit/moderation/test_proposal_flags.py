"""Flags on proposals: members flag, moderators lock the thread or dismiss; and restoring
hidden items from the queue."""

from __future__ import annotations

import pytest

from app.communities.models import Role
from app.discussion import service as discussion_service
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.moderation import service
from app.moderation.models import FlagResolution
from app.proposals import service as proposals_service
from app.works import service as works_service
from tests.factories import add_member, make_user
from tests.unit.moderation.conftest import NOW, World, later, make_published_proposal


def flag(db, world: World, n: int = 0, reason: str = "Off topic"):
    return service.flag_proposal(
        db, actor=world.fans[n], proposal=world.proposal, reason=reason, now=later(n)
    )


def test_members_flag_a_proposal_which_stays_in_view(db, world):
    flags = [flag(db, world, n) for n in range(4)]
    assert {f.proposal_id for f in flags} == {world.proposal.id}
    queue = service.queue(db, actor=world.moderator, community=world.community)
    [item] = queue.items
    assert (item.kind, item.item_id, item.count) == ("proposal", world.proposal.id, 4)
    assert (item.proposal, item.comment, item.work) == (world.proposal, None, None)
    assert not item.pending_review
    assert not item.removed
    assert item.author_id == world.author.id
    assert service.open_count(db, world.community) == 1


def test_who_may_flag_a_proposal(db, world):
    with pytest.raises(PermissionDenied, match="you wrote"):
        service.flag_proposal(db, actor=world.author, proposal=world.proposal, reason="x", now=NOW)
    with pytest.raises(PermissionDenied):
        service.flag_proposal(
            db, actor=world.outsider, proposal=world.proposal, reason="x", now=NOW
        )
    flag(db, world)
    with pytest.raises(Conflict, match="already flagged this proposal"):
        flag(db, world)


def test_a_moderator_locks_a_flagged_proposal(db, world):
    flag(db, world)
    flag(db, world, 1)
    with pytest.raises(ValidationFailed) as caught:
        service.resolve(
            db,
            actor=world.moderator,
            community=world.community,
            proposal=world.proposal,
            action="hide",
            reason="x",
            now=NOW,
        )
    assert set(caught.value.fields) == {"action"}
    with pytest.raises(ValidationFailed) as caught:
        service.resolve(
            db,
            actor=world.moderator,
            community=world.community,
            proposal=world.proposal,
            action="lock",
            reason="",
            now=NOW,
        )
    assert set(caught.value.fields) == {"reason"}
    result = service.resolve(
        db,
        actor=world.moderator,
        community=world.community,
        proposal=world.proposal,
        action="lock",
        reason="Flame war",
        now=later(5),
    )
    assert (result.action, result.resolved) == (service.Action.lock, 2)
    assert world.proposal.locked_at == later(5)
    resolved = service.flags_of(db, proposal=world.proposal)
    assert {f.resolution for f in resolved} == {FlagResolution.locked}
    assert service.queue(db, actor=world.moderator, community=world.community).items == []


def test_dismissing_a_proposals_flags(db, world):
    flag(db, world)
    result = service.resolve(
        db,
        actor=world.moderator,
        community=world.community,
        proposal=world.proposal,
        action="dismiss",
        now=later(5),
    )
    assert (result.resolved, result.restored) == (1, False)
    assert world.proposal.locked_at is None


def test_another_communitys_moderator_does_nothing_here(db, world):
    flag(db, world)
    elsewhere = make_user(db)
    add_member(db, world.other, elsewhere, Role.moderator)
    with pytest.raises(PermissionDenied):
        service.resolve(
            db,
            actor=elsewhere,
            community=world.community,
            proposal=world.proposal,
            action="dismiss",
            now=NOW,
        )
    other_proposal = make_published_proposal(db, world.other, world.outsider)
    with pytest.raises(NotFound):
        service.resolve(
            db,
            actor=world.moderator,
            community=world.community,
            proposal=other_proposal,
            action="dismiss",
            now=NOW,
        )


def test_restoring_from_the_queue_closes_open_flags_and_logs(db, world):
    service.flag_comment(db, actor=world.fans[0], comment=world.comment, reason="x", now=NOW)
    discussion_service.hide_comment(
        db, actor=world.moderator, comment=world.comment, reason="Rude", now=NOW
    )
    works_service.hide_work(db, actor=world.moderator, work=world.work, reason="Spam", now=NOW)
    hidden = service.recently_hidden(db, actor=world.moderator, community=world.community)
    assert {h.key for h in hidden} == {
        f"hidden-comment-{world.comment.id}",
        f"hidden-work-{world.work.id}",
    }
    service.restore(
        db,
        actor=world.moderator,
        community=world.community,
        comment=world.comment,
        reason="On reflection",
        now=later(1),
    )
    assert world.comment.is_visible
    assert {f.resolution for f in service.flags_of(db, comment=world.comment)} == {
        FlagResolution.dismissed
    }
    with pytest.raises(Conflict, match="shown already"):
        service.restore(
            db,
            actor=world.moderator,
            community=world.community,
            comment=world.comment,
            now=later(2),
        )
    with pytest.raises(PermissionDenied):
        service.restore(
            db, actor=world.fans[0], community=world.community, work=world.work, now=later(2)
        )
    with pytest.raises(PermissionDenied):
        service.recently_hidden(db, actor=world.fans[0], community=world.community)


def test_a_locked_proposal_still_takes_flags_and_shows_locked(db, world):
    proposals_service.set_locked(
        db, actor=world.moderator, proposal=world.proposal, locked=True, reason="x", now=NOW
    )
    flag(db, world)
    [item] = service.queue(db, actor=world.moderator, community=world.community).items
    assert item.locked
