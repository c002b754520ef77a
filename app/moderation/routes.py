"""HTML pages of moderation: flag forms, the moderators' queue and its actions, members'
records with warnings and suspensions, appeals, and the public moderation log."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Community, LogAction
from app.db import utcnow
from app.discussion import service as discussion_service
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _
from app.moderation import appeals as appeals_service
from app.moderation import log as log_service
from app.moderation import members, service
from app.moderation import permissions as perms
from app.moderation.api import comment_path, proposal_path, work_path
from app.moderation.schemas import AppealId, CommentId, WarningId
from app.proposals import service as proposals_service
from app.proposals.schemas import ProposalId
from app.text import REASON_MAX
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.responses import after_action, refusal_message, safe_next, see_other
from app.web.templating import render
from app.works import service as works_service
from app.works.schemas import WorkId

router = APIRouter(tags=["moderation"])
ITEM_KEY = re.compile(r"^(comment|work|proposal)-[0-9]{1,19}$")

FormStr = Annotated[str, Form()]
FLAGGED = N_("Thanks — moderators will review it.")
Errors = dict[str, dict[str, str]]
#: Suspension periods offered by the form, in days (the API takes any from 1 to 365).
PERIODS = [
    (1, N_("1 day")),
    (3, N_("3 days")),
    (7, N_("1 week")),
    (14, N_("2 weeks")),
    (30, N_("30 days")),
    (90, N_("90 days")),
    (365, N_("1 year")),
]
HELPERS = {"comment_path": comment_path, "work_path": work_path, "proposal_path": proposal_path}


def _queue_url(community: Community, anchor: str = "") -> str:
    return f"/c/{community.slug}/moderation{anchor}"


def _member_url(community: Community, username: str) -> str:
    return f"/c/{community.slug}/moderation/members/{username}"


def _mine_url(community: Community, anchor: str = "") -> str:
    return f"/c/{community.slug}/moderation/mine{anchor}"


def _whole_number(raw: str) -> int | None:
    """A number typed in a form; None when it is not one (the service says what it wants)."""
    text = raw.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


# --- Flags --------------------------------------------------------------------------------


@router.post("/c/{slug}/proposals/{proposal_id}/comments/{comment_id}/flag", name="flag_comment")
def flag_comment(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    comment_id: CommentId,
    reason: FormStr = "",
) -> Response:
    community = communities_service.get_community(db, slug)
    proposal = proposals_service.get_in_community(db, community, proposal_id, viewer=user)
    comment = discussion_service.get_in_proposal(db, proposal, comment_id, viewer=user)
    back = f"/c/{community.slug}/proposals/{proposal.id}#comment-{comment.id}"
    return after_action(
        request,
        back,
        lambda: service.flag_comment(db, actor=user, comment=comment, reason=reason, now=utcnow()),
        _(FLAGGED),
        refusals=(DomainError,),  # a refused flag goes back where it came from
    )


@router.post("/c/{slug}/works/{work_id}/flag", name="flag_work")
def flag_work(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    work_id: WorkId,
    reason: FormStr = "",
) -> Response:
    community = communities_service.get_community(db, slug)
    work = works_service.get_work(db, work_id, community=community)
    return after_action(
        request,
        work_path(community.slug, work.id),
        lambda: service.flag_work(db, actor=user, work=work, reason=reason, now=utcnow()),
        _(FLAGGED),
        refusals=(DomainError,),
    )


@router.post("/c/{slug}/proposals/{proposal_id}/flag", name="flag_proposal")
def flag_proposal(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    reason: FormStr = "",
) -> Response:
    community = communities_service.get_community(db, slug)
    proposal = proposals_service.get_in_community(db, community, proposal_id, viewer=user)
    return after_action(
        request,
        proposal_path(community.slug, proposal.id),
        lambda: service.flag_proposal(
            db, actor=user, proposal=proposal, reason=reason, now=utcnow()
        ),
        _(FLAGGED),
        refusals=(DomainError,),
    )


# --- The queue ----------------------------------------------------------------------------


def _queue_page(
    request: Request,
    db: SessionDep,
    user: User,
    community: Community,
    *,
    errors: Errors | None = None,
    values: Errors | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    cursor = request.query_params.get("cursor")
    try:
        queue = service.queue(db, actor=user, community=community, cursor=cursor)
    except ValidationFailed:
        # A mangled cursor: show the first page rather than an error.
        queue = service.queue(db, actor=user, community=community)
    next_query = None
    if queue.next_cursor:
        next_query = request.url.include_query_params(cursor=queue.next_cursor).query
    open_appeals = appeals_service.appeals(db, actor=user, community=community).items
    return render(
        request,
        "moderation/queue.html",
        {
            "community": community,
            "queue": queue,
            "appeals": [(a, appeals_service.target_of(db, a)) for a in open_appeals],
            "suspensions": members.suspensions(db, actor=user, community=community, now=utcnow()),
            "hidden": service.recently_hidden(db, actor=user, community=community),
            "errors": errors or {},
            "values": values or {},
            "message": message,
            "next_query": next_query,
            "reason_max": REASON_MAX,
            **HELPERS,
        },
        status_code=status_code,
    )


@router.get("/c/{slug}/moderation", name="moderation_queue")
def queue_page(request: Request, db: SessionDep, user: CurrentUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    perms.ensure_can_review(user, communities_service.membership_of(db, community, user))
    return _queue_page(request, db, user, community)


def _resolved_message(kind: str, result: service.Resolution) -> str:
    item = _(service.FLAGGABLE[kind]) if kind in service.FLAGGABLE else kind
    if result.action == service.Action.hide:
        return _("The %(item)s is hidden, with your reason shown in its place.", item=item)
    if result.action == service.Action.lock:
        return _("The proposal is locked: its thread takes no new comments.")
    if result.restored:
        return _("Flags dismissed; the %(item)s is shown again.", item=item)
    return _("Flags dismissed.")


def _queue_action(
    request: Request,
    db: SessionDep,
    user: User,
    community: Community,
    *,
    key: str,
    values: dict[str, str],
    run: Callable[[], str],
) -> Response:
    """Run one of the queue's forms: back to the queue with the outcome, or the queue again
    with the form's errors beside it."""
    try:
        message = run()
    except ValidationFailed as exc:
        request.state.db_rollback = True
        return _queue_page(
            request,
            db,
            user,
            community,
            errors={key: exc.fields},
            values={key: values},
            message=exc.message,
            status_code=422,
        )
    except Conflict as exc:
        request.state.db_rollback = True
        return see_other(request, _queue_url(community), message=exc.message, level="error")
    return see_other(request, _queue_url(community), message=message)


