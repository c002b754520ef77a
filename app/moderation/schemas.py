"""JSON shapes of the moderation API: flags, the queue and its actions, warnings,
suspensions, appeals, members' records and the public moderation log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from app.moderation.appeals import MESSAGE_MAX as APPEAL_MAX
from app.moderation.members import MESSAGE_MAX as WARNING_MAX
from app.text import REASON_MAX
from app.web.api import MAX_ID, NUMBER_ONLY, exactly_one_of, trimmed

CommentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The comment's id.")]
WarningId = Annotated[int, Path(ge=1, le=MAX_ID, description="The warning's id.")]
AppealId = Annotated[int, Path(ge=1, le=MAX_ID, description="The appeal's id.")]
ItemState = Literal["visible", "pending_review", "removed", "deleted"]

# The services' rules of a public reason (app.text.public_reason), counted after trimming:
# required, or one the moderator may leave blank.
REASON = trimmed(REASON_MAX)
OPTIONAL_REASON = trimmed(REASON_MAX, min_length=0)


class FlagCreate(BaseModel):
    reason: str = Field(
        max_length=5000,
        description="What is wrong with it: 1 to 500 characters (after trimming).",
        examples=["Sexualised depiction of a character presented as 16."],
        json_schema_extra={"pattern": REASON},
    )


class FlagOut(BaseModel):
    """A flag as its author sees it after raising it."""

    id: int
    community: str
    comment: int | None = Field(description="The flagged comment's id, or null.")
    work: int | None = Field(description="The flagged work's id, or null.")
    proposal: int | None = Field(default=None, description="The flagged proposal's id, or null.")
    reason: str
    created_at: datetime
    item_state: ItemState = Field(
        description="The item's state now: `pending_review` once enough members flagged it "
        "(a proposal is never hidden: always `visible`)."
    )


class FlagEntry(BaseModel):
    """One open flag in the queue."""

    id: int
    flagger: str | None = Field(description="Username of who flagged (null if deleted).")
    reason: str
    created_at: datetime


class FlaggedItem(BaseModel):
    kind: Literal["comment", "work", "proposal"]
    comment: int | None
    work: int | None
    proposal: int | None = Field(
        description="The flagged proposal, or for a comment the proposal of its thread."
    )
    page_url: str = Field(description="Where the item is shown in context.")
    title: str = Field(
        description="A work's or proposal's title, or the start of a comment's text."
    )
    text: str = Field(
        description="A comment's Markdown text, a work's address, or a proposal's summary."
    )
    author: str | None = Field(
        description="Who wrote the comment or the proposal, or registered the work."
    )
    state: ItemState
    locked: bool = Field(default=False, description="For a proposal: its thread is locked.")
    flag_count: int
    first_flagged_at: datetime
    flags: list[FlagEntry]


class FlagQueue(BaseModel):
    items: list[FlaggedItem]
    next_cursor: str | None


HIDE_OR_DISMISS = {"action": {"enum": ["hide", "dismiss"]}}


class ResolveIn(BaseModel):
    """Exactly one of `comment`, `work` and `proposal`; `hide` a comment or work, `lock` a
    proposal, or `dismiss` the flags of any; a reason to hide or lock."""

    model_config = ConfigDict(
        json_schema_extra={
            **exactly_one_of(
                "comment",
                "work",
                "proposal",
                branches={
                    "comment": HIDE_OR_DISMISS,
                    "work": HIDE_OR_DISMISS,
                    "proposal": {"action": {"enum": ["lock", "dismiss"]}},
                },
            ),
            "anyOf": [
                {"properties": {"action": {"const": "dismiss"}}},
                {
                    "required": ["reason"],
                    "properties": {
                        "action": {"enum": ["hide", "lock"]},
                        "reason": {"pattern": REASON},
                    },
                },
            ],
        }
    )

    comment: int | None = Field(default=None, ge=1, le=MAX_ID)
    work: int | None = Field(default=None, ge=1, le=MAX_ID)
    proposal: int | None = Field(default=None, ge=1, le=MAX_ID)
    action: Literal["hide", "dismiss", "lock"] = Field(
        description="`hide` (a comment or work): hide it with the public `reason`, and close "
        "its flags as hidden. `lock` (a proposal): lock its thread with the public `reason`. "
        "`dismiss`: close its flags as dismissed; an item hidden only by flags (pending "
        "review) is shown again."
    )
    reason: str = Field(
        default="",
        max_length=5000,
        description="Required for `hide` and `lock` (1 to 500 characters after trimming), "
        "optional for `dismiss`: public, in the moderation log (and in a hidden item's place).",
        json_schema_extra={"pattern": OPTIONAL_REASON},
    )


class ResolutionOut(BaseModel):
    action: Literal["hide", "dismiss", "lock"]
    resolved: int = Field(description="How many open flags this closed.")
    restored: bool = Field(description="Whether a dismissal put the item back in view.")
    state: ItemState = Field(description="The item's state now.")


ItemRef = Annotated[int | None, Field(default=None, ge=1, le=MAX_ID)]


class ReasonIn(BaseModel):
    reason: str = Field(
        max_length=5000,
        description="The public reason (1 to 500 characters after trimming), for the "
        "moderation log.",
        json_schema_extra={"pattern": REASON},
    )


class OptionalReasonIn(BaseModel):
    reason: str = Field(
        default="",
        max_length=5000,
        description="An optional public reason (at most 500 characters after trimming), for "
        "the moderation log.",
        json_schema_extra={"pattern": OPTIONAL_REASON},
    )


class RestoreIn(BaseModel):
    """Exactly one of `comment` and `work` (of this community)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("comment", "work"))

    comment: ItemRef = None
    work: ItemRef = None
    reason: str = Field(
        default="",
        max_length=5000,
        description="Optional public reason (at most 500 characters after trimming), for the "
        "moderation log.",
        json_schema_extra={"pattern": OPTIONAL_REASON},
    )


