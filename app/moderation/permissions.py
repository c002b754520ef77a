"""Who may flag and who reviews flags; the service calls these, so HTML and API always agree."""

from __future__ import annotations

from app.accounts.models import User
from app.communities import permissions as community_permissions
from app.communities.models import Membership
from app.errors import PermissionDenied


def ensure_can_flag(actor: User | None, membership: Membership | None) -> User:
    user = community_permissions.require_user(actor)
    if membership is None:
        raise PermissionDenied("Only members of this community may flag what is posted in it.")
    return user


def can_flag(actor: User | None, membership: Membership | None) -> bool:
    return actor is not None and membership is not None


def can_review(actor: User | None, membership: Membership | None) -> bool:
    return community_permissions.is_moderator(actor, membership)


def ensure_can_review(actor: User | None, membership: Membership | None) -> User:
    return community_permissions.ensure_can_moderate(actor, membership)
