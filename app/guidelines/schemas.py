"""JSON shapes of the guidelines API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class VersionOut(BaseModel):
    number: int
    published_at: datetime
    source: str = Field(description="imported (the rules the community had) or ratified")
    summary: str = Field(description="The changelog entry")
    proposal: int | None
    published_by: str | None
    url: str


class VersionList(BaseModel):
    items: list[VersionOut]
    next_cursor: str | None


class ClauseOut(BaseModel):
    number: str = Field(examples=["3.2"])
    title: str
    text: str
    tags: list[str]
    clause_version: int = Field(description="1 for the clause's first text, 2 after a change...")
    in_force_since: datetime
    since_version: int = Field(description="The guidelines version that brought this text in")
    citation: str = Field(examples=["Guideline 3.2, version 7, in force since 2026-11-20"])
    url: str = Field(description="The permalink of this clause version, with its provenance")


class SectionOut(BaseModel):
    number: int
    title: str
    clauses: list[ClauseOut]


class DocumentOut(BaseModel):
    community: str
    version: VersionOut | None = Field(description="The version shown; null before publication")
    latest_version: int
    tag: str | None
    sections: list[SectionOut]


class CreditOut(BaseModel):
    credit: str = Field(description="proposer, coauthor, amender, objector or ratifier")
    name: str
    username: str | None


class ObjectionOut(BaseModel):
    round: int
    reason: str
    voter: str | None = Field(description="The objector, in named polls only")
    resolution: str = Field(description="withdrawn, amended, not_paramount or open")
    ruling_reason: str


class ProvenanceOut(BaseModel):
    proposal: int | None
    proposal_url: str | None
    revision: int | None
    poll: int | None
    tally: dict[str, Any] | None = Field(description="The poll's tally as frozen at close")
    objections: list[ObjectionOut]
    note: str = Field(description="The ratification note, or how the text was imported")


class ClauseVersionOut(BaseModel):
    version: int
    change: str = Field(description="imported, added, amended or repealed")
    text: str
    from_version: int
    to_version: int | None
    effective_from: datetime
    effective_to: datetime | None
    citation: str
    url: str
    provenance: ProvenanceOut
    credits: list[CreditOut]


class ClauseHistoryOut(BaseModel):
    number: str
    title: str
    section: str
    tags: list[str]
    in_force: bool
    versions: list[ClauseVersionOut] = Field(description="Newest first")


class ClauseChangeOut(BaseModel):
    number: str
    title: str
    change: str = Field(description="added, amended or repealed")
    old_text: str
    new_text: str


class DiffOut(BaseModel):
    from_version: int
    to_version: int
    changes: list[ClauseChangeOut]


class RatifyBody(BaseModel):
    note: str = Field(default="", max_length=2000)


class ReturnBody(BaseModel):
    reason: str = Field(max_length=2000)


class RatificationOut(BaseModel):
    proposal: int
    state: str
    published_version: VersionOut | None = Field(
        description="The new guidelines version, once every signature needed is there"
    )
    missing_signatures: list[str] = Field(description="moderator, rights_holder")


class ImportBody(BaseModel):
    markdown: str = Field(max_length=200_000)


class TagsBody(BaseModel):
    tags: list[str] = Field(max_length=20)


class TagsOut(BaseModel):
    number: str
    tags: list[str]
