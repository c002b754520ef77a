"""Moderators and members: warnings (private, acknowledged), suspensions (for a period, lifted
early or not), and each member's moderation record.

A warning is a private message the member reads and acknowledges; until they do it shows at
the top of every page and they may not post in that community. A suspension bars a member
from posting, voting and flagging in one community until it ends or a moderator lifts it, and
signs them out everywhere. The public log says who was suspended, by whom and why; of a
warning it says only that a member was warned (and the public reason, if the moderator gave
one). The refusals themselves are `app.communities.permissions.ensure_can_participate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import i18n
from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities import moderation_log
from app.communities import permissions as community_permissions
from app.communities import service as communities_service
from app.communities.models import (
    Community,
    LogAction,
    Membership,
    MemberWarning,
    ModerationLogEntry,
    Suspension,
)
from app.discussion.models import Comment
from app.errors import Conflict, NotFound, ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _
from app.moderation import permissions as perms
from app.moderation.models import Appeal
from app.notifications import service as notifications_service
from app.notifications.models import Kind
from app.proposals.models import Proposal
from app.text import NUL_PROBLEM, public_reason
from app.works.models import Work

MESSAGE_MAX = 2000
MAX_DAYS = 365
#: Hidden items and log entries shown on a member's record.
RECORD_LIMIT = 50


def record_url(community: Community) -> str:
    """The member's own moderation page, where notifications about it lead."""
    return f"/c/{community.slug}/moderation/mine"


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _member(db: Session, community: Community, username: str) -> tuple[User, Membership | None]:
    member = accounts_service.get_user(db, username)
    return member, communities_service.membership_of(db, community, member)


def _message(message: str) -> str:
    text = message.strip()
    if not text:
        problem = _("Write the warning the member will read.")
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
    raise ValidationFailed(_("Please correct the warning."), fields={"message": problem})


def optional_reason(reason: str) -> str:
    """A public reason the moderator may leave out; checked like every public reason."""
    return public_reason(reason) if reason.strip() else ""


# --- Warnings ---------------------------------------------------------------------------


def warn(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    username: str,
    message: str,
    reason: str = "",
    now: datetime,
) -> MemberWarning:
    """A moderator sends a member a private warning; they must acknowledge it to post again."""
    moderator = perms.ensure_can_review(
        actor, communities_service.membership_of(db, community, actor)
    )
    member, membership = _member(db, community, username)
    perms.ensure_can_sanction(moderator, member, membership, "warn")
    text = _message(message)
    public = optional_reason(reason)
    warning = MemberWarning(
        community_id=community.id,
        user_id=member.id,
        warned_by_id=moderator.id,
        message=text,
        reason=public,
        created_at=now,
    )
    db.add(warning)
    db.flush()
    moderation_log.record(
        db,
        community=community,
        action=LogAction.member_warned,
        actor=moderator,
        now=now,
        reason=public,
        member=member,
    )
    notifications_service.notify(
        db,
        recipients=[member],
        kind=Kind.moderation,
        message=N_("A moderator of %(community)s sent you a warning. Read it and acknowledge it."),
        params={"community": community.name},
        url=record_url(community) + f"#warning-{warning.id}",
        now=now,
        community=community,
        actor=moderator,
    )
    return warning


def get_warning(db: Session, warning_id: int, *, viewer: User | None) -> MemberWarning:
    """A warning, for the member it was sent to (anyone else finds nothing)."""
    user = community_permissions.require_user(viewer)
    warning = db.get(MemberWarning, warning_id) if 1 <= warning_id < 2**63 else None
    if warning is None or warning.user_id != user.id:
        raise NotFound(_("There is no such warning."))
    return warning


def acknowledge(
    db: Session, *, actor: User | None, warning: MemberWarning, now: datetime
) -> MemberWarning:
    """The member says they have read the warning; a second click changes nothing."""
    user = community_permissions.require_user(actor)
    if warning.user_id != user.id:
        raise NotFound(_("There is no such warning."))
    if warning.acknowledged_at is None:
        warning.acknowledged_at = now
        db.flush()
    return warning


def my_warnings(db: Session, user: User, *, pending_only: bool = False) -> list[MemberWarning]:
    """A member's warnings in every community, newest first."""
    query = select(MemberWarning).where(MemberWarning.user_id == user.id)
    if pending_only:
        query = query.where(MemberWarning.acknowledged_at.is_(None))
    return list(db.scalars(query.order_by(MemberWarning.id.desc())))


