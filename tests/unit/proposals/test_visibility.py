"""Who sees a proposal: drafts belong to their authors, published proposals to everyone."""

from __future__ import annotations

import pytest

from app.accounts.models import User
from app.errors import NotFound
from app.proposals import service
from app.proposals.models import ProposalState
from tests.factories import make_community
from tests.unit.proposals.conftest import World, make_proposal


def viewers(world: World) -> dict[str, User | None]:
    return {
        "anonymous": None,
        "fan": world.fan,
        "moderator": world.moderator,
        "admin": world.admin,
        "outsider": world.outsider,
    }


@pytest.mark.parametrize("who", ["anonymous", "fan", "moderator", "admin", "outsider"])
def test_someone_elses_draft_looks_missing(db, world, now, who):
    draft = make_proposal(db, world)
    with pytest.raises(NotFound) as caught:
        service.get_proposal(db, draft.id, viewer=viewers(world)[who])
    # Exactly what a proposal that does not exist says.
    with pytest.raises(NotFound) as missing:
        service.get_proposal(db, draft.id + 10_000, viewer=world.fan)
    assert caught.value.message == missing.value.message


def test_authors_and_coauthors_see_their_draft(db, world, now):
    draft = make_proposal(db, world)
    service.add_coauthor(
        db, actor=world.author, proposal=draft, username=world.coauthor.username, now=now
    )
    assert service.get_proposal(db, draft.id, viewer=world.author) is draft
    assert service.get_proposal(db, draft.id, viewer=world.coauthor) is draft


def test_a_removed_coauthor_no_longer_sees_the_draft(db, world, now):
    draft = make_proposal(db, world)
    service.add_coauthor(
        db, actor=world.author, proposal=draft, username=world.coauthor.username, now=now
    )
    service.remove_coauthor(
        db, actor=world.author, proposal=draft, username=world.coauthor.username, now=now
    )
    with pytest.raises(NotFound):
        service.get_proposal(db, draft.id, viewer=world.coauthor)


@pytest.mark.parametrize("who", ["anonymous", "fan", "moderator", "admin", "outsider"])
def test_published_proposals_are_visible_to_everyone(db, world, now, who):
    proposal = make_proposal(db, world, publish=True)
    assert service.get_proposal(db, proposal.id, viewer=viewers(world)[who]) is proposal


def test_a_withdrawn_published_proposal_stays_readable(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    service.withdraw(db, actor=world.author, proposal=proposal, reason="", now=now)
    for viewer in (None, world.fan, world.author):
        seen = service.get_proposal(db, proposal.id, viewer=viewer)
        assert seen.state == ProposalState.withdrawn


def test_a_withdrawn_draft_stays_private(db, world, now):
    """Withdrawing a draft must not publish text its authors never published."""
    draft = make_proposal(db, world)
    service.withdraw(db, actor=world.author, proposal=draft, reason="Not ready", now=now)
    assert service.get_proposal(db, draft.id, viewer=world.author).state == ProposalState.withdrawn
    for viewer in (None, world.fan, world.moderator):
        with pytest.raises(NotFound):
            service.get_proposal(db, draft.id, viewer=viewer)


def test_a_proposal_is_found_only_in_its_own_community(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    assert service.get_in_community(db, world.community, proposal.id, viewer=None) is proposal
    with pytest.raises(NotFound):
        service.get_in_community(db, make_community(db), proposal.id, viewer=None)


def test_an_unknown_id_is_not_found(db, world):
    with pytest.raises(NotFound):
        service.get_proposal(db, 987_654_321, viewer=world.author)
