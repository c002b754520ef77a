"""Who may do what in a community; the services call these, so HTML and API always agree."""

from __future__ import annotations

from app.accounts.models import User
from app.communities.models import Membership, Role
from app.errors import NotAuthenticated, PermissionDenied


def require_user(actor: User | None) -> User:
    if actor is None:
        raise NotAuthenticated("Please sign in first.")
    return actor


def is_moderator(actor: User | None, membership: Membership | None) -> bool:
    if actor is None:
        return False
    return actor.is_admin or (membership is not None and membership.role == Role.moderator)


def ensure_can_create_community(actor: User | None) -> User:
    user = require_user(actor)
    if not user.is_admin:
        raise PermissionDenied("Only site administrators create communities.")
    return user


def ensure_can_moderate(actor: User | None, membership: Membership | None) -> User:
    user = require_user(actor)
    if not is_moderator(user, membership):
        raise PermissionDenied("Only this community's moderators may do that.")
    return user
