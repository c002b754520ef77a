"""Flags: members report comments and works; moderators review them in a queue.

A member flags an item once, with a reason. When the community's `flag_hide_threshold` (> 0)
of different members have open flags on an item, it is hidden pending review. A moderator
then either hides it for good with a public reason, or dismisses the flags (which puts an
item hidden only by flags back in view). Nothing here knows about HTTP.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import paging, ratelimit
from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Community
from app.discussion import service as discussion_service
from app.discussion.models import Comment
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.moderation import permissions as perms
from app.moderation.models import Flag, FlagResolution
from app.proposals.models import Proposal
from app.text import public_reason
from app.works import service as works_service
from app.works.models import Work

#: Flags a member may raise per window, across all communities.
FLAG_LIMIT = 20
FLAG_WINDOW = timedelta(hours=1)
#: Items shown per page of the moderators' queue.
QUEUE_LIMIT = 100
MAX_ID = 2**63 - 1

ItemKind = Literal["comment", "work"]


class Action(enum.StrEnum):
    hide = "hide"
    dismiss = "dismiss"


@dataclass
class QueueItem:
    """One flagged comment or work with its open flags, oldest flag first."""

    kind: ItemKind
    comment: Comment | None
    work: Work | None
    #: The proposal a flagged comment belongs to (to link it in context).
    proposal: Proposal | None
    flags: list[Flag]
    #: The id of the item's oldest open flag: the queue's sort key.
    first_flag_id: int

    @property
    def item_id(self) -> int:
        item = self.comment if self.comment is not None else self.work
        assert item is not None
        return item.id

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.item_id}"

    @property
    def count(self) -> int:
        return len(self.flags)

    @property
    def first_flagged_at(self) -> datetime:
        return self.flags[0].created_at

    @property
    def pending_review(self) -> bool:
        item = self.comment if self.comment is not None else self.work
        assert item is not None
        return item.is_pending_review

    @property
    def removed(self) -> bool:
        item = self.comment if self.comment is not None else self.work
        assert item is not None
        return item.is_removed

    @property
    def deleted(self) -> bool:
        return self.comment is not None and self.comment.is_deleted


@dataclass
class Queue:
    items: list[QueueItem]
    next_cursor: str | None


@dataclass(frozen=True)
class Resolution:
    action: Action
    #: How many open flags this resolved.
    resolved: int
    #: True when a dismissal put an item hidden pending review back in view.
    restored: bool


def _proposal_of(db: Session, comment: Comment) -> Proposal:
    proposal = db.get(Proposal, comment.proposal_id)
    assert proposal is not None
    return proposal


def _lock(db: Session, model: type[Comment] | type[Work], item_id: int) -> None:
    """Serialize flag writes on one item (PostgreSQL), so the threshold is never missed."""
    db.execute(select(model.id).where(model.id == item_id).with_for_update())


def _open_flaggers(db: Session, target: ColumnElement[bool]) -> int:
    return (
        db.scalar(
            select(func.count(func.distinct(Flag.flagger_id))).where(
                target, Flag.resolved_at.is_(None), Flag.flagger_id.is_not(None)
            )
        )
        or 0
    )


def _add_flag(
    db: Session,
    *,
    user: User,
    community: Community,
    target: ColumnElement[bool],
    flag: Flag,
    what: str,
    now: datetime,
) -> None:
    """Insert `flag` once per member and item: the unique pair settles double submits."""
    existing = db.scalar(select(Flag).where(target, Flag.flagger_id == user.id))
    if existing is not None:
        _already(existing, what)
    ratelimit.check(
        db,
        bucket="flag",
        key=str(user.id),
        limit=FLAG_LIMIT,
        window=FLAG_WINDOW,
        now=now,
        what="flags in a short time",
    )
    try:
        with db.begin_nested():
            db.add(flag)
            db.flush()
    except IntegrityError:
        raise Conflict(f"You already flagged this {what}; moderators will review it.") from None
    ratelimit.hit(db, bucket="flag", key=str(user.id), now=now)


def _already(existing: Flag, what: str) -> None:
    if existing.resolved_at is None:
        raise Conflict(f"You already flagged this {what}; moderators will review it.")
    raise Conflict(f"You flagged this {what} before, and a moderator has reviewed it.")


def _reached(db: Session, community: Community, target: ColumnElement[bool]) -> bool:
    threshold = community.flag_hide_threshold
    return threshold > 0 and _open_flaggers(db, target) >= threshold


def flag_comment(
    db: Session, *, actor: User | None, comment: Comment, reason: str, now: datetime
) -> Flag:
    """A member reports a comment; enough different members hide it pending review."""
    proposal = _proposal_of(db, comment)
    community = proposal.community
    user = perms.ensure_can_flag(actor, communities_service.membership_of(db, community, actor))
    if comment.author_id == user.id:
        raise PermissionDenied("You cannot flag your own comment; edit or delete it instead.")
    text = public_reason(reason, hint="Say what is wrong with it (1 to 500 characters).")
    if comment.is_deleted:
        raise Conflict("This comment was deleted by its author.")
    if comment.is_removed:
        raise Conflict("A moderator has already hidden this comment.")
    _lock(db, Comment, comment.id)
    target = Flag.comment_id == comment.id
    flag = Flag(
        community_id=community.id,
        comment_id=comment.id,
        flagger_id=user.id,
        reason=text,
        created_at=now,
    )
    _add_flag(db, user=user, community=community, target=target, flag=flag, what="comment", now=now)
    if comment.hidden_at is None and _reached(db, community, target):
        discussion_service.hide_pending_review(db, comment, now)
    return flag


def flag_work(db: Session, *, actor: User | None, work: Work, reason: str, now: datetime) -> Flag:
    """A member reports a work; enough different members hide it pending review."""
    community = work.community
    user = perms.ensure_can_flag(actor, communities_service.membership_of(db, community, actor))
    if work.created_by_id == user.id:
        raise PermissionDenied("You registered this work, so you cannot flag it; edit it instead.")
    text = public_reason(reason, hint="Say what is wrong with it (1 to 500 characters).")
    if work.is_removed:
        raise Conflict("A moderator has already hidden this work.")
    _lock(db, Work, work.id)
    target = Flag.work_id == work.id
    flag = Flag(
        community_id=community.id, work_id=work.id, flagger_id=user.id, reason=text, created_at=now
    )
    _add_flag(db, user=user, community=community, target=target, flag=flag, what="work", now=now)
    if work.hidden_at is None and _reached(db, community, target):
        works_service.hide_work_pending_review(db, work, now)
    return flag


def _open_items(community: Community) -> Select[int | None, int | None, int]:
    """Flagged items of the community, one row each: (comment_id, work_id, first open flag id)."""
    first = func.min(Flag.id)
    return (
        select(Flag.comment_id, Flag.work_id, first.label("first_id"))
        .where(Flag.community_id == community.id, Flag.resolved_at.is_(None))
        .group_by(Flag.comment_id, Flag.work_id)
    )


def queue(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    limit: int = QUEUE_LIMIT,
    cursor: str | None = None,
) -> Queue:
    """Moderators: the items with open flags, oldest first flag first, `limit` per page."""
    perms.ensure_can_review(actor, communities_service.membership_of(db, community, actor))
    limit = max(1, min(limit, QUEUE_LIMIT))
    query = _open_items(community)
    after = paging.decode(cursor, size=1)
    if after is not None:
        value = after[0]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            raise ValidationFailed(
                "The cursor is not valid.",
                fields={"cursor": "Use the next_cursor of a previous page."},
            )
        query = query.having(func.min(Flag.id) > value)
    rows = db.execute(query.order_by(func.min(Flag.id)).limit(limit)).all()
    comment_ids = [r.comment_id for r in rows if r.comment_id is not None]
    work_ids = [r.work_id for r in rows if r.work_id is not None]
    comments = (
        {c.id: c for c in db.scalars(select(Comment).where(Comment.id.in_(comment_ids)))}
        if comment_ids
        else {}
    )
    proposal_ids = {c.proposal_id for c in comments.values()}
    proposals = (
        {p.id: p for p in db.scalars(select(Proposal).where(Proposal.id.in_(proposal_ids)))}
        if proposal_ids
        else {}
    )
    works = (
        {w.id: w for w in db.scalars(select(Work).where(Work.id.in_(work_ids)))} if work_ids else {}
    )
    flags: dict[tuple[str, int], list[Flag]] = {}
    if rows:
        targets = []
        if comment_ids:
            targets.append(Flag.comment_id.in_(comment_ids))
        if work_ids:
            targets.append(Flag.work_id.in_(work_ids))
        for flag in db.scalars(
            select(Flag)
            .where(Flag.community_id == community.id, Flag.resolved_at.is_(None), or_(*targets))
            .order_by(Flag.id)
        ):
            key = ("comment", flag.comment_id) if flag.comment_id else ("work", flag.work_id)
            flags.setdefault(key, []).append(flag)  # type: ignore[arg-type]
    items: list[QueueItem] = []
    for row in rows:
        if row.comment_id is not None:
            comment = comments[row.comment_id]
            items.append(
                QueueItem(
                    kind="comment",
                    comment=comment,
                    work=None,
                    proposal=proposals[comment.proposal_id],
                    flags=flags.get(("comment", comment.id), []),
                    first_flag_id=row.first_id,
                )
            )
        else:
            assert row.work_id is not None
            items.append(
                QueueItem(
                    kind="work",
                    comment=None,
                    work=works[row.work_id],
                    proposal=None,
                    flags=flags.get(("work", row.work_id), []),
                    first_flag_id=row.first_id,
                )
            )
    next_cursor = paging.encode(items[-1].first_flag_id) if len(items) == limit else None
    return Queue(items, next_cursor)


def open_count(db: Session, community: Community) -> int:
    """How many items (comments and works) have open flags: the moderators' badge."""
    return db.scalar(select(func.count()).select_from(_open_items(community).subquery())) or 0


