"""The proposal list: who sees what, filters, sorts and keyset pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app import paging
from app.accounts.models import User
from app.errors import ValidationFailed
from app.proposals import service
from app.proposals.models import Proposal, ProposalState
from tests.factories import add_member, make_community
from tests.unit.proposals.conftest import World, hours, make_proposal, values


def listed(
    db: Session,
    world: World,
    viewer: User | None = None,
    *,
    limit: int = 100,
    cursor: str | None = None,
    **filters: Any,
) -> list[Proposal]:
    page = service.list_proposals(
        db,
        community=world.community,
        viewer=viewer,
        filters=service.ProposalFilter(**filters),
        limit=limit,
        cursor=cursor,
    )
    return page.items


def ids(items: list[Proposal]) -> set[int]:
    return {p.id for p in items}


@pytest.fixture
def cast(db, world, now):
    """A draft, a co-authored draft, published ones, a withdrawn one and a withdrawn draft."""
    draft = make_proposal(db, world, title="Author's draft")
    shared = make_proposal(db, world, author=world.fan, title="Shared draft")
    service.add_coauthor(
        db, actor=world.fan, proposal=shared, username=world.coauthor.username, now=now
    )
    art = make_proposal(db, world, publish=True, title="Art", tags=["credit"])
    ai = make_proposal(
        db,
        world,
        author=world.creator,
        publish=True,
        title="AI models",
        category="ai-models",
        tags=["ai"],
    )
    gone = make_proposal(db, world, publish=True, title="Gone", tags=["ai", "credit"])
    service.withdraw(db, actor=world.author, proposal=gone, reason="", now=now)
    unpublished = make_proposal(db, world, title="Never published")
    service.withdraw(db, actor=world.author, proposal=unpublished, reason="", now=now)
    return {
        "draft": draft,
        "shared": shared,
        "art": art,
        "ai": ai,
        "gone": gone,
        "unpublished": unpublished,
    }


def test_drafts_are_listed_for_their_authors_only(db, world, cast):
    public = {cast["art"].id, cast["ai"].id, cast["gone"].id}
    assert ids(listed(db, world)) == public
    assert ids(listed(db, world, world.moderator)) == public
    assert ids(listed(db, world, world.admin)) == public
    assert ids(listed(db, world, world.author)) == public | {
        cast["draft"].id,
        cast["unpublished"].id,
    }
    assert ids(listed(db, world, world.coauthor)) == public | {cast["shared"].id}
    assert ids(listed(db, world, world.fan)) == public | {cast["shared"].id}


def test_only_the_communitys_proposals_are_listed(db, world, now, cast):
    other = make_community(db)
    add_member(db, other, world.author)
    elsewhere = service.create_proposal(
        db, actor=world.author, community=other, values=values(category=""), now=now
    )
    service.publish(db, actor=world.author, proposal=elsewhere, now=now)
    assert elsewhere.id not in ids(listed(db, world, world.author))
    assert elsewhere.id not in ids(listed(db, world, None))


def test_filter_by_state(db, world, cast, strategy):
    assert ids(listed(db, world, state="deliberation")) == {cast["art"].id, cast["ai"].id}
    assert ids(listed(db, world, state="withdrawn")) == {cast["gone"].id}
    assert ids(listed(db, world, state="draft")) == set()
    assert ids(listed(db, world, world.author, state="draft")) == {cast["draft"].id}
    assert ids(listed(db, world, state="voting")) == set()


def test_filter_by_category(db, world, cast, strategy):
    assert ids(listed(db, world, category="ai-models")) == {cast["ai"].id}
    assert ids(listed(db, world, category="fan-art")) == {cast["art"].id, cast["gone"].id}
    assert ids(listed(db, world, category="no-such-category")) == set()


def test_filter_by_tag(db, world, cast, strategy):
    assert ids(listed(db, world, tag="ai")) == {cast["ai"].id, cast["gone"].id}
    assert ids(listed(db, world, tag="credit")) == {cast["art"].id, cast["gone"].id}
    # Only drafts carry this one.
    assert ids(listed(db, world, tag="fan-art")) == set()
    assert ids(listed(db, world, world.author, tag="fan-art")) == {
        cast["draft"].id,
        cast["unpublished"].id,
    }


def test_filters_combine(db, world, cast, strategy):
    assert ids(listed(db, world, tag="credit", state="deliberation")) == {cast["art"].id}
    assert ids(listed(db, world, tag="ai", category="fan-art")) == {cast["gone"].id}


def test_filter_by_language(db, world, cast, strategy):
    japanese = make_proposal(db, world, publish=True, title="日本語の提案", language="ja")
    assert ids(listed(db, world, language="ja")) == {japanese.id}
    assert ids(listed(db, world, language="en")) == {cast["art"].id, cast["ai"].id, cast["gone"].id}
    assert ids(listed(db, world, language="ja", state="withdrawn")) == set()
    assert ids(listed(db, world, language="ko")) == set()


def test_check_filter_accepts_known_values():
    filters = service.check_filter(
        {
            "state": " deliberation ",
            "sort": "closing",
            "category": " ai-models ",
            "tag": "#AI",
            "q": "  x ",
        }
    )
    assert filters == service.ProposalFilter(
        state="deliberation", category="ai-models", tag="ai", q="x", sort="closing"
    )
    assert service.check_filter({}) == service.ProposalFilter()
    assert service.check_filter({"sort": ""}).sort == "newest"


@pytest.mark.parametrize("tag", [",", "#", " , # ", "   "])
def test_check_filter_ignores_an_empty_tag(tag):
    assert service.check_filter({"tag": tag}).tag == ""


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"state": "open"}, "state"),
        ({"state": "DRAFT"}, "state"),
        ({"sort": "oldest"}, "sort"),
        ({"sort": "Newest"}, "sort"),
        ({"q": "x" * 201}, "q"),
        # PostgreSQL would refuse the query itself.
        ({"category": "fan-art\x00"}, "category"),
        ({"tag": "credit\x00"}, "tag"),
    ],
)
def test_check_filter_refuses_unknown_values(raw, field):
    with pytest.raises(ValidationFailed) as caught:
        service.check_filter(raw)
    assert set(caught.value.fields) == {field}


def test_check_filter_reports_every_problem():
    with pytest.raises(ValidationFailed) as caught:
        service.check_filter({"state": "open", "sort": "oldest"})
    assert set(caught.value.fields) == {"state", "sort"}


# Keyset pagination -----------------------------------------------------------------------


def sort_key(sort: str) -> Callable[[Proposal], tuple[Any, int]]:
    if sort == "newest":
        return lambda p: (p.listed_at, p.id)
    if sort == "active":
        return lambda p: (p.last_activity_at, p.id)
    return lambda p: (p.deadline_at, p.id)


@pytest.fixture
def many(db: Session, world: World, now: datetime) -> list[Proposal]:
    """25 proposals whose timestamps are partly distinct, partly equal (groups of three)."""
    proposals = []
    for n in range(25):
        at = now + timedelta(minutes=10 * (n // 3), microseconds=n // 3)
        proposal = make_proposal(
            db, world, title=f"Proposal number {n}", now=at, publish=n % 5 != 4
        )
        # Activity in another order than publication, with ties of its own.
        proposal.last_activity_at = now + hours(100) - timedelta(minutes=(n * 7) % 4)
        proposals.append(proposal)
    withdrawn = proposals[0]
    service.withdraw(db, actor=world.author, proposal=withdrawn, reason="", now=withdrawn.listed_at)
    withdrawn.last_activity_at = now + hours(100)
    db.flush()
    return proposals


def walk(
    db: Session, world: World, viewer: User | None, limit: int, **filters: Any
) -> list[list[Proposal]]:
    pages, cursor = [], None
    while True:
        page = service.list_proposals(
            db,
            community=world.community,
            viewer=viewer,
            filters=service.ProposalFilter(**filters),
            limit=limit,
            cursor=cursor,
        )
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not end"


@pytest.mark.parametrize("sort", ["newest", "active", "closing"])
@pytest.mark.parametrize("limit", [1, 4, 5, 25, 26])
def test_pages_return_every_proposal_exactly_once_in_order(db, world, many, sort, limit):
    pages = walk(db, world, world.author, limit, sort=sort)
    seen = [p.id for page in pages for p in page]

    if sort == "closing":
        # Only proposals with a deadline: published and not withdrawn.
        expected = [p for p in many if p.deadline_at is not None]
        expected.sort(key=sort_key(sort))
    else:
        expected = sorted(many, key=sort_key(sort), reverse=True)
    assert seen == [p.id for p in expected]
    assert len(seen) == len(set(seen))
    assert all(len(page) == limit for page in pages[:-1])
    assert 0 < len(pages[-1]) <= limit or len(expected) == 0


def test_the_sorts_really_differ(db, world, many):
    newest = [p.id for p in listed(db, world, world.author, sort="newest")]
    active = [p.id for p in listed(db, world, world.author, sort="active")]
    closing = [p.id for p in listed(db, world, world.author, sort="closing")]
    assert newest != active
    assert (
        closing[0]
        == min((p for p in many if p.deadline_at is not None), key=sort_key("closing")).id
    )
    assert len(closing) < len(newest)


def test_pages_respect_filters_and_visibility(db, world, many):
    pages = walk(db, world, None, 3, sort="newest", state="deliberation")
    seen = [p.id for page in pages for p in page]
    expected = [p for p in many if p.state == ProposalState.deliberation]
    assert seen == [p.id for p in sorted(expected, key=sort_key("newest"), reverse=True)]


def test_a_full_last_page_has_no_next_cursor(db, world, many):
    visible = len(listed(db, world, None))
    page = service.list_proposals(
        db, community=world.community, viewer=None, filters=service.ProposalFilter(), limit=visible
    )
    assert page.next_cursor is None
    assert len(page.items) == visible


def test_an_empty_community_has_an_empty_page(db, world):
    page = service.list_proposals(
        db, community=world.community, viewer=None, filters=service.ProposalFilter(), limit=10
    )
    assert page == service.ProposalPage([], None)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "e30",  # {}
        paging.encode("2026-12-01T12:00:00+00:00"),
        paging.encode("2026-12-01T12:00:00+00:00", 1, 2),
        paging.encode("yesterday", 1),
        paging.encode(None, 1),
        paging.encode("2026-12-01T12:00:00+00:00", "one"),
        paging.encode("2026-12-01T12:00:00+00:00", None),
        paging.encode("2026-12-01T12:00:00+00:00", 1.5),
        paging.encode("2026-12-01T12:00:00+00:00", [1]),
        paging.encode("0001-01-01T00:00:00+14:00", 1),
        paging.encode("9999-12-31T23:59:59-14:00", 1),
        paging.encode("2026-12-01T12:00:00+00:00", 10**30),
    ],
)
@pytest.mark.parametrize("sort", ["newest", "closing"])
def test_a_bad_cursor_is_a_field_error(db, world, many, cursor, sort):
    with pytest.raises(ValidationFailed) as caught:
        listed(db, world, cursor=cursor, sort=sort)
    assert set(caught.value.fields) == {"cursor"}


def test_a_cursor_in_another_time_zone_means_the_same_instant(db, world, many):
    items = listed(db, world, world.author, sort="newest")
    pivot = items[5]
    shifted = pivot.listed_at.astimezone(timezone(timedelta(hours=9))).isoformat()
    naive_utc = pivot.listed_at.replace(tzinfo=None).isoformat()
    for value in (shifted, naive_utc):
        rest = listed(db, world, world.author, sort="newest", cursor=paging.encode(value, pivot.id))
        assert [p.id for p in rest] == [p.id for p in items[6:]]


def test_the_cursor_of_a_page_is_where_the_next_starts(db, world, many):
    first = service.list_proposals(
        db,
        community=world.community,
        viewer=world.author,
        filters=service.ProposalFilter(sort="closing"),
        limit=3,
    )
    assert first.next_cursor is not None
    at, last_id = paging.decode(first.next_cursor, size=2) or []
    assert last_id == first.items[-1].id
    assert datetime.fromisoformat(at) == first.items[-1].deadline_at


def test_a_nul_character_in_the_search_is_dropped(db, world, cast):
    filters = service.check_filter({"q": "Gone\x00"})
    page = service.list_proposals(
        db, community=world.community, viewer=None, filters=filters, limit=10
    )
    assert ids(page.items) == {cast["gone"].id}
