"""HTML pages of a proposal's discussion: posting and replying (in place with htmx), a
comment's own page, editing and its history, deletion, moderator hiding, anchor views, and
the live stream of new comments (server-sent events).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Form, Request
from pydantic import BaseModel
from starlette.responses import Response, StreamingResponse

from app import events, idempotency
from app.accounts.models import User
from app.communities import service as communities_service
from app.db import utcnow
from app.discussion import anchors, service, thread
from app.discussion import permissions as perms
from app.discussion.models import Alignment, Comment
from app.discussion.views import viewer_context
from app.errors import Conflict, RateLimited, ValidationFailed
from app.i18n import gettext as _
from app.proposals import exhibits as exhibits_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal
from app.proposals.routes import proposal_page_response
from app.proposals.schemas import ProposalId
from app.web import idempotency as keys
from app.web.deps import CurrentUser, OptionalUser, SessionDep
from app.web.responses import after_action, see_other
from app.web.templating import is_htmx, render, render_string
from app.works import service as works_service
from app.works.models import Work

router = APIRouter(tags=["discussion"])
FORM_ID = re.compile(r"comment-form-[a-z0-9-]{1,40}")

FormStr = Annotated[str, Form()]
CommentId = ProposalId


def _proposal_url(proposal: Proposal, suffix: str = "") -> str:
    return f"/c/{proposal.community.slug}/proposals/{proposal.id}{suffix}"


def comment_url(proposal: Proposal, comment: Comment, suffix: str = "") -> str:
    return _proposal_url(proposal, f"/comments/{comment.id}{suffix}")


def _int_param(raw: str | None, default: int = 0) -> int:
    """A whole number from a query string; anything else is the default."""
    text = (raw or "").strip()
    if text.isascii() and text.isdigit() and int(text) <= service.MAX_ID:
        return int(text)
    return default


class CommentForm(BaseModel):
    """What the comment and reply forms post; a field left out is an empty field."""

    body: str = ""
    parent: str = ""
    alignment: str = ""
    anchor_work: str = ""
    anchor_kind: str = ""
    anchor_start: str = ""
    anchor_end: str = ""
    anchor_exact: str = ""
    anchor_x: str = ""
    anchor_y: str = ""
    anchor_w: str = ""
    anchor_h: str = ""
    language: str = ""
    idempotency_key: str = ""

    def request(self) -> dict[str, str]:
        """What the form asks for, without the key that names the request."""
        return self.model_dump(exclude={"idempotency_key"})

    def parent_id(self) -> int | None:
        if not self.parent.strip():
            return None
        return _int_param(self.parent, default=-1)

    def anchor(self) -> anchors.AnchorInput | None:
        if not self.anchor_work.strip():
            return None
        return anchors.AnchorInput(
            work=_int_param(self.anchor_work, default=-1),
            kind=self.anchor_kind,
            start=anchors.parse_time(self.anchor_start) if self.anchor_start.strip() else None,
            end=anchors.parse_time(self.anchor_end) if self.anchor_end.strip() else None,
            exact=self.anchor_exact,
            x=_percent(self.anchor_x),
            y=_percent(self.anchor_y),
            w=_percent(self.anchor_w),
            h=_percent(self.anchor_h),
        )

    def draft(self) -> service.CommentDraft:
        return service.CommentDraft(
            body=self.body,
            parent=self.parent_id(),
            alignment=self.alignment or None,
            anchor=self.anchor(),
            language=self.language or None,
        )

    def time_problems(self) -> dict[str, str]:
        """Times typed in a shape that is not a time at all (the service checks the rest)."""
        problems = {}
        for name in ("start", "end"):
            raw = getattr(self, f"anchor_{name}")
            if raw.strip() and anchors.parse_time(raw) is None:
                problems[f"anchor.{name}"] = _("Write a time like 1:23 or 83.5 (seconds).")
        return problems


def _percent(raw: str) -> float | None:
    text = raw.strip().rstrip("%")
    if not text:
        return None
    try:
        value = float(text) if text.isascii() else math.nan
    except ValueError:
        return math.nan
    return value


CommentFormDep = Annotated[CommentForm, Form()]


def _form_errors(fields: dict[str, str]) -> dict[str, str]:
    """Service field names (`anchor.start`) as the form names them (`anchor_start`)."""
    return {name.replace(".", "_"): text for name, text in fields.items()}


def _load(db: SessionDep, user: User | None, slug: str, proposal_id: int) -> Proposal:
    community = communities_service.get_community(db, slug)
    return proposals_service.get_in_community(db, community, proposal_id, viewer=user)


def _load_comment(
    db: SessionDep, user: User | None, slug: str, proposal_id: int, comment_id: int
) -> tuple[Proposal, Comment]:
    proposal = _load(db, user, slug, proposal_id)
    return proposal, service.get_in_proposal(db, proposal, comment_id, viewer=user)


@router.post("/c/{slug}/proposals/{proposal_id}/comments", name="post_comment")
def post_comment(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    form: CommentFormDep,
) -> Response:
    proposal = _load(db, user, slug, proposal_id)
    parent_id = form.parent_id()
    now = utcnow()
    # The form's key: a second submit of the same form (a lost answer, a double click)
    # answers as the first did and posts nothing new.
    with idempotency.attempt(
        db,
        user_id=user.id,
        key=keys.form_key(form.idempotency_key),
        action="form:comment",
        payload={"proposal": proposal.id, **form.request()},
        now=now,
    ) as attempt:
        if attempt.replay is not None:
            posted = db.get(Comment, attempt.replay.result_id or 0)
            if posted is None:
                return see_other(request, _proposal_url(proposal), message=_("Comment posted."))
            return _posted(request, db, proposal, user, posted)
        try:
            problems = form.time_problems()
            if problems:
                raise ValidationFailed(_("Please correct the marked fields."), fields=problems)
            comment = service.post_comment(
                db, actor=user, proposal=proposal, draft=form.draft(), now=now
            )
        except (ValidationFailed, RateLimited, Conflict) as exc:
            fields = exc.fields if isinstance(exc, ValidationFailed) else {}
            status = (
                429 if isinstance(exc, RateLimited) else 409 if isinstance(exc, Conflict) else 422
            )
            return _comment_form_failed(
                request, db, proposal, user, form, parent_id, fields, exc.message, status, exc
            )
        attempt.record(result_id=comment.id, status_code=201 if is_htmx(request) else 303)
        return _posted(request, db, proposal, user, comment)


def _posted(
    request: Request, db: SessionDep, proposal: Proposal, user: User, comment: Comment
) -> Response:
    """The answer to a posted comment: in place for htmx, else back to the thread."""
    if is_htmx(request):
        level = _int_param(request.query_params.get("level"))
        node = thread.single(db, comment, level=level)
        context = {**viewer_context(db, proposal, user), "node": node}
        return render(request, "discussion/fragments/comment.html", context, status_code=201)
    return see_other(
        request, _proposal_url(proposal, f"#comment-{comment.id}"), message=_("Comment posted.")
    )


def _form_id(request: Request, parent: Comment | None) -> str:
    """The id of the form that posted (htmx names it), so its errors replace that form."""
    trigger = request.headers.get("hx-trigger", "")
    if FORM_ID.fullmatch(trigger):
        return trigger
    return f"comment-form-{parent.id if parent else 'new'}"


def _comment_form_failed(
    request: Request,
    db: SessionDep,
    proposal: Proposal,
    user: User,
    form: CommentForm,
    parent_id: int | None,
    fields: dict[str, str],
    message: str,
    status: int,
    exc: Exception,
) -> Response:
    """Show the form again with what was typed, the problems beside the fields."""
    values = form.model_dump()
    errors = _form_errors(fields)
    parent = db.get(Comment, parent_id) if parent_id and 0 < parent_id <= service.MAX_ID else None
    if parent is not None and parent.proposal_id != proposal.id:
        parent = None
    if is_htmx(request):
        form_id = _form_id(request, parent)
        context = {
            "place": "-page" if form_id.endswith("-page") else "",
            **viewer_context(db, proposal, user),
            "values": values,
            "errors": errors,
            "message": message,
            "parent": parent,
            "level": _int_param(request.query_params.get("level")),
            "works": [] if parent else [e.work for e in exhibits_service.exhibits(db, proposal)],
            "alignments": list(Alignment),
        }
        # 422 whatever the cause but a rate limit (429), both of which htmx swaps in: the form
        # replaces itself with its errors, whatever the target of success was.
        limited = 429 if isinstance(exc, RateLimited) else 422
        response: Response = render(
            request, "discussion/fragments/form.html", context, status_code=limited
        )
        response.headers["HX-Retarget"] = "#" + form_id
        response.headers["HX-Reswap"] = "outerHTML"
    elif parent is not None:
        response = _comment_page(
            request,
            db,
            proposal,
            parent,
            user,
            status_code=status,
            reply_values=values,
            reply_errors=errors,
            reply_message=message,
        )
    else:
        response = proposal_page_response(
            request,
            db,
            proposal,
            user,
            status_code=status,
            comment_values=values,
            comment_errors=errors,
            comment_message=message,
        )
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _comment_page(
    request: Request,
    db: SessionDep,
    proposal: Proposal,
    comment: Comment,
    user: User | None,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    after = _int_param(request.query_params.get("after"))
    shown = _int_param(request.query_params.get("shown"))
    level = _int_param(request.query_params.get("level"))
    context = viewer_context(db, proposal, user)
    # The next "load more replies" link counts the replies shown before this batch too.
    context["replies_shown_before"] = {comment.id: shown} if after else {}
    if after and is_htmx(request):
        # "Load more replies": the next replies alone, to go where the button was.
        node = thread.more_replies(db, comment, after=after, shown=shown, level=level)
        return render(request, "discussion/fragments/replies.html", {**context, "node": node})
    node = (
        thread.more_replies(db, comment, after=after, shown=shown, level=0)
        if after
        else thread.subtree(db, comment)
    )
    parent = db.get(Comment, comment.parent_id) if comment.parent_id else None
    return render(
        request,
        "discussion/comment.html",
        {
            **context,
            "node": node,
            "parent": parent,
            "works": [e.work for e in exhibits_service.exhibits(db, proposal)],
            "alignments": list(Alignment),
            "reply_values": extra.get("reply_values", {}),
            "reply_errors": extra.get("reply_errors", {}),
            "reply_message": extra.get("reply_message"),
        },
        status_code=status_code,
    )


@router.get("/c/{slug}/proposals/{proposal_id}/comments/{comment_id}", name="comment")
def comment_page(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    proposal_id: ProposalId,
    comment_id: CommentId,
) -> Response:
    proposal, comment = _load_comment(db, user, slug, proposal_id, comment_id)
    return _comment_page(request, db, proposal, comment, user)


@router.get("/c/{slug}/proposals/{proposal_id}/comments/{comment_id}/reply", name="reply_form")
def reply_form(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    comment_id: CommentId,
) -> Response:
    """The form of a comment's reply box, fetched by htmx when the box is opened: a thread
    page carries no reply forms, so a member's page costs what a visitor's does. Without
    htmx, the form at the foot of the comment's own page."""
    proposal, comment = _load_comment(db, user, slug, proposal_id, comment_id)
    service.ensure_can_reply(db, actor=user, proposal=proposal, parent=comment, now=utcnow())
    if not is_htmx(request):
        return see_other(
            request, comment_url(proposal, comment, f"#comment-form-{comment.id}-page")
        )
    context = {
        **viewer_context(db, proposal, user),
        "values": {},
        "errors": {},
        "message": None,
        "parent": comment,
        "level": _int_param(request.query_params.get("level")),
        "works": [],
        "place": "",
    }
    return render(request, "discussion/fragments/form.html", context)


