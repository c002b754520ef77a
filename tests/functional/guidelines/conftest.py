"""The polls' test forum, with its rules imported and a passed proposal waiting for ratification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.db import utcnow
from app.guidelines import service
from app.polls import service as polls_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from tests.functional.polls import conftest as polls_fixtures
from tests.functional.polls.conftest import Forum
from tests.functional.proposals import conftest as proposals_fixtures

forum = polls_fixtures.forum
bearer = proposals_fixtures.bearer

RULES = """\
## Depiction and age
- **No sexualised depictions.** The character is presented as 16.
- **Violence stays non-graphic.** No gore in works shared here.

## Commercial use
- **Small print runs are fine.** Up to 500 copies at fan events.
"""


@pytest.fixture
def rules(db: Session, forum: Forum) -> None:
    service.import_rules(
        db,
        actor=forum.moderator,
        community=forum.community,
        markdown=RULES,
        now=utcnow() - timedelta(days=20),
    )


Passed = Callable[..., Proposal]


@pytest.fixture
def passed(db: Session, forum: Forum) -> Passed:
    """`passed(title, norm_text, kind=..., target_clause=...)`: polled, consented, closed."""

    def make(
        title: str = "Credit the original illustrator",
        norm_text: str = "Every derivative drawing credits the illustrator.",
        *,
        kind: str = "new",
        target_clause: str = "",
    ) -> Proposal:
        now = utcnow()
        numbers = {c.number for c in service.current_clauses(db, forum.community)}
        proposal = proposals_service.create_proposal(
            db,
            actor=forum.author,
            community=forum.community,
            values=proposals_service.ProposalDraft(
                title=title, norm_text=norm_text, kind=kind, target_clause=target_clause
            ),
            now=now - timedelta(days=6),
            clause_numbers=numbers,
        )
        proposals_service.publish(
            db, actor=forum.author, proposal=proposal, now=now - timedelta(days=6)
        )
        poll = polls_service.open_poll(
            db, actor=forum.author, proposal=proposal, now=now - timedelta(days=2)
        )
        for voter in forum.voters:
            polls_service.cast_ballot(
                db,
                actor=voter,
                poll=poll,
                position="consent",
                reason="",
                now=now - timedelta(days=1),
            )
        polls_service.close_early(
            db, actor=forum.moderator, poll=poll, now=now - timedelta(hours=1)
        )
        return proposal

    return make