def _reviewer(db: SessionDep, user: User, slug: str) -> Community:
    community = communities_service.get_community(db, slug)
    perms.ensure_can_review(user, communities_service.membership_of(db, community, user))
    return community


@router.post("/c/{slug}/moderation/comments/{comment_id}", name="resolve_comment_flags")
def resolve_comment(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    comment_id: CommentId,
    action: FormStr = "",
    reason: FormStr = "",
) -> Response:
    community = _reviewer(db, user, slug)
    comment = service.get_comment(db, comment_id, viewer=user)
    return _queue_action(
        request,
        db,
        user,
        community,
        key=f"comment-{comment_id}",
        values={"action": action, "reason": reason},
        run=lambda: _resolved_message(
            "comment",
            service.resolve(
                db,
                actor=user,
                community=community,
                comment=comment,
                action=action,
                reason=reason,
                now=utcnow(),
            ),
        ),
    )


@router.post("/c/{slug}/moderation/works/{work_id}", name="resolve_work_flags")
def resolve_work(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    work_id: WorkId,
    action: FormStr = "",
    reason: FormStr = "",
) -> Response:
    community = _reviewer(db, user, slug)
    work = works_service.get_work(db, work_id, community=community)
    return _queue_action(
        request,
        db,
        user,
        community,
        key=f"work-{work_id}",
        values={"action": action, "reason": reason},
        run=lambda: _resolved_message(
            "work",
            service.resolve(
                db,
                actor=user,
                community=community,
                work=work,
                action=action,
                reason=reason,
                now=utcnow(),
            ),
        ),
    )