class ItemStateOut(BaseModel):
    comment: int | None
    work: int | None
    state: ItemState


class WarningIn(BaseModel):
    message: str = Field(
        max_length=20000,
        description=f"The warning itself, 1 to {WARNING_MAX:,} characters (after trimming): "
        "private, for the member only.",
        examples=["Please argue with the proposal, not with the people who wrote it."],
        json_schema_extra={"pattern": trimmed(WARNING_MAX)},
    )
    reason: str = Field(
        default="",
        max_length=5000,
        description="Optional public reason for the moderation log (which does not name the "
        "member), at most 500 characters after trimming.",
        json_schema_extra={"pattern": OPTIONAL_REASON},
    )


class WarningOut(BaseModel):
    id: int
    community: str
    member: str
    moderator: str | None
    message: str = Field(description="Private: only the member and moderators read it.")
    reason: str
    created_at: datetime
    acknowledged_at: datetime | None


class WarningList(BaseModel):
    items: list[WarningOut]


class SuspendIn(BaseModel):
    days: Annotated[int, Field(ge=1, le=365), NUMBER_ONLY] = Field(
        description="How long, in days (1 to 365)."
    )
    reason: str = Field(
        max_length=5000,
        description="Public reason (1 to 500 characters after trimming), in the log.",
        json_schema_extra={"pattern": REASON},
    )


class SuspensionOut(BaseModel):
    id: int
    community: str
    member: str
    moderator: str | None
    reason: str
    created_at: datetime
    ends_at: datetime
    active: bool = Field(description="In force now: not lifted, and not over.")
    lifted_at: datetime | None
    lifted_by: str | None
    lift_reason: str


class SuspensionList(BaseModel):
    items: list[SuspensionOut]


class AppealIn(BaseModel):
    """Exactly one of `comment`, `work` (yours, hidden by a moderator) and `suspension`
    (yours, in force)."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("comment", "work", "suspension"))

    comment: ItemRef = None
    work: ItemRef = None
    suspension: ItemRef = None
    message: str = Field(
        max_length=20000,
        description=f"Why it should be undone, 1 to {APPEAL_MAX:,} characters (after trimming): "
        "for the moderators only.",
        json_schema_extra={"pattern": trimmed(APPEAL_MAX)},
    )


class AppealOut(BaseModel):
    id: int
    community: str
    appellant: str
    kind: Literal["comment", "work", "suspension"]
    comment: int | None
    work: int | None
    suspension: int | None
    page_url: str | None = Field(description="The appealed comment or work in context.")
    message: str = Field(description="Private: the appellant and moderators read it.")
    created_at: datetime
    decision: Literal["granted", "denied"] | None
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str


class AppealList(BaseModel):
    items: list[AppealOut]
    next_cursor: str | None


class DecisionIn(BaseModel):
    decision: Literal["grant", "deny"] = Field(
        description="`grant`: the comment or work is shown again, or the suspension lifted. "
        "`deny`: it stays as it is."
    )
    reason: str = Field(
        max_length=5000,
        description="Public reason (1 to 500 characters after trimming): told to the "
        "appellant, and logged.",
        json_schema_extra={"pattern": REASON},
    )


class HiddenItemOut(BaseModel):
    kind: Literal["comment", "work"]
    id: int
    page_url: str
    hidden_at: datetime | None
    reason: str = Field(description="The public reason shown in its place.")
    appeal: int | None = Field(description="The appeal against this hide, if any.")


class LinkOut(BaseModel):
    id: int
    title: str
    url: str


class LogEntryOut(BaseModel):
    """One moderator action: who, when, what, and the public reason."""

    id: int
    action: str = Field(
        description="role_changed, comment_hidden, comment_restored, work_hidden, "
        "work_restored, proposal_locked, proposal_unlocked, objection_ruled, "
        "proposal_ratified, proposal_returned, member_warned, member_suspended, "
        "suspension_lifted, appeal_granted or appeal_denied."
    )
    summary: str = Field(description="The action in words: “hid a comment”.")
    moderator: str | None
    member: str | None = Field(
        description="The member concerned, where that is public (roles, suspensions)."
    )
    proposal: LinkOut | None
    comment: LinkOut | None
    work: LinkOut | None
    reason: str
    detail: str = Field(description="A public detail: “fan → creator”, “until …”.")
    created_at: datetime


class LogList(BaseModel):
    items: list[LogEntryOut]
    next_cursor: str | None


class MemberRecordOut(BaseModel):
    """A member's moderation record in one community."""

    member: str
    role: str | None = Field(description="Their role, or null if they are not a member.")
    suspended_until: datetime | None = Field(description="While a suspension is in force.")
    warnings: list[WarningOut]
    suspensions: list[SuspensionOut]
    appeals: list[AppealOut]
    hidden: list[HiddenItemOut] = Field(description="Their comments and works moderators hid.")
    log: list[LogEntryOut] = Field(
        description="Log entries about them (moderators only; empty in your own record)."
    )
