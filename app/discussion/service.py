"""Writing in a thread: post, reply, edit, delete; moderators hide and restore.

Nothing here is ever destroyed: deletion and hiding are marks, and earlier texts of an edited
comment are kept as versions. The counts at the top of a thread are kept in `ThreadStats`,
changed in the same transaction as the comment, so reading a thread never counts rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import events, i18n, ratelimit
from app.accounts.models import User
from app.communities import moderation_log
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import LogAction
from app.db import utcnow
from app.discussion import anchors
from app.discussion import permissions as perms
from app.discussion.models import Alignment, Comment, CommentAnchor, CommentVersion, ThreadStats
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _
from app.markdown import render_markdown
from app.notifications import tell
from app.proposals import exhibits as exhibits_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.text import NUL_PROBLEM, content_language, edited_language, public_reason

BODY_MAX = 10_000
#: Comments a member may post per window, across all threads.
POST_LIMIT = 10
POST_WINDOW = timedelta(minutes=1)
#: Ids are INTEGER columns: 32-bit on PostgreSQL, where a larger value fails in the driver.
MAX_ID = 2**31 - 1


@dataclass
class CommentDraft:
    """What a member wrote: every value still unchecked."""

    body: str = ""
    parent: int | None = None
    alignment: str | None = None
    anchor: anchors.AnchorInput | None = None
    #: A content language code; None: the writer's interface language.
    language: str | None = None


def get_comment(db: Session, comment_id: int, *, viewer: User | None) -> Comment:
    """A comment whose proposal `viewer` may see; anything else looks missing."""
    comment = db.get(Comment, comment_id) if 1 <= comment_id <= MAX_ID else None
    if comment is None:
        raise NotFound(_("There is no such comment."))
    proposals_service.get_proposal(db, comment.proposal_id, viewer=viewer)
    return comment


def get_in_proposal(
    db: Session, proposal: Proposal, comment_id: int, *, viewer: User | None
) -> Comment:
    comment = get_comment(db, comment_id, viewer=viewer)
    if comment.proposal_id != proposal.id:
        raise NotFound(_("There is no such comment."))
    return comment


def _check_body(body: str, problems: dict[str, str]) -> str:
    text = body.strip()
    if not text:
        problems["body"] = _("Write something first.")
    elif len(text) > BODY_MAX:
        problems["body"] = _(
            "Use at most %(max)s characters (this has %(count)s).",
            max=i18n.number(BODY_MAX),
            count=i18n.number(len(text)),
        )
    elif "\x00" in text:
        problems["body"] = _(NUL_PROBLEM)
    return text


def _check_anchor(
    db: Session, proposal: Proposal, raw: anchors.AnchorInput, problems: dict[str, str]
) -> anchors.CheckedAnchor | None:
    exhibited = {e.work.id: e.work for e in exhibits_service.exhibits(db, proposal)}
    for name in ("exact", "prefix", "suffix"):
        if "\x00" in getattr(raw, name):
            problems[f"anchor.{name}"] = _(NUL_PROBLEM)
            return None
    try:
        return anchors.check(raw, exhibited)
    except anchors.AnchorProblems as exc:
        problems.update({f"anchor.{name}": text for name, text in exc.fields.items()})
        return None


def _stats(db: Session, proposal_id: int) -> None:
    """Make sure the thread's counter row exists (created once, raced safely)."""
    if db.get(ThreadStats, proposal_id) is None:
        try:
            with db.begin_nested():
                db.execute(insert(ThreadStats).values(proposal_id=proposal_id))
        except IntegrityError:
            pass  # another request created it first


def _count(db: Session, comment: Comment, delta: int) -> None:
    """Add `delta` to the thread's counts for `comment` (it appeared or disappeared)."""
    _stats(db, comment.proposal_id)
    values = {"comments": ThreadStats.comments + delta}
    if comment.parent_id is None and comment.alignment is not None:
        column = getattr(ThreadStats, comment.alignment.value)
        values[comment.alignment.value] = column + delta
    db.execute(
        update(ThreadStats).where(ThreadStats.proposal_id == comment.proposal_id).values(values)
    )


def _ensure_can_post(db: Session, actor: User | None, proposal: Proposal, now: datetime) -> User:
    membership = communities_service.membership_of(db, proposal.community, actor)
    user = perms.ensure_can_comment(actor, proposal, membership)
    community_permissions.ensure_can_participate(
        db, actor=user, community=proposal.community, now=now
    )
    return user


def _ensure_shown(parent: Comment) -> None:
    if not parent.is_visible:
        raise Conflict(_("That comment is no longer shown; reply to the thread instead."))


