"""Checks shared by every free-text field members type."""

from __future__ import annotations

from app.errors import ValidationFailed

NUL_PROBLEM = "Remove the NUL control character (it cannot be stored)."
REASON_MAX = 500


def public_reason(reason: str, *, hint: str = "Say why, for the public record.") -> str:
    """A reason shown to everyone (hiding, flagging): required, short, storable."""
    text = reason.strip()
    if not text:
        raise ValidationFailed("Give a reason.", fields={"reason": hint})
    if len(text) > REASON_MAX:
        raise ValidationFailed(
            "Please correct the reason.",
            fields={"reason": f"Use at most {REASON_MAX} characters (this has {len(text):,})."},
        )
    if "\x00" in text:
        raise ValidationFailed("Please correct the reason.", fields={"reason": NUL_PROBLEM})
    return text
