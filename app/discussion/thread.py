"""Reading a thread: pages of comments with their replies, in a bounded number of queries.

A page holds `limit` top-level comments (or, filtered to a work, the comments anchored to it)
in order of posting, found by key (`id > cursor`), never by offset. Replies are fetched one
level at a time, a few per parent, each parent's replies taken with their own `LIMIT` from
the (parent_id, id) index — so a page costs the same whatever the size of the thread behind
it. Below `INLINE_DEPTH` levels a "continue this thread" link leads to the comment's own
page; a parent with more replies than shown gets "load more replies".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select, union_all
from sqlalchemy.orm import Session

from app import paging
from app.discussion.models import Comment, CommentAnchor
from app.errors import ValidationFailed
from app.i18n import gettext as _
from app.proposals.models import Proposal

PAGE_SIZE = 20
#: Replies shown under a parent before "load more replies", by the parent's level.
REPLIES_SHOWN = (4, 3, 2, 2)
#: Levels of replies shown indented under the comments a page starts from.
INLINE_DEPTH = 4
#: At most this many parents have their replies fetched per level (bounds each query).
PARENTS_PER_LEVEL = 60
#: Ids are INTEGER columns: 32-bit on PostgreSQL, where a larger value fails in the driver.
MAX_ID = 2**31 - 1


@dataclass
class Node:
    """A comment placed in the tree being shown; `level` 0 is where the page starts."""

    comment: Comment
    level: int = 0
    anchor: CommentAnchor | None = None
    children: list[Node] = field(default_factory=list)
    #: Replies not shown yet; "load more replies" fetches them after `last_child_id`.
    more: int = 0
    #: Replies exist below the levels shown inline: "continue this thread".
    continues: bool = False

    @property
    def last_child_id(self) -> int:
        return self.children[-1].comment.id if self.children else 0

    @property
    def shown(self) -> int:
        return len(self.children)


@dataclass
class ThreadPage:
    items: list[Node]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return paging.encode(last_id)


def decode_cursor(cursor: str | None) -> int | None:
    values = paging.decode(cursor, size=1)
    if values is None:
        return None
    value = values[0]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise ValidationFailed(
            _("The cursor is not valid."),
            fields={"cursor": _("Use the next_cursor of a previous page.")},
        )
    return value


def _replies_query(parents: list[Node], after: dict[int, int], per_parent: int) -> Select[Any]:
    """Ids of the first `per_parent` replies (after a given id) of each parent, in one union."""
    parts = []
    for node in parents:
        part = select(Comment.id).where(Comment.parent_id == node.comment.id)
        if after.get(node.comment.id):
            part = part.where(Comment.id > after[node.comment.id])
        parts.append(select(part.order_by(Comment.id).limit(per_parent).subquery()))
    return select(union_all(*parts).subquery().c.id)


def _expand(
    db: Session,
    roots: list[Node],
    *,
    after: dict[int, int] | None = None,
    shown_before: dict[int, int] | None = None,
) -> None:
    """Fetch replies under `roots`, level by level, down to `INLINE_DEPTH`."""
    after = dict(after or {})
    shown_before = shown_before or {}
    frontier = [n for n in roots if n.comment.reply_count > 0]
    while frontier:
        fetch: list[Node] = []
        for node in frontier:
            if node.level >= INLINE_DEPTH:
                node.continues = True
            elif len(fetch) < PARENTS_PER_LEVEL:
                fetch.append(node)
            else:
                node.more = node.comment.reply_count  # all of them, one click away
        if not fetch:
            return
        by_parent = {n.comment.id: n for n in fetch}
        per_level: dict[int, list[Node]] = {}
        for node in fetch:
            per_level.setdefault(node.level, []).append(node)
        replies: list[Comment] = []
        for level, parents in per_level.items():
            limit = REPLIES_SHOWN[min(level, len(REPLIES_SHOWN) - 1)]
            ids = db.scalars(_replies_query(parents, after, limit)).all()
            replies.extend(_load(db, list(ids)))
        next_frontier: list[Node] = []
        for comment in sorted(replies, key=lambda c: c.id):
            parent = by_parent[comment.parent_id or 0]
            child = Node(comment, level=parent.level + 1)
            parent.children.append(child)
            if comment.reply_count > 0:
                next_frontier.append(child)
        for node in fetch:
            limit = REPLIES_SHOWN[min(node.level, len(REPLIES_SHOWN) - 1)]
            if len(node.children) == limit:
                seen = shown_before.get(node.comment.id, 0) + len(node.children)
                node.more = max(0, node.comment.reply_count - seen)
        after = {}
        shown_before = {}
        frontier = next_frontier


def _load(db: Session, ids: list[int]) -> list[Comment]:
    if not ids:
        return []
    return list(db.scalars(select(Comment).where(Comment.id.in_(ids)).order_by(Comment.id)))


def _all_nodes(nodes: list[Node]) -> dict[int, Node]:
    found: dict[int, Node] = {}
    stack = list(nodes)
    while stack:
        node = stack.pop()
        found[node.comment.id] = node
        stack.extend(node.children)
    return found


def _attach_anchors(db: Session, nodes: list[Node]) -> None:
    everything = _all_nodes(nodes)
    if not everything:
        return
    for anchor in db.scalars(
        select(CommentAnchor).where(CommentAnchor.comment_id.in_(list(everything)))
    ):
        everything[anchor.comment_id].anchor = anchor


def thread_page(
    db: Session,
    proposal: Proposal,
    *,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    work_id: int | None = None,
) -> ThreadPage:
    """One page of the thread: top-level comments, or the comments anchored to `work_id`."""
    after = decode_cursor(cursor) or 0
    if work_id is None:
        query = select(Comment).where(
            Comment.proposal_id == proposal.id, Comment.parent_id.is_(None)
        )
    else:
        query = (
            select(Comment)
            .join(CommentAnchor, CommentAnchor.comment_id == Comment.id)
            .where(CommentAnchor.proposal_id == proposal.id, CommentAnchor.work_id == work_id)
        )
    rows = list(db.scalars(query.where(Comment.id > after).order_by(Comment.id).limit(limit + 1)))
    roots = [Node(c) for c in rows[:limit]]
    _expand(db, roots)
    _attach_anchors(db, roots)
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return ThreadPage(roots, next_cursor)


def single(db: Session, comment: Comment, *, level: int = 0) -> Node:
    """One comment with its anchor and no replies (a new comment, an edited one)."""
    return Node(comment, level=level, anchor=db.get(CommentAnchor, comment.id))


def subtree(db: Session, comment: Comment) -> Node:
    """A comment with its replies, for its own page ("continue this thread")."""
    root = Node(comment)
    _expand(db, [root])
    _attach_anchors(db, [root])
    return root


def more_replies(db: Session, parent: Comment, *, after: int, shown: int, level: int) -> Node:
    """The next replies of `parent` after id `after`, where `shown` were on the page already.

    `level` is the parent's level on the page asking, so the replies indent and stop where
    that page would have.
    """
    level = min(max(level, 0), INLINE_DEPTH - 1)
    node = Node(parent, level=level)
    _expand(db, [node], after={parent.id: after}, shown_before={parent.id: max(shown, 0)})
    _attach_anchors(db, [node])
    return node


def comments_after(db: Session, proposal: Proposal, after: int, *, limit: int = 50) -> list[Node]:
    """Comments posted after id `after`, for live updates (no replies expanded)."""
    rows = list(
        db.scalars(
            select(Comment)
            .where(Comment.proposal_id == proposal.id, Comment.id > after)
            .order_by(Comment.id)
            .limit(limit)
        )
    )
    nodes = [Node(c) for c in rows]
    _attach_anchors(db, nodes)
    return nodes


def latest_id(db: Session, proposal: Proposal) -> int:
    """The newest comment's id (0 for an empty thread), where live updates start."""
    return (
        db.scalar(
            select(Comment.id)
            .where(Comment.proposal_id == proposal.id)
            .order_by(Comment.id.desc())
            .limit(1)
        )
        or 0
    )
