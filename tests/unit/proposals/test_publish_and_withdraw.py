"""Publishing opens deliberation with its minimum period; the author may withdraw."""

from __future__ import annotations

import pytest

from app.communities import service as communities_service
from app.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from app.proposals import service
from app.proposals.models import EventKind, ProposalState
from tests.unit.proposals.conftest import edit, hours, make_proposal


def test_publishing_opens_deliberation(db, world, now):
    proposal = make_proposal(db, world, now=now - hours(5))
    edit(db, proposal, world.author, now=now - hours(1), norm_text="Final wording.")

    service.publish(db, actor=world.author, proposal=proposal, now=now)

    assert proposal.state == ProposalState.deliberation
    assert proposal.published_at == now
    assert proposal.listed_at == now
    assert proposal.last_activity_at == now
    assert proposal.created_at == now - hours(5)
    # The community's default minimum deliberation is 72 hours.
    assert world.community.min_deliberation_hours == 72
    assert proposal.voting_may_open_at == now + hours(72)
    assert proposal.deadline_at == proposal.voting_may_open_at
    [event] = [e for e in service.timeline(db, proposal) if e.kind == EventKind.published]
    assert (event.actor_id, event.revision_number, event.created_at) == (world.author.id, 2, now)


@pytest.mark.parametrize("min_hours", [0, 1, 24 * 14])
def test_the_minimum_period_is_the_communitys(db, world, now, min_hours):
    communities_service.update_community(
        db, actor=world.moderator, community=world.community, min_deliberation_hours=min_hours
    )
    proposal = make_proposal(db, world, publish=True)
    assert proposal.voting_may_open_at == now + hours(min_hours)


def test_a_coauthor_may_publish(db, world, now):
    proposal = make_proposal(db, world)
    service.add_coauthor(
        db, actor=world.author, proposal=proposal, username=world.coauthor.username, now=now
    )
    service.publish(db, actor=world.coauthor, proposal=proposal, now=now)
    assert proposal.state == ProposalState.deliberation


@pytest.mark.parametrize("who", ["fan", "moderator", "admin", "outsider"])
def test_only_authors_publish(db, world, now, who):
    proposal = make_proposal(db, world)
    with pytest.raises(PermissionDenied):
        service.publish(db, actor=getattr(world, who), proposal=proposal, now=now)
    assert proposal.state == ProposalState.draft
    assert proposal.published_at is None


def test_anonymous_cannot_publish(db, world, now):
    proposal = make_proposal(db, world)
    with pytest.raises(NotAuthenticated):
        service.publish(db, actor=None, proposal=proposal, now=now)


@pytest.mark.parametrize("norm_text", ["", "   \n\t "])
def test_a_proposal_without_norm_text_cannot_be_published(db, world, now, norm_text):
    proposal = make_proposal(db, world, norm_text=norm_text)
    with pytest.raises(ValidationFailed) as caught:
        service.publish(db, actor=world.author, proposal=proposal, now=now)
    assert set(caught.value.fields) == {"norm_text"}
    assert proposal.state == ProposalState.draft
    assert proposal.published_at is None


def test_publishing_twice_is_a_conflict(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    with pytest.raises(Conflict):
        service.publish(db, actor=world.author, proposal=proposal, now=now + hours(1))
    assert proposal.published_at == now
    events = [e for e in service.timeline(db, proposal) if e.kind == EventKind.published]
    assert len(events) == 1


def test_a_locked_draft_cannot_be_published(db, world, now):
    proposal = make_proposal(db, world)
    proposal.locked_at = now
    db.flush()
    with pytest.raises(Conflict):
        service.publish(db, actor=world.author, proposal=proposal, now=now)
    assert proposal.state == ProposalState.draft


@pytest.mark.parametrize("published", [False, True], ids=["draft", "deliberation"])
def test_the_author_withdraws(db, world, now, published):
    proposal = make_proposal(db, world, publish=published, now=now - hours(2))

    service.withdraw(db, actor=world.author, proposal=proposal, reason="  Superseded  ", now=now)

    assert proposal.state == ProposalState.withdrawn
    assert proposal.withdrawn_at == now
    assert proposal.deadline_at is None
    assert proposal.last_activity_at == now
    [event] = [e for e in service.timeline(db, proposal) if e.kind == EventKind.withdrawn]
    assert (event.actor_id, event.detail) == (world.author.id, "Superseded")


def test_withdrawn_proposals_stay_readable_with_their_history(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    service.withdraw(db, actor=world.author, proposal=proposal, reason="", now=now + hours(1))
    seen = service.get_proposal(db, proposal.id, viewer=None)
    assert seen.norm_text == proposal.norm_text
    assert [r.number for r in service.revisions(db, seen)] == [1]
    assert [e.kind for e in service.timeline(db, seen)] == [
        EventKind.created,
        EventKind.published,
        EventKind.withdrawn,
    ]


def test_a_coauthor_may_not_withdraw(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    service.add_coauthor(
        db, actor=world.author, proposal=proposal, username=world.coauthor.username, now=now
    )
    with pytest.raises(PermissionDenied):
        service.withdraw(db, actor=world.coauthor, proposal=proposal, reason="", now=now)
    assert proposal.state == ProposalState.deliberation


@pytest.mark.parametrize("who", ["fan", "moderator", "admin"])
def test_nobody_else_withdraws(db, world, now, who):
    proposal = make_proposal(db, world, publish=True)
    with pytest.raises(PermissionDenied):
        service.withdraw(db, actor=getattr(world, who), proposal=proposal, reason="", now=now)
    assert proposal.state == ProposalState.deliberation


def test_anonymous_cannot_withdraw(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    with pytest.raises(NotAuthenticated):
        service.withdraw(db, actor=None, proposal=proposal, reason="", now=now)


def test_a_withdrawal_reason_is_limited(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    with pytest.raises(ValidationFailed) as caught:
        service.withdraw(db, actor=world.author, proposal=proposal, reason="r" * 301, now=now)
    assert set(caught.value.fields) == {"reason"}
    assert proposal.state == ProposalState.deliberation
    withdrawn = service.withdraw(
        db, actor=world.author, proposal=proposal, reason="r" * 300, now=now
    )
    assert withdrawn.state == ProposalState.withdrawn


def test_after_withdrawal_nothing_moves(db, world, now):
    proposal = make_proposal(db, world)
    service.withdraw(db, actor=world.author, proposal=proposal, reason="", now=now)
    with pytest.raises(Conflict):
        service.publish(db, actor=world.author, proposal=proposal, now=now + hours(1))
    with pytest.raises(Conflict):
        service.withdraw(db, actor=world.author, proposal=proposal, reason="", now=now + hours(1))
    with pytest.raises(Conflict):
        edit(db, proposal, world.author, now=now + hours(1), title="Revived")
    assert proposal.state == ProposalState.withdrawn
    assert proposal.withdrawn_at == now
    assert proposal.published_at is None
    assert proposal.revision_number == 1


def test_a_nul_character_in_the_withdrawal_reason_is_a_field_error(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    with pytest.raises(ValidationFailed) as caught:
        service.withdraw(db, actor=world.author, proposal=proposal, reason="a\x00b", now=now)
    assert set(caught.value.fields) == {"reason"}
    assert proposal.state == ProposalState.deliberation
