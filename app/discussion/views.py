"""What the thread templates need: the thread section of the proposal page, and the viewer.

The proposal page (in the proposals package) and the discussion's own pages both use these.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Membership
from app.discussion import anchors, service, thread
from app.discussion import permissions as perms
from app.discussion.models import Alignment
from app.errors import ValidationFailed
from app.i18n import N_
from app.proposals import exhibits as exhibits_service
from app.proposals.models import Proposal, ProposalState


def thread_context(
    request: Request,
    db: Session,
    proposal: Proposal,
    user: User | None,
    *,
    cursor: str | None = None,
    work_id: int | None = None,
) -> dict[str, Any]:
    """What the thread section of the proposal page shows, for that page and its fragments."""
    membership = communities_service.membership_of(db, proposal.community, user)
    works = [e.work for e in exhibits_service.exhibits(db, proposal)]
    work = next((w for w in works if w.id == work_id), None)
    errors: dict[str, str] = {}
    try:
        page = thread.thread_page(db, proposal, cursor=cursor, work_id=work.id if work else None)
    except ValidationFailed as exc:
        errors = exc.fields
        page = thread.ThreadPage([], None)
    next_query = None
    if page.next_cursor:
        params = {"cursor": page.next_cursor}
        if work is not None:
            params["work"] = str(work.id)
        next_query = request.url.replace(query="").include_query_params(**params).query
    return {
        **viewer_context(db, proposal, user, membership),
        "thread": page,
        "thread_errors": errors,
        "thread_counts": service.counts(db, proposal),
        "thread_work": work,
        "thread_works": works,
        "thread_next_query": next_query,
        "thread_is_first_page": not cursor,
        "comment_closed_reason": closed_reason_text(proposal),
        "comment_values": {"alignment": "neutral"},
        "comment_errors": {},
        "comment_message": None,
        "alignments": list(Alignment),
        "live_after": thread.latest_id(db, proposal),
    }


def closed_reason_text(proposal: Proposal) -> str | None:
    """Why the thread takes no new comments (`permissions.closed_reason`), as a message id:
    the template translates it (`_(comment_closed_reason)`), once the reader's language is
    known. None when the thread is open."""
    reason = perms.closed_reason(proposal)
    if reason is None:
        return None
    if proposal.locked_at is not None:
        return N_("A moderator locked this proposal; its discussion takes no new comments.")
    if proposal.state == ProposalState.draft:
        return N_("Discussion opens when the draft is published.")
    closed = {
        ProposalState.rejected: N_("This proposal is rejected; its discussion is closed."),
        ProposalState.withdrawn: N_("This proposal is withdrawn; its discussion is closed."),
        ProposalState.ratified: N_("This proposal is ratified; its discussion is closed."),
    }
    return closed.get(proposal.state, reason)


def viewer_context(
    db: Session, proposal: Proposal, user: User | None, membership: Membership | None = None
) -> dict[str, Any]:
    """What each comment needs to know about the person looking at it."""
    if membership is None:
        membership = communities_service.membership_of(db, proposal.community, user)
    return {
        "proposal": proposal,
        "community": proposal.community,
        "viewer_id": user.id if user else None,
        "viewer_is_member": membership is not None,
        "viewer_can_comment": perms.can_comment(user, proposal, membership),
        "viewer_moderates": perms.can_moderate(user, membership),
        "anchor_label": anchors.display_label,
        "fragment_url": anchors.fragment_url,
        "format_duration": anchors.format_time,
        "inline_depth": thread.INLINE_DEPTH,
    }
