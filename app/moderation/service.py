"""Flags: members report comments, works and proposals; moderators review them in a queue.

A member flags an item once, with a reason. When the community's `flag_hide_threshold` (> 0)
of different members have open flags on a comment or a work, it is hidden pending review. A
moderator then hides it for good with a public reason, or dismisses the flags (which puts an
item hidden only by flags back in view). Proposals are never hidden (they are the community's
record of its deliberation): a moderator locks a flagged proposal's thread, or dismisses the
flags. Nothing here knows about HTTP.
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
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Community
from app.discussion import service as discussion_service
from app.discussion.models import Comment
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _
from app.moderation import permissions as perms
from app.moderation.models import Flag, FlagResolution
from app.proposals import service as proposals_service
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

ItemKind = Literal["comment", "work", "proposal"]
#: Items hidden by moderators listed in the queue, so that they can be restored from there.
HIDDEN_LIMIT = 20


class Action(enum.StrEnum):
    hide = "hide"
    dismiss = "dismiss"
    lock = "lock"


@dataclass
class QueueItem:
    """One flagged comment, work or proposal with its open flags, oldest flag first."""

    kind: ItemKind
    comment: Comment | None
    work: Work | None
    #: The flagged proposal, or the proposal a flagged comment belongs to (to link it).
    proposal: Proposal | None
    flags: list[Flag]
    #: The id of the item's oldest open flag: the queue's sort key.
    first_flag_id: int

    @property
    def target(self) -> Comment | Work | Proposal:
        item = self.comment or self.work or self.proposal
        assert item is not None
        return item

    @property
    def item_id(self) -> int:
        return self.target.id

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
    def author_id(self) -> int | None:
        """Who wrote the comment or the proposal, or registered the work."""
        if self.comment is not None:
            return self.comment.author_id
        if self.work is not None:
            return self.work.created_by_id
        return self.target.author_id if isinstance(self.target, Proposal) else None

    @property
    def pending_review(self) -> bool:
        target = self.target
        return not isinstance(target, Proposal) and target.is_pending_review

    @property
    def removed(self) -> bool:
        target = self.target
        return not isinstance(target, Proposal) and target.is_removed

    @property
    def deleted(self) -> bool:
        return self.comment is not None and self.comment.is_deleted

    @property
    def locked(self) -> bool:
        return (
            self.kind == "proposal"
            and self.proposal is not None
            and self.proposal.locked_at is not None
        )


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


def _lock(db: Session, model: type[Comment] | type[Work] | type[Proposal], item_id: int) -> None:
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
        what=N_("flags in a short time"),
    )
    try:
        with db.begin_nested():
            db.add(flag)
            db.flush()
    except IntegrityError:
        raise Conflict(
            _("You already flagged this %(what)s; moderators will review it.", what=_flagged(what))
        ) from None
    ratelimit.hit(db, bucket="flag", key=str(user.id), now=now)


#: What a member flags, as a refusal names it.
FLAGGABLE = {"comment": N_("comment"), "work": N_("work"), "proposal": N_("proposal")}


def _flagged(what: str) -> str:
    return _(FLAGGABLE[what]) if what in FLAGGABLE else what


def _already(existing: Flag, what: str) -> None:
    if existing.resolved_at is None:
        raise Conflict(
            _("You already flagged this %(what)s; moderators will review it.", what=_flagged(what))
        )
    raise Conflict(
        _("You flagged this %(what)s before, and a moderator has reviewed it.", what=_flagged(what))
    )


def _reached(db: Session, community: Community, target: ColumnElement[bool]) -> bool:
    threshold = community.flag_hide_threshold
    return threshold > 0 and _open_flaggers(db, target) >= threshold


def _flagger(db: Session, actor: User | None, community: Community, now: datetime) -> User:
    """A member who may flag here: signed in, a member, and not suspended."""
    user = perms.ensure_can_flag(actor, communities_service.membership_of(db, community, actor))
    community_permissions.ensure_can_participate(db, actor=user, community=community, now=now)
    return user


FLAG_HINT = N_("Say what is wrong with it (1 to 500 characters).")


def flag_comment(
    db: Session, *, actor: User | None, comment: Comment, reason: str, now: datetime
) -> Flag:
    """A member reports a comment; enough different members hide it pending review."""
    proposal = _proposal_of(db, comment)
    community = proposal.community
    user = _flagger(db, actor, community, now)
    if comment.author_id == user.id:
        raise PermissionDenied(_("You cannot flag your own comment; edit or delete it instead."))
    text = public_reason(reason, hint=FLAG_HINT)
    if comment.is_deleted:
        raise Conflict(_("This comment was deleted by its author."))
    if comment.is_removed:
        raise Conflict(_("A moderator has already hidden this comment."))
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
    user = _flagger(db, actor, community, now)
    if work.created_by_id == user.id:
        raise PermissionDenied(
            _("You registered this work, so you cannot flag it; edit it instead.")
        )
    text = public_reason(reason, hint=FLAG_HINT)
    if work.is_removed:
        raise Conflict(_("A moderator has already hidden this work."))
    _lock(db, Work, work.id)
    target = Flag.work_id == work.id
    flag = Flag(
        community_id=community.id, work_id=work.id, flagger_id=user.id, reason=text, created_at=now
    )
    _add_flag(db, user=user, community=community, target=target, flag=flag, what="work", now=now)
    if work.hidden_at is None and _reached(db, community, target):
        works_service.hide_work_pending_review(db, work, now)
    return flag


def flag_proposal(
    db: Session, *, actor: User | None, proposal: Proposal, reason: str, now: datetime
) -> Flag:
    """A member reports a proposal. It stays in view whatever the count: only moderators act."""
    community = proposal.community
    user = _flagger(db, actor, community, now)
    if user.id in proposals_service.author_ids(db, proposal):
        raise PermissionDenied(
            _("You cannot flag a proposal you wrote; edit or withdraw it instead.")
        )
    text = public_reason(reason, hint=FLAG_HINT)
    _lock(db, Proposal, proposal.id)
    target = Flag.proposal_id == proposal.id
    flag = Flag(
        community_id=community.id,
        proposal_id=proposal.id,
        flagger_id=user.id,
        reason=text,
        created_at=now,
    )
    _add_flag(
        db, user=user, community=community, target=target, flag=flag, what="proposal", now=now
    )
    return flag


def _open_items(community: Community) -> Select[int | None, int | None, int | None, int]:
    """Flagged items of the community, one row each: (comment, work, proposal, first flag)."""
    first = func.min(Flag.id)
    return (
        select(Flag.comment_id, Flag.work_id, Flag.proposal_id, first.label("first_id"))
        .where(Flag.community_id == community.id, Flag.resolved_at.is_(None))
        .group_by(Flag.comment_id, Flag.work_id, Flag.proposal_id)
    )


def _comments(db: Session, ids: set[int]) -> dict[int, Comment]:
    if not ids:
        return {}
    return {c.id: c for c in db.scalars(select(Comment).where(Comment.id.in_(ids)))}


def _works(db: Session, ids: set[int]) -> dict[int, Work]:
    if not ids:
        return {}
    return {w.id: w for w in db.scalars(select(Work).where(Work.id.in_(ids)))}


def _proposals(db: Session, ids: set[int]) -> dict[int, Proposal]:
    if not ids:
        return {}
    return {p.id: p for p in db.scalars(select(Proposal).where(Proposal.id.in_(ids)))}


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
                _("The cursor is not valid."),
                fields={"cursor": _("Use the next_cursor of a previous page.")},
            )
        query = query.having(func.min(Flag.id) > value)
    rows = db.execute(query.order_by(func.min(Flag.id)).limit(limit)).all()
    comments = _comments(db, {r.comment_id for r in rows if r.comment_id is not None})
    works = _works(db, {r.work_id for r in rows if r.work_id is not None})
    flagged_proposals = {r.proposal_id for r in rows if r.proposal_id is not None}
    proposals = _proposals(db, flagged_proposals | {c.proposal_id for c in comments.values()})
    flags: dict[tuple[str, int], list[Flag]] = {}
    if rows:
        targets = [
            column.in_(list(ids))
            for column, ids in (
                (Flag.comment_id, set(comments)),
                (Flag.work_id, set(works)),
                (Flag.proposal_id, flagged_proposals),
            )
            if ids
        ]
        for flag in db.scalars(
            select(Flag)
            .where(Flag.community_id == community.id, Flag.resolved_at.is_(None), or_(*targets))
            .order_by(Flag.id)
        ):
            flags.setdefault(_flag_key(flag), []).append(flag)
    items: list[QueueItem] = []
    for row in rows:
        comment = comments[row.comment_id] if row.comment_id is not None else None
        work = works[row.work_id] if row.work_id is not None else None
        proposal_id = comment.proposal_id if comment is not None else row.proposal_id
        proposal = proposals[proposal_id] if proposal_id is not None else None
        kind: ItemKind = "comment" if comment else "work" if work else "proposal"
        item = QueueItem(kind, comment, work, proposal, [], first_flag_id=row.first_id)
        item.flags = flags.get((kind, item.item_id), [])
        items.append(item)
    next_cursor = paging.encode(items[-1].first_flag_id) if len(items) == limit else None
    return Queue(items, next_cursor)


def _flag_key(flag: Flag) -> tuple[str, int]:
    if flag.comment_id is not None:
        return ("comment", flag.comment_id)
    if flag.work_id is not None:
        return ("work", flag.work_id)
    assert flag.proposal_id is not None
    return ("proposal", flag.proposal_id)


def open_count(db: Session, community: Community) -> int:
    """How many items (comments, works, proposals) have open flags: the moderators' badge."""
    return db.scalar(select(func.count()).select_from(_open_items(community).subquery())) or 0


