"""Passed proposals, ready to ratify, in the polls' test community."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from app.communities import service as communities_service
from app.communities.models import Community
from app.guidelines import service as guidelines_service
from app.polls import service as polls_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal, ProposalKind
from tests.unit.polls import conftest as polls_fixtures
from tests.unit.polls.conftest import NOW, Town, vote

# The polls' test community, shared.
town = polls_fixtures.town

Passed = Callable[..., Proposal]


@pytest.fixture
def passed(db: Session, town: Town) -> Passed:
    """`passed(title=..., norm_text=..., kind=..., target_clause=..., at=...)`: a proposal
    published, polled and passed by the fans' consent, closed at `at` (default NOW)."""
    slugs: dict[str, str] = {}

    def make(
        title: str = "Credit the original illustrator",
        norm_text: str = "Every derivative drawing credits the illustrator.",
        *,
        category: str = "",
        kind: ProposalKind = ProposalKind.new,
        target_clause: str = "",
        at: datetime = NOW,
    ) -> Proposal:
        if category and category not in slugs:
            made = communities_service.add_category(
                db, actor=town.moderator, community=town.community, name=category
            )
            slugs[category] = made.slug
        start = at - timedelta(days=5)
        proposal = proposals_service.create_proposal(
            db,
            actor=town.author,
            community=town.community,
            values=proposals_service.ProposalDraft(
                title=title,
                norm_text=norm_text,
                category=slugs.get(category, ""),
                kind=kind.value,
                target_clause=target_clause,
            ),
            now=start,
            clause_numbers=_numbers(db, town.community),
        )
        proposals_service.publish(db, actor=town.author, proposal=proposal, now=start)
        poll = polls_service.open_poll(
            db, actor=town.author, proposal=proposal, now=start + timedelta(days=3)
        )
        for fan in town.fans:
            vote(db, poll, fan, "consent", at=start + timedelta(days=3))
        polls_service.close_early(db, actor=town.moderator, poll=poll, now=at)
        return proposal

    return make


def _numbers(db: Session, community: Community) -> set[str]:
    return {c.number for c in guidelines_service.current_clauses(db, community)}
