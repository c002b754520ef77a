"""A community with categories and a member of each role, and builders for proposals."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Category, Community, Role
from app.proposals import service
from app.proposals.models import Proposal
from tests.factories import add_member, make_community, make_user

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class World:
    community: Community
    moderator: User
    author: User
    coauthor: User
    fan: User
    creator: User
    rights_holder: User
    outsider: User
    admin: User
    fan_art: Category
    ai_models: Category
    retired: Category


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def world(db: Session) -> World:
    community = make_community(db, name="Miku Fans")
    moderator = make_user(db)
    add_member(db, community, moderator, Role.moderator)
    author, coauthor, fan = make_user(db), make_user(db), make_user(db)
    for user in (author, coauthor, fan):
        add_member(db, community, user)
    creator, rights_holder = make_user(db), make_user(db)
    add_member(db, community, creator, Role.creator)
    add_member(db, community, rights_holder, Role.rights_holder)
    fan_art = communities_service.add_category(
        db, actor=moderator, community=community, name="Fan art"
    )
    ai_models = communities_service.add_category(
        db, actor=moderator, community=community, name="AI models"
    )
    retired = communities_service.add_category(
        db, actor=moderator, community=community, name="Retired rules"
    )
    communities_service.update_category(
        db, actor=moderator, community=community, category=retired, archived=True, now=NOW
    )
    return World(
        community=community,
        moderator=moderator,
        author=author,
        coauthor=coauthor,
        fan=fan,
        creator=creator,
        rights_holder=rights_holder,
        outsider=make_user(db),
        admin=make_user(db, is_admin=True),
        fan_art=fan_art,
        ai_models=ai_models,
        retired=retired,
    )


def values(**overrides: object) -> service.ProposalDraft:
    """A valid form: every field filled in, category 'fan-art'."""
    draft = service.ProposalDraft(
        title="Credit the original illustrator",
        summary="Derivative drawings name the artist they build on.",
        rationale="Upstream acknowledgment is how remix culture stays healthy.",
        norm_text="Every derivative drawing credits the original illustrator by name.",
        category="fan-art",
        tags=["credit", "fan-art"],
    )
    return replace(draft, **overrides)  # type: ignore[arg-type]


def make_proposal(
    db: Session,
    world: World,
    *,
    author: User | None = None,
    now: datetime = NOW,
    publish: bool = False,
    **overrides: object,
) -> Proposal:
    """A draft by `author` (the world's author by default), published if asked."""
    actor = author or world.author
    proposal = service.create_proposal(
        db, actor=actor, community=world.community, values=values(**overrides), now=now
    )
    if publish:
        service.publish(db, actor=actor, proposal=proposal, now=now)
    return proposal


def edit(
    db: Session,
    proposal: Proposal,
    actor: User | None,
    *,
    now: datetime,
    message: str = "",
    base_revision: int | None = None,
    **changes: object,
) -> Proposal:
    """Save the proposal's current form with `changes`, from its current revision by default."""
    current = service.ProposalDraft(
        title=proposal.title,
        summary=proposal.summary,
        rationale=proposal.rationale,
        norm_text=proposal.norm_text,
        category=proposal.category.slug if proposal.category else "",
        tags=proposal.tag_names,
    )
    return service.edit_proposal(
        db,
        actor=actor,
        proposal=proposal,
        base_revision=proposal.revision_number if base_revision is None else base_revision,
        values=replace(current, **changes),  # type: ignore[arg-type]
        message=message,
        now=now,
    )


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture(params=["selective", "walking"])
def strategy(request, monkeypatch):
    """Both ways a narrowing filter (a search, a tag, a state...) runs: from its few matches,
    or as a test of each row along the sorted list."""
    if request.param == "walking":
        monkeypatch.setattr(service, "SELECTIVE_MATCHES", 0)
    return request.param
