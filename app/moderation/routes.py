"""HTML pages of moderation: members flag comments and works; the moderators' queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Community
from app.db import utcnow
from app.discussion import service as discussion_service
from app.errors import Conflict, DomainError, ValidationFailed
from app.moderation import permissions as perms
from app.moderation import service
from app.moderation.api import comment_path, work_path
from app.moderation.schemas import CommentId
from app.proposals import service as proposals_service
from app.proposals.schemas import ProposalId
from app.text import REASON_MAX
from app.web.deps import CurrentUser, SessionDep
from app.web.responses import after_action, see_other
from app.web.templating import render
from app.works import service as works_service
from app.works.schemas import WorkId

router = APIRouter(tags=["moderation"])

FormStr = Annotated[str, Form()]
FLAGGED = "Thanks — moderators will review it."


def _queue_url(community: Community) -> str:
    return f"/c/{community.slug}/moderation"


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
        FLAGGED,
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
    back = work_path(community.slug, work.id)
    return after_action(
        request,
        back,
        lambda: service.flag_work(db, actor=user, work=work, reason=reason, now=utcnow()),
        FLAGGED,
        refusals=(DomainError,),
    )


def _queue_page(
    request: Request,
    db: SessionDep,
    user: User,
    community: Community,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict[str, str]] | None = None,
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
    return render(
        request,
        "moderation/queue.html",
        {
            "community": community,
            "queue": queue,
            "errors": errors or {},
            "values": values or {},
            "message": message,
            "next_query": next_query,
            "comment_path": comment_path,
            "work_path": work_path,
            "reason_max": REASON_MAX,
        },
        status_code=status_code,
    )


@router.get("/c/{slug}/moderation", name="moderation_queue")
def queue_page(request: Request, db: SessionDep, user: CurrentUser, slug: str) -> Response:
    community = communities_service.get_community(db, slug)
    perms.ensure_can_review(user, communities_service.membership_of(db, community, user))
    return _queue_page(request, db, user, community)


def _resolved_message(kind: str, result: service.Resolution) -> str:
    if result.action == service.Action.hide:
        return f"The {kind} is hidden, with your reason shown in its place."
    if result.restored:
        return f"Flags dismissed; the {kind} is shown again."
    return "Flags dismissed."


def _resolve(
    request: Request,
    db: SessionDep,
    user: User,
    community: Community,
    *,
    key: str,
    kind: str,
    action: str,
    reason: str,
    run: object,
) -> Response:
    try:
        result: service.Resolution = run()  # type: ignore[operator]
    except ValidationFailed as exc:
        request.state.db_rollback = True
        return _queue_page(
            request,
            db,
            user,
            community,
            errors={key: exc.fields},
            values={key: {"action": action, "reason": reason}},
            message=exc.message,
            status_code=422,
        )
    except Conflict as exc:
        request.state.db_rollback = True
        return see_other(request, _queue_url(community), message=exc.message, level="error")
    return see_other(request, _queue_url(community), message=_resolved_message(kind, result))


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
    community = communities_service.get_community(db, slug)
    perms.ensure_can_review(user, communities_service.membership_of(db, community, user))
    comment = service.get_comment(db, comment_id, viewer=user)
    return _resolve(
        request,
        db,
        user,
        community,
        key=f"comment-{comment_id}",
        kind="comment",
        action=action,
        reason=reason,
        run=lambda: service.resolve(
            db,
            actor=user,
            community=community,
            comment=comment,
            action=action,
            reason=reason,
            now=utcnow(),
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
    community = communities_service.get_community(db, slug)
    perms.ensure_can_review(user, communities_service.membership_of(db, community, user))
    work = works_service.get_work(db, work_id, community=community)
    return _resolve(
        request,
        db,
        user,
        community,
        key=f"work-{work_id}",
        kind="work",
        action=action,
        reason=reason,
        run=lambda: service.resolve(
            db,
            actor=user,
            community=community,
            work=work,
            action=action,
            reason=reason,
            now=utcnow(),
        ),
    )
