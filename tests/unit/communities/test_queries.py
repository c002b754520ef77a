"""Reading communities and members: grouping by role, member counts, keyset pages."""

from __future__ import annotations

import pytest

from app.communities import service
from app.communities.models import Role
from app.errors import NotFound
from tests.factories import add_member, make_community, make_user


def test_get_community_by_slug(db):
    community = make_community(db, "miku")
    assert service.get_community(db, "miku") is community
    with pytest.raises(NotFound):
        service.get_community(db, "nothing-here")


def test_members_are_grouped_by_role_and_sorted_by_name(db):
    community = make_community(db)
    other = make_community(db)
    zed = make_user(db, display_name="zed")
    amy = make_user(db, display_name="Amy")
    bob = make_user(db, display_name="bob")
    mod = make_user(db, display_name="Mod")
    add_member(db, community, zed)
    add_member(db, community, amy)
    add_member(db, community, bob, Role.creator)
    add_member(db, community, mod, Role.moderator)
    add_member(db, other, make_user(db), Role.rights_holder)

    grouped = service.members_by_role(db, community)

    assert list(grouped) == list(Role)
    assert [m.user.display_name for m in grouped[Role.fan]] == ["Amy", "zed"]
    assert [m.user for m in grouped[Role.creator]] == [bob]
    assert grouped[Role.rights_holder] == []
    assert [m.user for m in grouped[Role.moderator]] == [mod]


def test_communities_are_listed_by_name_with_their_member_counts(db):
    busy = make_community(db, name="busy Fans")
    empty = make_community(db, name="Almost empty")
    for _ in range(3):
        add_member(db, busy, make_user(db))

    summaries = service.list_communities(db)

    counts = {s.community.id: s.member_count for s in summaries}
    assert counts[busy.id] == 3
    assert counts[empty.id] == 0
    names = [s.community.name for s in summaries]
    assert names == sorted(names, key=str.lower)
    assert service.member_count(db, busy) == 3
    assert service.member_count(db, empty) == 0


def test_community_pages_follow_each_other_without_gaps_or_repeats(db):
    created = [make_community(db) for _ in range(5)]
    add_member(db, created[1], make_user(db))
    add_member(db, created[1], make_user(db))
    ids = {c.id for c in created}

    seen: list[int] = []
    after: int | None = None
    while True:
        page = service.page_communities(db, limit=2, after_id=after)
        assert len(page) <= 2
        if not page:
            break
        seen += [s.community.id for s in page]
        after = page[-1].community.id

    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    assert ids <= set(seen)
    counts = {s.community.id: s.member_count for s in service.page_communities(
        db, limit=100, after_id=created[0].id)}  # fmt: skip
    assert counts[created[1].id] == 2
    assert counts[created[2].id] == 0
    assert created[0].id not in counts


def test_member_pages_follow_each_other_and_stay_in_the_community(db):
    community, other = make_community(db), make_community(db)
    members = [add_member(db, community, make_user(db)) for _ in range(5)]
    add_member(db, other, make_user(db))

    first = service.page_members(db, community, limit=2, after_id=None)
    second = service.page_members(db, community, limit=2, after_id=first[-1].id)
    third = service.page_members(db, community, limit=2, after_id=second[-1].id)
    fourth = service.page_members(db, community, limit=2, after_id=third[-1].id)

    assert [m.id for m in first + second + third] == [m.id for m in members]
    assert [len(first), len(second), len(third), len(fourth)] == [2, 2, 1, 0]
