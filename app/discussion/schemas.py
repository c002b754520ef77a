"""JSON shapes of the discussion API: comments, their anchors, replies and earlier versions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from app.discussion.models import Alignment, AnchorKind
from app.discussion.service import BODY_MAX, MAX_ID
from app.i18n import CONTENT_LANGUAGES
from app.text import REASON_MAX
from app.web.api import trimmed

# Ids are 32-bit INTEGER columns on PostgreSQL: a larger one is an input error, never a 500.
CommentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The comment's id.")]
ThreadProposalId = Annotated[int, Path(ge=1, le=MAX_ID, description="The proposal's id.")]

CommentState = Literal["visible", "deleted", "removed", "pending_review"]

# Caps well above the service's own limits, so the service answers with its friendly message
# and nothing oversized ever reaches it.
BODY_CAP = 20_000
QUOTE_CAP = 5_000
CONTEXT_CAP = 1_000
REASON_CAP = 2_000


class AnchorIn(BaseModel):
    """One of three shapes, told apart by `kind` (percentages for regions, seconds for time):

    `{"work": id, "kind": "time", "start": 83.5, "end": 95}` ·
    `{"work": id, "kind": "quote", "exact": "...", "prefix": "...", "suffix": "..."}` ·
    `{"work": id, "kind": "region", "x": 10, "y": 20, "w": 30, "h": 25}`.
    The work must be exhibited on the proposal. Fields of the other shapes are ignored.
    """

    work: int | None = Field(default=None, description="A work exhibited on the proposal.")
    kind: str = Field(
        default="", max_length=24, examples=["time"], description="time, quote, region"
    )
    start: float | None = Field(default=None, description="time: seconds from the start")
    end: float | None = Field(default=None, description="time: seconds, after `start`")
    exact: str = Field(default="", max_length=QUOTE_CAP, description="quote: the passage")
    prefix: str = Field(default="", max_length=CONTEXT_CAP, description="quote: text just before")
    suffix: str = Field(default="", max_length=CONTEXT_CAP, description="quote: text just after")
    x: float | None = Field(default=None, description="region: left edge, percent")
    y: float | None = Field(default=None, description="region: top edge, percent")
    w: float | None = Field(default=None, description="region: width, percent")
    h: float | None = Field(default=None, description="region: height, percent")


class AnchorOut(BaseModel):
    work: int
    kind: AnchorKind
    start: float | None = None
    end: float | None = None
    exact: str | None = None
    prefix: str | None = None
    suffix: str | None = None
    x: float | None = None
    y: float | None = None
    w: float | None = None
    h: float | None = None
    label: str = Field(description="A short human label, like `▶ 1:23–1:35`.")
    fragment_url: str | None = Field(
        default=None,
        description="time anchors: the work's own URL with a Media Fragment (`#t=83.5,95`).",
    )


ALIGNMENTS: list[str | None] = [a.value for a in Alignment]
# The service's rules for a body: not blank, at most BODY_MAX once trimmed, no NUL.
BODY_RULES: JsonDict = {"pattern": trimmed(BODY_MAX)}
# A content language, checked by the service (any case).
LANGUAGE_RULES: JsonDict = {"enum": [*CONTENT_LANGUAGES, "", None]}
LANGUAGE_CODES = ", ".join(CONTENT_LANGUAGES)


class CommentCreate(BaseModel):
    body: str = Field(
        max_length=BODY_CAP,
        description=f"Markdown, at most {BODY_MAX:,} characters (after trimming).",
        json_schema_extra=BODY_RULES,
    )
    parent: int | None = Field(default=None, description="The comment replied to, if any.")
    alignment: str | None = Field(
        default=None,
        max_length=24,
        description="Top-level comments only: supports, opposes, neutral (default) or question.",
        json_schema_extra={"enum": [*ALIGNMENTS, "", None]},
    )
    anchor: AnchorIn | None = None
    language: str | None = Field(
        default=None,
        max_length=35,
        description=f"The language it is written in: {LANGUAGE_CODES}. Left out or empty: the "
        "writer's interface language.",
        json_schema_extra=LANGUAGE_RULES,
    )


class CommentUpdate(BaseModel):
    """Fields left out keep their value; a changed body keeps the old text as a version."""

    body: str | None = Field(default=None, max_length=BODY_CAP, json_schema_extra=BODY_RULES)
    alignment: str | None = Field(
        default=None, max_length=24, json_schema_extra={"enum": [*ALIGNMENTS, None]}
    )
    language: str | None = Field(
        default=None,
        max_length=35,
        description=f"The language it is written in: {LANGUAGE_CODES}. Left out or empty: as "
        "recorded (a rewritten body without one recorded: the writer's interface language).",
        json_schema_extra=LANGUAGE_RULES,
    )


class HideBody(BaseModel):
    reason: str = Field(
        max_length=REASON_CAP,
        description=f"Shown publicly in the comment's place: 1 to {REASON_MAX} characters (after "
        "trimming).",
        json_schema_extra={"pattern": trimmed(REASON_MAX)},
    )


class CommentOut(BaseModel):
    id: int
    proposal: int
    parent: int | None
    depth: int = Field(description="0 for a top-level comment, 1 for a reply to it, ...")
    author: str | None = Field(description="Username; null when deleted or hidden.")
    alignment: Alignment | None = Field(description="Top-level comments only.")
    body: str | None = Field(
        description="Markdown; null when deleted, or hidden (moderators still see hidden text)."
    )
    body_html: str | None = Field(description="Sanitized HTML of `body`; null when it is.")
    language: str | None = Field(
        description="The language it is written in (a BCP 47 tag); null when not recorded."
    )
    state: CommentState
    removed_reason: str | None = Field(description="The moderator's reason, when removed.")
    created_at: datetime
    edited_at: datetime | None
    edit_count: int
    reply_count: int = Field(description="Direct replies, whatever their state.")
    anchor: AnchorOut | None = Field(description="Where in an exhibited work it points.")
    replies: list[CommentOut] = Field(default_factory=list)
    more_replies: int = Field(
        default=0, description="Direct replies not shown; fetch them with `replies_cursor`."
    )
    replies_cursor: str | None = Field(
        default=None,
        description="Pass to `GET /api/v1/comments/{id}/replies?cursor=` for the next replies.",
    )
    continues: bool = Field(
        default=False,
        description="Replies exist deeper than shown: `GET /api/v1/comments/{id}` has them.",
    )


class CommentList(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


class RepliesOut(BaseModel):
    """The next direct replies of one comment, each with its own replies nested."""

    items: list[CommentOut]
    more_replies: int
    replies_cursor: str | None


class VersionOut(BaseModel):
    number: int
    body: str
    written_at: datetime


class VersionList(BaseModel):
    items: list[VersionOut] = Field(
        description="Earlier texts, oldest first; empty when the comment is not readable."
    )
