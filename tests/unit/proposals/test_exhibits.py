"""Exhibits: who may attach example works in which state, what is refused, who may remove."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities.models import Community
from app.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from app.proposals import exhibits as ex
from app.proposals import service
from app.proposals.models import Exhibit, ExhibitStance, Proposal, ProposalState
from app.works import service as works_service
from app.works.models import Work
from tests.factories import add_member, make_community, make_user
from tests.unit.proposals.conftest import NOW, World, hours, make_proposal


def make_work(db: Session, actor: User, community: Community, title: str = "Rin's Dance") -> Work:
    return works_service.create_work(
        db,
        actor=actor,
        community=community,
        values=works_service.WorkDraft(
            title=title,
            creator_name="Len",
            url="https://example.org/work",
            medium="image",
            license="CC BY 4.0",
        ),
        now=NOW,
    )


def add(
    db: Session,
    proposal: Proposal,
    actor: User | None,
    work: Work | None,
    stance: str = "acceptable",
    note: str = "",
    work_id: int | None = None,
) -> Exhibit:
    return ex.add_exhibit(
        db,
        actor=actor,
        proposal=proposal,
        work_id=work.id if work is not None else work_id,
        stance=stance,
        note=note,
        now=NOW + hours(1),
    )


@pytest.fixture
def work(db: Session, world: World) -> Work:
    return make_work(db, world.fan, world.community)


def count(db: Session) -> int:
    return db.scalar(select(func.count(Exhibit.id))) or 0


def test_a_member_attaches_a_work_to_a_published_proposal(db, world, work):
    proposal = make_proposal(db, world, publish=True)
    exhibit = add(db, proposal, world.fan, work, "unacceptable", "  Crosses the line.  ")
    assert exhibit.stance == ExhibitStance.unacceptable
    assert exhibit.note == "Crosses the line."
    assert exhibit.added_by_id == world.fan.id
    assert exhibit.work.title == "Rin's Dance"
    assert proposal.last_activity_at == NOW + hours(1)
    assert [e.id for e in ex.exhibits(db, proposal)] == [exhibit.id]


def test_members_may_also_attach_while_voting(db, world, work):
    proposal = make_proposal(db, world, publish=True)
    proposal.state = ProposalState.voting
    assert add(db, proposal, world.creator, work).id


def test_only_authors_attach_to_a_draft(db, world, work):
    proposal = make_proposal(db, world)
    with pytest.raises(PermissionDenied):
        add(db, proposal, world.fan, work)
    with pytest.raises(PermissionDenied):
        add(db, proposal, world.moderator, work)
    assert add(db, proposal, world.author, work).id


def test_coauthors_attach_to_a_draft(db, world, work):
    proposal = make_proposal(db, world)
    service.add_coauthor(
        db, actor=world.author, proposal=proposal, username=world.coauthor.username, now=NOW
    )
    assert add(db, proposal, world.coauthor, work).id


def test_outsiders_and_anonymous_visitors_may_not_attach(db, world, work):
    proposal = make_proposal(db, world, publish=True)
    with pytest.raises(PermissionDenied):
        add(db, proposal, world.outsider, work)
    with pytest.raises(NotAuthenticated):
        add(db, proposal, None, work)
    assert count(db) == 0


@pytest.mark.parametrize(
    "state",
    [ProposalState.passed, ProposalState.rejected, ProposalState.ratified],
)
def test_closed_proposals_take_no_new_exhibits(db, world, work, state):
    proposal = make_proposal(db, world, publish=True)
    proposal.state = state
    with pytest.raises(Conflict):
        add(db, proposal, world.fan, work)


def test_a_withdrawn_proposal_takes_no_new_exhibits(db, world, work):
    proposal = make_proposal(db, world, publish=True)
    service.withdraw(db, actor=world.author, proposal=proposal, reason="", now=NOW)
    with pytest.raises(Conflict):
        add(db, proposal, world.author, work)


def test_a_work_of_another_community_is_a_field_error(db, world):
    elsewhere = make_community(db, name="Elsewhere")
    stranger = make_user(db)
    add_member(db, elsewhere, stranger)
    foreign = make_work(db, stranger, elsewhere)
    proposal = make_proposal(db, world, publish=True)
    with pytest.raises(ValidationFailed) as caught:
        add(db, proposal, world.fan, foreign)
    assert set(caught.value.fields) == {"work"}
    with pytest.raises(ValidationFailed) as caught:
        add(db, proposal, world.fan, None, work_id=999_999)
    assert set(caught.value.fields) == {"work"}
    with pytest.raises(ValidationFailed) as caught:
        add(db, proposal, world.fan, None, work_id=None)
    assert set(caught.value.fields) == {"work"}


def test_an_unknown_stance_is_a_field_error(db, world, work):
    proposal = make_proposal(db, world, publish=True)
    for stance in ("", "fine", "Acceptable"):
        with pytest.raises(ValidationFailed) as caught:
            add(db, proposal, world.fan, work, stance)
        assert set(caught.value.fields) == {"stance"}


def test_the_note_is_limited_and_free_of_nul(db, world, work):
    proposal = make_proposal(db, world, publish=True)
    with pytest.raises(ValidationFailed) as caught:
        add(db, proposal, world.fan, work, note="x" * 1001)
    assert set(caught.value.fields) == {"note"}
    with pytest.raises(ValidationFailed) as caught:
        add(db, proposal, world.fan, work, note="a\x00b")
    assert set(caught.value.fields) == {"note"}
    assert add(db, proposal, world.fan, work, note="x" * 1000).note == "x" * 1000


def test_a_work_is_exhibited_once_per_proposal(db, world, work):
    proposal = make_proposal(db, world, publish=True)
    add(db, proposal, world.fan, work)
    with pytest.raises(ValidationFailed) as caught:
        add(db, proposal, world.author, work, "unacceptable")
    assert "already" in caught.value.fields["work"]
    other = make_proposal(db, world, publish=True, title="Another proposal")
    assert add(db, other, world.fan, work).id
    assert count(db) == 2


def test_a_double_submit_loses_to_the_unique_pair_without_ending_the_transaction(
    db, world, work, monkeypatch
):
    proposal = make_proposal(db, world, publish=True)
    add(db, proposal, world.fan, work)
    # As if the duplicate check ran before the first submit's row existed.
    monkeypatch.setattr(ex, "select", lambda *a: select(Exhibit.id).where(Exhibit.id == -1))
    with pytest.raises(ValidationFailed) as caught:
        add(db, proposal, world.author, work)
    assert "work" in caught.value.fields
    monkeypatch.undo()
    assert count(db) == 1
    assert db.get(Proposal, proposal.id) is proposal  # the session still works


def test_exhibits_are_ordered_by_stance_then_time(db, world):
    proposal = make_proposal(db, world, publish=True)
    works = [make_work(db, world.fan, world.community, f"Work {i}") for i in range(4)]
    order = ["borderline", "unacceptable", "acceptable", "unacceptable"]
    for i, (w, stance) in enumerate(zip(works, order, strict=True)):
        ex.add_exhibit(
            db,
            actor=world.fan,
            proposal=proposal,
            work_id=w.id,
            stance=stance,
            note="",
            now=NOW + hours(i),
        )
    listed = ex.exhibits(db, proposal)
    assert [e.work.title for e in listed] == ["Work 2", "Work 1", "Work 3", "Work 0"]


def test_who_may_remove_an_exhibit(db, world):
    proposal = make_proposal(db, world, publish=True)
    a, b, c = (make_work(db, world.fan, world.community, f"W{i}") for i in range(3))
    by_fan = [add(db, proposal, world.fan, w) for w in (a, b, c)]
    for stranger in (world.creator, world.outsider):
        with pytest.raises(PermissionDenied):
            ex.remove_exhibit(db, actor=stranger, exhibit=by_fan[0])
    with pytest.raises(NotAuthenticated):
        ex.remove_exhibit(db, actor=None, exhibit=by_fan[0])
    ex.remove_exhibit(db, actor=world.fan, exhibit=by_fan[0])
    ex.remove_exhibit(db, actor=world.author, exhibit=by_fan[1])
    ex.remove_exhibit(db, actor=world.moderator, exhibit=by_fan[2])
    assert ex.exhibits(db, proposal) == []


def test_removable_ids_and_can_add_follow_the_rules(db, world, work):
    proposal = make_proposal(db, world, publish=True)
    exhibit = add(db, proposal, world.fan, work)
    items = ex.exhibits(db, proposal)
    assert ex.removable_ids(db, proposal, items, world.fan) == {exhibit.id}
    assert ex.removable_ids(db, proposal, items, world.creator) == set()
    assert ex.removable_ids(db, proposal, items, None) == set()
    assert ex.can_add(db, proposal, world.creator)
    assert not ex.can_add(db, proposal, world.outsider)
    assert not ex.can_add(db, proposal, None)


def test_get_exhibit_belongs_to_its_proposal(db, world, work):
    proposal = make_proposal(db, world, publish=True)
    other = make_proposal(db, world, publish=True, title="Another proposal")
    exhibit = add(db, proposal, world.fan, work)
    assert ex.get_exhibit(db, proposal, exhibit.id) is exhibit
    with pytest.raises(NotFound):
        ex.get_exhibit(db, other, exhibit.id)
    with pytest.raises(NotFound):
        ex.get_exhibit(db, proposal, 2**63)


def test_citing_proposals_hide_other_peoples_drafts(db, world, work):
    public = make_proposal(db, world, publish=True, title="Public proposal")
    draft = make_proposal(db, world, title="Private draft")
    add(db, public, world.fan, work, "unacceptable", "Too far.")
    add(db, draft, world.author, work, "borderline")

    def titles(viewer: User | None) -> list[tuple[str, ExhibitStance]]:
        return sorted((c.proposal.title, c.stance) for c in ex.citing_proposals(db, work, viewer))

    public_only = [("Public proposal", ExhibitStance.unacceptable)]
    assert titles(None) == public_only
    assert titles(world.fan) == public_only
    assert titles(world.moderator) == public_only
    assert titles(world.author) == sorted(
        [("Private draft", ExhibitStance.borderline), *public_only]
    )
    assert ex.citing_proposals(db, work, None)[0].note == "Too far."


def test_deleting_a_work_or_proposal_deletes_its_exhibits(db, world, work):
    proposal = make_proposal(db, world, publish=True)
    add(db, proposal, world.fan, work)
    db.delete(work)
    db.flush()
    db.expire_all()
    assert count(db) == 0