def _in_community(
    db: Session,
    community: Community,
    comment: Comment | None,
    work: Work | None,
    proposal: Proposal | None,
) -> None:
    if comment is not None and _proposal_of(db, comment).community_id != community.id:
        raise NotFound(_("There is no such comment in this community."))
    if work is not None and work.community_id != community.id:
        raise NotFound(_("There is no such work in this community."))
    if proposal is not None and proposal.community_id != community.id:
        raise NotFound(_("There is no such proposal in this community."))


def _claim_flags(
    db: Session,
    community: Community,
    target: ColumnElement[bool],
    moderator: User,
    resolution: FlagResolution,
    now: datetime,
) -> int:
    """Close the item's open flags; how many. Claiming them first means two moderators acting
    at once cannot both resolve them."""
    result = db.execute(
        update(Flag)
        .where(and_(target, Flag.community_id == community.id, Flag.resolved_at.is_(None)))
        .values(resolved_at=now, resolved_by_id=moderator.id, resolution=resolution)
        .execution_options(synchronize_session=False)
    )
    # Flags loaded earlier in this session must not show their old state.
    for flag in db.scalars(select(Flag).where(target)):
        db.refresh(flag)
    return int(getattr(result, "rowcount", 0) or 0)


RESOLUTIONS = {
    Action.hide: FlagResolution.hidden,
    Action.dismiss: FlagResolution.dismissed,
    Action.lock: FlagResolution.locked,
}