@router.get("/c/{slug}/proposals/{proposal_id}/comments/{comment_id}/edit", name="edit_comment")
def edit_form(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    comment_id: CommentId,
) -> Response:
    proposal, comment = _load_comment(db, user, slug, proposal_id, comment_id)
    perms.ensure_can_edit(user, comment)
    values = {
        "body": comment.body,
        "alignment": comment.alignment or "",
        "language": comment.language or "",
    }
    return _edit_page(request, db, proposal, comment, values, {}, None)


def _edit_page(
    request: Request,
    db: SessionDep,
    proposal: Proposal,
    comment: Comment,
    values: dict[str, str],
    errors: dict[str, str],
    message: str | None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "discussion/edit.html",
        {
            "community": proposal.community,
            "proposal": proposal,
            "comment": comment,
            "values": values,
            "errors": errors,
            "message": message,
            "alignments": list(Alignment),
        },
        status_code=status_code,
    )


@router.post("/c/{slug}/proposals/{proposal_id}/comments/{comment_id}/edit")
def edit(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    comment_id: CommentId,
    body: FormStr = "",
    alignment: FormStr = "",
    language: FormStr = "",
) -> Response:
    proposal, comment = _load_comment(db, user, slug, proposal_id, comment_id)
    try:
        service.edit_comment(
            db,
            actor=user,
            comment=comment,
            body=body,
            alignment=alignment if comment.parent_id is None and alignment else None,
            language=language or None,
            now=utcnow(),
        )
    except ValidationFailed as exc:
        values = {"body": body, "alignment": alignment, "language": language}
        return _edit_page(
            request, db, proposal, comment, values, exc.fields, exc.message, status_code=422
        )
    return see_other(
        request, _proposal_url(proposal, f"#comment-{comment.id}"), message=_("Comment updated.")
    )


