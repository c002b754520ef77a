"""Shared pieces of the JSON API: the error shape, declared error responses, cursor paging."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from app.errors import ValidationFailed

API_PREFIX = "/api/v1"
MAX_ID = 2**63 - 1


class ErrorDetail(BaseModel):
    code: str = Field(examples=["validation_failed"])
    message: str = Field(examples=["Please correct the marked fields."])
    fields: dict[str, str] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the error statuses an operation may answer."""
    descriptions = {
        400: "Bad request",
        401: "Not signed in, or the token is not valid",
        403: "Not allowed",
        404: "Not found",
        409: "Conflicts with the current state",
        422: "Invalid input; `fields` says which and why",
        429: "Too many requests",
    }
    return {
        status: {"model": ErrorResponse, "description": descriptions[status]} for status in statuses
    }


# Every operation can meet these: bad token, scope, CSRF, or malformed input.
COMMON_ERRORS = error_responses(401, 403, 422, 429)

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (at most 100).")]
Cursor = Annotated[
    str | None, Query(description="The `next_cursor` of the previous page.", max_length=64)
]


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = int(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "The cursor is not valid.", fields={"cursor": "Use the next_cursor of a previous page."}
        ) from None
    # Ids are 64-bit at most; a larger number would overflow the database driver.
    if not 0 <= value <= MAX_ID:
        raise ValidationFailed("The cursor is not valid.", fields={"cursor": "Out of range."})
    return value


def next_cursor(ids: list[int], limit: int) -> str | None:
    return encode_cursor(ids[-1]) if len(ids) == limit and ids else None
