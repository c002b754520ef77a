"""JSON shapes of the accounts API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    is_admin: bool
    created_at: datetime


class MembershipOfUser(BaseModel):
    community: str
    community_name: str
    role: str
    joined_at: datetime


class MeOut(UserOut):
    email: str
    authenticated_by: str
    memberships: list[MembershipOfUser]
