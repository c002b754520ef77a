"""Who may write in a thread; the service calls these for HTML and API alike."""

from __future__ import annotations

from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities.models import Membership
from app.discussion.models import Comment
from app.errors import Conflict, PermissionDenied
from app.i18n import gettext as _
from app.proposals.models import Proposal, ProposalState

#: A thread is open while the proposal is weighed and decided, and closes with it.
OPEN_STATES = frozenset({ProposalState.deliberation, ProposalState.voting, ProposalState.passed})


def closed_reason(proposal: Proposal) -> str | None:
    """Why the thread takes no new comments, or None when it does."""
    if proposal.locked_at is not None:
        return "A moderator locked this proposal; its discussion takes no new comments."
    if proposal.state == ProposalState.draft:
        return "Discussion opens when the draft is published."
    if proposal.state not in OPEN_STATES:
        return f"This proposal is {proposal.state.value}; its discussion is closed."
    return None


def can_comment(actor: User | None, proposal: Proposal, membership: Membership | None) -> bool:
    return actor is not None and membership is not None and closed_reason(proposal) is None


def ensure_can_comment(
    actor: User | None, proposal: Proposal, membership: Membership | None
) -> User:
    user = community_permissions.require_user(actor)
    if membership is None:
        raise PermissionDenied(_("Join this community to take part in its discussions."))
    reason = closed_reason(proposal)
    if reason is not None:
        # The same sentences as the page's notice, whose message ids `views` marks.
        raise Conflict(_(reason))
    return user


def is_own(actor: User | None, comment: Comment) -> bool:
    return actor is not None and comment.author_id == actor.id


def can_edit(actor: User | None, comment: Comment) -> bool:
    return is_own(actor, comment) and comment.deleted_at is None and not comment.is_removed


def ensure_can_edit(actor: User | None, comment: Comment) -> User:
    user = community_permissions.require_user(actor)
    if not is_own(user, comment):
        raise PermissionDenied(_("Only its author may change a comment."))
    if comment.deleted_at is not None:
        raise Conflict(_("This comment was deleted."))
    if comment.is_removed:
        raise Conflict(_("A moderator removed this comment; it can no longer be changed."))
    return user


def ensure_can_hide(actor: User | None, membership: Membership | None) -> User:
    return community_permissions.ensure_can_moderate(actor, membership)


def can_moderate(actor: User | None, membership: Membership | None) -> bool:
    return community_permissions.is_moderator(actor, membership)