# --- Suspensions ------------------------------------------------------------------------


def _days(days: int | None) -> int:
    if days is None or not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(
            _("Please correct the period."),
            fields={
                "days": _("Suspend for a whole number of days, from 1 to %(max)s.", max=MAX_DAYS)
            },
        )
    return days


def suspend(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    username: str,
    days: int | None,
    reason: str,
    now: datetime,
) -> Suspension:
    """A moderator suspends a member for `days`: they can read, not post, vote or flag here,
    and every session of theirs ends."""
    moderator = perms.ensure_can_review(
        actor, communities_service.membership_of(db, community, actor)
    )
    member, membership = _member(db, community, username)
    perms.ensure_can_sanction(moderator, member, membership, "suspend")
    problems: dict[str, str] = {}
    period = text = None
    try:
        period = _days(days)
    except ValidationFailed as exc:
        problems.update(exc.fields)
    try:
        text = public_reason(reason, hint=N_("Say why, for the public moderation log."))
    except ValidationFailed as exc:
        problems.update(exc.fields)
    if problems or period is None or text is None:
        raise ValidationFailed(_("The member was not suspended."), fields=problems)
    # One suspension at a time: the member's row serializes two moderators acting at once.
    assert membership is not None
    db.execute(select(Membership.id).where(Membership.id == membership.id).with_for_update())
    current = community_permissions.active_suspension(db, community, member, now)
    if current is not None:
        raise Conflict(
            _(
                "%(member)s is suspended until %(when)s already; lift that suspension first to "
                "set another period.",
                member=member.display_name,
                when=_when(current.ends_at),
            )
        )
    suspension = Suspension(
        community_id=community.id,
        user_id=member.id,
        suspended_by_id=moderator.id,
        reason=text,
        created_at=now,
        ends_at=now + timedelta(days=period),
    )
    db.add(suspension)
    db.flush()
    accounts_service.end_all_sessions(db, user=member)
    moderation_log.record(
        db,
        community=community,
        action=LogAction.member_suspended,
        actor=moderator,
        now=now,
        reason=text,
        detail=f"for {period} day{'s' if period != 1 else ''}, until {_when(suspension.ends_at)}",
        member=member,
    )
    notifications_service.notify(
        db,
        recipients=[member],
        kind=Kind.moderation,
        message=N_("You are suspended in %(community)s until %(ends_at)s: %(reason)s"),
        params={
            "community": community.name,
            "ends_at": suspension.ends_at.astimezone(UTC).isoformat(),
            "reason": text,
        },
        url=record_url(community),
        now=now,
        community=community,
        actor=moderator,
    )
    return suspension


def lift(
    db: Session,
    *,
    actor: User | None,
    community: Community,
    username: str,
    reason: str,
    now: datetime,
) -> Suspension:
    """A moderator ends a member's suspension before its time, with a public reason."""
    moderator = perms.ensure_can_review(
        actor, communities_service.membership_of(db, community, actor)
    )
    member = accounts_service.get_user(db, username)
    text = public_reason(reason, hint=N_("Say why, for the public moderation log."))
    suspension = community_permissions.active_suspension(db, community, member, now)
    if suspension is None:
        raise Conflict(_("%(member)s is not suspended here.", member=member.display_name))
    end_suspension(db, suspension, moderator, text, now)
    return suspension


def end_suspension(
    db: Session,
    suspension: Suspension,
    moderator: User,
    reason: str,
    now: datetime,
    *,
    tell: bool = True,
) -> None:
    """Lift the suspension, log it and tell the member (for `lift` and granted appeals; an
    appeal's decision tells the member itself, so it passes `tell=False`)."""
    suspension.lifted_at = now
    suspension.lifted_by_id = moderator.id
    suspension.lift_reason = reason
    db.flush()
    community = suspension.community
    moderation_log.record(
        db,
        community=community,
        action=LogAction.suspension_lifted,
        actor=moderator,
        now=now,
        reason=reason,
        member=suspension.user_id,
    )
    if not tell:
        return
    notifications_service.notify(
        db,
        recipients=[suspension.user_id],
        kind=Kind.moderation,
        message=N_("Your suspension in %(community)s was lifted: %(reason)s"),
        params={"community": community.name, "reason": reason},
        url=record_url(community),
        now=now,
        community=community,
        actor=moderator,
    )


