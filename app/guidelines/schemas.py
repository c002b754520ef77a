"""JSON shapes of the guidelines API."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from app.guidelines.service import (
    IMPORT_MAX,
    NOTE_MAX,
    TAGS,
    TRANSLATION_TEXT_MAX,
    TRANSLATION_TITLE_MAX,
)
from app.text import REASON_MAX
from app.web.api import SPACE, trimmed


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


class TranslationOut(BaseModel):
    language: str = Field(examples=["ja"], description="The language of this translation")
    title: str
    text: str
    out_of_date: bool = Field(
        description="Made for an earlier version of the clause: the text may have changed since"
    )
    translated_version: int = Field(description="The clause version it translates (1, 2...)")
    updated_at: datetime
    translator: str | None = Field(description="The moderator who made it, by username")


class TranslationList(BaseModel):
    number: str
    language: str = Field(description="The language of the clause's authoritative text")
    items: list[TranslationOut] = Field(description="By language, newest version first")


class TranslationBody(BaseModel):
    title: str = Field(
        max_length=1000,
        description=f"1 to {TRANSLATION_TITLE_MAX} characters (after trimming).",
        json_schema_extra={"pattern": trimmed(TRANSLATION_TITLE_MAX)},
    )
    text: str = Field(
        max_length=100_000,
        description=f"Markdown, 1 to {TRANSLATION_TEXT_MAX:,} characters (after trimming).",
        json_schema_extra={"pattern": trimmed(TRANSLATION_TEXT_MAX)},
    )


class ClauseOut(BaseModel):
    number: str = Field(examples=["3.2"])
    title: str
    text: str
    language: str = Field(description="The language of `title` and `text`: the authoritative one")
    translation: TranslationOut | None = Field(
        default=None, description="Into the language asked for with ?lang=, when there is one"
    )
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
    lang: str | None = Field(description="The language translations were asked for in (?lang=)")
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
    language: str = Field(description="The language of `text`")
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
    translation: TranslationOut | None = Field(
        default=None,
        description="The current text's translation into the language asked for with ?lang=",
    )
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
    note: str = Field(
        default="",
        max_length=2000,
        description=f"Optional, public: at most {NOTE_MAX} characters (after trimming).",
        json_schema_extra={"pattern": trimmed(NOTE_MAX, min_length=0)},
    )


class ReturnBody(BaseModel):
    reason: str = Field(
        max_length=2000,
        description=f"Public: 1 to {REASON_MAX} characters (after trimming).",
        json_schema_extra={"pattern": trimmed(REASON_MAX)},
    )


class RatificationOut(BaseModel):
    proposal: int
    state: str
    published_version: VersionOut | None = Field(
        description="The new guidelines version, once every signature needed is there"
    )
    missing_signatures: list[str] = Field(description="moderator, rights_holder")


def _characters(codes: list[int]) -> str:
    """The code points as the inside of a character class, the characters themselves (which
    every regex engine reads alike, where escapes of those past U+FFFF differ)."""
    spans: list[list[int]] = []
    for code in codes:
        if spans and spans[-1][1] == code - 1:
            spans[-1][1] = code
        else:
            spans.append([code, code])
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in spans)


@cache
def rules_pattern() -> str:
    r"""The pattern of Markdown in which `service.parse_rules` finds at least one rule, no NUL.

    It finds one in any line with text that is neither a heading (one to three `#`, a space,
    then anything) nor an empty list item (digits and `.` or `)`, or `-`, `*`, `+`; then only
    spaces). Such a line opens with a space; or with a character other than `#`, a list
    marker or a digit (any decimal digit: Python's `\d`); or with `#` but is no heading; or
    with a list marker not followed by a space, or followed by text; or with digits not
    followed by `.` or `)` and a space, or followed by them and text. Lines end at "\n" or
    "\r\n".
    """
    digit = _characters([code for code in range(0x110000) if chr(code).isdecimal()])
    line_space = SPACE.replace(r"\n", "")
    space = f"[{line_space}]"
    ink = f"[^\\x00\\n{line_space}]"  # text: kept by strip()
    char = r"[^\x00\n]"  # anything within a line
    text = f"({ink}{char}*|{space}{char}*{ink}{char}*)"  # text, after spaces or not
    line = "|".join(
        [
            f"{space}{char}*{ink}{char}*",
            f"[^-#*+{digit}\\x00\\n{line_space}]{char}*",
            f"#{{4}}{char}*|#{{1,3}}({space}?|[^#\\x00\\n{line_space}]{char}*)",
            f"[-*+]{text}?",
            f"[{digit}]+([.)]{text}?|[^.){digit}\\x00\\n]{char}*)?",
        ]
    )
    return f"^([^\\x00]*\\n)?({line})(\\r?\\n[^\\x00]*)?$"


def _rules(schema: JsonDict) -> None:
    # Counted as sent, not trimmed.
    schema["maxLength"] = IMPORT_MAX
    schema["pattern"] = rules_pattern()


class ImportBody(BaseModel):
    markdown: str = Field(
        max_length=200_000,
        description=f"The rules, at most {IMPORT_MAX:,} characters: `## Section` headings with "
        "list items (or paragraphs) under them, each one a clause; at least one.",
        json_schema_extra=_rules,
    )


# A known tag, or a blank entry (skipped); spaces around a tag do not count.
KNOWN_TAG = f"^[{SPACE}]*({'|'.join(TAGS)})?[{SPACE}]*$"


class TagsBody(BaseModel):
    tags: list[str] = Field(
        max_length=20,
        description="Known tags: " + ", ".join(TAGS) + ". None: the clause applies to every work.",
        json_schema_extra={"items": {"type": "string", "pattern": KNOWN_TAG}},
    )


class TagsOut(BaseModel):
    number: str
    tags: list[str]