@router.get(
    "/c/{slug}/proposals/{proposal_id}/comments/{comment_id}/history", name="comment_history"
)
def history(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    proposal_id: ProposalId,
    comment_id: CommentId,
) -> Response:
    proposal, comment = _load_comment(db, user, slug, proposal_id, comment_id)
    membership = communities_service.membership_of(db, proposal.community, user)
    # What was removed or deleted stays out of view in its history too (moderators excepted).
    readable = comment.is_visible or perms.can_moderate(user, membership)
    return render(
        request,
        "discussion/history.html",
        {
            "community": proposal.community,
            "proposal": proposal,
            "comment": comment,
            "versions": service.versions(db, comment) if readable else [],
            "readable": readable,
        },
    )


@router.post(
    "/c/{slug}/proposals/{proposal_id}/comments/{comment_id}/delete", name="delete_comment"
)
def delete(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    comment_id: CommentId,
) -> Response:
    proposal, comment = _load_comment(db, user, slug, proposal_id, comment_id)
    return after_action(
        request,
        _proposal_url(proposal, f"#comment-{comment.id}"),
        lambda: service.delete_comment(db, actor=user, comment=comment, now=utcnow()),
        _("Comment deleted. Replies to it stay in the thread."),
    )


@router.post("/c/{slug}/proposals/{proposal_id}/comments/{comment_id}/hide", name="hide_comment")
def hide(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    comment_id: CommentId,
    reason: FormStr = "",
) -> Response:
    proposal, comment = _load_comment(db, user, slug, proposal_id, comment_id)
    return after_action(
        request,
        _proposal_url(proposal, f"#comment-{comment.id}"),
        lambda: service.hide_comment(db, actor=user, comment=comment, reason=reason, now=utcnow()),
        _("Comment removed from view, with your reason shown in its place."),
    )