def resolve(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    comment: Comment | None = None,
    work: Work | None = None,
    proposal: Proposal | None = None,
    action: str,
    reason: str = "",
    now: datetime,
) -> Resolution:
    """Moderators: `hide` a comment or work with a public reason, `lock` a proposal's thread
    with one, or `dismiss` the item's open flags (the reason is then optional)."""
    if sum(item is not None for item in (comment, work, proposal)) != 1:
        raise ValueError("resolve() takes exactly one of comment, work and proposal")
    membership = communities_service.membership_of(db, community, actor)
    moderator = perms.ensure_can_review(actor, membership)
    _in_community(db, community, comment, work, proposal)
    choices = ("lock", "dismiss") if proposal is not None else ("hide", "dismiss")
    if action not in choices:
        raise ValidationFailed(
            _("Choose what to do."),
            fields={"action": _("Choose %(choices)s.", choices=" or ".join(choices))},
        )
    chosen = Action(action)
    text = public_reason(reason) if chosen != Action.dismiss else _optional_reason(reason)
    if comment is not None:
        _lock(db, Comment, comment.id)
        target = Flag.comment_id == comment.id
    elif work is not None:
        _lock(db, Work, work.id)
        target = Flag.work_id == work.id
    else:
        assert proposal is not None
        _lock(db, Proposal, proposal.id)
        target = Flag.proposal_id == proposal.id
    resolved = _claim_flags(db, community, target, moderator, RESOLUTIONS[chosen], now)
    if resolved == 0:
        raise Conflict(
            _("There are no open flags on this item: another moderator has resolved them.")
        )
    restored = False
    if chosen == Action.hide and comment is not None:
        discussion_service.hide_comment(db, actor=actor, comment=comment, reason=text, now=now)
    elif chosen == Action.hide and work is not None:
        works_service.hide_work(db, actor=actor, work=work, reason=text, now=now)
    elif chosen == Action.lock and proposal is not None:
        proposals_service.set_locked(
            db, actor=actor, proposal=proposal, locked=True, reason=text, now=now
        )
    elif comment is not None and comment.is_pending_review:
        discussion_service.restore_comment(
            db, actor=actor, comment=comment, reason=text or FLAGS_DISMISSED, now=now
        )
        restored = True
    elif work is not None and work.is_pending_review:
        works_service.restore_work(
            db, actor=actor, work=work, reason=text or FLAGS_DISMISSED, now=now
        )
        restored = True
    db.flush()
    return Resolution(chosen, resolved, restored)


