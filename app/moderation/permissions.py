"""Who may flag, review, warn, suspend and appeal; the services call these, so HTML and API
always agree. Whether a member is suspended is `app.communities.permissions`' business: every
domain checks it, and this one sits above them all."""

from __future__ import annotations

from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities.models import Membership
from app.errors import NotFound, PermissionDenied
from app.i18n import gettext as _


def ensure_can_flag(actor: User | None, membership: Membership | None) -> User:
    user = community_permissions.require_user(actor)
    if membership is None:
        raise PermissionDenied(_("Only members of this community may flag what is posted in it."))
    return user


def can_flag(actor: User | None, membership: Membership | None) -> bool:
    return actor is not None and membership is not None


def can_review(actor: User | None, membership: Membership | None) -> bool:
    return community_permissions.is_moderator(actor, membership)


def ensure_can_review(actor: User | None, membership: Membership | None) -> User:
    return community_permissions.ensure_can_moderate(actor, membership)


def ensure_can_sanction(
    moderator: User, member: User, member_membership: Membership | None, what: str
) -> None:
    """A moderator warns or suspends a member of the community, never themself; `what` is
    "warn" or "suspend". Moderators and site admins are not suspended: their role is changed
    first (in the public log too)."""
    if member_membership is None:
        raise NotFound(
            _("%(member)s is not a member of this community.", member=member.display_name)
        )
    if member.id == moderator.id:
        raise PermissionDenied(
            _("You cannot warn yourself.") if what == "warn" else _("You cannot suspend yourself.")
        )
    if what == "suspend" and community_permissions.is_moderator(member, member_membership):
        raise PermissionDenied(
            _(
                "%(member)s is a moderator here; change their role before suspending them.",
                member=member.display_name,
            )
        )


def ensure_is_appellant(actor: User, owner_id: int | None, what: str) -> None:
    """Only the member a decision was about appeals it."""
    if owner_id != actor.id:
        raise PermissionDenied(
            _("Only the member who wrote this comment may appeal its hiding.")
            if what == "this comment"
            else _("Only the member who wrote this work may appeal its hiding.")
        )
