"""Ratifications at the same moment, each in a transaction of its own (as two requests to two
processes): every change is published, under its own version number."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import migrate
from app.accounts.models import User
from app.communities.models import Community, Role
from app.db import create_db_engine, make_session_factory, utcnow
from app.guidelines import service
from app.guidelines.models import DocumentVersion
from app.polls import service as polls_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from tests.factories import add_member, make_community, make_user
from tests.support.races import at_once, refused


def seed(url: str, count: int) -> tuple[int, int, list[int]]:
    """A community with imported rules and `count` passed proposals, committed."""
    engine = create_db_engine(url)
    now = utcnow()
    with Session(engine, expire_on_commit=False) as db:
        community = make_community(db)
        moderator = make_user(db)
        add_member(db, community, moderator, Role.moderator, joined_at=now - timedelta(days=30))
        service.import_rules(
            db,
            actor=moderator,
            community=community,
            markdown="## Rules\n- **One.** The first rule.\n- **Two.** The second rule.\n",
            now=now - timedelta(days=20),
        )
        passed = []
        for n in range(count):
            # Two add clauses, two amend the same clause: a lost change would show.
            kind, target = ("amend", "1.1") if n % 2 else ("new", "")
            proposal = proposals_service.create_proposal(
                db,
                actor=moderator,
                community=community,
                values=proposals_service.ProposalDraft(
                    title=f"Change number {n}",
                    norm_text=f"Text of change {n}.",
                    kind=kind,
                    target_clause=target,
                ),
                now=now - timedelta(days=10),
                clause_numbers=service.clause_numbers(db, community),
            )
            proposals_service.publish(
                db, actor=moderator, proposal=proposal, now=now - timedelta(days=10)
            )
            poll = polls_service.open_poll(
                db, actor=moderator, proposal=proposal, now=now - timedelta(days=5)
            )
            polls_service.cast_ballot(
                db, actor=moderator, poll=poll, position="consent", reason="", now=now
            )
            polls_service.close_early(db, actor=moderator, poll=poll, now=now)
            passed.append(proposal.id)
        db.commit()
        ids = (community.id, moderator.id, passed)
    engine.dispose()
    return ids


def test_ratifications_at_once_get_their_own_versions_and_lose_nothing(make_database_url):
    url = make_database_url("ratify-race")
    migrate.upgrade(url)
    community_id, moderator_id, proposal_ids = seed(url, 4)
    engine = create_db_engine(url)
    factory = make_session_factory(engine)
    start = threading.Barrier(len(proposal_ids))
    outcomes: dict[int, str] = {}

    def ratify(proposal_id: int) -> None:
        start.wait()
        with factory(True) as db:
            moderator = db.get(User, moderator_id)
            proposal = db.get(Proposal, proposal_id)
            assert moderator is not None
            assert proposal is not None
            try:
                version = service.ratify(
                    db, actor=moderator, proposal=proposal, note="", now=utcnow()
                )
                db.commit()
                outcomes[proposal_id] = f"version {version.number}" if version else "waiting"
            except Exception as exc:  # a refusal is an outcome too; it must be a clean one
                db.rollback()
                outcomes[proposal_id] = type(exc).__name__

    threads = [threading.Thread(target=ratify, args=(p,)) for p in proposal_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with Session(engine) as db:
        numbers = db.scalars(
            select(DocumentVersion.number)
            .where(DocumentVersion.community_id == community_id)
            .order_by(DocumentVersion.number)
        ).all()
        published = [o for o in outcomes.values() if o.startswith("version")]
        # The two amendments of 1.1: the one ratified second finds the clause changed since
        # its poll opened and is refused, never written over the other.
        assert sorted(o for o in outcomes.values() if not o.startswith("version")) == ["Conflict"]
        # Imported version 1, then one version per ratification that went through.
        assert len(published) == 3
        assert numbers == [1, 2, 3, 4]
        community = db.get(Community, community_id)
        assert community is not None
        texts = {c.number: c.version.text for c in service.document(db, community).clauses}
        for proposal_id, outcome in outcomes.items():
            if outcome.startswith("version"):
                proposal = db.get(Proposal, proposal_id)
                assert proposal is not None
                assert proposal.norm_text in texts.values()
    engine.dispose()


def test_tags_saved_at_once_are_saved_once(make_database_url):
    """Two saves of a clause's tags at once both deleted nothing and inserted the same tags,
    and one failed with a 500 (PostgreSQL, found by tests/security/test_races.py): the
    clause's row now orders them."""
    url = make_database_url("tags-race")
    migrate.upgrade(url)
    community_id, moderator_id, _ = seed(url, 0)

    def save(db: Session) -> object:
        moderator = db.get(User, moderator_id)
        community = db.get(Community, community_id)
        assert community is not None
        clause = service.get_clause(db, community, "1.1")
        return service.set_tags(
            db, actor=moderator, community=community, clause=clause, tags=["image", "audio"]
        )

    assert refused(at_once(url, 8, save)) == []
    engine = create_db_engine(url)
    with Session(engine) as db:
        community = db.get(Community, community_id)
        assert community is not None
        clause = service.get_clause(db, community, "1.1")
        assert service.tags_of(db, [clause.id])[clause.id] == ["audio", "image"]
    engine.dispose()
