"""Appeals: a member asks once, with a message, that a moderator's hide of their comment or
work, or their suspension, be undone; a moderator grants it (restoring or lifting) or denies it,
with a public reason.

The appellant's message is private (the member and the community's moderators read it); the
decision and its reason go in the public log. Suspended members may appeal: it is the one thing
a suspension is meant to leave them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import i18n, paging
from app.accounts.models import User
from app.communities import moderation_log
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import Community, LogAction, Suspension
from app.discussion import service as discussion_service
from app.discussion.models import Comment
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _
from app.moderation import members
from app.moderation import permissions as perms
from app.moderation.models import Appeal, AppealDecision
from app.notifications import service as notifications_service
from app.notifications.models import Kind
from app.proposals.models import Proposal
from app.text import NUL_PROBLEM, public_reason
from app.works import service as works_service
from app.works.models import Work

MESSAGE_MAX = 2000
PAGE_MAX = 100
MAX_ID = 2**63 - 1


class Decision(enum.StrEnum):
    grant = "grant"
    deny = "deny"


def _message(message: str) -> str:
    text = message.strip()
    if not text:
        problem = _("Say why the decision should be undone.")
    elif len(text) > MESSAGE_MAX:
        problem = _(
            "Use at most %(max)s characters (this has %(count)s).",
            max=i18n.number(MESSAGE_MAX),
            count=i18n.number(len(text)),
        )
    elif "\x00" in text:
        problem = _(NUL_PROBLEM)
    else:
        return text
    raise ValidationFailed(_("Please correct your appeal."), fields={"message": problem})


def _community_of_comment(db: Session, comment: Comment) -> int:
    proposal = db.get(Proposal, comment.proposal_id)
    assert proposal is not None
    return proposal.community_id


def appeal(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    comment: Comment | None = None,
    work: Work | None = None,
    suspension: Suspension | None = None,
    message: str,
    now: datetime,
) -> Appeal:
    """The member appeals, once, a moderator's hide of their comment or work, or their
    suspension in force."""
    if sum(target is not None for target in (comment, work, suspension)) != 1:
        raise ValueError("appeal() takes exactly one of comment, work and suspension")
    user = community_permissions.require_user(actor)
    if comment is not None:
        if _community_of_comment(db, comment) != community.id:
            raise NotFound(_("There is no such comment in this community."))
        perms.ensure_is_appellant(user, comment.author_id, "this comment")
        if comment.is_deleted or not comment.is_removed:
            raise Conflict(_("Only a comment a moderator has hidden can be appealed."))
        existing = select(Appeal.id).where(Appeal.comment_id == comment.id)
    elif work is not None:
        if work.community_id != community.id:
            raise NotFound(_("There is no such work in this community."))
        perms.ensure_is_appellant(user, work.created_by_id, "this work")
        if not work.is_removed:
            raise Conflict(_("Only a work a moderator has hidden can be appealed."))
        existing = select(Appeal.id).where(Appeal.work_id == work.id)
    else:
        assert suspension is not None
        if suspension.community_id != community.id or suspension.user_id != user.id:
            raise NotFound(_("There is no such suspension of yours in this community."))
        if not suspension.is_active(now):
            raise Conflict(_("This suspension is over; there is nothing left to appeal."))
        existing = select(Appeal.id).where(Appeal.suspension_id == suspension.id)
    text = _message(message)
    once = Conflict(_("You have appealed this once already; each decision is appealed only once."))
    if db.scalar(existing) is not None:
        raise once
    row = Appeal(
        community_id=community.id,
        appellant_id=user.id,
        comment_id=comment.id if comment is not None else None,
        work_id=work.id if work is not None else None,
        suspension_id=suspension.id if suspension is not None else None,
        message=text,
        created_at=now,
    )
    try:
        # A double submit may pass the check above twice; the unique target decides, alone.
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        raise once from None
    return row


KINDS = ("comment", "work", "suspension")


def appeal_by_id(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    kind: str,
    target_id: int | None,
    message: str,
    now: datetime,
) -> Appeal:
    """`appeal`, with what is appealed named by its kind and id (as forms and the API do)."""
    user = community_permissions.require_user(actor)
    if kind not in KINDS or target_id is None or not 1 <= target_id <= MAX_ID:
        problem = _("Choose what to appeal: one of your hidden comments or works, or a suspension.")
        raise ValidationFailed(problem, fields={"target": problem})
    if kind == "comment":
        comment = discussion_service.get_comment(db, target_id, viewer=user)
        return appeal(
            db, actor=user, community=community, comment=comment, message=message, now=now
        )
    if kind == "work":
        work = works_service.get_work(db, target_id, community=community)
        return appeal(db, actor=user, community=community, work=work, message=message, now=now)
    return appeal(
        db,
        actor=user,
        community=community,
        suspension=members.get_suspension(db, target_id),
        message=message,
        now=now,
    )


def get_appeal(db: Session, appeal_id: int, *, viewer: User | None) -> Appeal:
    """An appeal, for its appellant and the community's moderators; to anyone else, missing."""
    user = community_permissions.require_user(viewer)
    found = db.get(Appeal, appeal_id) if 1 <= appeal_id <= MAX_ID else None
    if found is not None and found.appellant_id != user.id:
        community = db.get(Community, found.community_id)
        assert community is not None
        if not perms.can_review(user, communities_service.membership_of(db, community, user)):
            found = None
    if found is None:
        raise NotFound(_("There is no such appeal."))
    return found


