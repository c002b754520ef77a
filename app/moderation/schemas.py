"""JSON shapes of the moderation API: flags, the moderators' queue, resolutions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, Field

from app.web.api import MAX_ID

CommentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The comment's id.")]
ItemState = Literal["visible", "pending_review", "removed", "deleted"]


class FlagCreate(BaseModel):
    reason: str = Field(
        max_length=5000,
        description="What is wrong with it: 1 to 500 characters (after trimming).",
        examples=["Sexualised depiction of a character presented as 16."],
    )


class FlagOut(BaseModel):
    """A flag as its author sees it after raising it."""

    id: int
    community: str
    comment: int | None = Field(description="The flagged comment's id (or null for a work).")
    work: int | None = Field(description="The flagged work's id (or null for a comment).")
    reason: str
    created_at: datetime
    item_state: ItemState = Field(
        description="The item's state now: `pending_review` once enough members flagged it."
    )


class FlagEntry(BaseModel):
    """One open flag in the queue."""

    id: int
    flagger: str | None = Field(description="Username of who flagged (null if deleted).")
    reason: str
    created_at: datetime


class FlaggedItem(BaseModel):
    kind: Literal["comment", "work"]
    comment: int | None
    work: int | None
    proposal: int | None = Field(description="For a comment: the proposal of its thread.")
    page_url: str = Field(description="Where the item is shown in context.")
    title: str = Field(description="A work's title, or the start of a comment's text.")
    text: str = Field(description="A comment's Markdown text, or a work's address.")
    author: str | None = Field(description="Who wrote the comment or registered the work.")
    state: ItemState
    flag_count: int
    first_flagged_at: datetime
    flags: list[FlagEntry]


class FlagQueue(BaseModel):
    items: list[FlaggedItem]
    next_cursor: str | None


class ResolveIn(BaseModel):
    """Exactly one of `comment` and `work`."""

    comment: int | None = Field(default=None, ge=1, le=MAX_ID)
    work: int | None = Field(default=None, ge=1, le=MAX_ID)
    action: Literal["hide", "dismiss"] = Field(
        description="`hide`: hide the item with the public `reason`, and close its flags as "
        "hidden. `dismiss`: close its flags as dismissed; an item hidden only by flags "
        "(pending review) is shown again."
    )
    reason: str = Field(
        default="",
        max_length=5000,
        description="Required for `hide` (1 to 500 characters): shown publicly in its place.",
    )


class ResolutionOut(BaseModel):
    action: Literal["hide", "dismiss"]
    resolved: int = Field(description="How many open flags this closed.")
    restored: bool = Field(description="Whether a dismissal put the item back in view.")
    state: ItemState = Field(description="The item's state now.")
