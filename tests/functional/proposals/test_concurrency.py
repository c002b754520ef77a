"""A proposal changed by several requests at once (a double click, two tabs, two co-authors,
two moderators) changes once: each change holds the proposal's row, and the later ones find
the state the first one left (found by tests/security/test_races.py on PostgreSQL, where
each had published, withdrawn or locked the proposal again, with an event and notifications
each time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import Role
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.proposals import exhibits as exhibits_service
from app.proposals import service
from app.proposals.models import (
    EventKind,
    Exhibit,
    Proposal,
    ProposalAuthor,
    ProposalEvent,
    ProposalState,
    ProposalTag,
)
from app.works import service as works_service
from tests.factories import add_member, make_community, make_user
from tests.support.races import at_once, committed, reading, refused

TIMES = 8


@dataclass(frozen=True)
class Seeded:
    url: str
    author: int
    moderators: tuple[int, int]
    draft: int
    published: int
    shared: int
    exhibited: int
    exhibit: int


@pytest.fixture(scope="module")
def seeded(make_database_url) -> Seeded:
    url = make_database_url("proposal-races")
    long_ago = utcnow() - timedelta(days=30)
    with committed(url) as db:
        community = make_community(db)
        author, coauthor, mod_a, mod_b = (make_user(db) for _ in range(4))
        for user, role in ((author, Role.fan), (coauthor, Role.fan)):
            add_member(db, community, user, role, joined_at=long_ago)
        for moderator in (mod_a, mod_b):
            add_member(db, community, moderator, Role.moderator, joined_at=long_ago)

        def proposal(title: str, *, publish: bool = True) -> Proposal:
            made = service.create_proposal(
                db,
                actor=author,
                community=community,
                values=service.ProposalDraft(title=title, norm_text=f"{title}."),
                now=long_ago,
            )
            if publish:
                service.publish(db, actor=author, proposal=made, now=long_ago)
            return made

        draft = proposal("A draft", publish=False)
        published = proposal("Credit the illustrator")
        shared = proposal("Share the stems")
        service.add_coauthor(
            db, actor=author, proposal=shared, username=coauthor.username, now=long_ago
        )
        exhibited = proposal("Show the sketch")
        work = works_service.create_work(
            db,
            actor=author,
            community=community,
            values=works_service.WorkDraft(
                title="Sketch", creator_name="Len", url="https://example.org/s", medium="image"
            ),
            now=long_ago,
        )
        exhibit = exhibits_service.add_exhibit(
            db,
            actor=author,
            proposal=exhibited,
            work_id=work.id,
            stance="acceptable",
            note="",
            now=long_ago,
        )
        db.flush()
        return Seeded(
            url,
            author.id,
            (mod_a.id, mod_b.id),
            draft.id,
            published.id,
            shared.id,
            exhibited.id,
            exhibit.id,
        )


def loaded(db: Session, user_id: int, proposal_id: int) -> tuple[User, Proposal]:
    user, proposal = db.get(User, user_id), db.get(Proposal, proposal_id)
    assert user is not None
    assert proposal is not None
    return user, proposal


def events(url: str, proposal_id: int, kind: EventKind) -> int:
    with reading(url) as db:
        return (
            db.scalar(
                select(func.count(ProposalEvent.id)).where(
                    ProposalEvent.proposal_id == proposal_id, ProposalEvent.kind == kind
                )
            )
            or 0
        )


def test_a_draft_published_at_once_is_published_once(seeded: Seeded):
    def publish(db: Session) -> object:
        author, draft = loaded(db, seeded.author, seeded.draft)
        return service.publish(db, actor=author, proposal=draft, now=utcnow())

    outcomes = at_once(seeded.url, TIMES, publish)
    assert len(refused(outcomes)) == TIMES - 1
    assert all(isinstance(o, Conflict) for o in refused(outcomes))
    assert events(seeded.url, seeded.draft, EventKind.published) == 1


def test_a_proposal_locked_at_once_by_two_moderators_is_locked_once(seeded: Seeded):
    def lock(db: Session, n: int) -> object:
        moderator, proposal = loaded(db, seeded.moderators[n % 2], seeded.published)
        return service.set_locked(
            db, actor=moderator, proposal=proposal, locked=True, reason="Heated.", now=utcnow()
        )

    counter = iter(range(TIMES))
    assert refused(at_once(seeded.url, TIMES, lambda db: lock(db, next(counter)))) == []
    assert events(seeded.url, seeded.published, EventKind.locked) == 1


def test_a_proposal_refiled_at_once_is_refiled_once(seeded: Seeded):
    def refile(db: Session) -> object:
        moderator, proposal = loaded(db, seeded.moderators[0], seeded.published)
        return service.moderate_metadata(
            db, actor=moderator, proposal=proposal, category="", tags=["credit"], now=utcnow()
        )

    assert refused(at_once(seeded.url, TIMES, refile)) == []
    assert events(seeded.url, seeded.published, EventKind.recategorized) == 1
    with reading(seeded.url) as db:
        tags = db.scalars(
            select(ProposalTag.tag).where(ProposalTag.proposal_id == seeded.published)
        )
        assert list(tags) == ["credit"]


def test_a_co_author_removed_at_once_is_removed_once(seeded: Seeded):
    with reading(seeded.url) as db:
        coauthor = db.scalar(
            select(User.username)
            .join(ProposalAuthor, ProposalAuthor.user_id == User.id)
            .where(ProposalAuthor.proposal_id == seeded.shared, User.id != seeded.author)
        )
    assert coauthor is not None

    def remove(db: Session) -> object:
        author, proposal = loaded(db, seeded.author, seeded.shared)
        service.remove_coauthor(
            db, actor=author, proposal=proposal, username=coauthor, now=utcnow()
        )
        return None

    outcomes = at_once(seeded.url, TIMES, remove)
    assert len(refused(outcomes)) == TIMES - 1
    assert all(isinstance(o, NotFound) for o in refused(outcomes))
    assert events(seeded.url, seeded.shared, EventKind.coauthor_removed) == 1


def test_an_exhibit_removed_at_once_is_removed_once(seeded: Seeded):
    def remove(db: Session) -> object:
        author, proposal = loaded(db, seeded.author, seeded.exhibited)
        exhibit = exhibits_service.get_exhibit(db, proposal, seeded.exhibit)
        exhibits_service.remove_exhibit(db, actor=author, exhibit=exhibit)
        return None

    outcomes = at_once(seeded.url, TIMES, remove)
    # Those that looked after the first removal committed find nothing; the others wait and
    # are told it is gone. None fails.
    assert all(isinstance(o, NotFound) for o in refused(outcomes))
    assert len(refused(outcomes)) == TIMES - 1
    with reading(seeded.url) as db:
        assert db.get(Exhibit, seeded.exhibit) is None


def test_a_proposal_withdrawn_at_once_is_withdrawn_once(seeded: Seeded):
    # Last: it ends the proposal the other tests change.
    def withdraw(db: Session) -> object:
        author, proposal = loaded(db, seeded.author, seeded.published)
        return service.withdraw(db, actor=author, proposal=proposal, reason="", now=utcnow())

    outcomes = at_once(seeded.url, TIMES, withdraw)
    assert len(refused(outcomes)) == TIMES - 1
    assert events(seeded.url, seeded.published, EventKind.withdrawn) == 1
    with reading(seeded.url) as db:
        proposal = db.get(Proposal, seeded.published)
        assert proposal is not None
        assert proposal.state == ProposalState.withdrawn