#: The public reason of a restore that a dismissal of flags made, when the moderator gave none.
FLAGS_DISMISSED = "Flags reviewed and dismissed."


def _optional_reason(reason: str) -> str:
    """A public reason the moderator may leave out."""
    return public_reason(reason) if reason.strip() else ""


def restore(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    comment: Comment | None = None,
    work: Work | None = None,
    reason: str = "",
    now: datetime,
) -> Comment | Work:
    """Moderators show a hidden comment or work again, closing any flags still open on it."""
    if (comment is None) == (work is None):
        raise ValueError("restore() takes exactly one of comment and work")
    moderator = perms.ensure_can_review(
        actor, communities_service.membership_of(db, community, actor)
    )
    _in_community(db, community, comment, work, None)
    text = _optional_reason(reason)
    item: Comment | Work = comment if comment is not None else work  # type: ignore[assignment]
    if item.hidden_at is None:
        raise Conflict(_("It is shown already."))
    target = Flag.comment_id == item.id if comment is not None else Flag.work_id == item.id
    _claim_flags(db, community, target, moderator, FlagResolution.dismissed, now)
    if comment is not None:
        discussion_service.restore_comment(db, actor=actor, comment=comment, reason=text, now=now)
    else:
        assert work is not None
        works_service.restore_work(db, actor=actor, work=work, reason=text, now=now)
    return item


@dataclass(frozen=True)
class HiddenItem:
    """A comment or work a moderator hid, for the queue's list of recent decisions."""

    kind: Literal["comment", "work"]
    comment: Comment | None
    work: Work | None
    proposal: Proposal | None
    hidden_at: datetime

    @property
    def item(self) -> Comment | Work:
        item = self.comment if self.comment is not None else self.work
        assert item is not None
        return item

    @property
    def key(self) -> str:
        return f"hidden-{self.kind}-{self.item.id}"


def recently_hidden(
    db: Session, *, actor: User | None, community: Community, limit: int = HIDDEN_LIMIT
) -> list[HiddenItem]:
    """Moderators: the comments and works moderators hid most recently, newest first."""
    perms.ensure_can_review(actor, communities_service.membership_of(db, community, actor))
    rows = db.execute(
        select(Comment, Proposal)
        .join(Proposal, Proposal.id == Comment.proposal_id)
        .where(
            Proposal.community_id == community.id,
            Comment.hidden_at.is_not(None),
            Comment.hidden_by_id.is_not(None),
            Comment.deleted_at.is_(None),
        )
        .order_by(Comment.hidden_at.desc(), Comment.id.desc())
        .limit(limit)
    ).all()
    items = [HiddenItem("comment", c, None, p, c.hidden_at) for c, p in rows if c.hidden_at]
    for work in db.scalars(
        select(Work)
        .where(
            Work.community_id == community.id,
            Work.hidden_at.is_not(None),
            Work.hidden_by_id.is_not(None),
        )
        .order_by(Work.hidden_at.desc(), Work.id.desc())
        .limit(limit)
    ):
        assert work.hidden_at is not None
        items.append(HiddenItem("work", None, work, None, work.hidden_at))
    items.sort(key=lambda i: (i.hidden_at, i.item.id), reverse=True)
    return items[:limit]


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


def _target_of(
    comment: Comment | None, work: Work | None, proposal: Proposal | None = None
) -> ColumnElement[bool]:
    if comment is not None:
        return Flag.comment_id == comment.id
    if work is not None:
        return Flag.work_id == work.id
    return Flag.proposal_id == (proposal.id if proposal is not None else -1)


def flags_of(
    db: Session,
    *,
    comment: Comment | None = None,
    work: Work | None = None,
    proposal: Proposal | None = None,
) -> list[Flag]:
    """Every flag on an item, open or resolved, oldest first."""
    target = _target_of(comment, work, proposal)
    return list(db.scalars(select(Flag).where(target).order_by(Flag.id)))


def has_flagged(
    db: Session,
    user: User | None,
    *,
    comment: Comment | None = None,
    work: Work | None = None,
    proposal: Proposal | None = None,
) -> bool:
    """Whether `user` already flagged the item (to show "flagged" instead of the form)."""
    if user is None:
        return False
    target = _target_of(comment, work, proposal)
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
