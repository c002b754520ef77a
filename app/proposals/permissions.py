"""Who may see and change a proposal; the service calls these for HTML and API alike."""

from __future__ import annotations

from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities.models import Membership
from app.errors import Conflict, NotFound, PermissionDenied
from app.i18n import gettext as _
from app.proposals import lifecycle
from app.proposals.models import Proposal, ProposalState


def is_author(actor: User | None, author_ids: set[int]) -> bool:
    return actor is not None and actor.id in author_ids


def is_private(proposal: Proposal) -> bool:
    """Only its authors see a draft, and a draft withdrawn without ever being published."""
    return proposal.state == ProposalState.draft or (
        proposal.state == ProposalState.withdrawn and proposal.published_at is None
    )


def ensure_can_view(actor: User | None, proposal: Proposal, author_ids: set[int]) -> None:
    # A draft someone else may not see looks exactly like a missing proposal.
    if is_private(proposal) and not is_author(actor, author_ids):
        raise NotFound(_("There is no such proposal."))


def ensure_member(actor: User | None, membership: Membership | None) -> User:
    user = community_permissions.require_user(actor)
    if membership is None:
        raise PermissionDenied(_("Join this community to write proposals."))
    return user


def ensure_can_edit_text(
    actor: User | None, proposal: Proposal, author_ids: set[int], *, during_poll: bool = False
) -> User:
    """Authors edit while the text is weighed; during a poll only as an amendment (a new round)."""
    user = community_permissions.require_user(actor)
    if not is_author(user, author_ids):
        raise PermissionDenied(_("Only the proposal's authors may edit it."))
    if proposal.state not in (lifecycle.AMENDABLE if during_poll else lifecycle.EDITABLE):
        raise Conflict(
            _(
                "This proposal is %(state)s; its text can no longer be edited.",
                state=_(proposal.state.label).lower(),
            )
        )
    if proposal.locked_at is not None:
        raise Conflict(_("A moderator locked this proposal; it cannot be edited now."))
    return user


def ensure_is_original_author(actor: User | None, proposal: Proposal, what: str) -> User:
    """Only the proposal's author may do `what` (English, marked with `N_`: "withdraw it")."""
    user = community_permissions.require_user(actor)
    if proposal.author_id != user.id:
        raise PermissionDenied(_("Only the proposal's author may %(what)s.", what=_(what)))
    return user


def ensure_can_moderate(actor: User | None, membership: Membership | None) -> User:
    return community_permissions.ensure_can_moderate(actor, membership)


def can_moderate(actor: User | None, membership: Membership | None) -> bool:
    return community_permissions.is_moderator(actor, membership)


#: States in which example works may be attached: while the text is still being weighed.
EXHIBIT_STATES = frozenset({ProposalState.draft, ProposalState.deliberation, ProposalState.voting})


def can_add_exhibit(
    actor: User | None, proposal: Proposal, membership: Membership | None, author_ids: set[int]
) -> bool:
    if actor is None or proposal.state not in EXHIBIT_STATES:
        return False
    if proposal.state == ProposalState.draft:
        return is_author(actor, author_ids)
    return membership is not None


def ensure_can_add_exhibit(
    actor: User | None, proposal: Proposal, membership: Membership | None, author_ids: set[int]
) -> User:
    user = community_permissions.require_user(actor)
    if proposal.state == ProposalState.draft:
        if not is_author(user, author_ids):
            raise PermissionDenied(_("Only the draft's authors may attach example works."))
    elif membership is None:
        raise PermissionDenied(_("Join this community to attach example works."))
    if proposal.state not in EXHIBIT_STATES:
        raise Conflict(
            _(
                "This proposal is %(state)s; its example works can no longer change.",
                state=_(proposal.state.label).lower(),
            )
        )
    return user


def can_remove_exhibit(
    actor: User | None,
    added_by_id: int | None,
    membership: Membership | None,
    author_ids: set[int],
) -> bool:
    if actor is None:
        return False
    return (
        actor.id == added_by_id
        or is_author(actor, author_ids)
        or community_permissions.is_moderator(actor, membership)
    )


def ensure_can_remove_exhibit(
    actor: User | None,
    added_by_id: int | None,
    membership: Membership | None,
    author_ids: set[int],
) -> User:
    user = community_permissions.require_user(actor)
    if not can_remove_exhibit(user, added_by_id, membership, author_ids):
        raise PermissionDenied(
            _("Only who attached it, the proposal's authors or a moderator may remove it.")
        )
    return user