@router.post("/c/{slug}/moderation/proposals/{proposal_id}", name="resolve_proposal_flags")
def resolve_proposal(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    action: FormStr = "",
    reason: FormStr = "",
) -> Response:
    community = _reviewer(db, user, slug)
    proposal = proposals_service.get_in_community(db, community, proposal_id, viewer=user)
    return _queue_action(
        request,
        db,
        user,
        community,
        key=f"proposal-{proposal_id}",
        values={"action": action, "reason": reason},
        run=lambda: _resolved_message(
            "proposal",
            service.resolve(
                db,
                actor=user,
                community=community,
                proposal=proposal,
                action=action,
                reason=reason,
                now=utcnow(),
            ),
        ),
    )


@router.post("/c/{slug}/moderation/proposals/{proposal_id}/lock", name="moderation_lock")
def lock_thread(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    lock: FormStr = "",
    reason: FormStr = "",
    key: FormStr = "",
) -> Response:
    """Lock or unlock a proposal's thread from the queue (beside a flagged comment in it)."""
    community = _reviewer(db, user, slug)
    proposal = proposals_service.get_in_community(db, community, proposal_id, viewer=user)
    locking = lock == "1"

    def run() -> str:
        proposals_service.set_locked(
            db, actor=user, proposal=proposal, locked=locking, reason=reason, now=utcnow()
        )
        return f"“{proposal.title}” is {'locked' if locking else 'unlocked'}."

    # The form sits in a queue item: its errors show there.
    item = key if ITEM_KEY.match(key) else f"proposal-{proposal_id}"
    return _queue_action(
        request, db, user, community, key=f"lock-{item}", values={"reason": reason}, run=run
    )


@router.post(
    "/c/{slug}/moderation/comments/{comment_id}/restore", name="moderation_restore_comment"
)
def restore_comment(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    comment_id: CommentId,
    reason: FormStr = "",
) -> Response:
    community = _reviewer(db, user, slug)
    comment = service.get_comment(db, comment_id, viewer=user)

    def run() -> str:
        service.restore(
            db, actor=user, community=community, comment=comment, reason=reason, now=utcnow()
        )
        return _("The comment is shown again.")

    return _queue_action(
        request,
        db,
        user,
        community,
        key=f"hidden-comment-{comment_id}",
        values={"reason": reason},
        run=run,
    )


@router.post("/c/{slug}/moderation/works/{work_id}/restore", name="moderation_restore_work")
def restore_work(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    work_id: WorkId,
    reason: FormStr = "",
) -> Response:
    community = _reviewer(db, user, slug)
    work = works_service.get_work(db, work_id, community=community)

    def run() -> str:
        service.restore(db, actor=user, community=community, work=work, reason=reason, now=utcnow())
        return _("The work is shown again.")

    return _queue_action(
        request,
        db,
        user,
        community,
        key=f"hidden-work-{work_id}",
        values={"reason": reason},
        run=run,
    )


@router.post("/c/{slug}/moderation/appeals/{appeal_id}", name="decide_appeal")
def decide_appeal(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    appeal_id: AppealId,
    decision: FormStr = "",
    reason: FormStr = "",
) -> Response:
    community = _reviewer(db, user, slug)
    appeal = appeals_service.get_appeal(db, appeal_id, viewer=user)
    if appeal.community_id != community.id:
        raise NotFound(_("There is no such appeal in this community."))

    def run() -> str:
        appeals_service.decide(
            db, actor=user, appeal=appeal, decision=decision, reason=reason, now=utcnow()
        )
        verdict = "granted" if decision == "grant" else "denied"
        return f"Appeal {verdict}; {appeal.appellant.display_name} is told why."

    return _queue_action(
        request,
        db,
        user,
        community,
        key=f"appeal-{appeal_id}",
        values={"decision": decision, "reason": reason},
        run=run,
    )


