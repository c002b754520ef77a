"""Editing: who may, revisions for every text change, stale saves refused, metadata events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.communities import service as communities_service
from app.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from app.proposals import service
from app.proposals.models import EventKind, Proposal, ProposalState, Revision
from tests.unit.proposals.conftest import edit, hours, make_proposal


def snapshot(db: Session, proposal: Proposal) -> dict[str, Any]:
    """Everything an edit could change, read back from the database."""
    db.flush()
    db.expire_all()
    fresh = db.get_one(Proposal, proposal.id)
    return {
        "text": (fresh.title, fresh.summary, fresh.rationale, fresh.norm_text),
        "revision_number": fresh.revision_number,
        "filed": (fresh.category_id, fresh.tag_names),
        "last_activity_at": fresh.last_activity_at,
        "state": fresh.state,
        "revisions": [
            (r.number, r.title, r.summary, r.rationale, r.norm_text, r.message, r.author_id)
            for r in service.revisions(db, fresh)
        ],
        "events": [(e.kind, e.detail) for e in service.timeline(db, fresh)],
    }


@pytest.fixture
def proposal(db, world, now):
    proposal = make_proposal(db, world)
    service.add_coauthor(
        db, actor=world.author, proposal=proposal, username=world.coauthor.username, now=now
    )
    return proposal


@pytest.mark.parametrize("who", ["author", "coauthor"])
def test_authors_edit_and_each_text_change_makes_a_revision(db, world, now, proposal, who):
    editor = getattr(world, who)
    later = now + hours(1)

    edit(db, proposal, editor, now=later, message="  Tighter wording  ", title="Credit artists")

    assert proposal.title == "Credit artists"
    assert proposal.revision_number == 2
    assert proposal.last_activity_at == later
    latest, first = service.revisions(db, proposal)
    assert (latest.number, latest.title, latest.message) == (2, "Credit artists", "Tighter wording")
    assert latest.author_id == editor.id
    assert latest.created_at == later
    assert (first.number, first.title) == (1, "Credit the original illustrator")
    edited = [e for e in service.timeline(db, proposal) if e.kind == EventKind.edited]
    assert [(e.actor_id, e.revision_number, e.detail) for e in edited] == [
        (editor.id, 2, "Tighter wording")
    ]


@pytest.mark.parametrize("field", ["title", "summary", "rationale", "norm_text"])
def test_every_text_field_counts_as_a_change(db, world, now, proposal, field):
    change: dict[str, Any] = {field: "Something else entirely"}
    edit(db, proposal, world.author, now=now, **change)
    assert proposal.revision_number == 2
    assert getattr(service.get_revision(db, proposal, 2), field) == "Something else entirely"


def test_a_message_is_optional(db, world, now, proposal):
    edit(db, proposal, world.author, now=now, norm_text="New text.")
    assert service.get_revision(db, proposal, 2).message == ""


def test_revisions_count_up(db, world, now, proposal):
    for n in range(2, 6):
        edit(db, proposal, world.author, now=now + hours(n), norm_text=f"Version {n}.")
        assert proposal.revision_number == n
    assert [r.number for r in service.revisions(db, proposal)] == [5, 4, 3, 2, 1]


def test_old_revisions_never_change(db, world, now, proposal):
    first = snapshot(db, proposal)["revisions"]
    edit(db, proposal, world.author, now=now + hours(1), title="Second title", norm_text="Two.")
    edit(db, proposal, world.coauthor, now=now + hours(2), title="Third title", norm_text="Three.")
    revisions = snapshot(db, proposal)["revisions"]
    assert revisions[-1] == first[0]
    assert [r[:2] for r in revisions] == [(3, "Third title"), (2, "Second title"), (1, first[0][1])]


@pytest.mark.parametrize(
    "who", ["fan", "creator", "rights_holder", "moderator", "outsider", "admin"]
)
def test_nobody_else_edits_the_text(db, world, now, who):
    proposal = make_proposal(db, world, publish=True)
    before = snapshot(db, proposal)
    with pytest.raises(PermissionDenied):
        edit(db, proposal, getattr(world, who), now=now + hours(1), title="Taken over")
    assert snapshot(db, proposal) == before


def test_anonymous_edits_need_a_sign_in(db, world, now, proposal):
    with pytest.raises(NotAuthenticated):
        edit(db, proposal, None, now=now, title="Anonymous change")


def test_a_save_from_an_older_revision_is_refused_and_changes_nothing(db, world, now, proposal):
    edit(db, proposal, world.author, now=now + hours(1), norm_text="The author's version.")
    before = snapshot(db, proposal)

    with pytest.raises(service.StaleRevision) as caught:
        edit(
            db,
            proposal,
            world.coauthor,
            now=now + hours(2),
            base_revision=1,
            norm_text="The co-author's version.",
            tags=["other"],
        )

    assert caught.value.code == "stale_revision"
    assert caught.value.status == 409
    assert caught.value.current == 2
    assert isinstance(caught.value, Conflict)
    assert snapshot(db, proposal) == before


def test_a_save_from_a_future_revision_is_refused_too(db, world, now, proposal):
    with pytest.raises(service.StaleRevision):
        edit(db, proposal, world.author, now=now, base_revision=7, title="From the future")
    assert proposal.revision_number == 1


def test_two_saves_racing_for_the_same_revision_number_lose_nothing(db, world, now, proposal):
    """The other save committed revision 2 after this one checked its base: refused as stale.

    The concurrent save is simulated by writing revision 2 behind the ORM's back, so this
    session's proposal still says revision 1 when the edit checks its base revision.
    """
    db.execute(
        insert(Revision).values(
            proposal_id=proposal.id,
            number=2,
            title=proposal.title,
            summary=proposal.summary,
            rationale=proposal.rationale,
            norm_text="The other person's text.",
            message="",
            author_id=world.coauthor.id,
            created_at=now + hours(1),
        )
    )
    assert proposal.revision_number == 1

    with pytest.raises(service.StaleRevision) as caught:
        edit(db, proposal, world.author, now=now + hours(2), norm_text="My text.")

    assert caught.value.current == 2
    # The session is still usable, the other save is intact, and this one changed nothing.
    assert proposal.norm_text != "My text."
    assert proposal.revision_number == 1
    texts = db.scalars(
        select(Revision.norm_text)
        .where(Revision.proposal_id == proposal.id)
        .order_by(Revision.number)
    ).all()
    assert texts[1] == "The other person's text."
    assert "My text." not in texts
    edited = [e for e in service.timeline(db, proposal) if e.kind == EventKind.edited]
    assert edited == []


def test_saving_without_text_changes_makes_no_revision(db, world, now, proposal):
    edit(db, proposal, world.author, now=now + hours(1), message="nothing really")
    assert proposal.revision_number == 1
    assert proposal.last_activity_at == now  # a save that changed nothing is no activity
    assert len(service.revisions(db, proposal)) == 1
    kinds = [e.kind for e in service.timeline(db, proposal)]
    assert EventKind.edited not in kinds
    assert EventKind.recategorized not in kinds


def test_metadata_changes_alone_are_recorded_as_recategorized(db, world, now, proposal):
    edit(db, proposal, world.author, now=now + hours(1), category="ai-models", tags=["LoRA", "ai"])

    assert proposal.revision_number == 1
    assert proposal.category_id == world.ai_models.id
    assert proposal.tag_names == ["ai", "lora"]
    assert proposal.last_activity_at == now + hours(1)
    [event] = [e for e in service.timeline(db, proposal) if e.kind == EventKind.recategorized]
    assert event.actor_id == world.author.id
    assert event.detail == "category AI models; tags ai, lora"
    db.expire_all()
    assert db.get_one(Proposal, proposal.id).tag_names == ["ai", "lora"]


def test_keeping_some_tags_and_adding_others(db, world, now, proposal):
    edit(db, proposal, world.author, now=now, tags=["credit", "fan-art", "new"])
    edit(db, proposal, world.author, now=now, tags=["new"])
    db.expire_all()
    assert db.get_one(Proposal, proposal.id).tag_names == ["new"]


def test_text_and_metadata_together(db, world, now, proposal):
    edit(db, proposal, world.author, now=now, norm_text="Changed.", tags=[])
    kinds = [e.kind for e in service.timeline(db, proposal)]
    assert kinds.count(EventKind.edited) == 1
    assert kinds.count(EventKind.recategorized) == 1
    assert proposal.tag_names == []


def test_edits_are_validated_like_new_drafts(db, world, now, proposal):
    before = snapshot(db, proposal)
    with pytest.raises(ValidationFailed) as caught:
        edit(
            db,
            proposal,
            world.author,
            now=now,
            title="x" * 141,
            summary="s" * 501,
            rationale="r" * 20_001,
            norm_text="n" * 20_001,
            category="nope",
            tags=["bad tag!"],
            message="m" * 301,
        )
    assert set(caught.value.fields) == {
        "title",
        "summary",
        "rationale",
        "norm_text",
        "category",
        "tags",
        "message",
    }
    assert snapshot(db, proposal) == before


def test_a_proposal_filed_under_a_since_archived_category_can_still_be_edited(
    db, world, now, proposal
):
    communities_service.update_category(
        db,
        actor=world.moderator,
        community=world.community,
        category=world.fan_art,
        archived=True,
        now=now,
    )
    edit(db, proposal, world.author, now=now + hours(1), norm_text="Still filed under fan art.")
    assert proposal.revision_number == 2
    assert proposal.category_id == world.fan_art.id
    # Moving it to another archived category is still refused.
    with pytest.raises(ValidationFailed) as caught:
        edit(db, proposal, world.author, now=now, category=world.retired.slug)
    assert set(caught.value.fields) == {"category"}


def test_published_proposals_are_edited_during_deliberation(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    edit(db, proposal, world.author, now=now + hours(1), norm_text="Refined in discussion.")
    assert proposal.state == ProposalState.deliberation
    assert proposal.revision_number == 2


def test_a_withdrawn_proposal_cannot_be_edited(db, world, now, proposal):
    service.withdraw(db, actor=world.author, proposal=proposal, reason="", now=now)
    before = snapshot(db, proposal)
    for editor in (world.author, world.coauthor):
        with pytest.raises(Conflict) as caught:
            edit(db, proposal, editor, now=now + hours(1), title="Too late")
        assert "withdrawn" in caught.value.message
    assert snapshot(db, proposal) == before


@pytest.mark.parametrize(
    "state", [ProposalState.voting, ProposalState.passed, ProposalState.ratified]
)
def test_text_is_frozen_outside_draft_and_deliberation(db, world, now, state):
    proposal = make_proposal(db, world, publish=True)
    proposal.state = state
    db.flush()
    with pytest.raises(Conflict):
        edit(db, proposal, world.author, now=now, title="Changed late")
    assert proposal.revision_number == 1


def test_a_locked_proposal_cannot_be_edited_by_its_authors(db, world, now, proposal):
    service.publish(db, actor=world.author, proposal=proposal, now=now)
    service.set_locked(
        db, actor=world.moderator, proposal=proposal, locked=True, reason="Heated", now=now
    )
    before = snapshot(db, proposal)
    with pytest.raises(Conflict) as caught:
        edit(db, proposal, world.coauthor, now=now + hours(1), title="Anyway")
    assert "locked" in caught.value.message
    assert snapshot(db, proposal) == before

    service.set_locked(
        db, actor=world.moderator, proposal=proposal, locked=False, reason="", now=now
    )
    edit(db, proposal, world.coauthor, now=now + hours(2), title="Calmer now")
    assert proposal.revision_number == 2


def test_revision_count_query_agrees(db, world, now, proposal):
    edit(db, proposal, world.author, now=now, title="Second")
    count = db.scalar(select(func.count(Revision.id)).where(Revision.proposal_id == proposal.id))
    assert count == proposal.revision_number == 2


def test_a_nul_character_in_an_edit_is_a_field_error(db, world, now, proposal):
    before = snapshot(db, proposal)
    with pytest.raises(ValidationFailed) as caught:
        edit(db, proposal, world.author, now=now, norm_text="a\x00b", message="why\x00")
    assert set(caught.value.fields) == {"norm_text", "message"}
    assert snapshot(db, proposal) == before