def resolve(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    comment: Comment | None = None,
    work: Work | None = None,
    action: str,
    reason: str = "",
    now: datetime,
) -> Resolution:
    """Moderators: `hide` the item with a public reason, or `dismiss` its open flags."""
    if (comment is None) == (work is None):
        raise ValueError("resolve() takes exactly one of comment and work")
    membership = communities_service.membership_of(db, community, actor)
    moderator = perms.ensure_can_review(actor, membership)
    if comment is not None and _proposal_of(db, comment).community_id != community.id:
        raise NotFound("There is no such comment in this community.")
    if work is not None and work.community_id != community.id:
        raise NotFound("There is no such work in this community.")
    if action not in Action.__members__:
        raise ValidationFailed("Choose what to do.", fields={"action": "Choose hide or dismiss."})
    chosen = Action(action)
    text = public_reason(reason) if chosen == Action.hide else ""
    if comment is not None:
        _lock(db, Comment, comment.id)
        target = Flag.comment_id == comment.id
    else:
        assert work is not None
        _lock(db, Work, work.id)
        target = Flag.work_id == work.id
    # Claiming the open flags first means two moderators acting at once cannot both resolve them.
    result = db.execute(
        update(Flag)
        .where(and_(target, Flag.community_id == community.id, Flag.resolved_at.is_(None)))
        .values(
            resolved_at=now,
            resolved_by_id=moderator.id,
            resolution=FlagResolution.hidden if chosen == Action.hide else FlagResolution.dismissed,
        )
        .execution_options(synchronize_session=False)
    )
    resolved = int(getattr(result, "rowcount", 0) or 0)
    if resolved == 0:
        raise Conflict("There are no open flags on this item: another moderator has resolved them.")
    # Flags loaded earlier in this session must not show their old state.
    for flag in db.scalars(select(Flag).where(target)):
        db.refresh(flag)
    restored = False
    if chosen == Action.hide:
        if comment is not None:
            discussion_service.hide_comment(db, actor=actor, comment=comment, reason=text, now=now)
        else:
            assert work is not None
            works_service.hide_work(db, actor=actor, work=work, reason=text, now=now)
    elif comment is not None and comment.is_pending_review:
        discussion_service.restore_comment(db, actor=actor, comment=comment)
        restored = True
    elif work is not None and work.is_pending_review:
        works_service.restore_work(db, actor=actor, work=work)
        restored = True
    db.flush()
    return Resolution(chosen, resolved, restored)