def ensure_can_reply(
    db: Session, *, actor: User | None, proposal: Proposal, parent: Comment, now: datetime
) -> User:
    """Whether `actor` may reply to `parent` now: asked before the reply form is handed out,
    by the same rules as posting the reply."""
    user = _ensure_can_post(db, actor, proposal, now)
    _ensure_shown(parent)
    return user


def post_comment(
    db: Session, *, actor: User | None, proposal: Proposal, draft: CommentDraft, now: datetime
) -> Comment:
    """A new comment, or a reply when `draft.parent` names one in the same thread."""
    user = _ensure_can_post(db, actor, proposal, now)
    problems: dict[str, str] = {}
    body = _check_body(draft.body, problems)
    parent: Comment | None = None
    if draft.parent is not None:
        parent = db.get(Comment, draft.parent) if 1 <= draft.parent <= MAX_ID else None
        if parent is None or parent.proposal_id != proposal.id:
            problems["parent"] = _("Reply to a comment of this thread.")
            parent = None
    alignment: Alignment | None = None
    if parent is None and "parent" not in problems:
        raw = draft.alignment or Alignment.neutral.value
        if raw in Alignment.__members__:
            alignment = Alignment(raw)
        else:
            problems["alignment"] = _("Choose supports, opposes, neutral or question.")
    elif draft.alignment:
        problems["alignment"] = _("Only top-level comments take a stance on the proposal.")
    anchor = _check_anchor(db, proposal, draft.anchor, problems) if draft.anchor else None
    language = content_language(draft.language, problems)
    if problems:
        raise ValidationFailed(_("Please correct the marked fields."), fields=problems)
    if parent is not None:
        _ensure_shown(parent)
    ratelimit.check(
        db,
        bucket="comment",
        key=str(user.id),
        limit=POST_LIMIT,
        window=POST_WINDOW,
        now=now,
        what=N_("comments in a short time"),
    )
    community_permissions.ensure_new_account_may_post(
        db, user=user, what="comment", now=now, text=body
    )
    comment = Comment(
        proposal_id=proposal.id,
        parent_id=parent.id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        author_id=user.id,
        alignment=alignment,
        body=body,
        body_html=str(render_markdown(body)),
        language=language,
        created_at=now,
    )
    db.add(comment)
    db.flush()
    if anchor is not None:
        db.add(
            CommentAnchor(
                comment_id=comment.id,
                proposal_id=proposal.id,
                work_id=anchor.work.id,
                **anchor.shape(),
            )
        )
    if parent is not None:
        db.execute(
            update(Comment)
            .where(Comment.id == parent.id)
            .values(reply_count=Comment.reply_count + 1)
        )
    _count(db, comment, +1)
    ratelimit.hit(db, bucket="comment", key=str(user.id), now=now)
    proposal.last_activity_at = now
    db.flush()
    events.notify(db, events.thread_channel(proposal.id))
    if parent is not None:
        tell.reply(db, proposal=proposal, comment=comment, parent=parent, actor=user, now=now)
    return comment


def edit_comment(
    db: Session,
    *,
    actor: User | None,
    comment: Comment,
    body: str | None = None,
    alignment: str | None = None,
    language: str | None = None,
    now: datetime,
) -> Comment:
    """Change the text (the old one is kept as a version), its language or the stance of a
    top-level comment."""
    user = perms.ensure_can_edit(actor, comment)
    proposal = db.get(Proposal, comment.proposal_id)
    assert proposal is not None
    community_permissions.ensure_can_participate(
        db, actor=user, community=proposal.community_id, now=now
    )
    problems: dict[str, str] = {}
    new_body = _check_body(body, problems) if body is not None else comment.body
    if body is not None and "body" not in problems:
        # A new account may not slip a link in by editing either.
        community_permissions.ensure_no_new_account_links(db, user=user, now=now, text=new_body)
    new_alignment = comment.alignment
    if alignment is not None and alignment != (comment.alignment or ""):
        if comment.parent_id is not None:
            problems["alignment"] = _("Only top-level comments take a stance on the proposal.")
        elif alignment in Alignment.__members__:
            new_alignment = Alignment(alignment)
        else:
            problems["alignment"] = _("Choose supports, opposes, neutral or question.")
    new_language = edited_language(language, problems, comment.language)
    if problems:
        raise ValidationFailed(_("Please correct the marked fields."), fields=problems)
    comment.language = new_language
    if new_alignment != comment.alignment and comment.is_visible:
        _count(db, comment, -1)
        comment.alignment = new_alignment
        _count(db, comment, +1)
    if new_body != comment.body:
        db.add(
            CommentVersion(
                comment_id=comment.id,
                number=comment.edit_count + 1,
                body=comment.body,
                written_at=comment.edited_at or comment.created_at,
            )
        )
        comment.body = new_body
        comment.body_html = str(render_markdown(new_body))
        comment.edit_count += 1
        comment.edited_at = now
    db.flush()
    return comment


