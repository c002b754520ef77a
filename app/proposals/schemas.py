"""JSON shapes of the proposals API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from app.i18n import CONTENT_LANGUAGES
from app.proposals.models import ExhibitStance, ProposalKind, ProposalState
from app.proposals.service import MESSAGE_MAX
from app.web.api import MAX_ID, trimmed
from app.works.models import Medium

# Ids past the database's 64-bit range would make the driver fail: refuse them as input errors.
ProposalId = Annotated[int, Path(ge=1, le=MAX_ID, description="The proposal's id.")]

# What a proposal is written in, checked by the service (any case); the list filter too.
LANGUAGE_DESCRIPTION = (
    "The language it is written in: "
    + ", ".join(CONTENT_LANGUAGES)
    + ". Left out or empty: as recorded, else the writer's interface language."
)
LANGUAGE_RULES: JsonDict = {"enum": [*CONTENT_LANGUAGES, "", None]}

EXAMPLE_NORM = (
    "Sexualised depictions of the character are not accepted in works shared in this community."
)


class AuthorOut(BaseModel):
    username: str
    display_name: str
    role: str


class ProposalOut(BaseModel):
    id: int
    community: str
    url: str
    title: str
    summary: str
    rationale: str
    norm_text: str
    category: str | None
    tags: list[str]
    kind: ProposalKind
    target_clause: str | None
    language: str | None = Field(
        description="The language it is written in (a BCP 47 tag); null when not recorded."
    )
    state: ProposalState
    current_revision: int
    authors: list[AuthorOut]
    locked: bool
    created_at: datetime
    published_at: datetime | None
    voting_may_open_at: datetime | None
    withdrawn_at: datetime | None
    last_activity_at: datetime


class ProposalSummaryOut(BaseModel):
    id: int
    url: str
    title: str
    summary: str
    category: str | None
    tags: list[str]
    language: str | None = Field(
        description="The language it is written in (a BCP 47 tag); null when not recorded."
    )
    state: ProposalState
    current_revision: int
    published_at: datetime | None
    voting_may_open_at: datetime | None
    last_activity_at: datetime


class ProposalList(BaseModel):
    items: list[ProposalSummaryOut]
    next_cursor: str | None


class ProposalCreate(BaseModel):
    title: str = Field(max_length=1000, examples=["No sexualised depictions of the character"])
    summary: str = Field(default="", max_length=5000)
    rationale: str = Field(default="", max_length=100_000)
    norm_text: str = Field(default="", max_length=100_000, examples=[EXAMPLE_NORM])
    category: str = Field(default="", max_length=100, examples=["depiction-and-age"])
    tags: list[str] = Field(default_factory=list, max_length=50)
    kind: str = Field(default="new", max_length=16)
    target_clause: str = Field(default="", max_length=16)
    language: str | None = Field(
        default=None,
        max_length=35,
        description=LANGUAGE_DESCRIPTION,
        json_schema_extra=LANGUAGE_RULES,
    )


class ProposalUpdate(BaseModel):
    """Fields left out keep their current value; text edits need `base_revision`."""

    base_revision: int | None = Field(
        default=None, description="The revision the edit started from (required for text)."
    )
    title: str | None = Field(default=None, max_length=1000)
    summary: str | None = Field(default=None, max_length=5000)
    rationale: str | None = Field(default=None, max_length=100_000)
    norm_text: str | None = Field(default=None, max_length=100_000)
    category: str | None = Field(default=None, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=50)
    language: str | None = Field(
        default=None,
        max_length=35,
        description=LANGUAGE_DESCRIPTION,
        json_schema_extra=LANGUAGE_RULES,
    )
    message: str = Field(default="", max_length=1000, description="What changed, and why.")


# An optional public reason, counted after trimming as the service does.
OPTIONAL_MESSAGE = trimmed(MESSAGE_MAX, min_length=0)


class WithdrawBody(BaseModel):
    reason: str = Field(
        default="",
        max_length=1000,
        description=f"Optional, at most {MESSAGE_MAX} characters (after trimming).",
        json_schema_extra={"pattern": OPTIONAL_MESSAGE},
    )


class LockBody(BaseModel):
    reason: str = Field(
        max_length=1000,
        description=f"Public: 1 to {MESSAGE_MAX} characters (after trimming).",
        json_schema_extra={"pattern": trimmed(MESSAGE_MAX)},
    )


class UnlockBody(BaseModel):
    reason: str = Field(
        default="",
        max_length=1000,
        description=f"Optional, public: at most {MESSAGE_MAX} characters (after trimming).",
        json_schema_extra={"pattern": OPTIONAL_MESSAGE},
    )


class CoauthorBody(BaseModel):
    username: str = Field(max_length=64)


class RevisionOut(BaseModel):
    number: int
    title: str
    summary: str
    rationale: str
    norm_text: str
    message: str
    author: str | None
    created_at: datetime


class RevisionList(BaseModel):
    items: list[RevisionOut]


class DiffPieceOut(BaseModel):
    op: str = Field(examples=["insert"])
    text: str


class FieldDiffOut(BaseModel):
    field: str
    changed: bool
    pieces: list[DiffPieceOut]


class DiffOut(BaseModel):
    from_revision: int
    to_revision: int
    fields: list[FieldDiffOut]


class FollowOut(BaseModel):
    following: bool
    followers: int


ExhibitId = Annotated[int, Path(ge=1, le=MAX_ID, description="The exhibit's id.")]


class ExhibitWorkOut(BaseModel):
    id: int
    title: str
    creator_name: str
    medium: Medium
    url: str = Field(description="Where the work itself can be seen.")
    page_url: str = Field(description="The work's page on this site.")


class ExhibitOut(BaseModel):
    id: int
    work: ExhibitWorkOut
    stance: ExhibitStance
    note: str
    added_by: str | None
    created_at: datetime


class ExhibitList(BaseModel):
    items: list[ExhibitOut]


class ExhibitCreate(BaseModel):
    work: int = Field(ge=1, le=MAX_ID, description="The id of a work of the same community.")
    stance: str = Field(max_length=24, examples=["unacceptable"])
    note: str = Field(default="", max_length=5000, description="Why it illustrates the stance.")
