"""Moderators re-file proposals (category, tags) and lock or unlock them, with reasons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from app.proposals import service
from app.proposals.models import EventKind, Proposal, ProposalEvent, ProposalState
from tests.unit.proposals.conftest import edit, hours, make_proposal


@pytest.fixture
def proposal(db, world, now):
    return make_proposal(db, world, publish=True)


def refile(
    db: Session,
    proposal: Proposal,
    actor: User | None,
    now: datetime,
    *,
    category: str = "ai-models",
    tags: Sequence[str] = ("ai",),
    lock: bool | None = None,
    reason: str = "",
) -> Proposal:
    return service.moderate_metadata(
        db,
        actor=actor,
        proposal=proposal,
        category=category,
        tags=list(tags),
        now=now,
        lock=lock,
        reason=reason,
    )


def events(db: Session, proposal: Proposal, kind: EventKind) -> list[ProposalEvent]:
    return [e for e in service.timeline(db, proposal) if e.kind == kind]


@pytest.mark.parametrize("who", ["moderator", "admin"])
def test_moderators_and_admins_refile_a_proposal(db, world, now, proposal, who):
    actor = getattr(world, who)
    refile(db, proposal, actor, now + hours(1), tags=["#AI", "LoRA models"])

    assert proposal.category_id == world.ai_models.id
    assert proposal.tag_names == ["ai", "lora-models"]
    assert proposal.revision_number == 1
    [event] = events(db, proposal, EventKind.recategorized)
    assert (event.actor_id, event.detail) == (actor.id, "category AI models; tags ai, lora-models")


@pytest.mark.parametrize("who", ["author", "fan", "creator", "rights_holder", "outsider"])
def test_nobody_else_refiles(db, world, now, proposal, who):
    with pytest.raises(PermissionDenied):
        refile(db, proposal, getattr(world, who), now)
    assert proposal.category_id == world.fan_art.id
    assert events(db, proposal, EventKind.recategorized) == []


def test_anonymous_cannot_refile(db, world, now, proposal):
    with pytest.raises(NotAuthenticated):
        refile(db, proposal, None, now)


def test_refiling_is_validated(db, world, now, proposal):
    with pytest.raises(ValidationFailed) as caught:
        refile(db, proposal, world.moderator, now, category="nope", tags=["bad tag!"])
    assert set(caught.value.fields) == {"category", "tags"}
    with pytest.raises(ValidationFailed) as caught:
        refile(db, proposal, world.moderator, now, category=world.retired.slug)
    assert set(caught.value.fields) == {"category"}
    assert proposal.category_id == world.fan_art.id
    assert proposal.tag_names == ["credit", "fan-art"]


@pytest.mark.parametrize("state", ["withdrawn", "voting", "ratified"])
def test_moderators_refile_in_any_state(db, world, now, proposal, state):
    if state == "withdrawn":
        service.withdraw(db, actor=world.author, proposal=proposal, reason="", now=now)
    else:
        proposal.state = ProposalState(state)
    refile(db, proposal, world.moderator, now)
    assert proposal.category_id == world.ai_models.id


def test_refiling_under_the_same_values_records_nothing(db, world, now, proposal):
    refile(db, proposal, world.moderator, now, category="fan-art", tags=["fan-art", "credit"])
    assert events(db, proposal, EventKind.recategorized) == []


def test_refiling_keeps_an_archived_category_the_proposal_is_under(db, world, now, proposal):
    communities_service.update_category(
        db,
        actor=world.moderator,
        community=world.community,
        category=world.fan_art,
        archived=True,
        now=now,
    )
    refile(db, proposal, world.moderator, now, category="fan-art", tags=["credit"])
    assert proposal.tag_names == ["credit"]
    assert proposal.category_id == world.fan_art.id


def test_locking_needs_a_reason(db, world, now, proposal):
    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as caught:
            service.set_locked(
                db, actor=world.moderator, proposal=proposal, locked=True, reason=reason, now=now
            )
        assert set(caught.value.fields) == {"reason"}
        with pytest.raises(ValidationFailed) as caught:
            refile(db, proposal, world.moderator, now, lock=True, reason=reason)
        assert set(caught.value.fields) == {"reason"}
    assert proposal.locked_at is None
    assert proposal.category_id == world.fan_art.id


def test_lock_and_unlock(db, world, now, proposal):
    service.set_locked(
        db, actor=world.moderator, proposal=proposal, locked=True, reason=" Heated ", now=now
    )
    assert proposal.locked_at == now
    with pytest.raises(Conflict):
        edit(db, proposal, world.author, now=now + hours(1), title="Edited while locked")

    service.set_locked(
        db, actor=world.admin, proposal=proposal, locked=False, reason="", now=now + hours(2)
    )
    assert proposal.locked_at is None
    edit(db, proposal, world.author, now=now + hours(3), title="Edited after unlocking")

    locked, unlocked = (
        events(db, proposal, EventKind.locked),
        events(db, proposal, EventKind.unlocked),
    )
    assert [(e.actor_id, e.detail) for e in locked] == [(world.moderator.id, "Heated")]
    assert [e.actor_id for e in unlocked] == [world.admin.id]


def test_locking_twice_changes_nothing(db, world, now, proposal):
    for at in (now, now + hours(1)):
        service.set_locked(
            db, actor=world.moderator, proposal=proposal, locked=True, reason="Heated", now=at
        )
    assert proposal.locked_at == now
    assert len(events(db, proposal, EventKind.locked)) == 1
    service.set_locked(
        db, actor=world.moderator, proposal=proposal, locked=False, reason="", now=now
    )
    service.set_locked(
        db, actor=world.moderator, proposal=proposal, locked=False, reason="", now=now
    )
    assert len(events(db, proposal, EventKind.unlocked)) == 1


@pytest.mark.parametrize("who", ["author", "fan", "outsider"])
def test_only_moderators_lock(db, world, now, proposal, who):
    with pytest.raises(PermissionDenied):
        service.set_locked(
            db, actor=getattr(world, who), proposal=proposal, locked=True, reason="x", now=now
        )
    assert proposal.locked_at is None


def test_refile_and_lock_at_once(db, world, now, proposal):
    refile(db, proposal, world.moderator, now, lock=True, reason="Off topic for now")
    assert proposal.locked_at == now
    assert proposal.category_id == world.ai_models.id
    refile(db, proposal, world.moderator, now, lock=False)
    assert proposal.locked_at is None


def test_a_locked_proposal_can_still_be_refiled(db, world, now, proposal):
    service.set_locked(
        db, actor=world.moderator, proposal=proposal, locked=True, reason="Heated", now=now
    )
    refile(db, proposal, world.moderator, now)
    assert proposal.category_id == world.ai_models.id
    assert proposal.locked_at == now


def test_moderators_cannot_edit_the_text(db, world, now, proposal):
    with pytest.raises(PermissionDenied):
        edit(db, proposal, world.moderator, now=now, norm_text="Moderated wording.")
    assert proposal.revision_number == 1


def test_a_lock_reason_is_limited_not_cut_short(db, world, now, proposal):
    with pytest.raises(ValidationFailed) as caught:
        service.set_locked(
            db, actor=world.moderator, proposal=proposal, locked=True, reason="r" * 301, now=now
        )
    assert set(caught.value.fields) == {"reason"}
    with pytest.raises(ValidationFailed) as caught:
        refile(db, proposal, world.moderator, now, lock=True, reason="r" * 301)
    assert set(caught.value.fields) == {"reason"}
    assert proposal.locked_at is None
    assert proposal.category_id == world.fan_art.id
    service.set_locked(
        db, actor=world.moderator, proposal=proposal, locked=True, reason="r" * 300, now=now
    )
    [event] = events(db, proposal, EventKind.locked)
    assert event.detail == "r" * 300


def test_moving_between_categories_of_the_same_name_is_recorded(db, world, now, proposal):
    """Changes are found by category id: names are for people and may coincide."""
    twin = communities_service.add_category(
        db, actor=world.moderator, community=world.community, name="Fan art two"
    )
    twin.name = world.fan_art.name  # written directly: the service refuses a duplicate name
    db.flush()
    refile(db, proposal, world.moderator, now, category=twin.slug, tags=["credit", "fan-art"])
    assert proposal.category_id == twin.id
    assert len(events(db, proposal, EventKind.recategorized)) == 1


def test_a_category_cannot_be_renamed_to_another_ones_name(db, world, now):
    for name in ("AI models", " ai MODELS ", "Retired rules"):
        with pytest.raises(ValidationFailed) as caught:
            communities_service.update_category(
                db,
                actor=world.moderator,
                community=world.community,
                category=world.fan_art,
                name=name,
                now=now,
            )
        assert set(caught.value.fields) == {"name"}
    assert world.fan_art.name == "Fan art"
    # Its own name, in another case, is fine.
    communities_service.update_category(
        db,
        actor=world.moderator,
        community=world.community,
        category=world.fan_art,
        name="Fan Art",
        now=now,
    )
    assert world.fan_art.name == "Fan Art"


def test_a_nul_character_in_a_lock_reason_is_a_field_error(db, world, now, proposal):
    with pytest.raises(ValidationFailed) as caught:
        service.set_locked(
            db, actor=world.moderator, proposal=proposal, locked=True, reason="a\x00b", now=now
        )
    assert set(caught.value.fields) == {"reason"}
    with pytest.raises(ValidationFailed) as caught:
        refile(db, proposal, world.moderator, now, lock=True, reason="a\x00b")
    assert set(caught.value.fields) == {"reason"}
    assert proposal.locked_at is None
