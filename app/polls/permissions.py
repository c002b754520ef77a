"""Who may open a poll, vote in it and moderate it; the service calls these for HTML and API."""

from __future__ import annotations

from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities.models import Membership
from app.errors import PermissionDenied
from app.i18n import gettext as _
from app.i18n import ngettext
from app.polls.models import Voter
from app.polls.policy import PollPolicy


def can_open(actor: User | None, membership: Membership | None, author_ids: set[int]) -> bool:
    return actor is not None and (
        actor.id in author_ids or community_permissions.is_moderator(actor, membership)
    )


def ensure_can_open(
    actor: User | None, membership: Membership | None, author_ids: set[int]
) -> User:
    user = community_permissions.require_user(actor)
    if not can_open(user, membership, author_ids):
        raise PermissionDenied(_("Only the proposal's authors or a moderator may open its poll."))
    return user


def ensure_can_vote(
    membership: Membership | None, voter: Voter | None, policy: PollPolicy
) -> Voter:
    """Members on the roll frozen when the poll opened vote; nobody else."""
    if membership is None:
        raise PermissionDenied(_("Only members of this community may vote."))
    if voter is None:
        if policy.min_membership_days:
            raise PermissionDenied(
                ngettext(
                    "You are not on this poll's electoral roll: it counts members who had "
                    "belonged to the community for %(num)d day when it opened.",
                    "You are not on this poll's electoral roll: it counts members who had "
                    "belonged to the community for %(num)d days when it opened.",
                    policy.min_membership_days,
                )
            )
        raise PermissionDenied(
            _("You are not on this poll's electoral roll: you joined after it opened.")
        )
    return voter
