"""Who may register and edit works; the service calls these for HTML and API alike."""

from __future__ import annotations

from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities.models import Membership
from app.errors import PermissionDenied
from app.i18n import gettext as _
from app.works.models import Work


def ensure_member(actor: User | None, membership: Membership | None) -> User:
    user = community_permissions.require_user(actor)
    if membership is None:
        raise PermissionDenied(_("Join this community to register works."))
    return user


def can_see_content(actor: User | None, membership: Membership | None, work: Work) -> bool:
    """A hidden work keeps its title and lineage in view, but only moderators see the rest."""
    return work.hidden_at is None or community_permissions.is_moderator(actor, membership)


def ensure_can_moderate(actor: User | None, membership: Membership | None) -> User:
    return community_permissions.ensure_can_moderate(actor, membership)


def can_edit(actor: User | None, membership: Membership | None, work: Work) -> bool:
    if actor is None:
        return False
    if community_permissions.is_moderator(actor, membership):
        return True
    return membership is not None and work.created_by_id == actor.id


def ensure_can_edit(actor: User | None, membership: Membership | None, work: Work) -> User:
    user = community_permissions.require_user(actor)
    if not can_edit(user, membership, work):
        raise PermissionDenied(
            _("Only the member who registered this work, or a moderator, may edit it.")
        )
    return user
