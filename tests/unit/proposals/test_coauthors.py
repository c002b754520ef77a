"""Co-authors: the author invites members; they edit and are credited; they can be removed."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from app.proposals import service
from app.proposals.models import AuthorRole, EventKind, Proposal, ProposalAuthor, ProposalState
from tests.factories import make_user
from tests.unit.proposals.conftest import edit, hours, make_proposal


def invite(
    db: Session, proposal: Proposal, actor: User | None, username: str, now: datetime
) -> ProposalAuthor:
    return service.add_coauthor(db, actor=actor, proposal=proposal, username=username, now=now)


def remove(
    db: Session, proposal: Proposal, actor: User | None, username: str, now: datetime
) -> None:
    service.remove_coauthor(db, actor=actor, proposal=proposal, username=username, now=now)


@pytest.fixture
def proposal(db, world, now):
    return make_proposal(db, world)


def test_the_author_invites_a_member_who_is_credited_and_follows(db, world, now, proposal):
    later = now + hours(1)
    row = invite(db, proposal, world.author, world.coauthor.username.upper(), later)

    assert (row.user_id, row.role, row.added_by_id, row.added_at) == (
        world.coauthor.id,
        AuthorRole.coauthor,
        world.author.id,
        later,
    )
    credited = [(a.user_id, a.role) for a in service.authors(db, proposal)]
    assert credited == [
        (world.author.id, AuthorRole.author),
        (world.coauthor.id, AuthorRole.coauthor),
    ]
    assert service.author_ids(db, proposal) == {world.author.id, world.coauthor.id}
    assert service.is_following(db, proposal, world.coauthor)
    assert service.follower_count(db, proposal) == 2
    [event] = [e for e in service.timeline(db, proposal) if e.kind == EventKind.coauthor_added]
    assert (event.actor_id, event.detail) == (world.author.id, world.coauthor.username)


def test_an_invitee_who_follows_already_is_not_followed_twice(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    service.follow(db, actor=world.coauthor, proposal=proposal, now=now)
    invite(db, proposal, world.author, world.coauthor.username, now)
    assert service.follower_count(db, proposal) == 2


def test_a_coauthor_edits_and_is_credited_on_the_revision(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    edit(db, proposal, world.coauthor, now=now + hours(1), norm_text="Co-written.")
    assert service.get_revision(db, proposal, 2).author_id == world.coauthor.id


def test_several_coauthors(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    invite(db, proposal, world.author, world.creator.username, now + hours(1))
    roles = [a.role for a in service.authors(db, proposal)]
    assert roles == [AuthorRole.author, AuthorRole.coauthor, AuthorRole.coauthor]


def test_only_the_original_author_invites(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    for actor in (world.coauthor, world.moderator, world.fan, world.admin):
        with pytest.raises(PermissionDenied):
            invite(db, proposal, actor, world.creator.username, now)
    with pytest.raises(NotAuthenticated):
        invite(db, proposal, None, world.creator.username, now)
    assert world.creator.id not in service.author_ids(db, proposal)


@pytest.mark.parametrize("username", ["nobody-here", "", "not a name!"])
def test_the_invitee_must_exist(db, world, now, proposal, username):
    with pytest.raises(ValidationFailed) as caught:
        invite(db, proposal, world.author, username, now)
    assert set(caught.value.fields) == {"username"}


def test_the_invitee_must_be_a_member(db, world, now, proposal):
    with pytest.raises(ValidationFailed) as caught:
        invite(db, proposal, world.author, world.outsider.username, now)
    assert set(caught.value.fields) == {"username"}
    assert service.author_ids(db, proposal) == {world.author.id}


def test_inviting_twice_or_oneself_is_a_field_error(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    for username in (world.coauthor.username, world.author.username):
        with pytest.raises(ValidationFailed) as caught:
            invite(db, proposal, world.author, username, now)
        assert set(caught.value.fields) == {"username"}
    assert len(service.authors(db, proposal)) == 2


def test_no_invitations_once_withdrawn(db, world, now, proposal):
    service.withdraw(db, actor=world.author, proposal=proposal, reason="", now=now)
    with pytest.raises(Conflict):
        invite(db, proposal, world.author, world.coauthor.username, now)


def test_the_author_removes_a_coauthor_who_then_cannot_edit(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    remove(db, proposal, world.author, world.coauthor.username, now + hours(1))

    assert service.author_ids(db, proposal) == {world.author.id}
    with pytest.raises(PermissionDenied):
        edit(db, proposal, world.coauthor, now=now + hours(2), title="Still mine?")
    [event] = [e for e in service.timeline(db, proposal) if e.kind == EventKind.coauthor_removed]
    assert (event.actor_id, event.detail) == (world.author.id, world.coauthor.username)


def test_a_coauthor_steps_down(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    invite(db, proposal, world.author, world.coauthor.username, now)
    remove(db, proposal, world.coauthor, world.coauthor.username, now)
    assert service.author_ids(db, proposal) == {world.author.id}
    [event] = [e for e in service.timeline(db, proposal) if e.kind == EventKind.coauthor_removed]
    assert event.actor_id == world.coauthor.id


def test_nobody_else_removes_a_coauthor(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    invite(db, proposal, world.author, world.creator.username, now)
    for actor in (world.creator, world.fan, world.moderator):
        with pytest.raises(PermissionDenied):
            remove(db, proposal, actor, world.coauthor.username, now)
    with pytest.raises(NotAuthenticated):
        remove(db, proposal, None, world.coauthor.username, now)
    assert world.coauthor.id in service.author_ids(db, proposal)


def test_a_stranger_learns_nothing_from_removing(db, world, now, proposal):
    """Permission comes first: an unknown name is not reported to someone who may not remove."""
    with pytest.raises(PermissionDenied):
        remove(db, proposal, world.fan, "nobody-at-all", now)


def test_the_author_cannot_be_removed(db, world, now, proposal):
    with pytest.raises(NotFound):
        remove(db, proposal, world.author, world.author.username, now)
    assert service.author_ids(db, proposal) == {world.author.id}


def test_removing_someone_who_is_not_a_coauthor(db, world, now, proposal):
    with pytest.raises(NotFound):
        remove(db, proposal, world.author, world.fan.username, now)
    with pytest.raises(NotFound):
        remove(db, proposal, world.author, "nobody-at-all", now)


def test_a_removed_coauthor_can_be_invited_again(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    remove(db, proposal, world.author, world.coauthor.username, now)
    invite(db, proposal, world.author, world.coauthor.username, now)
    assert world.coauthor.id in service.author_ids(db, proposal)


def test_a_member_who_left_cannot_be_invited(db, world, now, proposal):
    leaver = make_user(db)
    communities_service.join(db, actor=leaver, community=world.community, now=now)
    communities_service.leave(db, actor=leaver, community=world.community, now=now)
    with pytest.raises(ValidationFailed):
        invite(db, proposal, world.author, leaver.username, now)


def test_coauthors_stay_on_a_published_proposal(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    service.publish(db, actor=world.author, proposal=proposal, now=now)
    assert proposal.state == ProposalState.deliberation
    assert world.coauthor.id in service.author_ids(db, proposal)


def test_the_authors_of_a_withdrawn_proposal_are_final(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    service.withdraw(db, actor=world.author, proposal=proposal, reason="", now=now)
    for actor in (world.author, world.coauthor):
        with pytest.raises(Conflict):
            remove(db, proposal, actor, world.coauthor.username, now)
    assert world.coauthor.id in service.author_ids(db, proposal)


def test_a_coauthor_removed_from_a_draft_stops_following_it(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    assert service.is_following(db, proposal, world.coauthor)
    remove(db, proposal, world.author, world.coauthor.username, now + hours(1))
    # The draft is invisible to them now, so nothing about it may reach them.
    assert not service.is_following(db, proposal, world.coauthor)


def test_a_coauthor_removed_from_a_published_proposal_keeps_following(db, world, now, proposal):
    invite(db, proposal, world.author, world.coauthor.username, now)
    service.publish(db, actor=world.author, proposal=proposal, now=now + hours(1))
    remove(db, proposal, world.author, world.coauthor.username, now + hours(2))
    assert service.is_following(db, proposal, world.coauthor)
