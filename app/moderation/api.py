"""JSON API of moderation: flags, the moderators' queue and its actions, warnings,
suspensions, appeals, members' records and the public moderation log."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import (
    Community,
    LogAction,
    MemberWarning,
    ModerationLogEntry,
    Suspension,
)
from app.db import utcnow
from app.errors import ValidationFailed
from app.i18n import gettext
from app.moderation import appeals as appeals_service
from app.moderation import log as log_service
from app.moderation import members, service
from app.moderation.models import Appeal, Flag
from app.moderation.schemas import (
    AppealId,
    AppealIn,
    AppealList,
    AppealOut,
    CommentId,
    DecisionIn,
    FlagCreate,
    FlagEntry,
    FlaggedItem,
    FlagOut,
    FlagQueue,
    HiddenItemOut,
    ItemState,
    ItemStateOut,
    LinkOut,
    LogEntryOut,
    LogList,
    MemberRecordOut,
    OptionalReasonIn,
    ReasonIn,
    ResolutionOut,
    ResolveIn,
    RestoreIn,
    SuspendIn,
    SuspensionList,
    SuspensionOut,
    WarningId,
    WarningIn,
    WarningList,
    WarningOut,
)
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.proposals.schemas import ProposalId
from app.web.api import COMMON_ERRORS, Cursor, Limit, error_responses
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.works import service as works_service
from app.works.schemas import WorkId

router = APIRouter(tags=["moderation"], responses=COMMON_ERRORS)
FLAG_ERRORS = error_responses(404, 409)
NOT_FOUND = error_responses(404)
TITLE_LENGTH = 80
# A body may be left out where the reason is optional.
NO_REASON = OptionalReasonIn()


def comment_path(slug: str, proposal_id: int, comment_id: int) -> str:
    return f"/c/{slug}/proposals/{proposal_id}/comments/{comment_id}"


def work_path(slug: str, work_id: int) -> str:
    return f"/c/{slug}/works/{work_id}"


def proposal_path(slug: str, proposal_id: int) -> str:
    return f"/c/{slug}/proposals/{proposal_id}"


def _state(value: str) -> ItemState:
    assert value in ("visible", "pending_review", "removed", "deleted")
    return value  # type: ignore[return-value]


def _name(user: User | None) -> str | None:
    return user.username if user is not None else None


def _flag_out(flag: Flag, slug: str, state: str) -> FlagOut:
    return FlagOut(
        id=flag.id,
        community=slug,
        comment=flag.comment_id,
        work=flag.work_id,
        proposal=flag.proposal_id,
        reason=flag.reason,
        created_at=flag.created_at,
        item_state=_state(state),
    )


def _community_of(db: Session, community_id: int) -> Community:
    community = db.get(Community, community_id)
    assert community is not None
    return community


# --- Flags --------------------------------------------------------------------------------


@router.post(
    "/comments/{comment_id}/flags",
    response_model=FlagOut,
    status_code=201,
    summary="Flag a comment for the moderators (members; once per comment)",
    description=(
        "Members of the comment's community flag a comment that breaks the rules, with a "
        "reason. Not your own comment. When the community's `flag_hide_threshold` of "
        "different members have open flags on it, it is hidden pending review. "
        "409 when you already flagged it or a moderator already hid it; 403 (`suspended`) "
        "while you are suspended there; at most 20 flags an hour (429)."
    ),
    responses=FLAG_ERRORS,
)
def flag_comment(
    db: SessionDep, user: CurrentUser, comment_id: CommentId, body: FlagCreate
) -> FlagOut:
    comment = service.get_comment(db, comment_id, viewer=user)
    flag = service.flag_comment(db, actor=user, comment=comment, reason=body.reason, now=utcnow())
    community = _community_of(db, flag.community_id)
    return _flag_out(flag, community.slug, service.item_state(comment))


@router.post(
    "/works/{work_id}/flags",
    response_model=FlagOut,
    status_code=201,
    summary="Flag a work for the moderators (members; once per work)",
    description=(
        "As for comments: not a work you registered; enough different members hide it "
        "pending review; 409 for a second flag or a work a moderator already hid."
    ),
    responses=FLAG_ERRORS,
)
def flag_work(db: SessionDep, user: CurrentUser, work_id: WorkId, body: FlagCreate) -> FlagOut:
    work = works_service.get_work(db, work_id)
    flag = service.flag_work(db, actor=user, work=work, reason=body.reason, now=utcnow())
    return _flag_out(flag, work.community.slug, service.item_state(work))


@router.post(
    "/proposals/{proposal_id}/flags",
    response_model=FlagOut,
    status_code=201,
    summary="Flag a proposal for the moderators (members; once per proposal)",
    description=(
        "Not a proposal you wrote or co-wrote. A flagged proposal stays in view however many "
        "flag it: moderators lock its thread or dismiss the flags. 409 for a second flag."
    ),
    responses=FLAG_ERRORS,
)
def flag_proposal(
    db: SessionDep, user: CurrentUser, proposal_id: ProposalId, body: FlagCreate
) -> FlagOut:
    proposal = proposals_service.get_proposal(db, proposal_id, viewer=user)
    flag = service.flag_proposal(
        db, actor=user, proposal=proposal, reason=body.reason, now=utcnow()
    )
    return _flag_out(flag, proposal.community.slug, "visible")


# --- The queue and its actions ------------------------------------------------------------


def _item_out(slug: str, item: service.QueueItem) -> FlaggedItem:
    locked = False
    if item.comment is not None:
        assert item.proposal is not None
        comment = item.comment
        body = " ".join(comment.body.split())
        title = body if len(body) <= TITLE_LENGTH else body[: TITLE_LENGTH - 1] + "…"
        path = comment_path(slug, item.proposal.id, comment.id)
        text, author = comment.body, _name(comment.author)
        state = service.item_state(comment)
    elif item.work is not None:
        work = item.work
        title, text, path = work.title, work.url, work_path(slug, work.id)
        author = _name(work.created_by)
        state = service.item_state(work)
    else:
        assert item.proposal is not None
        proposal = item.proposal
        title, text, path = proposal.title, proposal.summary, proposal_path(slug, proposal.id)
        author, state, locked = _name(proposal.author), "visible", item.locked
    return FlaggedItem(
        kind=item.kind,
        comment=item.comment.id if item.comment else None,
        work=item.work.id if item.work else None,
        proposal=item.proposal.id if item.proposal else None,
        page_url=path,
        title=title,
        text=text,
        author=author,
        state=_state(state),
        locked=locked,
        flag_count=item.count,
        first_flagged_at=item.first_flagged_at,
        flags=[
            FlagEntry(id=f.id, flagger=_name(f.flagger), reason=f.reason, created_at=f.created_at)
            for f in item.flags
        ],
    )


@router.get(
    "/communities/{slug}/flags",
    response_model=FlagQueue,
    summary="The moderators' queue: items with open flags, oldest first (moderators)",
    description=(
        "One entry per flagged comment, work or proposal, with its open flags (who, why, "
        "when), their count, and the item's state (`pending_review` when flags hid it). "
        "Ordered by each item's oldest open flag; paged with `limit` (at most 100) and "
        "`cursor`. Open appeals are at `/communities/{slug}/appeals`."
    ),
    responses=NOT_FOUND,
)
def list_flags(
    db: SessionDep, user: CurrentUser, slug: str, limit: Limit = 100, cursor: Cursor = None
) -> FlagQueue:
    community = communities_service.get_community(db, slug)
    page = service.queue(db, actor=user, community=community, limit=limit, cursor=cursor)
    return FlagQueue(items=[_item_out(slug, i) for i in page.items], next_cursor=page.next_cursor)


def _exactly_one(**refs: int | None) -> None:
    if sum(value is not None for value in refs.values()) != 1:
        problem = gettext("Name exactly one of %(names)s.", names=" and ".join(refs))
        raise ValidationFailed(problem, fields=dict.fromkeys(refs, problem))


@router.post(
    "/communities/{slug}/flags/resolve",
    response_model=ResolutionOut,
    summary="Resolve the open flags on one item: hide it, lock it, or dismiss them (moderators)",
    description=(
        "Name exactly one of `comment`, `work` and `proposal` (of this community). `hide` "
        "(comments and works) and `lock` (proposals) need a public `reason`. 409 when the "
        "item has no open flags (another moderator resolved them)."
    ),
    responses=FLAG_ERRORS,
)
def resolve(db: SessionDep, user: CurrentUser, slug: str, body: ResolveIn) -> ResolutionOut:
    community = communities_service.get_community(db, slug)
    _exactly_one(comment=body.comment, work=body.work, proposal=body.proposal)
    comment = service.get_comment(db, body.comment, viewer=user) if body.comment else None
    work = works_service.get_work(db, body.work) if body.work else None
    proposal = (
        proposals_service.get_proposal(db, body.proposal, viewer=user) if body.proposal else None
    )
    result = service.resolve(
        db,
        actor=user,
        community=community,
        comment=comment,
        work=work,
        proposal=proposal,
        action=body.action,
        reason=body.reason,
        now=utcnow(),
    )
    item = comment or work
    return ResolutionOut(
        action=result.action.value,
        resolved=result.resolved,
        restored=result.restored,
        state=_state(service.item_state(item) if item is not None else "visible"),
    )


@router.post(
    "/communities/{slug}/moderation/restore",
    response_model=ItemStateOut,
    summary="Show a hidden comment or work again, closing its open flags (moderators)",
    description=(
        "Name exactly one of `comment` and `work` (of this community); the optional public "
        "`reason` goes in the moderation log. 409 when it is shown already."
    ),
    responses=FLAG_ERRORS,
)
def restore(db: SessionDep, user: CurrentUser, slug: str, body: RestoreIn) -> ItemStateOut:
    community = communities_service.get_community(db, slug)
    _exactly_one(comment=body.comment, work=body.work)
    comment = service.get_comment(db, body.comment, viewer=user) if body.comment else None
    work = works_service.get_work(db, body.work) if body.work else None
    item = service.restore(
        db,
        actor=user,
        community=community,
        comment=comment,
        work=work,
        reason=body.reason,
        now=utcnow(),
    )
    return ItemStateOut(
        comment=body.comment, work=body.work, state=_state(service.item_state(item))
    )


@router.post(
    "/works/{work_id}/hide",
    response_model=ItemStateOut,
    summary="Hide a work with a public reason (moderators)",
    description="Its title and lineage stay in view; the reason shows in its place and the log.",
    responses=NOT_FOUND,
)
def hide_work(db: SessionDep, user: CurrentUser, work_id: WorkId, body: ReasonIn) -> ItemStateOut:
    work = works_service.get_work(db, work_id)
    works_service.hide_work(db, actor=user, work=work, reason=body.reason, now=utcnow())
    return ItemStateOut(comment=None, work=work.id, state=_state(service.item_state(work)))


@router.post(
    "/works/{work_id}/restore",
    response_model=ItemStateOut,
    summary="Show a hidden work again (moderators)",
    description="The optional public `reason` goes in the moderation log.",
    responses=NOT_FOUND,
)
def restore_work(
    db: SessionDep, user: CurrentUser, work_id: WorkId, body: OptionalReasonIn = NO_REASON
) -> ItemStateOut:
    work = works_service.get_work(db, work_id)
    works_service.restore_work(db, actor=user, work=work, reason=body.reason, now=utcnow())
    return ItemStateOut(comment=None, work=work.id, state=_state(service.item_state(work)))


# --- Warnings and suspensions -------------------------------------------------------------


def warning_out(warning: MemberWarning) -> WarningOut:
    return WarningOut(
        id=warning.id,
        community=warning.community.slug,
        member=warning.member.username,
        moderator=_name(warning.warned_by),
        message=warning.message,
        reason=warning.reason,
        created_at=warning.created_at,
        acknowledged_at=warning.acknowledged_at,
    )


def suspension_out(suspension: Suspension) -> SuspensionOut:
    return SuspensionOut(
        id=suspension.id,
        community=suspension.community.slug,
        member=suspension.member.username,
        moderator=_name(suspension.suspended_by),
        reason=suspension.reason,
        created_at=suspension.created_at,
        ends_at=suspension.ends_at,
        active=suspension.is_active(utcnow()),
        lifted_at=suspension.lifted_at,
        lifted_by=_name(suspension.lifted_by),
        lift_reason=suspension.lift_reason,
    )


@router.post(
    "/communities/{slug}/members/{username}/warnings",
    response_model=WarningOut,
    status_code=201,
    summary="Warn a member with a private message they must acknowledge (moderators)",
    description=(
        "The member is notified, sees the warning on every page until they acknowledge it, "
        "and may not post in the community before they do. The public log says that a "
        "member was warned (not whom), with the optional public `reason`."
    ),
    responses=NOT_FOUND,
)
def warn(
    db: SessionDep, user: CurrentUser, slug: str, username: str, body: WarningIn
) -> WarningOut:
    community = communities_service.get_community(db, slug)
    warning = members.warn(
        db,
        actor=user,
        community=community,
        username=username,
        message=body.message,
        reason=body.reason,
        now=utcnow(),
    )
    return warning_out(warning)


@router.get(
    "/warnings",
    response_model=WarningList,
    summary="My warnings from moderators, in every community, newest first",
    description="`pending=true` lists only those still to acknowledge.",
)
def my_warnings(
    db: SessionDep,
    user: CurrentUser,
    pending: bool = Query(default=False, description="Only those not yet acknowledged."),
) -> WarningList:
    found = members.my_warnings(db, user, pending_only=pending)
    return WarningList(items=[warning_out(w) for w in found])


@router.post(
    "/warnings/{warning_id}/acknowledge",
    response_model=WarningOut,
    summary="Acknowledge a warning sent to me (a second time changes nothing)",
    responses=NOT_FOUND,
)
def acknowledge(db: SessionDep, user: CurrentUser, warning_id: WarningId) -> WarningOut:
    warning = members.get_warning(db, warning_id, viewer=user)
    return warning_out(members.acknowledge(db, actor=user, warning=warning, now=utcnow()))


@router.post(
    "/communities/{slug}/members/{username}/suspension",
    response_model=SuspensionOut,
    status_code=201,
    summary="Suspend a member for a number of days (moderators)",
    description=(
        "They can read but not post, vote, flag or join there until it ends; every session "
        "of theirs ends now. Not moderators (change their role first), not yourself. 409 "
        "while another suspension of theirs is in force. Public, with its reason, in the log."
    ),
    responses=error_responses(404, 409),
)
def suspend(
    db: SessionDep, user: CurrentUser, slug: str, username: str, body: SuspendIn
) -> SuspensionOut:
    community = communities_service.get_community(db, slug)
    suspension = members.suspend(
        db,
        actor=user,
        community=community,
        username=username,
        days=body.days,
        reason=body.reason,
        now=utcnow(),
    )
    return suspension_out(suspension)


@router.post(
    "/communities/{slug}/members/{username}/suspension/lift",
    response_model=SuspensionOut,
    summary="Lift a member's suspension before its end (moderators)",
    description="409 when the member is not suspended. The reason is public, in the log.",
    responses=error_responses(404, 409),
)
def lift(
    db: SessionDep, user: CurrentUser, slug: str, username: str, body: ReasonIn
) -> SuspensionOut:
    community = communities_service.get_community(db, slug)
    suspension = members.lift(
        db, actor=user, community=community, username=username, reason=body.reason, now=utcnow()
    )
    return suspension_out(suspension)


@router.get(
    "/communities/{slug}/suspensions",
    response_model=SuspensionList,
    summary="Suspensions in force, ending soonest first (moderators)",
    responses=NOT_FOUND,
)
def suspensions(db: SessionDep, user: CurrentUser, slug: str) -> SuspensionList:
    community = communities_service.get_community(db, slug)
    found = members.suspensions(db, actor=user, community=community, now=utcnow())
    return SuspensionList(items=[suspension_out(s) for s in found])


# --- Appeals ------------------------------------------------------------------------------


def appeal_out(db: Session, appeal: Appeal) -> AppealOut:
    community = _community_of(db, appeal.community_id)
    target = appeals_service.target_of(db, appeal)
    page_url = None
    if target.comment is not None and target.proposal is not None:
        page_url = comment_path(community.slug, target.proposal.id, target.comment.id)
    elif target.work is not None:
        page_url = work_path(community.slug, target.work.id)
    kind: Literal["comment", "work", "suspension"] = appeal.kind  # type: ignore[assignment]
    return AppealOut(
        id=appeal.id,
        community=community.slug,
        appellant=appeal.appellant.username,
        kind=kind,
        comment=appeal.comment_id,
        work=appeal.work_id,
        suspension=appeal.suspension_id,
        page_url=page_url,
        message=appeal.message,
        created_at=appeal.created_at,
        decision=appeal.decision.value if appeal.decision is not None else None,
        decided_at=appeal.decided_at,
        decided_by=_name(appeal.decided_by),
        decision_reason=appeal.decision_reason,
    )


@router.post(
    "/communities/{slug}/appeals",
    response_model=AppealOut,
    status_code=201,
    summary="Appeal, once, a hide of your comment or work, or your suspension",
    description=(
        "Name exactly one of `comment`, `work` (yours, hidden by a moderator) and "
        "`suspension` (yours, in force). Suspended members may appeal. 409 for a second "
        "appeal, or for something no longer hidden or suspended."
    ),
    responses=error_responses(404, 409),
)
def create_appeal(db: SessionDep, user: CurrentUser, slug: str, body: AppealIn) -> AppealOut:
    community = communities_service.get_community(db, slug)
    _exactly_one(comment=body.comment, work=body.work, suspension=body.suspension)
    kind, target_id = next(
        (name, value)
        for name, value in (
            ("comment", body.comment),
            ("work", body.work),
            ("suspension", body.suspension),
        )
        if value is not None
    )
    appeal = appeals_service.appeal_by_id(
        db,
        actor=user,
        community=community,
        kind=kind,
        target_id=target_id,
        message=body.message,
        now=utcnow(),
    )
    return appeal_out(db, appeal)


@router.get(
    "/communities/{slug}/appeals",
    response_model=AppealList,
    summary="Appeals: open ones oldest first, or decided ones newest first (moderators)",
    responses=NOT_FOUND,
)
def list_appeals(
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    state: Literal["open", "decided"] = Query(default="open"),
    limit: Limit = 100,
    cursor: Cursor = None,
) -> AppealList:
    community = communities_service.get_community(db, slug)
    page = appeals_service.appeals(
        db,
        actor=user,
        community=community,
        decided=state == "decided",
        limit=limit,
        cursor=cursor,
    )
    return AppealList(items=[appeal_out(db, a) for a in page.items], next_cursor=page.next_cursor)


@router.get(
    "/appeals/{appeal_id}",
    response_model=AppealOut,
    summary="One appeal (its appellant and the community's moderators)",
    responses=NOT_FOUND,
)
def get_appeal(db: SessionDep, user: CurrentUser, appeal_id: AppealId) -> AppealOut:
    return appeal_out(db, appeals_service.get_appeal(db, appeal_id, viewer=user))


@router.post(
    "/appeals/{appeal_id}/decision",
    response_model=AppealOut,
    summary="Grant or deny an appeal, with a public reason (moderators)",
    description=(
        "Granting shows the comment or work again, or lifts the suspension. The appellant is "
        "told; the decision and reason go in the public log. 409 once decided."
    ),
    responses=error_responses(404, 409),
)
def decide(db: SessionDep, user: CurrentUser, appeal_id: AppealId, body: DecisionIn) -> AppealOut:
    appeal = appeals_service.get_appeal(db, appeal_id, viewer=user)
    appeals_service.decide(
        db, actor=user, appeal=appeal, decision=body.decision, reason=body.reason, now=utcnow()
    )
    return appeal_out(db, appeal)


# --- Records and the public log -----------------------------------------------------------


def _hidden_out(slug: str, record: members.MemberRecord) -> list[HiddenItemOut]:
    items = [
        HiddenItemOut(
            kind="comment",
            id=h.comment.id,
            page_url=comment_path(slug, h.proposal.id, h.comment.id),
            hidden_at=h.comment.hidden_at,
            reason=h.comment.hidden_reason,
            appeal=(a.id if (a := record.appeal_for("comment", h.comment.id)) else None),
        )
        for h in record.hidden_comments
    ]
    items += [
        HiddenItemOut(
            kind="work",
            id=w.id,
            page_url=work_path(slug, w.id),
            hidden_at=w.hidden_at,
            reason=w.hidden_reason,
            appeal=(a.id if (a := record.appeal_for("work", w.id)) else None),
        )
        for w in record.hidden_works
    ]
    return items


def _record_out(db: Session, community: Community, record: members.MemberRecord) -> MemberRecordOut:
    return MemberRecordOut(
        member=record.member.username,
        role=record.membership.role.value if record.membership else None,
        suspended_until=record.active.ends_at if record.active else None,
        warnings=[warning_out(w) for w in record.warnings],
        suspensions=[suspension_out(s) for s in record.suspensions],
        appeals=[appeal_out(db, a) for a in record.appeals],
        hidden=_hidden_out(community.slug, record),
        log=[
            _entry_out(
                community.slug,
                item.entry,
                member=item.member,
                proposal=item.proposal,
                work_title=item.work.title if item.work else None,
            )
            for item in log_service.items(db, record.log, public=False)
        ],
    )


@router.get(
    "/communities/{slug}/members/{username}/moderation",
    response_model=MemberRecordOut,
    summary="A member's moderation record here: warnings, suspensions, appeals (moderators)",
    responses=NOT_FOUND,
)
def member_record(db: SessionDep, user: CurrentUser, slug: str, username: str) -> MemberRecordOut:
    community = communities_service.get_community(db, slug)
    record = members.member_record(
        db, actor=user, community=community, username=username, now=utcnow()
    )
    return _record_out(db, community, record)


@router.get(
    "/communities/{slug}/moderation/mine",
    response_model=MemberRecordOut,
    summary="My moderation record here: warnings, suspension, hidden posts and appeals",
    responses=NOT_FOUND,
)
def my_record(db: SessionDep, user: CurrentUser, slug: str) -> MemberRecordOut:
    community = communities_service.get_community(db, slug)
    record = members.my_record(db, actor=user, community=community, now=utcnow())
    return _record_out(db, community, record)


def _entry_out(
    slug: str,
    entry: ModerationLogEntry,
    *,
    member: User | None,
    proposal: Proposal | None = None,
    work_title: str | None = None,
) -> LogEntryOut:
    proposal_link = (
        LinkOut(id=proposal.id, title=proposal.title, url=proposal_path(slug, proposal.id))
        if proposal is not None
        else None
    )
    comment_link = None
    if entry.comment_id is not None and entry.proposal_id is not None:
        comment_link = LinkOut(
            id=entry.comment_id,
            title="a comment",
            url=comment_path(slug, entry.proposal_id, entry.comment_id),
        )
    work_link = (
        LinkOut(id=entry.work_id, title=work_title or "a work", url=work_path(slug, entry.work_id))
        if entry.work_id is not None
        else None
    )
    return LogEntryOut(
        id=entry.id,
        action=entry.action.value,
        summary=entry.action.label,
        moderator=_name(entry.actor),
        member=_name(member),
        proposal=proposal_link,
        comment=comment_link,
        work=work_link,
        reason=entry.reason,
        detail=entry.detail,
        created_at=entry.created_at,
    )


@router.get(
    "/communities/{slug}/moderation-log",
    response_model=LogList,
    summary="The public moderation log: every moderator action, newest first",
    description=(
        "Who did what, when, and the public reason: role changes, hides and restores, locks, "
        "rulings on objections, ratifications and returns, warnings, suspensions and lifts, "
        "appeal decisions. Never who flagged, a warning's text or an appeal's message; the "
        "member concerned only where that is public (roles, suspensions). Filter with "
        "`action`; paged by key with `limit` (at most 100) and `cursor`. Append-only."
    ),
    responses=NOT_FOUND,
)
def moderation_log(
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    limit: Limit = 50,
    cursor: Cursor = None,
    action: str = Query(
        default="",
        max_length=32,
        description="Only entries of this action.",
        json_schema_extra={"enum": ["", *(a.value for a in LogAction)]},
    ),
) -> LogList:
    community = communities_service.get_community(db, slug)
    view = log_service.public_page(db, community, limit=limit, cursor=cursor, action=action)
    return LogList(
        items=[
            _entry_out(
                slug,
                item.entry,
                member=item.member,
                proposal=item.proposal,
                work_title=item.work.title if item.work else None,
            )
            for item in view.items
        ],
        next_cursor=view.next_cursor,
    )
