"""Reading a thread: keyset pages, nested replies with "more" and "continues", loading more
replies, the filter by work, live updates, and a page costing the same queries at any size."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from app import paging
from app.accounts.models import User
from app.discussion import anchors, thread
from app.discussion import api as discussion_api
from app.discussion.models import Comment
from app.discussion.schemas import CommentOut
from app.errors import ValidationFailed
from app.proposals.models import Proposal
from tests.support.statements import counting
from tests.unit.discussion.conftest import NOW, World, make_proposal, post


def chain(db: Session, world: World, parent: Comment | None, length: int) -> list[Comment]:
    """`length` comments, each replying to the one before."""
    made: list[Comment] = []
    for _ in range(length):
        parent = post(db, world.proposal, world.fan, parent=parent)
        made.append(parent)
    return made


def ids(nodes: list[thread.Node]) -> list[int]:
    return [n.comment.id for n in nodes]


def test_keyset_pages(db: Session, world: World) -> None:
    made = [post(db, world.proposal, world.fan, f"#{i}") for i in range(25)]
    post(db, world.proposal, world.author, parent=made[0])  # replies are not top-level items
    first = thread.thread_page(db, world.proposal, limit=10)
    assert ids(first.items) == [c.id for c in made[:10]]
    second = thread.thread_page(db, world.proposal, limit=10, cursor=first.next_cursor)
    assert ids(second.items) == [c.id for c in made[10:20]]
    last = thread.thread_page(db, world.proposal, limit=10, cursor=second.next_cursor)
    assert ids(last.items) == [c.id for c in made[20:]]
    assert last.next_cursor is None
    exact = thread.thread_page(db, world.proposal, limit=25)
    assert exact.next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        "zz",
        "!!!",
        paging.encode("1"),
        paging.encode(-1),
        paging.encode(True),
        paging.encode(2**64),
        paging.encode(2**31),
        paging.encode(1, 2),
        paging.encode(1.5),
    ],
)
def test_bad_cursors_are_field_errors(db: Session, world: World, cursor: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        thread.thread_page(db, world.proposal, cursor=cursor)
    assert set(caught.value.fields) == {"cursor"}


def test_nesting_with_more_replies(db: Session, world: World) -> None:
    top = post(db, world.proposal, world.fan)
    replies = [post(db, world.proposal, world.author, parent=top) for _ in range(6)]
    under = [post(db, world.proposal, world.fan, parent=replies[0]) for _ in range(4)]
    (node,) = thread.thread_page(db, world.proposal).items
    assert ids(node.children) == [c.id for c in replies[:4]]
    assert node.more == 2
    assert not node.continues
    first = node.children[0]
    assert ids(first.children) == [c.id for c in under[:3]]  # level 1 shows 3
    assert first.more == 1
    assert all(child.more == 0 for child in node.children[1:])
    rest = thread.more_replies(db, top, after=node.last_child_id, shown=node.shown, level=0)
    assert ids(rest.children) == [c.id for c in replies[4:]]
    assert rest.more == 0
    more_under = thread.more_replies(
        db, replies[0], after=first.last_child_id, shown=first.shown, level=1
    )
    assert ids(more_under.children) == [under[3].id]


def test_more_replies_pages_through_many(db: Session, world: World) -> None:
    top = post(db, world.proposal, world.fan)
    replies = [post(db, world.proposal, world.author, parent=top) for _ in range(11)]
    seen: list[int] = []
    after, shown = 0, 0
    while True:
        node = thread.more_replies(db, top, after=after, shown=shown, level=0)
        seen.extend(ids(node.children))
        shown += node.shown
        after = node.last_child_id
        if not node.more:
            break
        assert node.more == 11 - shown
    assert seen == [c.id for c in replies]


def test_deep_threads_continue_on_their_own_page(db: Session, world: World) -> None:
    top = post(db, world.proposal, world.fan)
    deep = chain(db, world, top, 6)
    (node,) = thread.thread_page(db, world.proposal).items
    levels = [node]
    while levels[-1].children:
        levels.append(levels[-1].children[0])
    assert [n.comment.id for n in levels] == [top.id, *[c.id for c in deep[:4]]]
    assert levels[-1].level == thread.INLINE_DEPTH
    assert levels[-1].continues
    assert not levels[-1].children
    assert not any(n.continues for n in levels[:-1])
    sub = thread.subtree(db, deep[3])
    assert ids(sub.children) == [deep[4].id]
    assert ids(sub.children[0].children) == [deep[5].id]
    assert not sub.children[0].children[0].continues


def test_parents_past_the_per_level_bound_offer_all_their_replies(
    db: Session, world: World
) -> None:
    tops = [post(db, world.proposal, world.fan) for _ in range(thread.PARENTS_PER_LEVEL + 1)]
    for top in tops:
        post(db, world.proposal, world.author, parent=top)
        post(db, world.proposal, world.author, parent=top)
    page = thread.thread_page(db, world.proposal, limit=100)
    assert all(len(n.children) == 2 and n.more == 0 for n in page.items[:-1])
    assert page.items[-1].children == []
    assert page.items[-1].more == 2


def test_filter_by_work(db: Session, world: World) -> None:
    plain = post(db, world.proposal, world.fan)
    on_video = post(
        db,
        world.proposal,
        world.fan,
        anchor=anchors.AnchorInput(work=world.video.id, kind="time", start=1, end=2),
    )
    reply_on_video = post(
        db,
        world.proposal,
        world.author,
        parent=plain,
        anchor=anchors.AnchorInput(work=world.video.id, kind="time", start=3, end=4),
    )
    on_image = post(
        db,
        world.proposal,
        world.fan,
        anchor=anchors.AnchorInput(work=world.image.id, kind="region", x=1, y=1, w=5, h=5),
    )
    video = thread.thread_page(db, world.proposal, work_id=world.video.id)
    assert ids(video.items) == [on_video.id, reply_on_video.id]
    assert video.items[0].anchor is not None
    assert video.items[0].anchor.work_id == world.video.id
    assert ids(thread.thread_page(db, world.proposal, work_id=world.image.id).items) == [
        on_image.id
    ]
    assert thread.thread_page(db, world.proposal, work_id=world.text.id).items == []
    everything = thread.thread_page(db, world.proposal)
    assert ids(everything.items) == [plain.id, on_video.id, on_image.id]
    assert everything.items[0].children[0].anchor is not None


def test_comments_after_and_latest_id(db: Session, world: World) -> None:
    assert thread.latest_id(db, world.proposal) == 0
    a = post(db, world.proposal, world.fan)
    b = post(db, world.proposal, world.author, parent=a)
    other = make_proposal(db, world.community, world.author)
    post(db, other, world.fan)
    assert thread.latest_id(db, world.proposal) == b.id
    assert ids(thread.comments_after(db, world.proposal, 0)) == [a.id, b.id]
    assert ids(thread.comments_after(db, world.proposal, a.id)) == [b.id]
    assert thread.comments_after(db, world.proposal, b.id) == []
    assert len(thread.comments_after(db, world.proposal, 0, limit=1)) == 1


# -- a page costs the same number of queries whatever the size of the thread ---------------


def bulk_thread(
    db: Session, proposal: Proposal, author: User, *, tops: int, fanout: list[tuple[int, int]]
) -> int:
    """Insert a thread directly: `tops` top-level comments, then for each level `(each, n)`:
    the first `n` comments of the level above get `each` replies. Depths and reply counts are
    kept consistent. Returns how many comments were made."""

    def rows(parents: list[tuple[int | None, int]], each: int) -> list[dict[str, Any]]:
        return [
            {
                "proposal_id": proposal.id,
                "parent_id": parent,
                "depth": depth,
                "author_id": author.id,
                "alignment": "neutral" if parent is None else None,
                "body": "Bulk",
                "body_html": "<p>Bulk</p>",
                "reply_count": 0,
                "edit_count": 0,
                "created_at": NOW,
            }
            for parent, depth in parents
            for _ in range(each)
        ]

    def add(batch: list[dict[str, Any]]) -> list[int]:
        return list(db.scalars(insert(Comment).returning(Comment.id), batch))

    level = add(rows([(None, 0)], tops))
    total = len(level)
    for depth, (each, n) in enumerate(fanout, start=1):
        parents = level[:n]
        level = add(rows([(p, depth) for p in parents], each))
        total += len(level)
        db.execute(update(Comment).where(Comment.id.in_(parents)).values(reply_count=each))
    db.expire_all()
    return total


def first_page(db: Session, proposal: Proposal, viewer: User) -> tuple[list[str], list[CommentOut]]:
    db.refresh(proposal)  # loaded already, as in a request
    with counting(db.connection()) as statements:
        page = thread.thread_page(db, proposal)
        shown = discussion_api.Viewer(db, viewer, proposal)
        out = [discussion_api.comment_out(shown, node) for node in page.items]
    assert len(out) == thread.PAGE_SIZE
    return statements, out


def deepest(comment: CommentOut) -> CommentOut:
    while comment.replies:
        comment = comment.replies[0]
    return comment


def test_a_page_costs_the_same_queries_for_50_or_2000_comments(db: Session, world: World) -> None:
    small = world.proposal
    big = make_proposal(db, world.community, world.author)
    # Both first pages show replies five levels deep, so each fetches every inline level.
    assert bulk_thread(db, small, world.fan, tops=21, fanout=[(1, 6)] * 5) == 51
    assert (
        bulk_thread(
            db, big, world.fan, tops=400, fanout=[(5, 400), (3, 40), (2, 30), (2, 30), (2, 30)]
        )
        > 2000
    )
    small_statements, small_page = first_page(db, small, world.fan)
    big_statements, big_page = first_page(db, big, world.fan)
    assert deepest(small_page[0]).continues
    assert deepest(big_page[0]).continues
    assert big_page[0].more_replies == 5 - thread.REPLIES_SHOWN[0]
    assert len(small_statements) == len(big_statements)
    # page + (reply ids, replies) for each inline level + anchors + the viewer's membership
    assert len(big_statements) == 1 + 2 * thread.INLINE_DEPTH + 1 + 1