def versions(db: Session, comment: Comment) -> list[CommentVersion]:
    """Earlier texts of the comment, oldest first (the current text is on the comment)."""
    return list(
        db.scalars(
            select(CommentVersion)
            .where(CommentVersion.comment_id == comment.id)
            .order_by(CommentVersion.number)
        )
    )


def delete_comment(db: Session, *, actor: User | None, comment: Comment, now: datetime) -> None:
    """Shown as “[deleted]” from now on; replies stay where they are."""
    perms.ensure_can_edit(actor, comment)
    if comment.is_visible:
        _count(db, comment, -1)
    comment.deleted_at = now
    db.flush()


def hide_comment(
    db: Session, *, actor: User | None, comment: Comment, reason: str, now: datetime
) -> Comment:
    """A moderator removes a comment from view with a public reason; its text is kept.

    Hiding what a moderator hid already changes nothing: a double submit, or two moderators
    at once, hide it once, in the log and in the author's notifications alike.
    """
    proposal = db.get(Proposal, comment.proposal_id)
    assert proposal is not None
    membership = communities_service.membership_of(db, proposal.community, actor)
    moderator = perms.ensure_can_hide(actor, membership)
    text = public_reason(reason)
    # The comment's row is held until the transaction ends, and read afresh.
    db.execute(select(Comment.id).where(Comment.id == comment.id).with_for_update())
    db.refresh(comment)
    if comment.is_removed:
        return comment
    if comment.is_visible:
        _count(db, comment, -1)
    comment.remove(moderator_id=moderator.id, reason=text, now=now)
    tell.comment_hidden(
        db, proposal=proposal, comment=comment, reason=text, actor=moderator, now=now
    )
    moderation_log.record(
        db,
        community=proposal.community_id,
        action=LogAction.comment_hidden,
        actor=moderator,
        now=now,
        reason=text,
        member=comment.author_id,
        proposal_id=proposal.id,
        comment_id=comment.id,
    )
    db.flush()
    return comment


def hide_pending_review(db: Session, comment: Comment, now: datetime) -> None:
    """Enough members flagged it: out of view until a moderator decides."""
    if comment.hidden_at is not None:
        return
    if comment.is_visible:
        _count(db, comment, -1)
    comment.hold_for_review(now)
    db.flush()


def restore_comment(
    db: Session,
    *,
    actor: User | None,
    comment: Comment,
    reason: str = "",
    now: datetime | None = None,
) -> Comment:
    """A moderator puts a hidden comment back in view (an optional public reason is logged)."""
    proposal = db.get(Proposal, comment.proposal_id)
    assert proposal is not None
    moderator = perms.ensure_can_hide(
        actor, communities_service.membership_of(db, proposal.community, actor)
    )
    text = public_reason(reason) if reason.strip() else ""
    if comment.hidden_at is None:
        return comment
    comment.show()
    if comment.is_visible:
        _count(db, comment, +1)
    moderation_log.record(
        db,
        community=proposal.community_id,
        action=LogAction.comment_restored,
        actor=moderator,
        now=now or utcnow(),
        reason=text,
        member=comment.author_id,
        proposal_id=proposal.id,
        comment_id=comment.id,
    )
    db.flush()
    return comment


@dataclass(frozen=True)
class Counts:
    comments: int
    by_alignment: dict[Alignment, int]


def counts(db: Session, proposal: Proposal) -> Counts:
    stats = db.get(ThreadStats, proposal.id)
    if stats is None:
        return Counts(0, dict.fromkeys(Alignment, 0))
    return Counts(stats.comments, {a: getattr(stats, a.value) for a in Alignment})


def recount(db: Session, proposal: Proposal) -> Counts:
    """The counts computed from the comments themselves (to check the kept ones)."""
    visible = (
        Comment.proposal_id == proposal.id,
        Comment.deleted_at.is_(None),
        Comment.hidden_at.is_(None),
    )
    total = db.scalar(select(func.count()).select_from(Comment).where(*visible)) or 0
    rows = db.execute(
        select(Comment.alignment, func.count())
        .where(*visible, Comment.parent_id.is_(None))
        .group_by(Comment.alignment)
    ).all()
    by = dict.fromkeys(Alignment, 0)
    for alignment, n in rows:
        if alignment is not None:
            by[Alignment(alignment)] = n
    return Counts(total, by)
