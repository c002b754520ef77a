"""JSON shapes of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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


class IdentityOut(BaseModel):
    """An account at an OpenID Connect provider that signs in to this user."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    provider: str = Field(description="The configured provider's name.")
    provider_name: str = Field(description="Its display name (the name when no longer offered).")
    issuer: str
    email: str = Field(description="The address the provider last reported (not this account's).")
    linked_at: datetime
    last_used_at: datetime | None


class MeOut(UserOut):
    email: str
    email_verified: bool = Field(
        description="Whether the owner of `email` opened the confirmation link. Notification "
        "mail goes only to confirmed addresses."
    )
    has_password: bool = Field(description="False for accounts that sign in only by a provider.")
    authenticated_by: str
    memberships: list[MembershipOfUser]
    identities: list[IdentityOut]
    language: Literal["en", "ja"] | None = Field(
        description="The language I read the site in; null: as my browser asks."
    )


class LanguageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: Literal["en", "ja"] | None = Field(
        description="`en` or `ja`; null to read the site in the language the browser asks for."
    )


class VerificationMailOut(BaseModel):
    sent_to: str