def get_suspension(db: Session, suspension_id: int) -> Suspension:
    """A suspension by id; the services decide who may do what with it."""
    found = db.get(Suspension, suspension_id) if 1 <= suspension_id < 2**63 else None
    if found is None:
        raise NotFound(_("There is no such suspension."))
    return found


def suspensions(
    db: Session, *, actor: User | None, community: Community, now: datetime
) -> list[Suspension]:
    """Moderators: the suspensions in force in the community, ending soonest first."""
    perms.ensure_can_review(actor, communities_service.membership_of(db, community, actor))
    return list(
        db.scalars(
            select(Suspension)
            .where(
                Suspension.community_id == community.id,
                Suspension.lifted_at.is_(None),
                Suspension.ends_at > now,
            )
            .order_by(Suspension.ends_at, Suspension.id)
        )
    )


# --- Records ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HiddenComment:
    comment: Comment
    proposal: Proposal


@dataclass(frozen=True)
class MemberRecord:
    """What moderation has to do with one member in one community."""

    member: User
    membership: Membership | None
    warnings: list[MemberWarning]
    suspensions: list[Suspension]
    active: Suspension | None
    appeals: list[Appeal]
    hidden_comments: list[HiddenComment]
    hidden_works: list[Work]
    #: Log entries about the member (moderators' view only: it includes warnings).
    log: list[ModerationLogEntry]

    def appeal_for(self, kind: str, item_id: int) -> Appeal | None:
        for appeal in self.appeals:
            target = {
                "comment": appeal.comment_id,
                "work": appeal.work_id,
                "suspension": appeal.suspension_id,
            }[kind]
            if target == item_id:
                return appeal
        return None

    @property
    def pending_warnings(self) -> list[MemberWarning]:
        return [w for w in self.warnings if w.acknowledged_at is None]


def _record(
    db: Session, community: Community, member: User, now: datetime, *, with_log: bool
) -> MemberRecord:
    warnings = list(
        db.scalars(
            select(MemberWarning)
            .where(MemberWarning.community_id == community.id, MemberWarning.user_id == member.id)
            .order_by(MemberWarning.id.desc())
        )
    )
    suspensions = list(
        db.scalars(
            select(Suspension)
            .where(Suspension.community_id == community.id, Suspension.user_id == member.id)
            .order_by(Suspension.id.desc())
        )
    )
    appeals = list(
        db.scalars(
            select(Appeal)
            .where(Appeal.community_id == community.id, Appeal.appellant_id == member.id)
            .order_by(Appeal.id.desc())
        )
    )
    hidden_comments = [
        HiddenComment(comment, proposal)
        for comment, proposal in db.execute(
            select(Comment, Proposal)
            .join(Proposal, Proposal.id == Comment.proposal_id)
            .where(
                Proposal.community_id == community.id,
                Comment.author_id == member.id,
                Comment.hidden_by_id.is_not(None),
                Comment.deleted_at.is_(None),
            )
            .order_by(Comment.hidden_at.desc(), Comment.id.desc())
            .limit(RECORD_LIMIT)
        ).all()
    ]
    hidden_works = list(
        db.scalars(
            select(Work)
            .where(
                Work.community_id == community.id,
                Work.created_by_id == member.id,
                Work.hidden_by_id.is_not(None),
            )
            .order_by(Work.hidden_at.desc(), Work.id.desc())
            .limit(RECORD_LIMIT)
        )
    )
    log = (
        moderation_log.page(db, community, member_id=member.id, limit=RECORD_LIMIT).entries
        if with_log
        else []
    )
    return MemberRecord(
        member=member,
        membership=communities_service.membership_of(db, community, member),
        warnings=warnings,
        suspensions=suspensions,
        active=next((s for s in suspensions if s.is_active(now)), None),
        appeals=appeals,
        hidden_comments=hidden_comments,
        hidden_works=hidden_works,
        log=log,
    )


def member_record(
    db: Session, *, actor: User | None, community: Community, username: str, now: datetime
) -> MemberRecord:
    """Moderators: a member's warnings (with their text), suspensions, appeals, hidden items
    and the log entries about them, in this community."""
    perms.ensure_can_review(actor, communities_service.membership_of(db, community, actor))
    member = accounts_service.get_user(db, username)
    return _record(db, community, member, now, with_log=True)


def my_record(
    db: Session, *, actor: User | None, community: Community, now: datetime
) -> MemberRecord:
    """A member's own record in the community: what they may read and appeal."""
    user = community_permissions.require_user(actor)
    return _record(db, community, user, now, with_log=False)
