"""Shared pieces of the JSON API: the error shape, declared error responses, cursor paging."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, Field

from app.errors import ValidationFailed
from app.i18n import CONTENT_LANGUAGES
from app.i18n import gettext as _

API_PREFIX = "/api/v1"
# Ids are INTEGER columns, 32-bit on PostgreSQL: a larger id in a path or body is an input
# error (422), never a query the database refuses (a 500).
MAX_ID = 2**31 - 1
# Cursors carry ids too; a number past 64 bits would overflow the database driver.
MAX_CURSOR = 2**63 - 1


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

# Rules of free text that services check after trimming, with their own friendly messages:
# written into the schema (`json_schema_extra`) so that clients and the contract fuzzer see
# them, while the model keeps its generous caps.
#
# What the services' `str.strip()` takes off (every character `str.isspace()` names), spelled
# out: JSON Schema reads `\s` as ECMA-262 does, which leaves out \x1c-\x1f and \x85 (and adds
# \ufeff), so a reason of "\x1c" would pass a `\S` rule and still be blank to the service.
SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
BLANK = f"[{SPACE}]"
# A character trimming keeps; never NUL, which PostgreSQL cannot store.
INK = f"[^\\x00{SPACE}]"
NOT_NUL = r"[^\x00]"
# Not blank, and no NUL; or only no NUL.
NOT_BLANK = f"^{NOT_NUL}*{INK}{NOT_NUL}*$"
NO_NUL = r"^[^\x00]*$"
#: A content language as the API spells it (`app.i18n.CONTENT_LANGUAGES`, exactly).
CONTENT_LANGUAGE = "^(" + "|".join(CONTENT_LANGUAGES) + ")$"


def trimmed(max_length: int, *, min_length: int = 1) -> str:
    """The pattern of text a service trims and then counts: `min_length` to `max_length`
    characters once the spaces around it are taken off (`min_length=0`: blank is fine), no NUL.

    Exact both ways, whatever spaces surround the text: a value matches if and only if the
    service takes it. (A `maxLength` of the trimmed limit would refuse "a" and 500 spaces, which
    the service takes; the field's `maxLength` stays the model's generous cap.)
    """
    if not 0 <= min_length <= max_length or max_length < 1:
        raise ValueError(f"no text is {min_length} to {max_length} characters long")
    if max_length == 1:
        text = INK
    elif min_length <= 1:
        text = f"{INK}({NOT_NUL}{{0,{max_length - 2}}}{INK})?"
    else:
        text = f"{INK}{NOT_NUL}{{{min_length - 2},{max_length - 2}}}{INK}"
    if min_length == 0:
        text = f"({text})?"
    return f"^{BLANK}*{text}{BLANK}*$"


def exactly_one_of(
    *names: str, branches: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """JSON Schema of a body naming exactly one of the id fields `names`; `branches` adds, by
    name, what else the properties must be when that one is named.

    In each branch the others are left out (`false`) rather than null: the contract fuzzer
    writes known ids into every body that has the key, and turned `{"comment": 4, "work": null}`
    into a body naming two. The service still takes an explicit null for them, as a server may
    ignore a property its schema forbids.
    """
    extra = branches or {}
    return {
        "oneOf": [
            {
                "required": [name],
                "properties": {
                    **{other: {"type": "integer"} if other == name else False for other in names},
                    **extra.get(name, {}),
                },
            }
            for name in names
        ]
    }


def _number_as_sent(value: object) -> object:
    if isinstance(value, bool | str):
        raise ValueError("Use a whole number, not text or true/false.")
    return value


# A whole number as JSON Schema means it: 2.0 is the integer 2 (a fuzzer, or a client in a
# language with one number type, may send it so), but "2" and true are no numbers. Bounds go
# before it: `Annotated[int, Field(ge=1), NUMBER_ONLY]`.
NUMBER_ONLY = BeforeValidator(_number_as_sent)
WholeNumber = Annotated[int, NUMBER_ONLY]


UNREADABLE_BODY = {
    "description": "The body cannot be read: not UTF-8 JSON, or broken multipart data",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}


def declare_unreadable_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """Declare the 400 the framework answers when an operation's request body cannot be parsed."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation["responses"].setdefault("400", UNREADABLE_BODY)
    return document


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
            _("The cursor is not valid."),
            fields={"cursor": _("Use the next_cursor of a previous page.")},
        ) from None
    if not 0 <= value <= MAX_CURSOR:
        raise ValidationFailed(_("The cursor is not valid."), fields={"cursor": _("Out of range.")})
    return value


def next_cursor(ids: list[int], limit: int) -> str | None:
    return encode_cursor(ids[-1]) if len(ids) == limit and ids else None