def get_comment(db: Session, comment_id: int, *, viewer: User | None) -> Comment:
    """A comment by id (for the flag and queue endpoints), as the discussion service sees it."""
    return discussion_service.get_comment(db, comment_id, viewer=viewer)


def item_state(item: Comment | Work) -> str:
    """`visible`, `pending_review` (hidden by flags), `removed` (by a moderator) or `deleted`."""
    if isinstance(item, Comment) and item.is_deleted:
        return "deleted"
    if item.is_removed:
        return "removed"
    if item.is_pending_review:
        return "pending_review"
    return "visible"


def flags_of(
    db: Session, *, comment: Comment | None = None, work: Work | None = None
) -> list[Flag]:
    """Every flag on an item, open or resolved, oldest first."""
    target = (
        Flag.comment_id == comment.id
        if comment is not None
        else Flag.work_id == (work.id if work is not None else -1)
    )
    return list(db.scalars(select(Flag).where(target).order_by(Flag.id)))


def has_flagged(
    db: Session, user: User | None, *, comment: Comment | None = None, work: Work | None = None
) -> bool:
    """Whether `user` already flagged the item (to show "flagged" instead of the form)."""
    if user is None:
        return False
    target = (
        Flag.comment_id == comment.id
        if comment is not None
        else Flag.work_id == (work.id if work is not None else -1)
    )
    return db.scalar(select(Flag.id).where(target, Flag.flagger_id == user.id)) is not None


def flagged_comment_ids(db: Session, user: User | None, comment_ids: list[int]) -> set[int]:
    """Which of these comments `user` has flagged, in one query (for a thread page)."""
    if user is None or not comment_ids:
        return set()
    return {
        cid
        for cid in db.scalars(
            select(Flag.comment_id).where(
                Flag.flagger_id == user.id, Flag.comment_id.in_(comment_ids)
            )
        )
        if cid is not None
    }
