"""Idempotency keys on the web: the API's header, the forms' hidden field, replayed answers."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Header
from markupsafe import Markup
from starlette.responses import JSONResponse

from app import idempotency

KeyHeader = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        min_length=1,
        max_length=idempotency.KEY_MAX,
        pattern=idempotency.KEY_PATTERN,
        description=(
            "A key of your choice (1 to 100 visible ASCII characters, e.g. a UUID), new for "
            "every write. Send the same key again when a request's answer was lost: the write "
            "is done once and the first answer comes back (with `Idempotent-Replayed: true`). "
            "The same key with a different request is refused (422, "
            "`idempotency_key_reused`). Keys are kept for 24 hours."
        ),
    ),
]


def replay(stored: idempotency.Stored) -> JSONResponse:
    """The first answer to a key, again."""
    return JSONResponse(
        stored.response,
        status_code=stored.status_code,
        headers={"Idempotent-Replayed": "true"},
    )


def form_key(raw: str) -> str | None:
    """The key a form carried; a missing or mangled one means a write without a key."""
    return raw if idempotency.valid_key(raw) else None


def form_field() -> Markup:
    """A hidden field with a new key: each rendered form is one write, retried as one."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        idempotency.FORM_FIELD, secrets.token_urlsafe(18)
    )