# --- Members: records, warnings, suspensions ----------------------------------------------


@router.get("/c/{slug}/moderation/members", name="moderation_find_member")
def find_member(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, username: str = ""
) -> Response:
    """The queue's "look up a member" form: on to their record."""
    community = _reviewer(db, user, slug)
    name = username.strip().lstrip("@").lower()
    try:
        member = accounts_service.get_user(db, name) if name else None
    except NotFound:
        member = None
    if member is None:
        return see_other(
            request,
            _queue_url(community),
            message=_("There is no member by that name."),
            level="error",
        )
    return see_other(request, _member_url(community, member.username))


def _member_page(
    request: Request,
    db: SessionDep,
    user: User,
    community: Community,
    username: str,
    *,
    errors: Errors | None = None,
    values: Errors | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    record = members.member_record(
        db, actor=user, community=community, username=username, now=utcnow()
    )
    return render(
        request,
        "moderation/member.html",
        {
            "community": community,
            "record": record,
            "log_items": log_service.items(db, record.log, public=False),
            "errors": errors or {},
            "values": values or {},
            "message": message,
            "periods": PERIODS,
            "reason_max": REASON_MAX,
            "message_max": members.MESSAGE_MAX,
            **HELPERS,
        },
        status_code=status_code,
    )


@router.get("/c/{slug}/moderation/members/{username}", name="moderation_member")
def member_page(
    request: Request, db: SessionDep, user: CurrentUser, slug: str, username: str
) -> Response:
    community = communities_service.get_community(db, slug)
    return _member_page(request, db, user, community, username)


def _member_action(
    request: Request,
    db: SessionDep,
    user: User,
    community: Community,
    username: str,
    *,
    form: str,
    values: dict[str, str],
    run: Callable[[], str],
) -> Response:
    try:
        message = run()
    except ValidationFailed as exc:
        request.state.db_rollback = True
        return _member_page(
            request,
            db,
            user,
            community,
            username,
            errors={form: exc.fields},
            values={form: values},
            message=exc.message,
            status_code=422,
        )
    except Conflict as exc:
        request.state.db_rollback = True
        return see_other(
            request, _member_url(community, username), message=exc.message, level="error"
        )
    return see_other(request, _member_url(community, username), message=message)


@router.post("/c/{slug}/moderation/members/{username}/warn", name="moderation_warn")
def warn(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    username: str,
    message: FormStr = "",
    reason: FormStr = "",
) -> Response:
    community = communities_service.get_community(db, slug)

    def run() -> str:
        warning = members.warn(
            db,
            actor=user,
            community=community,
            username=username,
            message=message,
            reason=reason,
            now=utcnow(),
        )
        return f"{warning.member.display_name} is warned, and sees it until they acknowledge it."

    return _member_action(
        request,
        db,
        user,
        community,
        username,
        form="warn",
        values={"message": message, "reason": reason},
        run=run,
    )


@router.post("/c/{slug}/moderation/members/{username}/suspend", name="moderation_suspend")
def suspend(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    username: str,
    days: FormStr = "",
    reason: FormStr = "",
) -> Response:
    community = communities_service.get_community(db, slug)

    def run() -> str:
        suspension = members.suspend(
            db,
            actor=user,
            community=community,
            username=username,
            days=_whole_number(days),
            reason=reason,
            now=utcnow(),
        )
        until = suspension.ends_at.strftime("%Y-%m-%d %H:%M UTC")
        return f"{suspension.member.display_name} is suspended until {until}; signed out."

    return _member_action(
        request,
        db,
        user,
        community,
        username,
        form="suspend",
        values={"days": days, "reason": reason},
        run=run,
    )


@router.post("/c/{slug}/moderation/members/{username}/lift", name="moderation_lift")
def lift(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    username: str,
    reason: FormStr = "",
) -> Response:
    community = communities_service.get_community(db, slug)

    def run() -> str:
        suspension = members.lift(
            db, actor=user, community=community, username=username, reason=reason, now=utcnow()
        )
        return f"{suspension.member.display_name}'s suspension is lifted."

    return _member_action(
        request, db, user, community, username, form="lift", values={"reason": reason}, run=run
    )


# --- A member's own record: warnings and appeals ------------------------------------------


def _mine_page(
    request: Request,
    db: SessionDep,
    user: User,
    community: Community,
    *,
    errors: Errors | None = None,
    values: Errors | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    now = utcnow()
    return render(
        request,
        "moderation/mine.html",
        {
            "community": community,
            "record": members.my_record(db, actor=user, community=community, now=now),
            "errors": errors or {},
            "values": values or {},
            "message": message,
            "message_max": appeals_service.MESSAGE_MAX,
            **HELPERS,
        },
        status_code=status_code,
    )


@router.get("/c/{slug}/moderation/mine", name="moderation_mine")
def mine_page(request: Request, db: SessionDep, user: CurrentUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    return _mine_page(request, db, user, community)


@router.post("/c/{slug}/moderation/mine/appeals", name="moderation_appeal")
def create_appeal(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    kind: FormStr = "",
    target: FormStr = "",
    message: FormStr = "",
) -> Response:
    community = communities_service.get_community(db, slug)
    target_id = _whole_number(target)
    key = f"appeal-{kind}-{target_id}"
    try:
        appeals_service.appeal_by_id(
            db,
            actor=user,
            community=community,
            kind=kind,
            target_id=target_id,
            message=message,
            now=utcnow(),
        )
    except ValidationFailed as exc:
        request.state.db_rollback = True
        return _mine_page(
            request,
            db,
            user,
            community,
            errors={key: exc.fields},
            values={key: {"message": message}},
            message=exc.message,
            status_code=422,
        )
    except Conflict as exc:
        request.state.db_rollback = True
        return see_other(request, _mine_url(community), message=exc.message, level="error")
    return see_other(
        request,
        _mine_url(community, f"#{key}"),
        message=_("Your appeal is sent; a moderator will decide, and you will be told."),
    )


@router.post("/warnings/{warning_id}/acknowledge", name="acknowledge_warning")
def acknowledge_warning(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    warning_id: WarningId,
    next: FormStr = "",
) -> Response:
    warning = members.get_warning(db, warning_id, viewer=user)
    members.acknowledge(db, actor=user, warning=warning, now=utcnow())
    return see_other(
        request,
        safe_next(next, _mine_url(warning.community)),
        message=_("Thank you: the warning is acknowledged."),
    )


# --- The public log -----------------------------------------------------------------------


@router.get("/c/{slug}/moderation-log", name="moderation_log")
def log_page(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, action: str = ""
) -> Response:
    community = communities_service.get_community(db, slug)
    cursor = request.query_params.get("cursor")
    try:
        view = log_service.public_page(db, community, cursor=cursor, action=action)
        problem = None
    except ValidationFailed as exc:
        # A mangled cursor or filter: the first page of everything, and why.
        view = log_service.public_page(db, community)
        problem, action = refusal_message(exc), ""
    next_query = None
    if view.next_cursor:
        next_query = request.url.include_query_params(cursor=view.next_cursor).query
    return render(
        request,
        "moderation/log.html",
        {
            "community": community,
            "view": view,
            "action": action,
            "actions": list(LogAction),
            "problem": problem,
            "next_query": next_query,
            "can_moderate": perms.can_review(
                user, communities_service.membership_of(db, community, user)
            ),
            **HELPERS,
        },
    )
