"""JSON API of discussion: a proposal's thread, comments, replies, edits, versions, moderation.

Replies come nested under the comments a page shows, a few per comment. A comment with more
direct replies than shown carries `more_replies` and a `replies_cursor`: pass the cursor to
`GET /comments/{id}/replies?cursor=` for the next ones (again with a cursor while more remain).
A comment with replies deeper than the page indents has `continues`: `GET /comments/{id}`
answers it with its own subtree.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session
from starlette.responses import Response

from app import idempotency, paging
from app.accounts.models import User
from app.communities import service as communities_service
from app.db import utcnow
from app.discussion import anchors, service, thread
from app.discussion import permissions as perms
from app.discussion.models import Comment, CommentAnchor
from app.discussion.schemas import (
    AnchorIn,
    AnchorOut,
    CommentCreate,
    CommentId,
    CommentList,
    CommentOut,
    CommentState,
    CommentUpdate,
    HideBody,
    RepliesOut,
    ThreadProposalId,
    VersionList,
    VersionOut,
)
from app.discussion.service import MAX_ID
from app.errors import ValidationFailed
from app.i18n import gettext
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.web import idempotency as keys
from app.web.api import COMMON_ERRORS, Cursor, Limit, error_responses
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.idempotency import KeyHeader

router = APIRouter(tags=["discussion"], responses=COMMON_ERRORS)
NOT_FOUND = error_responses(404)
CHANGES = error_responses(404, 409)
RepliesCursor = Annotated[
    str | None,
    Query(
        description="The `replies_cursor` of the comment, or of the previous answer.",
        max_length=200,
    ),
]
WorkFilter = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Only comments anchored to this work.")
]


class Viewer:
    """Who reads, and whether they moderate the thread's community (they see hidden text)."""

    def __init__(self, db: Session, user: User | None, proposal: Proposal) -> None:
        membership = communities_service.membership_of(db, proposal.community, user)
        self.moderates = perms.can_moderate(user, membership)

    def can_read(self, comment: Comment) -> bool:
        return comment.is_visible or (self.moderates and not comment.is_deleted)


def _state(comment: Comment) -> CommentState:
    return "deleted" if comment.is_deleted else comment.hidden_state


def anchor_out(anchor: CommentAnchor) -> AnchorOut:
    return AnchorOut(
        work=anchor.work_id,
        kind=anchor.kind,
        start=anchor.start,
        end=anchor.end,
        exact=anchor.exact,
        prefix=anchor.prefix,
        suffix=anchor.suffix,
        x=anchor.x,
        y=anchor.y,
        w=anchor.w,
        h=anchor.h,
        label=anchors.label(anchor),
        fragment_url=anchors.fragment_url(anchor),
    )


def _replies_cursor(node: thread.Node, shown_before: int = 0) -> str | None:
    if node.more <= 0:
        return None
    return paging.encode(node.last_child_id, shown_before + node.shown, node.level)


def comment_out(viewer: Viewer, node: thread.Node, shown_before: int = 0) -> CommentOut:
    comment = node.comment
    readable = viewer.can_read(comment)
    return CommentOut(
        id=comment.id,
        proposal=comment.proposal_id,
        parent=comment.parent_id,
        depth=comment.depth,
        author=comment.author.username if readable and comment.author else None,
        alignment=comment.alignment,
        body=comment.body if readable else None,
        body_html=comment.body_html if readable else None,
        language=comment.language,
        state=_state(comment),
        removed_reason=comment.hidden_reason if comment.is_removed else None,
        created_at=comment.created_at,
        edited_at=comment.edited_at,
        edit_count=comment.edit_count,
        reply_count=comment.reply_count,
        anchor=anchor_out(node.anchor) if readable and node.anchor else None,
        replies=[comment_out(viewer, child) for child in node.children],
        more_replies=node.more,
        replies_cursor=_replies_cursor(node, shown_before),
        continues=node.continues,
    )


