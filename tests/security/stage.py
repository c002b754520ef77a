"""The stage of the hostile-input and header tests: community "hostile", whose name,
description and members' display names are hostile strings, with a category and a proposal
in deliberation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Category, Community, Role
from app.db import utcnow
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from tests.factories import add_member, make_user


@dataclass
class Stage:
    """Community "hostile" with a hostile name and description, whose members (there a month
    already) have hostile display names; a category, and a proposal in deliberation."""

    community: Community
    category: Category
    admin: User
    moderator: User
    author: User
    fan: User
    rights_holder: User
    proposal: Proposal


LONG_AGO = timedelta(days=30)


def established_member(
    db: Session, community: Community, username: str, name: str, role: Role
) -> User:
    """A member whose account and membership are a month old (no first-day limits)."""
    user = make_user(db, username, display_name=name)
    user.created_at = utcnow() - LONG_AGO
    add_member(db, community, user, role, joined_at=utcnow() - LONG_AGO)
    return user


def make_stage(db: Session) -> Stage:
    """The stage, built through the services."""
    admin = make_user(
        db, "site_admin", display_name="Admin </title><script>alert(1)</script>", is_admin=True
    )
    admin.created_at = utcnow() - LONG_AGO
    community = communities_service.create_community(
        db,
        actor=admin,
        name='<script>alert(1)</script> Fans & "Co"',
        slug="hostile",
        description="[x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        now=utcnow() - LONG_AGO,
    )
    moderator = established_member(
        db, community, "mod_rin", '"><img src=x onerror=alert(1)>', Role.moderator
    )
    author = established_member(
        db, community, "author_kaito", "<svg onload=alert(1)> Kaito", Role.creator
    )
    fan = established_member(db, community, "fan_luka", "' autofocus onfocus='alert(1)", Role.fan)
    rights_holder = established_member(
        db, community, "rights_crypton", "\u202eRights {{ 7*7 }}", Role.rights_holder
    )
    category = communities_service.add_category(
        db, actor=moderator, community=community, name="<b>Depiction</b> rules"
    )
    long_ago = utcnow() - timedelta(days=10)
    proposal = proposals_service.create_proposal(
        db,
        actor=author,
        community=community,
        values=proposals_service.ProposalDraft(
            title='Credit "<script>alert(1)</script>"',
            summary="<img src=x onerror=alert(1)>",
            rationale="[x](javascript:alert(1))",
            norm_text="Works credit the original creator.",
            category=category.slug,
            tags=["fan-art"],
        ),
        now=long_ago,
    )
    proposals_service.publish(db, actor=author, proposal=proposal, now=long_ago)
    return Stage(community, category, admin, moderator, author, fan, rights_holder, proposal)
