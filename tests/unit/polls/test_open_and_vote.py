"""Opening a poll freezes the roll and weights; members on the roll cast and change ballots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.communities import service as communities_service
from app.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from app.polls import service
from app.polls.models import Ballot, Position, Voter
from app.proposals.models import ProposalState
from tests.unit.polls.conftest import NOW, publish, set_policy, vote


def test_opening_moves_the_proposal_to_voting_and_freezes_the_roll(db, town, proposal, open_poll):
    poll = open_poll()
    assert proposal.state == ProposalState.voting
    assert proposal.voting_opened_at == NOW
    assert poll.closes_at == NOW + timedelta(days=7)
    assert proposal.deadline_at == poll.closes_at
    roll = {v.user_id: v for v in db.scalars(select(Voter).where(Voter.poll_id == poll.id))}
    # Everyone who had joined; not the newcomer, who joins an hour later.
    assert town.newcomer.id not in roll
    assert len(roll) == 8
    assert roll[town.creator.id].weight == 1
    assert roll[town.creator.id].constituency == "creator"
    assert [r.revision_number for r in service.rounds(db, poll)] == [1]


def test_role_weights_are_frozen_when_the_poll_opens(db, town, proposal, open_poll):
    set_policy(db, town, weight_policy="role", **{"role_weights.creator": 5})
    poll = open_poll()
    voter = service.voter_of(db, poll, town.creator)
    assert voter is not None
    assert voter.weight == 5
    # Promoting the creator after the poll opened changes nothing in it.
    communities_service.change_role(
        db,
        actor=town.moderator,
        community=town.community,
        username=town.creator.username,
        role="rights_holder",
        reason="Official account",
        now=NOW,
    )
    db.refresh(voter)
    assert (voter.role.value, voter.weight) == ("creator", 5)


def test_constituency_policy_puts_moderators_in_their_group(db, town, proposal, open_poll):
    set_policy(db, town, weight_policy="constituency", moderators_vote_as="creator")
    poll = open_poll()
    voter = service.voter_of(db, poll, town.moderator)
    assert voter is not None
    assert voter.constituency == "creator"
    assert voter.weight == 1


def test_only_authors_and_moderators_open_and_only_after_deliberation(db, town, proposal):
    with pytest.raises(PermissionDenied):
        service.open_poll(db, actor=town.fan, proposal=proposal, now=NOW)
    with pytest.raises(NotAuthenticated):
        service.open_poll(db, actor=None, proposal=proposal, now=NOW)
    early = publish(db, town, at=NOW - timedelta(hours=1), title="Too early to poll")
    with pytest.raises(Conflict, match="minimum deliberation"):
        service.open_poll(db, actor=town.author, proposal=early, now=NOW)
    poll = service.open_poll(db, actor=town.moderator, proposal=proposal, now=NOW)
    assert poll.number == 1
    with pytest.raises(Conflict):
        service.open_poll(db, actor=town.moderator, proposal=proposal, now=NOW)


def test_authors_may_set_the_duration_only(db, town, proposal, open_poll):
    with pytest.raises(PermissionDenied):
        open_poll(quorum=0)
    with pytest.raises(ValidationFailed) as info:
        open_poll(duration_days=0)
    assert "duration_days" in info.value.fields
    poll = open_poll(duration_days=3)
    assert poll.closes_at == NOW + timedelta(days=3)


def test_moderators_may_override_the_rules_of_one_poll(db, town, proposal, open_poll):
    poll = open_poll(actor=town.moderator, quorum=50, results="live")
    policy = service.policy_in(poll)
    assert (policy.quorum, policy.results.value) == (50, "live")
    assert service.policy_of(db, town.community).quorum == 25


def test_a_ballot_is_cast_changed_and_only_the_latest_counts(db, town, open_poll):
    poll = open_poll()
    first = vote(db, poll, town.fan, "consent")
    assert len(first.receipt) == 16
    second = vote(db, poll, town.fan, "object", "It would ban tributes.")
    db.refresh(first)
    assert not first.latest
    assert second.latest
    assert service.my_ballot(db, poll, town.fan) == second
    assert [b.position for b in service.my_history(db, poll, town.fan)] == [
        Position.object,
        Position.consent,
    ]
    assert [b.id for b in service.objections(db, poll)] == [second.id]


@pytest.mark.parametrize(
    ("position", "reason", "field"),
    [
        ("concern", "", "reason"),
        ("object", "  ", "reason"),
        ("maybe", "", "position"),
        ("consent", "x" * 2001, "reason"),
        ("consent", "nul\x00", "reason"),
    ],
)
def test_bad_ballots_are_refused_and_nothing_is_stored(
    db, town, open_poll, position, reason, field
):
    poll = open_poll()
    with pytest.raises(ValidationFailed) as info:
        service.cast_ballot(
            db, actor=town.fan, poll=poll, position=position, reason=reason, now=NOW
        )
    assert field in info.value.fields
    assert db.scalar(select(func.count(Ballot.id)).where(Ballot.poll_id == poll.id)) == 0


def test_outsiders_and_late_joiners_cannot_vote(db, town, open_poll):
    poll = open_poll()
    with pytest.raises(PermissionDenied, match="members"):
        vote(db, poll, town.outsider, "consent")
    with pytest.raises(PermissionDenied, match="joined after"):
        vote(db, poll, town.newcomer, "consent")
    communities_service.leave(db, actor=town.fan, community=town.community, now=NOW)
    with pytest.raises(PermissionDenied, match="members"):
        vote(db, poll, town.fan, "consent")


def test_minimum_membership_age(db, town, proposal, open_poll):
    set_policy(db, town, min_membership_days=40)
    with pytest.raises(Conflict, match="Nobody could vote"):
        open_poll()
    set_policy(db, town, min_membership_days=20)
    poll = open_poll()
    assert service.roll_size(db, poll) == 8


def test_no_ballots_after_the_closing_time(db, town, open_poll):
    poll = open_poll(duration_days=1)
    with pytest.raises(Conflict, match="closed"):
        vote(db, poll, town.fan, "consent", at=NOW + timedelta(days=1))
