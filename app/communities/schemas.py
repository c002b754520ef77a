"""JSON shapes of the communities API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.communities.models import Role
from app.polls.schemas import PolicyIn, PolicyOut


class CategoryOut(BaseModel):
    slug: str
    name: str
    description: str
    archived: bool


class CategoryCreate(BaseModel):
    name: str = Field(max_length=200, examples=["AI-generated works and derivative models"])
    description: str = Field(default="", max_length=2000)


class CategoryUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    archived: bool | None = None


class CommunityOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    created_at: datetime
    member_count: int
    min_deliberation_hours: int
    flag_hide_threshold: int = Field(
        description="Flags from different members that hide an item pending review (0: never)."
    )
    ratification_requires_rights_holder: bool = Field(
        description="A passed proposal needs a rights holder's co-signature, besides a "
        "moderator's, to become a guideline."
    )
    categories: list[CategoryOut]
    url: str


class CommunityDetailOut(CommunityOut):
    """One community, with the poll policy new polls start from."""

    poll_policy: PolicyOut


class CommunityList(BaseModel):
    items: list[CommunityOut]
    next_cursor: str | None


class CommunityCreate(BaseModel):
    name: str = Field(max_length=200, examples=["Hatsune Miku Fans"])
    slug: str = Field(max_length=100, examples=["miku"])
    description: str = Field(default="", max_length=20000)


class CommunityUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=20000)
    min_deliberation_hours: int | None = Field(default=None, ge=0, le=24 * 90)
    flag_hide_threshold: int | None = Field(default=None, ge=0, le=100)
    ratification_requires_rights_holder: bool | None = None
    poll_policy: PolicyIn | None = Field(
        default=None, description="Poll policy settings to change; those left out keep theirs."
    )


class MemberOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    joined_at: datetime


class MemberList(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class RoleUpdate(BaseModel):
    role: str = Field(max_length=32, examples=["creator"])
    reason: str = Field(max_length=2000, examples=["Publishes original songs with the character."])


class RoleChangeOut(BaseModel):
    id: int
    username: str
    changed_by: str | None
    old_role: Role | None
    new_role: Role | None
    reason: str
    created_at: datetime


class RoleChangeList(BaseModel):
    items: list[RoleChangeOut]