@router.post(
    "/c/{slug}/proposals/{proposal_id}/comments/{comment_id}/restore", name="restore_comment"
)
def restore(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    slug: str,
    proposal_id: ProposalId,
    comment_id: CommentId,
) -> Response:
    proposal, comment = _load_comment(db, user, slug, proposal_id, comment_id)
    return after_action(
        request,
        _proposal_url(proposal, f"#comment-{comment.id}"),
        lambda: service.restore_comment(db, actor=user, comment=comment),
        _("Comment restored."),
    )


@router.get("/c/{slug}/proposals/{proposal_id}/comments/{comment_id}/anchor", name="comment_anchor")
def anchor_view(
    request: Request,
    db: SessionDep,
    user: OptionalUser,
    slug: str,
    proposal_id: ProposalId,
    comment_id: CommentId,
) -> Response:
    """The work a comment points into, with the moment, passage or region marked."""
    proposal, comment = _load_comment(db, user, slug, proposal_id, comment_id)
    anchor = thread.single(db, comment).anchor
    if anchor is None or not comment.is_visible:
        return see_other(request, comment_url(proposal, comment))
    work: Work = anchor.work
    return render(
        request,
        "discussion/anchor.html",
        {
            "community": proposal.community,
            "proposal": proposal,
            "comment": comment,
            "anchor": anchor,
            "work": work,
            "anchor_label": anchors.display_label,
            "fragment": anchors.fragment_url(anchor),
            "highlight": anchors.highlight(anchor),
            "format_time": anchors.format_time,
            "preview": works_service.preview_of(db, work),
        },
        block="anchor_view",
    )


