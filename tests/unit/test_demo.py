"""The demo seed: every role, realistic proposals, and works with lineage."""

from sqlalchemy import select

from app import demo
from app.communities import service as communities_service
from app.db import utcnow
from app.guidelines import service as guidelines_service
from app.polls import service as polls_service
from app.polls.models import Outcome, Poll
from app.proposals.models import Proposal, ProposalState
from app.works import service as works_service
from app.works.models import Work


def test_the_demo_has_proposals_in_several_states_and_works_with_lineage(db):
    logins = demo.seed(db, now=utcnow())
    assert {role for _, _, role in logins} >= {"fan", "creator", "rights_holder", "moderator"}
    miku = communities_service.get_community(db, "miku")
    states = set(db.scalars(select(Proposal.state).where(Proposal.community_id == miku.id)))
    assert states >= {
        ProposalState.draft,
        ProposalState.deliberation,
        ProposalState.voting,
        ProposalState.passed,
        ProposalState.ratified,
        ProposalState.withdrawn,
    }
    polls = {p.proposal.title: p for p in db.scalars(select(Poll))}
    running = polls["Small-scale sales at fan events are acceptable"]
    assert running.closed_at is None
    assert polls_service.results(db, running, utcnow()) is None  # hidden until close
    closed = polls["Credit the work you build on, in the work's description"]
    assert closed.outcome == Outcome.passed
    assert closed.current_round == 2
    assert polls_service.verify(polls_service.export(db, closed)).matches
    doc = guidelines_service.document(db, miku)
    assert doc.latest >= 2
    made = guidelines_service.made_by(db, closed.proposal)
    assert made is not None
    assert made.clause.number in [c.number for c in doc.clauses]
    assert "licence" in made.text
    credited = {c.credit.value for c in guidelines_service.credits(db, made)}
    assert credited >= {"proposer", "objector", "ratifier"}
    translated = guidelines_service.translations_for(db, [c.version for c in doc.clauses], "ja")
    assert {
        doc_clause.number for doc_clause in doc.clauses if doc_clause.clause.id in translated
    } == set(demo.DEMO_TRANSLATIONS)
    assert not any(view.out_of_date for view in translated.values())

    remix = db.scalar(select(Work).where(Work.title == "Rooftop remix (music video)"))
    assert remix is not None
    ancestors = [work.title for work, _ in works_service.ancestors(db, remix)]
    assert ancestors == ["Rooftop at dusk (fan illustration)", "Character design sheet"]
    assert "Character design sheet" in works_service.attribution(db, remix)

    lora = db.scalar(select(Work).where(Work.title == "Character LoRA trained on fan art"))
    assert lora is not None
    parents = {work.title for work, depth in works_service.ancestors(db, lora) if depth == 1}
    assert parents == {"Open image model v2", "Rooftop at dusk (fan illustration)"}


def test_the_demo_records_languages_and_has_comments_in_japanese(db):
    from app.discussion.models import Comment

    demo.seed(db, now=utcnow())
    assert set(db.scalars(select(Proposal.language))) == {"en"}
    assert set(db.scalars(select(Work.language))) == {"en"}
    japanese = list(db.scalars(select(Comment).where(Comment.language == "ja")))
    assert len(japanese) == len([k for k, v in demo.DEMO_COMMENT_LANGUAGES.items() if v == "ja"])
    assert all(c.parent_id is not None for c in japanese)
