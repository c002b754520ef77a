"""JSON shapes of the works API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from app.hiding import HiddenState
from app.i18n import CONTENT_LANGUAGES
from app.web.api import MAX_ID
from app.works.models import Medium

WorkId = Annotated[int, Path(ge=1, le=MAX_ID, description="The work's id.")]
# The language of a title, description and excerpt, checked by the service (any case).
LANGUAGE_DESCRIPTION = (
    "The language of its title, description and excerpt: "
    + ", ".join(CONTENT_LANGUAGES)
    + ". Left out or empty: as recorded, else the writer's interface language."
)
LANGUAGE_RULES: JsonDict = {"enum": [*CONTENT_LANGUAGES, "", None]}


class WorkOut(BaseModel):
    id: int
    community: str
    state: HiddenState = Field(
        description="Hidden works (removed by a moderator, or pending review after flags) "
        "keep their title and lineage; their content is left out except for moderators."
    )
    removed_reason: str | None = Field(description="The moderator's public reason, if removed.")
    url: str = Field(description="Where the work itself can be seen (its own address).")
    page_url: str = Field(description="The work's page on this site.")
    title: str
    creator_name: str
    creator_username: str | None
    medium: Medium
    license: str
    content_notes: list[str]
    description: str
    excerpt: str | None
    duration_seconds: float | None
    language: str | None = Field(
        description="The language of its title, description and excerpt (a BCP 47 tag); null "
        "when not recorded."
    )
    parents: list[int]
    created_by: str | None
    created_at: datetime
    preview_url: str | None = Field(
        description="The preview image (image works only); the URL changes with the image."
    )
    thumbnail_url: str | None = Field(description="The preview's thumbnail (at most 480×480).")


class WorkList(BaseModel):
    items: list[WorkOut]
    next_cursor: str | None


class WorkCreate(BaseModel):
    title: str = Field(max_length=1000, examples=["Rin's Dance"])
    creator_name: str = Field(max_length=1000, examples=["Len"])
    creator_username: str = Field(
        default="", max_length=64, description="Optional: the member who made it."
    )
    url: str = Field(max_length=5000, examples=["https://example.org/rins-dance"])
    medium: str = Field(max_length=24, examples=["video"])
    license: str = Field(default="", max_length=1000, examples=["CC BY 4.0"])
    content_notes: str = Field(default="", max_length=1000, description="Comma-separated.")
    description: str = Field(default="", max_length=20_000, description="Markdown.")
    excerpt: str = Field(default="", max_length=20_000, description="Text works only.")
    duration_seconds: float | None = Field(default=None, description="Audio and video only.")
    parents: list[int] = Field(
        default_factory=list, max_length=100, description="Ids of works it derives from."
    )
    language: str | None = Field(
        default=None,
        max_length=35,
        description=LANGUAGE_DESCRIPTION,
        json_schema_extra=LANGUAGE_RULES,
    )


class WorkUpdate(BaseModel):
    """Fields left out keep their current value."""

    title: str | None = Field(default=None, max_length=1000)
    creator_name: str | None = Field(default=None, max_length=1000)
    creator_username: str | None = Field(default=None, max_length=64)
    url: str | None = Field(default=None, max_length=5000)
    medium: str | None = Field(default=None, max_length=24)
    license: str | None = Field(default=None, max_length=1000)
    content_notes: str | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=20_000)
    excerpt: str | None = Field(default=None, max_length=20_000)
    duration_seconds: float | None = None
    parents: list[int] | None = Field(default=None, max_length=100)
    language: str | None = Field(
        default=None,
        max_length=35,
        description=LANGUAGE_DESCRIPTION,
        json_schema_extra=LANGUAGE_RULES,
    )


class LineageItem(BaseModel):
    id: int
    title: str
    creator_name: str
    depth: int = Field(description="1 for a direct parent or child, 2 one step further, ...")


class LineageOut(BaseModel):
    ancestors: list[LineageItem]
    descendants: list[LineageItem]


class AttributionOut(BaseModel):
    text: str