def _anchor_input(raw: AnchorIn | None) -> anchors.AnchorInput | None:
    if raw is None:
        return None
    return anchors.AnchorInput(
        work=raw.work,
        kind=raw.kind,
        start=raw.start,
        end=raw.end,
        exact=raw.exact,
        prefix=raw.prefix,
        suffix=raw.suffix,
        x=raw.x,
        y=raw.y,
        w=raw.w,
        h=raw.h,
    )


def _load(db: Session, user: User | None, comment_id: int) -> tuple[Comment, Proposal]:
    comment = service.get_comment(db, comment_id, viewer=user)
    proposal = db.get(Proposal, comment.proposal_id)
    assert proposal is not None
    return comment, proposal


def _decode_replies_cursor(cursor: str | None) -> tuple[int, int, int]:
    values = paging.decode(cursor, size=3)
    if values is None:
        return 0, 0, 0
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_ID for v in values):
        raise ValidationFailed(
            gettext("The cursor is not valid."),
            fields={"cursor": gettext("Use the replies_cursor of the comment.")},
        )
    after, shown, level = values
    return after, shown, level


@router.get(
    "/proposals/{proposal_id}/comments",
    response_model=CommentList,
    summary="A proposal's thread: top-level comments, oldest first, with replies nested",
    description=(
        "A page holds `limit` top-level comments (or, with `work`, the comments anchored to "
        "that work, at any depth), each with a few of its replies nested a few levels deep. "
        "Follow `replies_cursor` and `continues` on a comment for the rest. A draft's thread "
        "is visible to its authors only."
    ),
    responses=NOT_FOUND,
)
def list_comments(
    db: SessionDep,
    user: OptionalUser,
    proposal_id: ThreadProposalId,
    limit: Limit = thread.PAGE_SIZE,
    cursor: Cursor = None,
    work: WorkFilter = None,
) -> CommentList:
    proposal = proposals_service.get_proposal(db, proposal_id, viewer=user)
    page = thread.thread_page(db, proposal, cursor=cursor, limit=limit, work_id=work)
    viewer = Viewer(db, user, proposal)
    return CommentList(
        items=[comment_out(viewer, node) for node in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/proposals/{proposal_id}/comments",
    response_model=CommentOut,
    status_code=201,
    summary="Comment on a proposal, or reply to a comment (members)",
    description=(
        "`parent` makes it a reply; only top-level comments take an `alignment` (supports, "
        "opposes, neutral — the default — or question). `anchor` points into a work exhibited "
        "on the proposal; its problems come back as fields `anchor.start`, `anchor.exact`, "
        "and so on. 409 when the thread is closed (draft, locked, decided) or the comment "
        "replied to is deleted or hidden. At most 10 comments a minute per member (429, with "
        "`Retry-After`). With an `Idempotency-Key`, a retry after a lost answer posts nothing "
        "new and gets the first answer again."
    ),
    responses=CHANGES,
)
def create_comment(
    db: SessionDep,
    user: CurrentUser,
    proposal_id: ThreadProposalId,
    body: CommentCreate,
    idempotency_key: KeyHeader = None,
) -> CommentOut | Response:
    proposal = proposals_service.get_proposal(db, proposal_id, viewer=user)
    draft = service.CommentDraft(
        body=body.body,
        parent=body.parent,
        alignment=body.alignment,
        anchor=_anchor_input(body.anchor),
        language=body.language or None,
    )
    now = utcnow()
    payload = {"proposal": proposal.id, **body.model_dump(mode="json")}
    with idempotency.attempt(
        db, user_id=user.id, key=idempotency_key, action="api:comment", payload=payload, now=now
    ) as attempt:
        if attempt.replay is not None:
            return keys.replay(attempt.replay)
        comment = service.post_comment(db, actor=user, proposal=proposal, draft=draft, now=now)
        answer = comment_out(Viewer(db, user, proposal), thread.single(db, comment))
        attempt.record(
            result_id=comment.id, status_code=201, response=answer.model_dump(mode="json")
        )
    return answer


@router.get(
    "/comments/{comment_id}",
    response_model=CommentOut,
    summary='One comment with its replies nested ("continue this thread")',
    responses=NOT_FOUND,
)
def get_comment(db: SessionDep, user: OptionalUser, comment_id: CommentId) -> CommentOut:
    comment, proposal = _load(db, user, comment_id)
    return comment_out(Viewer(db, user, proposal), thread.subtree(db, comment))


@router.get(
    "/comments/{comment_id}/replies",
    response_model=RepliesOut,
    summary="The next direct replies of a comment, each with its own replies nested",
    description=(
        "Without `cursor`, the first replies. With the `replies_cursor` a comment carried "
        "(in a thread page, a subtree or a previous answer of this endpoint), the replies "
        "after the ones already shown; `replies_cursor` in the answer leads on while "
        "`more_replies` is above 0."
    ),
    responses=NOT_FOUND,
)
def list_replies(
    db: SessionDep, user: OptionalUser, comment_id: CommentId, cursor: RepliesCursor = None
) -> RepliesOut:
    comment, proposal = _load(db, user, comment_id)
    after, shown, level = _decode_replies_cursor(cursor)
    node = thread.more_replies(db, comment, after=after, shown=shown, level=level)
    out = comment_out(Viewer(db, user, proposal), node, shown_before=shown)
    return RepliesOut(
        items=out.replies, more_replies=out.more_replies, replies_cursor=out.replies_cursor
    )


@router.patch(
    "/comments/{comment_id}",
    response_model=CommentOut,
    summary="Edit a comment's text or stance (its author)",
    description=(
        "A changed `body` keeps the earlier text as a version (`GET .../versions`) and marks "
        "the comment edited. `alignment` only for top-level comments. 409 when the comment "
        "was deleted or removed."
    ),
    responses=CHANGES,
)
def update_comment(
    db: SessionDep, user: CurrentUser, comment_id: CommentId, body: CommentUpdate
) -> CommentOut:
    comment, proposal = _load(db, user, comment_id)
    service.edit_comment(
        db,
        actor=user,
        comment=comment,
        body=body.body,
        alignment=body.alignment,
        language=body.language or None,
        now=utcnow(),
    )
    return comment_out(Viewer(db, user, proposal), thread.single(db, comment))


@router.delete(
    "/comments/{comment_id}",
    status_code=204,
    summary="Delete a comment (its author); replies to it stay",
    responses=CHANGES,
)
def delete_comment(db: SessionDep, user: CurrentUser, comment_id: CommentId) -> Response:
    comment, _ = _load(db, user, comment_id)
    service.delete_comment(db, actor=user, comment=comment, now=utcnow())
    return Response(status_code=204)


@router.get(
    "/comments/{comment_id}/versions",
    response_model=VersionList,
    summary="Earlier texts of an edited comment, oldest first",
    description=(
        "The current text is on the comment itself. Empty for a deleted comment, and for a "
        "hidden one unless you moderate its community."
    ),
    responses=NOT_FOUND,
)
def list_versions(db: SessionDep, user: OptionalUser, comment_id: CommentId) -> VersionList:
    comment, proposal = _load(db, user, comment_id)
    if not Viewer(db, user, proposal).can_read(comment):
        return VersionList(items=[])
    return VersionList(
        items=[
            VersionOut(number=v.number, body=v.body, written_at=v.written_at)
            for v in service.versions(db, comment)
        ]
    )


@router.post(
    "/comments/{comment_id}/hide",
    response_model=CommentOut,
    summary="Remove a comment from view, with a public reason (moderators)",
    responses=NOT_FOUND,
)
def hide_comment(
    db: SessionDep, user: CurrentUser, comment_id: CommentId, body: HideBody
) -> CommentOut:
    comment, proposal = _load(db, user, comment_id)
    service.hide_comment(db, actor=user, comment=comment, reason=body.reason, now=utcnow())
    return comment_out(Viewer(db, user, proposal), thread.single(db, comment))


@router.post(
    "/comments/{comment_id}/restore",
    response_model=CommentOut,
    summary="Put a hidden comment back in view (moderators)",
    responses=NOT_FOUND,
)
def restore_comment(db: SessionDep, user: CurrentUser, comment_id: CommentId) -> CommentOut:
    comment, proposal = _load(db, user, comment_id)
    service.restore_comment(db, actor=user, comment=comment)
    return comment_out(Viewer(db, user, proposal), thread.single(db, comment))
