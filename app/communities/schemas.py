"""JSON shapes of the communities API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.communities.models import Role
from app.communities.service import MAX_DESCRIPTION, MAX_REASON
from app.i18n import CONTENT_LANGUAGES
from app.polls.schemas import PolicyIn, PolicyOut
from app.web.api import CONTENT_LANGUAGE, NO_NUL, NUMBER_ONLY, trimmed

# The service's rules, as it counts them: names and category descriptions once trimmed, a
# community's description as sent; never a NUL.
COMMUNITY_NAME = trimmed(80, min_length=3)
CATEGORY_NAME = trimmed(80, min_length=2)
CATEGORY_DESCRIPTION = trimmed(300, min_length=0)


class CategoryOut(BaseModel):
    slug: str
    name: str
    description: str
    archived: bool


class CategoryCreate(BaseModel):
    name: str = Field(
        max_length=200,
        description="2 to 80 characters (after trimming), new in the community.",
        examples=["AI-generated works and derivative models"],
        json_schema_extra={"pattern": CATEGORY_NAME},
    )
    description: str = Field(
        default="",
        max_length=2000,
        description="At most 300 characters (after trimming).",
        json_schema_extra={"pattern": CATEGORY_DESCRIPTION},
    )


class CategoryUpdate(BaseModel):
    name: str | None = Field(
        default=None,
        max_length=200,
        description="2 to 80 characters (after trimming), new in the community.",
        json_schema_extra={"pattern": CATEGORY_NAME},
    )
    description: str | None = Field(
        default=None,
        max_length=2000,
        description="At most 300 characters (after trimming).",
        json_schema_extra={"pattern": CATEGORY_DESCRIPTION},
    )
    archived: bool | None = Field(default=None, strict=True)


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
    language: str = Field(
        description="The language its guidelines are written in and authoritative in (BCP 47)."
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
    name: str | None = Field(
        default=None,
        max_length=200,
        description="3 to 80 characters (after trimming).",
        json_schema_extra={"pattern": COMMUNITY_NAME},
    )
    description: str | None = Field(
        default=None,
        max_length=20000,
        description=f"At most {MAX_DESCRIPTION:,} characters.",
        json_schema_extra={"maxLength": MAX_DESCRIPTION, "pattern": NO_NUL},
    )
    # Strict: the schema says integer and boolean, so "5", true or 0 is refused, not converted.
    min_deliberation_hours: Annotated[int, Field(ge=0, le=24 * 90), NUMBER_ONLY] | None = None
    flag_hide_threshold: Annotated[int, Field(ge=0, le=100), NUMBER_ONLY] | None = None
    ratification_requires_rights_holder: bool | None = Field(default=None, strict=True)
    language: str | None = Field(
        default=None,
        max_length=16,
        pattern=CONTENT_LANGUAGE,
        description="The language of the guidelines: " + ", ".join(CONTENT_LANGUAGES) + ". "
        "Clauses published already keep theirs.",
    )
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
    role: str = Field(
        max_length=32, examples=["creator"], json_schema_extra={"enum": [r.value for r in Role]}
    )
    reason: str = Field(
        max_length=2000,
        description=f"Public: 1 to {MAX_REASON} characters (after trimming).",
        examples=["Publishes original songs with the character."],
        json_schema_extra={"pattern": trimmed(MAX_REASON)},
    )


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
