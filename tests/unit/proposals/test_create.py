"""Drafting a proposal: who may, the limits of every field, and what a new draft consists of."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.communities import service as communities_service
from app.communities.models import Role
from app.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from app.proposals import service
from app.proposals.models import (
    AuthorRole,
    EventKind,
    Proposal,
    ProposalKind,
    ProposalState,
    ProposalTag,
)
from tests.factories import add_member, make_community, make_user
from tests.unit.proposals.conftest import World, make_proposal, values


def refused(db: Session, world: World, now: datetime, **overrides: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        service.create_proposal(
            db, actor=world.author, community=world.community, values=values(**overrides), now=now
        )
    return caught.value.fields


def test_a_member_drafts_a_proposal(db, world, now):
    proposal = make_proposal(db, world, title="  Credit the illustrator  ", summary=" Short. ")

    assert proposal.id is not None
    assert proposal.state == ProposalState.draft
    assert proposal.kind == ProposalKind.new
    assert proposal.author_id == world.author.id
    assert proposal.community_id == world.community.id
    assert proposal.category_id == world.fan_art.id
    assert proposal.title == "Credit the illustrator"
    assert proposal.summary == "Short."
    assert proposal.tag_names == ["credit", "fan-art"]
    assert proposal.revision_number == 1
    assert proposal.created_at == proposal.listed_at == proposal.last_activity_at == now
    assert proposal.published_at is None
    assert proposal.voting_may_open_at is None
    assert proposal.deadline_at is None
    assert proposal.locked_at is None


def test_the_draft_has_revision_1_its_author_a_follow_and_a_created_event(db, world, now):
    proposal = make_proposal(db, world)

    [revision] = service.revisions(db, proposal)
    assert revision.number == 1
    assert revision.author_id == world.author.id
    assert revision.created_at == now
    assert (revision.title, revision.summary, revision.rationale, revision.norm_text) == (
        proposal.title,
        proposal.summary,
        proposal.rationale,
        proposal.norm_text,
    )
    [author] = service.authors(db, proposal)
    assert (author.user_id, author.role) == (world.author.id, AuthorRole.author)
    assert service.author_ids(db, proposal) == {world.author.id}
    assert service.is_following(db, proposal, world.author)
    assert service.follower_count(db, proposal) == 1
    [event] = service.timeline(db, proposal)
    assert (event.kind, event.actor_id, event.revision_number) == (
        EventKind.created,
        world.author.id,
        1,
    )


@pytest.mark.parametrize("role", list(Role))
def test_every_role_may_draft(db, world, now, role):
    user = make_user(db)
    add_member(db, world.community, user, role)
    assert make_proposal(db, world, author=user).author_id == user.id


def test_a_non_member_may_not_draft(db, world, now):
    with pytest.raises(PermissionDenied):
        make_proposal(db, world, author=world.outsider)


def test_a_site_admin_who_is_not_a_member_may_not_draft(db, world, now):
    with pytest.raises(PermissionDenied):
        make_proposal(db, world, author=world.admin)


def test_anonymous_visitors_must_sign_in(db, world, now):
    with pytest.raises(NotAuthenticated):
        service.create_proposal(db, actor=None, community=world.community, values=values(), now=now)


def test_nothing_is_written_when_refused(db, world, now):
    refused(db, world, now, title="")
    count = db.scalar(select(func.count(Proposal.id)))
    make_proposal(db, world)
    assert db.scalar(select(func.count(Proposal.id))) == count + 1


@pytest.mark.parametrize("title", ["abc", "x" * 140, "  abc  "])
def test_titles_of_3_to_140_characters_are_accepted(db, world, now, title):
    assert make_proposal(db, world, title=title).title == title.strip()


@pytest.mark.parametrize("title", ["", "ab", "  ab  ", "x" * 141])
def test_shorter_or_longer_titles_are_refused(db, world, now, title):
    assert set(refused(db, world, now, title=title)) == {"title"}


def test_summary_limit(db, world, now):
    assert make_proposal(db, world, summary="s" * 500).summary == "s" * 500
    assert set(refused(db, world, now, summary="s" * 501)) == {"summary"}


@pytest.mark.parametrize("name", ["rationale", "norm_text"])
def test_long_texts_limit(db, world, now, name):
    longest: dict[str, Any] = {name: "w" * 20_000}
    assert getattr(make_proposal(db, world, **longest), name) == "w" * 20_000
    assert set(refused(db, world, now, **{name: "w" * 20_001})) == {name}


def test_several_problems_are_reported_together(db, world, now):
    fields = refused(db, world, now, title="x", summary="s" * 501, category="nope", kind="amend")
    assert set(fields) == {"title", "summary", "category", "kind"}


def test_an_unknown_category_is_a_field_error(db, world, now):
    assert set(refused(db, world, now, category="no-such-category")) == {"category"}


def test_an_archived_category_takes_no_new_proposals(db, world, now):
    assert set(refused(db, world, now, category=world.retired.slug)) == {"category"}


def test_a_category_of_another_community_is_refused(db, world, now):
    other = make_community(db)
    add_member(db, other, world.moderator, Role.moderator)
    communities_service.add_category(db, actor=world.moderator, community=other, name="Only there")
    assert set(refused(db, world, now, category="only-there")) == {"category"}


def test_a_category_is_required_when_the_community_has_some(db, world, now):
    assert set(refused(db, world, now, category="")) == {"category"}


def test_no_category_is_needed_when_the_community_has_none(db, now):
    community = make_community(db)
    user = make_user(db)
    add_member(db, community, user)
    proposal = service.create_proposal(
        db, actor=user, community=community, values=values(category=""), now=now
    )
    assert proposal.category_id is None


def test_the_second_category_can_be_chosen(db, world, now):
    assert make_proposal(db, world, category="ai-models").category_id == world.ai_models.id


@pytest.mark.parametrize("kind", ["amend", "repeal", "replace", "", "NEW"])
def test_only_new_proposals_for_now(db, world, now, kind):
    assert set(refused(db, world, now, kind=kind)) == {"kind"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Fan Art, #AI, credit", ["fan-art", "ai", "credit"]),
        ("  Fan   Art  ,fan-art, FAN ART", ["fan-art"]),
        (["#Credit", "credit", " ##Credit "], ["credit"]),
        ("# spaced", ["spaced"]),
        (",, ,", []),
        ("", []),
        (["ボカロ", "Vocaloid"], ["ボカロ", "vocaloid"]),
    ],
)
def test_tags_are_normalised(raw, expected):
    assert service.parse_tags(raw) == expected


def test_tags_are_stored_normalised_and_deduplicated(db, world, now):
    proposal = make_proposal(db, world, tags=["Zeta", "#alpha", "zeta", "Long Tag"])
    assert proposal.tag_names == ["alpha", "long-tag", "zeta"]
    stored = db.scalars(select(ProposalTag.tag).where(ProposalTag.proposal_id == proposal.id))
    assert sorted(stored) == ["alpha", "long-tag", "zeta"]


def test_ten_tags_are_allowed_eleven_are_not(db, world, now):
    ten = [f"tag{n}" for n in range(10)]
    assert len(make_proposal(db, world, tags=ten).tags) == 10
    assert set(refused(db, world, now, tags=[*ten, "tag10"])) == {"tags"}


@pytest.mark.parametrize("tag", ["x" * 33, "no!", "a.b", "-leading", "tab\tbed?"])
def test_bad_tags_are_refused(db, world, now, tag):
    assert set(refused(db, world, now, tags=service.parse_tags([tag]))) == {"tags"}


def test_a_32_letter_tag_is_fine(db, world, now):
    assert make_proposal(db, world, tags=["x" * 32]).tag_names == ["x" * 32]


def test_a_new_proposal_targets_no_clause(db, world, now):
    proposal = make_proposal(db, world, target_clause="  3.2 of a very long clause path  ")
    db.expire_all()
    assert db.get_one(Proposal, proposal.id).target_clause is None


@pytest.mark.parametrize("field", ["title", "summary", "rationale", "norm_text"])
def test_a_nul_character_is_a_field_error_on_every_database(db, world, now, field):
    """PostgreSQL cannot store NUL in text; it must be refused before it reaches the database."""
    typed: dict[str, Any] = {field: "Credit\x00 the artist"}
    assert set(refused(db, world, now, **typed)) == {field}
