"""Following proposals, and comparing any two revisions word by word."""

from __future__ import annotations

import pytest

from app.errors import NotAuthenticated, NotFound
from app.proposals import service
from tests.unit.proposals.conftest import edit, hours, make_proposal


def test_members_follow_and_unfollow_idempotently(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    assert service.follower_count(db, proposal) == 1  # the author

    for _ in range(2):
        service.follow(db, actor=world.fan, proposal=proposal, now=now)
    service.follow(db, actor=world.creator, proposal=proposal, now=now)
    assert service.is_following(db, proposal, world.fan)
    assert service.follower_count(db, proposal) == 3

    for _ in range(2):
        service.unfollow(db, actor=world.fan, proposal=proposal)
    assert not service.is_following(db, proposal, world.fan)
    assert service.follower_count(db, proposal) == 2


def test_the_author_may_unfollow_and_follow_again(db, world, now):
    proposal = make_proposal(db, world)
    service.unfollow(db, actor=world.author, proposal=proposal)
    assert service.follower_count(db, proposal) == 0
    service.follow(db, actor=world.author, proposal=proposal, now=now)
    assert service.is_following(db, proposal, world.author)


def test_anonymous_visitors_follow_nothing(db, world, now):
    proposal = make_proposal(db, world, publish=True)
    assert not service.is_following(db, proposal, None)
    with pytest.raises(NotAuthenticated):
        service.follow(db, actor=None, proposal=proposal, now=now)
    with pytest.raises(NotAuthenticated):
        service.unfollow(db, actor=None, proposal=proposal)


def test_follows_are_per_proposal(db, world, now):
    first = make_proposal(db, world, publish=True)
    second = make_proposal(db, world, publish=True)
    service.follow(db, actor=world.fan, proposal=first, now=now)
    assert not service.is_following(db, second, world.fan)
    assert service.follower_count(db, second) == 1


@pytest.fixture
def revised(db, world, now):
    proposal = make_proposal(
        db,
        world,
        title="Credit the illustrator",
        summary="Short.",
        rationale="Because.",
        norm_text="Fan art may be sold at events.",
    )
    edit(db, proposal, world.author, now=now + hours(1), norm_text="Fan art may not be sold.")
    edit(db, proposal, world.author, now=now + hours(2), title="Credit every illustrator")
    return proposal


def ops(field: service.FieldDiff) -> list[tuple[str, str]]:
    return [(p.op, p.text) for p in field.pieces if p.op != "equal"]


def test_compare_two_revisions_word_by_word(db, revised):
    result = service.compare(db, revised, 1, 2)
    assert (result.old.number, result.new.number) == (1, 2)
    by_name = {f.name: f for f in result.fields}
    assert list(by_name) == ["title", "summary", "norm_text", "rationale"]
    assert not by_name["title"].changed
    assert not by_name["summary"].changed
    assert not by_name["rationale"].changed
    norm = by_name["norm_text"]
    assert norm.changed
    assert norm.label == "Norm text"
    assert ("insert", "not ") in ops(norm)
    assert ("delete", " at events") in ops(norm)
    assert "<ins>not </ins>" in str(norm.html)
    assert "".join(p.text for p in norm.pieces if p.op != "insert") == (
        "Fan art may be sold at events."
    )


def test_compare_any_two_revisions(db, revised):
    by_name = {f.name: f for f in service.compare(db, revised, 1, 3).fields}
    assert by_name["title"].changed
    assert by_name["norm_text"].changed
    assert ops(by_name["title"]) == [("delete", "the"), ("insert", "every")]


def test_compare_in_reverse_order(db, revised):
    result = service.compare(db, revised, 3, 1)
    assert (result.old.number, result.new.number) == (3, 1)
    by_name = {f.name: f for f in result.fields}
    assert ops(by_name["title"]) == [("delete", "every"), ("insert", "the")]
    assert ("delete", "not ") in ops(by_name["norm_text"])


def test_a_revision_compared_with_itself_has_no_changes(db, revised):
    assert not any(f.changed for f in service.compare(db, revised, 2, 2).fields)


@pytest.mark.parametrize(("old", "new"), [(1, 4), (0, 1), (-1, 2), (99, 98)])
def test_unknown_revisions_are_not_found(db, revised, old, new):
    with pytest.raises(NotFound):
        service.compare(db, revised, old, new)


def test_revisions_belong_to_their_proposal(db, world, now, revised):
    other = make_proposal(db, world)
    with pytest.raises(NotFound):
        service.compare(db, other, 1, 2)
    assert service.get_revision(db, other, 1).proposal_id == other.id
