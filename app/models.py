"""Imports every domain's tables, so that the metadata Alembic compares against is complete."""

from app.accounts.models import AccessToken, User, UserSession
from app.communities.models import Community, Membership, RoleChange
from app.db import Base
from app.ratelimit import RateLimitHit

__all__ = [
    "AccessToken",
    "Base",
    "Community",
    "Membership",
    "RateLimitHit",
    "RoleChange",
    "User",
    "UserSession",
]