def decide(
    db: Session,
    *,
    actor: User | None,
    appeal: Appeal,
    decision: str,
    reason: str,
    now: datetime,
) -> Appeal:
    """A moderator grants the appeal (the item is shown again, or the suspension lifted) or
    denies it, with a public reason; the appellant is told."""
    community = db.get(Community, appeal.community_id)
    assert community is not None
    moderator = perms.ensure_can_review(
        actor, communities_service.membership_of(db, community, actor)
    )
    if decision not in Decision.__members__:
        raise ValidationFailed(
            _("Choose a decision."), fields={"decision": _("Choose grant or deny.")}
        )
    chosen = Decision(decision)
    text = public_reason(reason, hint=N_("Say why, for the appellant and the public log."))
    outcome = AppealDecision.granted if chosen == Decision.grant else AppealDecision.denied
    # Claimed first: two moderators deciding at once cannot both decide.
    claimed = db.execute(
        update(Appeal)
        .where(Appeal.id == appeal.id, Appeal.decided_at.is_(None))
        .values(decided_at=now, decided_by_id=moderator.id, decision=outcome, decision_reason=text)
        .execution_options(synchronize_session=False)
    )
    db.refresh(appeal)
    if not getattr(claimed, "rowcount", 0):
        raise Conflict(_("This appeal has been decided already."))
    if chosen == Decision.grant:
        _undo(db, appeal, moderator, text, now)
    moderation_log.record(
        db,
        community=community,
        action=LogAction.appeal_granted if chosen == Decision.grant else LogAction.appeal_denied,
        actor=moderator,
        now=now,
        reason=text,
        detail=f"about a {appeal.kind}",
        member=appeal.appellant_id,
        proposal_id=_proposal_id(db, appeal),
        comment_id=appeal.comment_id,
        work_id=appeal.work_id,
    )
    notifications_service.notify(
        db,
        recipients=[appeal.appellant_id],
        kind=Kind.moderation,
        message=N_("Your appeal in %(community)s was granted: %(reason)s")
        if chosen == Decision.grant
        else N_("Your appeal in %(community)s was denied: %(reason)s"),
        params={"community": community.name, "reason": text},
        url=members.record_url(community) + f"#appeal-{appeal.id}",
        now=now,
        community=community,
        actor=moderator,
    )
    db.flush()
    return appeal


def _proposal_id(db: Session, appeal: Appeal) -> int | None:
    if appeal.comment_id is None:
        return None
    comment = db.get(Comment, appeal.comment_id)
    assert comment is not None
    return comment.proposal_id


def _undo(db: Session, appeal: Appeal, moderator: User, reason: str, now: datetime) -> None:
    """What granting means: the item shown again, or the suspension lifted (if still on)."""
    if appeal.comment_id is not None:
        comment = db.get(Comment, appeal.comment_id)
        assert comment is not None
        discussion_service.restore_comment(
            db, actor=moderator, comment=comment, reason=reason, now=now
        )
    elif appeal.work_id is not None:
        work = db.get(Work, appeal.work_id)
        assert work is not None
        works_service.restore_work(db, actor=moderator, work=work, reason=reason, now=now)
    else:
        suspension = appeal.suspension
        assert suspension is not None
        if suspension.is_active(now):
            members.end_suspension(db, suspension, moderator, reason, now, tell=False)


@dataclass(frozen=True)
class AppealPage:
    items: list[Appeal]
    next_cursor: str | None


def appeals(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    decided: bool = False,
    limit: int = PAGE_MAX,
    cursor: str | None = None,
) -> AppealPage:
    """Moderators: open appeals oldest first, or decided ones newest first, a page at a time."""
    perms.ensure_can_review(actor, communities_service.membership_of(db, community, actor))
    limit = max(1, min(limit, PAGE_MAX))
    query = select(Appeal).where(Appeal.community_id == community.id)
    query = query.where(Appeal.decided_at.is_not(None) if decided else Appeal.decided_at.is_(None))
    after = paging.decode(cursor, size=1)
    if after is not None:
        value = after[0]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
            raise ValidationFailed(
                _("The cursor is not valid."),
                fields={"cursor": _("Use the next_cursor of a previous page.")},
            )
        query = query.where(Appeal.id < value if decided else Appeal.id > value)
    order = Appeal.id.desc() if decided else Appeal.id
    items = list(db.scalars(query.order_by(order).limit(limit + 1)))
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = paging.encode(items[-1].id)
    return AppealPage(items, next_cursor)


def open_count(db: Session, community: Community) -> int:
    """Appeals waiting for a decision: part of the moderators' badge."""
    return (
        db.scalar(
            select(func.count(Appeal.id)).where(
                Appeal.community_id == community.id, Appeal.decided_at.is_(None)
            )
        )
        or 0
    )


@dataclass(frozen=True)
class AppealTarget:
    """What an appeal is about, loaded for display."""

    comment: Comment | None
    proposal: Proposal | None
    work: Work | None
    suspension: Suspension | None


def target_of(db: Session, appeal: Appeal) -> AppealTarget:
    """The comment (with its proposal), work or suspension the appeal is about."""
    comment = db.get(Comment, appeal.comment_id) if appeal.comment_id is not None else None
    proposal = db.get(Proposal, comment.proposal_id) if comment is not None else None
    work = db.get(Work, appeal.work_id) if appeal.work_id is not None else None
    return AppealTarget(comment, proposal, work, appeal.suspension)
