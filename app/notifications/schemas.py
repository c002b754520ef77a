"""JSON shapes of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.notifications.models import Delivery, Kind
from app.web.api import MAX_ID

#: An id as input: outside the database's range it is an input error, never a driver failure.
NotificationIdIn = Annotated[int, Field(ge=1, le=MAX_ID)]


class NotificationOut(BaseModel):
    id: int
    kind: Kind
    text: str = Field(
        description="One sentence, in the reader's language (notifications older than "
        "translated ones keep the English they were written in)."
    )
    url: str = Field(description="Where it leads: an absolute address on this site.")
    community: str | None = Field(description="The community's slug, if it is about one.")
    actor: str | None = Field(description="Who acted (a username), when it may be told.")
    created_at: datetime
    read_at: datetime | None
    read: bool


class NotificationList(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


class UnreadOut(BaseModel):
    unread: int = Field(description="How many of your notifications are unread.")


class MarkRead(BaseModel):
    """Either `ids`, or `all` (optionally only up to the id `up_to`, the newest you saw)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["ids"], "properties": {"ids": {"minItems": 1}}},
                {"required": ["all"], "properties": {"all": {"const": True}}},
            ]
        }
    )

    ids: list[NotificationIdIn] = Field(
        default_factory=list,
        max_length=100,
        description="Notifications to mark read; all must be yours.",
    )
    # Strict: the schema says boolean, so 0 or "no" is refused rather than read as false.
    all: bool = Field(
        default=False, strict=True, description="Mark every unread notification read."
    )
    up_to: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="With `all`: only notifications up to this id (those you have seen).",
    )


class MarkedOut(BaseModel):
    marked: int = Field(description="How many notifications this marked read.")
    unread: int = Field(description="How many remain unread.")


class KindOut(BaseModel):
    kind: Kind
    label: str


class PreferencesIn(BaseModel):
    delivery: Delivery = Field(
        description="`in_app` (no mail), `email` (a mail per notification, at once) or "
        "`digest` (one mail a day)."
    )
    muted_kinds: list[Kind] = Field(
        default_factory=list,
        max_length=len(Kind),
        description="Kinds never mailed, whatever the delivery (shown in the app all the same).",
    )


class PreferencesOut(BaseModel):
    delivery: Delivery
    muted_kinds: list[Kind]
    kinds: list[KindOut] = Field(description="Every kind of notification, with its label.")
    digest_hour_utc: int = Field(description="The hour (UTC) from which daily digests go out.")
    email_verified: bool = Field(
        description="Notification mail goes only to a verified address; false means none is sent."
    )