@router.get("/c/{slug}/proposals/{proposal_id}/events", name="thread_events")
async def live(
    request: Request, db: SessionDep, user: OptionalUser, slug: str, proposal_id: ProposalId
) -> Response:
    """New comments as server-sent events, rendered for this viewer.

    The stream reads the database, never the event itself: a wake-up only says "look now".
    After `Last-Event-ID` (or `?after=`) it sends what the viewer has not seen, so a
    reconnecting browser misses nothing, whichever process it reconnects to.
    """
    proposal = await to_thread.run_sync(lambda: _load(db, user, slug, proposal_id))
    after = _int_param(request.headers.get("last-event-id") or request.query_params.get("after"), 0)
    settings = request.app.state.settings
    poll, lifetime = settings.live_poll_seconds, settings.live_stream_seconds
    base = await to_thread.run_sync(lambda: viewer_context(db, proposal, user))
    factory = request.app.state.session_factory
    viewer_id = user.id if user else None

    def fetch(since: int) -> list[tuple[int, str]]:
        session = factory(False)
        try:
            fresh = session.get(Proposal, proposal.id)
            assert fresh is not None
            nodes = thread.comments_after(session, fresh, since)
            out = []
            for node in nodes:
                if node.comment.author_id == viewer_id:
                    out.append((node.comment.id, ""))  # already on the author's page
                    continue
                html = render_string(
                    request,
                    "discussion/fragments/comment.html",
                    {**base, "proposal": fresh, "community": fresh.community, "node": node},
                )
                out.append((node.comment.id, html))
            return out
        finally:
            session.close()

    async def stream() -> AsyncIterator[str]:
        last = after
        deadline = asyncio.get_running_loop().time() + lifetime
        yield "retry: 3000\n\n"
        with events.broker.subscribe(events.thread_channel(proposal.id)) as subscription:
            while asyncio.get_running_loop().time() < deadline:
                for comment_id, html in await to_thread.run_sync(fetch, last):
                    last = comment_id
                    if html:
                        data = "".join(f"data: {line}\n" for line in html.splitlines())
                        yield f"event: comment\nid: {comment_id}\n{data}\n"
                    else:
                        yield f"id: {comment_id}\n: own comment\n\n"
                if await request.is_disconnected():
                    return
                woken = await subscription.wait(poll)
                if not woken:
                    yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
