"""Opaque keyset-pagination cursors: the sort values of the last item seen, base64-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from app.errors import ValidationFailed
from app.i18n import gettext as _


def encode(*values: Any) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, *, size: int) -> list[Any] | None:
    """The values in `cursor`, or None for the first page; a malformed cursor is a field error."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise ValidationFailed(
            _("The cursor is not valid."),
            fields={"cursor": _("Use the next_cursor of a previous page.")},
        )
    return values
