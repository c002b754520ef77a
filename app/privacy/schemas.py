"""JSON shapes of a member's export and of deleting an account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Records = list[dict[str, Any]]


class MemberExportOut(BaseModel):
    """Everything stored that the member wrote or that is about them, a section per kind.

    Each record holds every stored column (ids, texts, times) except password and token
    hashes and image bytes. Ids refer to each other across sections (`comment_id`,
    `poll_id`, ...); `communities` names the communities by id.
    """

    # A section the export gains must be declared here too (the tests check both agree).
    model_config = ConfigDict(extra="forbid")

    format: str = Field(examples=["normsforum-member-export"])
    version: int
    exported_at: datetime
    account: dict[str, Any] = Field(description="The account itself (no password hash).")
    communities: dict[str, str] = Field(description="Community slugs by id.")
    identities: Records = Field(description="Provider accounts that sign in to this one.")
    sessions: Records = Field(description="Signed-in browsers.")
    access_tokens: Records = Field(description="Personal access tokens (never the token).")
    memberships: Records
    role_changes: Records = Field(description="Joins, leaves and role changes, theirs or by them.")
    proposals: Records = Field(description="Proposals they wrote or co-wrote.")
    proposal_authorships: Records
    revisions: Records = Field(description="Revisions they wrote.")
    proposal_events: Records = Field(description="What they did to proposals.")
    follows: Records
    comments: Records = Field(description="Their comments, deleted and hidden ones included.")
    comment_versions: Records = Field(description="Earlier texts of their comments.")
    comment_anchors: Records
    ballots: Records = Field(description="Every ballot they cast, in anonymous polls too.")
    poll_rolls: Records = Field(description="Their places on polls' rolls, with weights.")
    polls_opened: Records = Field(description="Polls they opened or closed.")
    objection_rulings: Records = Field(description="Their rulings as a moderator.")
    poll_policy_changes: Records
    works: Records = Field(description="Works they added, or are named the creator of.")
    work_images: Records = Field(description="Image uploads (the images are on the site).")
    exhibits: Records
    flags: Records = Field(description="Flags they raised.")
    appeals: Records
    warnings_received: Records
    suspensions: Records
    moderation_actions: Records = Field(description="Their entries in moderation logs.")
    ratifications: Records
    guideline_credits: Records
    notifications: Records
    notification_preferences: Records


class DeletionIn(BaseModel):
    password: str = Field(
        default="", max_length=1024, description="Your password, if your account has one."
    )
    confirm: str = Field(
        default="",
        max_length=64,
        description="Without a password (provider sign-in only): your username, typed.",
    )


class DeletionOut(BaseModel):
    deleted_at: datetime
    shown_as: str = Field(description="How what you wrote is signed from now on.")
