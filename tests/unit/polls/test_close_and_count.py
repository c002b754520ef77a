"""Objections, rulings, amendment rounds, closing (early, at its time, by the sweep), export."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.polls import service
from app.polls.models import Outcome
from app.proposals import service as proposals_service
from app.proposals.models import EventKind, ProposalEvent, ProposalState
from tests.unit.polls.conftest import NOW, set_policy, vote


def amend(db, proposal, actor, norm_text: str, at=NOW):
    values = proposals_service.ProposalDraft(
        title=proposal.title, summary=proposal.summary, norm_text=norm_text
    )
    return service.amend(
        db,
        actor=actor,
        proposal=proposal,
        base_revision=proposal.revision_number,
        values=values,
        message="Answering the objection",
        now=at + timedelta(hours=1),
    )


def test_an_objection_blocks_under_any_blocks_until_ruled_not_paramount(db, town, open_poll):
    poll = open_poll()
    for fan in town.fans:
        vote(db, poll, fan, "consent")
    objection = vote(db, poll, town.creator, "object", "Tributes would be banned.")
    tally = service.tally_of(db, poll)
    assert (tally.outcome, tally.decided_by, tally.open_objections) == ("rejected", "objection", 1)
    with pytest.raises(PermissionDenied):
        service.rule_not_paramount(
            db, actor=town.author, poll=poll, ballot_id=objection.id, reason="No", now=NOW
        )
    with pytest.raises(ValidationFailed):
        service.rule_not_paramount(
            db, actor=town.moderator, poll=poll, ballot_id=objection.id, reason=" ", now=NOW
        )
    service.rule_not_paramount(
        db,
        actor=town.moderator,
        poll=poll,
        ballot_id=objection.id,
        reason="Tributes are covered by clause 2.",
        now=NOW,
    )
    db.refresh(objection)
    tally = service.tally_of(db, poll)
    assert tally.passed
    assert tally.positions["concern"].ballots == 1
    assert tally.ruled_not_paramount == 1
    with pytest.raises(Conflict, match="ruled on already"):
        service.rule_not_paramount(
            db, actor=town.moderator, poll=poll, ballot_id=objection.id, reason="Again", now=NOW
        )


def test_the_objector_withdraws_by_changing_their_ballot(db, town, open_poll):
    poll = open_poll()
    vote(db, poll, town.fan, "consent")
    vote(db, poll, town.creator, "object", "Too broad.")
    vote(db, poll, town.creator, "concern", "Still broad, but I can live with it.")
    assert service.objections(db, poll) == []
    assert service.tally_of(db, poll).passed


def test_amending_starts_a_new_round_where_earlier_ballots_do_not_count(
    db, town, proposal, open_poll
):
    poll = open_poll()
    old = vote(db, poll, town.fan, "consent")
    vote(db, poll, town.creator, "object", "Name the licence too.")
    amend(
        db, proposal, town.author, "Every derivative drawing credits the illustrator and licence."
    )
    assert poll.current_round == 2
    assert [(r.number, r.revision_number) for r in service.rounds(db, poll)] == [(1, 1), (2, 2)]
    assert service.my_ballot(db, poll, town.fan) is None
    assert service.my_history(db, poll, town.fan) == [old]
    assert service.tally_of(db, poll).participants == 0
    # The new round runs for the full duration from the amendment.
    assert poll.closes_at == NOW + timedelta(hours=1, days=7)
    kinds = db.scalars(
        select(ProposalEvent.kind).where(ProposalEvent.proposal_id == proposal.id)
    ).all()
    assert EventKind.round_started in kinds


def test_rounds_are_limited_and_a_refused_amendment_changes_nothing(db, town, proposal, open_poll):
    set_policy(db, town, max_rounds=2)
    poll = open_poll()
    amend(db, proposal, town.author, "Second text.")
    with pytest.raises(Conflict, match="2 rounds"):
        amend(db, proposal, town.author, "Third text.")
    db.refresh(proposal)
    assert proposal.norm_text == "Second text."
    assert proposal.revision_number == 2
    assert poll.current_round == 2


def test_only_authors_amend(db, town, proposal, open_poll):
    open_poll()
    with pytest.raises(PermissionDenied):
        amend(db, proposal, town.fan, "Mine now.")


def test_a_moderator_closes_early_and_the_tally_is_frozen(db, town, proposal, open_poll):
    poll = open_poll()
    for fan in town.fans:
        vote(db, poll, fan, "consent")
    with pytest.raises(PermissionDenied):
        service.close_early(db, actor=town.author, poll=poll, now=NOW + timedelta(hours=2))
    service.close_early(db, actor=town.moderator, poll=poll, now=NOW + timedelta(hours=2))
    assert poll.outcome == Outcome.passed
    assert proposal.state == ProposalState.passed
    assert poll.closed_by_id == town.moderator.id
    assert poll.tally is not None
    assert poll.tally["participants"] == 4
    # Nothing changes a closed poll.
    with pytest.raises(Conflict):
        vote(db, poll, town.creator, "object", at=NOW + timedelta(hours=3))
    with pytest.raises(Conflict):
        service.close_early(db, actor=town.moderator, poll=poll, now=NOW + timedelta(hours=3))


def test_a_poll_past_its_time_reads_as_closed_and_the_sweep_closes_it(
    db, town, proposal, open_poll
):
    poll = open_poll(duration_days=1)
    vote(db, poll, town.fan, "consent")
    later = NOW + timedelta(days=2)
    assert service.is_open(poll, NOW + timedelta(hours=1))
    assert not service.is_open(poll, later)
    # Hidden until close: nothing before; the count as it stood once the time is past.
    assert service.results(db, poll, NOW + timedelta(hours=1)) is None
    seen = service.results(db, poll, later)
    assert seen is not None
    assert service.outcome_of(poll, seen, later) == Outcome(seen.outcome)
    assert poll.closed_at is None
    assert service.has_due_polls(db, later)
    assert service.sweep(db, later) == 1
    assert poll.closed_at == poll.closes_at
    assert proposal.state == ProposalState(poll.outcome.value)
    assert service.sweep(db, later) == 0
    assert not service.has_due_polls(db, later)


def test_withdrawing_during_a_poll_ends_it_as_withdrawn(db, town, proposal, open_poll):
    poll = open_poll()
    vote(db, poll, town.fan, "consent")
    proposals_service.withdraw(db, actor=town.author, proposal=proposal, reason="", now=NOW)
    assert not service.is_open(poll, NOW)
    assert service.outcome_of(poll, None, NOW) == Outcome.withdrawn
    assert service.sweep(db, NOW + timedelta(minutes=1)) == 1
    assert poll.outcome == Outcome.withdrawn
    assert proposal.state == ProposalState.withdrawn


def test_live_results_show_while_open(db, town, open_poll):
    poll = open_poll(actor=town.moderator, results="live")
    vote(db, poll, town.fan, "consent")
    live = service.results(db, poll, NOW + timedelta(hours=1))
    assert live is not None
    assert live.participants == 1
    assert service.outcome_of(poll, live, NOW + timedelta(hours=1)) is None


def test_the_export_recounts_to_the_frozen_tally(db, town, proposal, open_poll):
    set_policy(db, town, weight_policy="role")
    poll = open_poll()
    vote(db, poll, town.fan, "consent")
    vote(db, poll, town.creator, "concern", "Needs an example.")
    objection = vote(db, poll, town.rights_holder, "object", "Too strict.")
    vote(db, poll, town.moderator, "stand_aside")
    service.rule_not_paramount(
        db,
        actor=town.moderator,
        poll=poll,
        ballot_id=objection.id,
        reason="Not a blocker.",
        now=NOW,
    )
    with pytest.raises(Conflict):
        service.export(db, poll)
    service.close_early(db, actor=town.moderator, poll=poll, now=NOW + timedelta(hours=1))
    data = service.export(db, poll)
    assert {b["voter"] for b in data["ballots"]} == {
        town.fan.username,
        town.creator.username,
        town.rights_holder.username,
        town.moderator.username,
    }
    assert sum(b["weight"] for b in data["ballots"]) == 1 + 2 + 3 + 1
    result = service.verify(data)
    assert result.matches, result.differences
    # A doctored export does not match.
    data["ballots"][0]["position"] = "object"
    doctored = service.verify(data)
    assert not doctored.matches
    assert any(d.startswith("positions") for d in doctored.differences)


def test_anonymous_exports_name_nobody(db, town, open_poll):
    poll = open_poll(actor=town.moderator, ballots="anonymous")
    vote(db, poll, town.fan, "consent")
    vote(db, poll, town.creator, "concern", "Careful.")
    service.close_early(db, actor=town.moderator, poll=poll, now=NOW + timedelta(hours=1))
    data = service.export(db, poll)
    assert all("voter" not in b and "reason" not in b for b in data["ballots"])
    receipts = [b["receipt"] for b in data["ballots"]]
    assert receipts == sorted(receipts)


def test_verify_refuses_what_is_not_an_export():
    with pytest.raises(ValidationFailed):
        service.verify({"policy": {}, "roll": []})
