"""Ratification publishes versions of the guidelines, with provenance, credits and history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from app.communities.models import Role
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.guidelines import service
from app.guidelines.models import Change, Credit, DocumentVersion, Source
from app.polls import service as polls_service
from app.proposals import service as proposals_service
from app.proposals.models import ProposalKind, ProposalState
from tests.factories import add_member, make_user
from tests.unit.polls.conftest import NOW, Town, vote

RULES = """\
## Depiction and age
1. **No sexualised depictions.** The character is presented as 16.
2. Keep violence non-graphic.

## Commercial use
- Small print runs at fan events are fine.
"""


def imported(db: Session, town: Town) -> DocumentVersion:
    return service.import_rules(
        db,
        actor=town.moderator,
        community=town.community,
        markdown=RULES,
        now=NOW - timedelta(days=30),
    )


def test_existing_rules_are_imported_once_as_version_one(db, town):
    version = imported(db, town)
    assert (version.number, version.source) == (1, Source.imported)
    assert version.published_by_id == town.moderator.id
    doc = service.document(db, town.community)
    assert [(s.section.number, s.section.title) for s in doc.sections] == [
        (1, "Depiction and age"),
        (2, "Commercial use"),
    ]
    assert [(c.number, c.clause.title) for c in doc.clauses] == [
        ("1.1", "No sexualised depictions"),
        ("1.2", "Keep violence non-graphic"),
        ("2.1", "Small print runs at fan events are fine"),
    ]
    assert doc.clauses[0].version.change == Change.imported
    with pytest.raises(Conflict):
        imported(db, town)


def test_only_moderators_import_and_bad_input_is_refused(db, town):
    with pytest.raises(PermissionDenied):
        service.import_rules(db, actor=town.fan, community=town.community, markdown=RULES, now=NOW)
    for bad in ("", "just words without a heading\x00", "x" * 100_001):
        with pytest.raises(ValidationFailed) as info:
            service.import_rules(
                db, actor=town.moderator, community=town.community, markdown=bad, now=NOW
            )
        assert "markdown" in info.value.fields
    assert service.latest_number(db, town.community) == 0


def test_ratifying_publishes_a_new_clause_with_provenance_and_credits(db, town, passed):
    imported(db, town)
    proposal = passed(category="Attribution")
    poll = polls_service.current_poll(db, proposal)
    assert poll is not None
    version = service.ratify(db, actor=town.moderator, proposal=proposal, note="Welcome.", now=NOW)
    assert version is not None
    assert version.number == 2
    assert version.source == Source.ratified
    assert "Added 3.1" in version.summary
    assert proposal.state == ProposalState.ratified
    made = service.made_by(db, proposal)
    assert made is not None
    assert made.clause.number == "3.1"
    assert made.clause.section.title == "Attribution"
    assert (made.proposal_id, made.revision_number, made.poll_id) == (proposal.id, 1, poll.id)
    assert made.tally == poll.tally
    assert made.note == "Welcome."
    assert {(c.credit, c.user_id) for c in service.credits(db, made)} == {
        (Credit.proposer, town.author.id),
        (Credit.ratifier, town.moderator.id),
    }
    assert service.citation(made) == f"Guideline 3.1, version 2, in force since {NOW:%Y-%m-%d}"
    assert [c.number for c in service.document(db, town.community).clauses][-1] == "3.1"
    with pytest.raises(Conflict):
        service.ratify(db, actor=town.moderator, proposal=proposal, note="", now=NOW)


def test_amend_and_repeal_change_the_clause_and_keep_history(db, town, passed):
    imported(db, town)
    amend = passed(
        "Tighten 1.2",
        "Keep violence non-graphic and off-screen.",
        kind=ProposalKind.amend,
        target_clause="1.2",
    )
    service.ratify(db, actor=town.moderator, proposal=amend, note="", now=NOW)
    clause = service.get_clause(db, town.community, "1.2")
    history = service.history(db, clause)
    assert [(v.version, v.change, v.from_version, v.to_version) for v in history] == [
        (2, Change.amended, 2, None),
        (1, Change.imported, 1, 2),
    ]
    repeal = passed(
        "Drop 2.1",
        "Print runs are covered by the rights holder's own guidelines.",
        kind=ProposalKind.repeal,
        target_clause="2.1",
        at=NOW + timedelta(days=1),
    )
    service.ratify(db, actor=town.moderator, proposal=repeal, note="", now=NOW + timedelta(days=1))
    now = service.document(db, town.community)
    assert [c.number for c in now.clauses] == ["1.1", "1.2"]
    assert now.clauses[1].version.text == "Keep violence non-graphic and off-screen."
    first = service.document(db, town.community, version=1)
    assert [c.number for c in first.clauses] == ["1.1", "1.2", "2.1"]
    assert first.clauses[1].version.text == "Keep violence non-graphic."
    changes = service.diff(db, town.community, 1, 3)
    assert [(c.number, c.change) for c in changes.changes] == [
        ("1.2", "amended"),
        ("2.1", "repealed"),
    ]
    # As of a date: the day before the amendment the imported text was in force.
    before = service.document(db, town.community, as_of=(NOW - timedelta(days=1)).date())
    assert before.version is not None
    assert before.version.number == 1


def test_amend_proposals_must_target_a_clause_in_force(db, town):
    imported(db, town)
    numbers = {c.number for c in service.current_clauses(db, town.community)}
    draft = proposals_service.ProposalDraft(title="Change it", kind="amend", target_clause="9.9")
    with pytest.raises(ValidationFailed) as info:
        proposals_service.create_proposal(
            db,
            actor=town.author,
            community=town.community,
            values=draft,
            now=NOW,
            clause_numbers=numbers,
        )
    assert "target_clause" in info.value.fields


def test_a_change_published_after_the_poll_opened_is_not_lost(db, town, passed):
    imported(db, town)
    first = passed("One", "Version A of 1.1.", kind=ProposalKind.amend, target_clause="1.1")
    second = passed("Two", "Version B of 1.1.", kind=ProposalKind.amend, target_clause="1.1")
    service.ratify(db, actor=town.moderator, proposal=first, note="", now=NOW)
    with pytest.raises(Conflict, match="changed after"):
        service.ratify(db, actor=town.moderator, proposal=second, note="", now=NOW)
    assert service.latest_number(db, town.community) == 2


def test_a_rights_holder_cosigns_where_the_community_requires_it(db, town, passed):
    town.community.ratification_requires_rights_holder = True
    proposal = passed()
    with pytest.raises(PermissionDenied):
        service.ratify(db, actor=town.fan, proposal=proposal, note="", now=NOW)
    assert service.ratify(db, actor=town.moderator, proposal=proposal, note="", now=NOW) is None
    assert proposal.state == ProposalState.passed
    version = service.ratify(
        db, actor=town.rights_holder, proposal=proposal, note="Fine by us.", now=NOW
    )
    assert version is not None
    assert version.number == 1
    made = service.made_by(db, proposal)
    assert made is not None
    ratifiers = {c.user_id for c in service.credits(db, made) if c.credit == Credit.ratifier}
    assert ratifiers == {town.moderator.id, town.rights_holder.id}


def test_returning_sends_it_back_to_deliberation(db, town, passed):
    proposal = passed()
    with pytest.raises(ValidationFailed):
        service.send_back(db, actor=town.moderator, proposal=proposal, reason=" ", now=NOW)
    service.send_back(
        db, actor=town.moderator, proposal=proposal, reason="Conflicts with clause 1.1", now=NOW
    )
    assert proposal.state == ProposalState.deliberation
    with pytest.raises(Conflict):
        service.ratify(db, actor=town.moderator, proposal=proposal, note="", now=NOW)


def test_a_proposal_that_did_not_pass_cannot_be_ratified(db, town):
    from tests.unit.polls.conftest import publish

    proposal = publish(db, town)
    with pytest.raises(Conflict):
        service.ratify(db, actor=town.moderator, proposal=proposal, note="", now=NOW)


def test_objectors_whose_objection_led_to_an_amendment_are_credited(db, town):
    from tests.unit.polls.conftest import publish

    proposal = publish(db, town)
    poll = polls_service.open_poll(db, actor=town.author, proposal=proposal, now=NOW)
    vote(db, poll, town.creator, "object", "Name the licence too.")
    polls_service.amend(
        db,
        actor=town.author,
        proposal=proposal,
        base_revision=1,
        values=proposals_service.ProposalDraft(
            title=proposal.title, norm_text="Credit the illustrator and the licence."
        ),
        message="Licence",
        now=NOW + timedelta(hours=1),
    )
    for voter in (*town.fans, town.creator):
        vote(db, poll, voter, "consent", at=NOW + timedelta(hours=2))
    polls_service.close_early(db, actor=town.moderator, poll=poll, now=NOW + timedelta(hours=3))
    service.ratify(
        db, actor=town.moderator, proposal=proposal, note="", now=NOW + timedelta(hours=4)
    )
    made = service.made_by(db, proposal)
    assert made is not None
    assert made.revision_number == 2
    assert (Credit.objector, town.creator.id) in {
        (c.credit, c.user_id) for c in service.credits(db, made)
    }
    assert made.objections == [
        {
            "round": 1,
            "reason": "Name the licence too.",
            "voter": town.creator.username,
            "voter_name": town.creator.display_name,
            "resolution": "amended",
            "ruling_reason": "",
        }
    ]


def test_as_of_and_versions_refuse_what_does_not_exist(db, town):
    imported(db, town)
    with pytest.raises(ValidationFailed):
        service.parse_as_of("2026-13-01")
    with pytest.raises(ValidationFailed) as info:
        service.document(db, town.community, as_of=date(2020, 1, 1))
    assert "first published" in info.value.fields["as_of"]
    with pytest.raises(NotFound):
        service.document(db, town.community, version=9)
    with pytest.raises(NotFound):
        service.get_clause(db, town.community, "7.7")


def test_tags_filter_to_the_clauses_that_apply(db, town):
    imported(db, town)
    clause = service.get_clause(db, town.community, "2.1")
    service.set_tags(
        db, actor=town.moderator, community=town.community, clause=clause, tags=["commercial"]
    )
    other = service.get_clause(db, town.community, "1.2")
    service.set_tags(
        db, actor=town.moderator, community=town.community, clause=other, tags=["video"]
    )
    commercial = service.document(db, town.community, tag="commercial")
    # Untagged clauses apply to every work.
    assert [c.number for c in commercial.clauses] == ["1.1", "2.1"]
    with pytest.raises(ValidationFailed):
        service.set_tags(
            db, actor=town.moderator, community=town.community, clause=clause, tags=["nope"]
        )
    with pytest.raises(PermissionDenied):
        service.set_tags(db, actor=town.fan, community=town.community, clause=clause, tags=[])


def test_the_queue_lists_passed_proposals(db, town, passed):
    proposal = passed()
    assert service.queue(db, town.community) == [proposal]
    other = make_user(db)
    add_member(db, town.community, other, Role.rights_holder)
    assert service.capacity_of(other, None, town.community) is None
