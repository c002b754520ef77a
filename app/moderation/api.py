"""JSON API of moderation: members flag comments and works; moderators work through the queue."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.communities import service as communities_service
from app.communities.models import Community
from app.db import utcnow
from app.errors import ValidationFailed
from app.moderation import service
from app.moderation.models import Flag
from app.moderation.schemas import (
    CommentId,
    FlagCreate,
    FlagEntry,
    FlaggedItem,
    FlagOut,
    FlagQueue,
    ItemState,
    ResolutionOut,
    ResolveIn,
)
from app.web.api import COMMON_ERRORS, Cursor, Limit, error_responses
from app.web.deps import CurrentUser, SessionDep
from app.works import service as works_service
from app.works.schemas import WorkId

router = APIRouter(tags=["moderation"], responses=COMMON_ERRORS)
FLAG_ERRORS = error_responses(404, 409)
TITLE_LENGTH = 80


def comment_path(slug: str, proposal_id: int, comment_id: int) -> str:
    return f"/c/{slug}/proposals/{proposal_id}/comments/{comment_id}"


def work_path(slug: str, work_id: int) -> str:
    return f"/c/{slug}/works/{work_id}"


def _state(value: str) -> ItemState:
    assert value in ("visible", "pending_review", "removed", "deleted")
    return value  # type: ignore[return-value]


def _flag_out(flag: Flag, slug: str, state: str) -> FlagOut:
    return FlagOut(
        id=flag.id,
        community=slug,
        comment=flag.comment_id,
        work=flag.work_id,
        reason=flag.reason,
        created_at=flag.created_at,
        item_state=_state(state),
    )


@router.post(
    "/comments/{comment_id}/flags",
    response_model=FlagOut,
    status_code=201,
    summary="Flag a comment for the moderators (members; once per comment)",
    description=(
        "Members of the comment's community flag a comment that breaks the rules, with a "
        "reason. Not your own comment. When the community's `flag_hide_threshold` of "
        "different members have open flags on it, it is hidden pending review. "
        "409 when you already flagged it or a moderator already hid it; at most 20 flags "
        "an hour (429)."
    ),
    responses=FLAG_ERRORS,
)
def flag_comment(
    request: Request, db: SessionDep, user: CurrentUser, comment_id: CommentId, body: FlagCreate
) -> FlagOut:
    comment = service.get_comment(db, comment_id, viewer=user)
    flag = service.flag_comment(db, actor=user, comment=comment, reason=body.reason, now=utcnow())
    community = db.get(Community, flag.community_id)
    assert community is not None
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
def flag_work(
    request: Request, db: SessionDep, user: CurrentUser, work_id: WorkId, body: FlagCreate
) -> FlagOut:
    work = works_service.get_work(db, work_id)
    flag = service.flag_work(db, actor=user, work=work, reason=body.reason, now=utcnow())
    return _flag_out(flag, work.community.slug, service.item_state(work))


def _item_out(slug: str, item: service.QueueItem) -> FlaggedItem:
    if item.comment is not None:
        assert item.proposal is not None
        comment = item.comment
        body = " ".join(comment.body.split())
        title = body if len(body) <= TITLE_LENGTH else body[: TITLE_LENGTH - 1] + "…"
        path = comment_path(slug, item.proposal.id, comment.id)
        text = comment.body
        author = comment.author.username if comment.author else None
        state = service.item_state(comment)
    else:
        assert item.work is not None
        work = item.work
        title, text, path = work.title, work.url, work_path(slug, work.id)
        author = work.created_by.username if work.created_by else None
        state = service.item_state(work)
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
        flag_count=item.count,
        first_flagged_at=item.first_flagged_at,
        flags=[
            FlagEntry(
                id=f.id,
                flagger=f.flagger.username if f.flagger else None,
                reason=f.reason,
                created_at=f.created_at,
            )
            for f in item.flags
        ],
    )


@router.get(
    "/communities/{slug}/flags",
    response_model=FlagQueue,
    summary="The moderators' queue: items with open flags, oldest first (moderators)",
    description=(
        "One entry per flagged comment or work, with its open flags (who, why, when), their "
        "count, and the item's state (`pending_review` when flags hid it). Ordered by each "
        "item's oldest open flag; paged with `limit` (at most 100) and `cursor`."
    ),
    responses=error_responses(404),
)
def list_flags(
    db: SessionDep, user: CurrentUser, slug: str, limit: Limit = 100, cursor: Cursor = None
) -> FlagQueue:
    community = communities_service.get_community(db, slug)
    page = service.queue(db, actor=user, community=community, limit=limit, cursor=cursor)
    return FlagQueue(items=[_item_out(slug, i) for i in page.items], next_cursor=page.next_cursor)


@router.post(
    "/communities/{slug}/flags/resolve",
    response_model=ResolutionOut,
    summary="Resolve the open flags on one comment or work: hide it, or dismiss them (moderators)",
    description=(
        "Name exactly one of `comment` and `work` (of this community). `hide` needs a public "
        "`reason`. 409 when the item has no open flags (another moderator resolved them)."
    ),
    responses=FLAG_ERRORS,
)
def resolve(db: SessionDep, user: CurrentUser, slug: str, body: ResolveIn) -> ResolutionOut:
    community = communities_service.get_community(db, slug)
    if (body.comment is None) == (body.work is None):
        problem = "Name exactly one of comment and work."
        raise ValidationFailed(problem, fields={"comment": problem, "work": problem})
    if body.comment is not None:
        comment = service.get_comment(db, body.comment, viewer=user)
        result = service.resolve(
            db,
            actor=user,
            community=community,
            comment=comment,
            action=body.action,
            reason=body.reason,
            now=utcnow(),
        )
        state = service.item_state(comment)
    else:
        assert body.work is not None
        work = works_service.get_work(db, body.work)
        result = service.resolve(
            db,
            actor=user,
            community=community,
            work=work,
            action=body.action,
            reason=body.reason,
            now=utcnow(),
        )
        state = service.item_state(work)
    return ResolutionOut(
        action=result.action.value,
        resolved=result.resolved,
        restored=result.restored,
        state=_state(state),
    )
