"""Checks shared by every free-text field members type."""

from __future__ import annotations

from app import i18n
from app.errors import ValidationFailed
from app.i18n import N_
from app.i18n import gettext as _

#: Marked for the catalogs; translated where it is used (`gettext(NUL_PROBLEM)`).
NUL_PROBLEM = N_("Remove the NUL control character (it cannot be stored).")
REASON_MAX = 500


def public_reason(reason: str, *, hint: str = N_("Say why, for the public record.")) -> str:
    """A reason shown to everyone (hiding, flagging): required, short, storable; `hint`, in
    English and marked with `N_`, says what to write."""
    text = reason.strip()
    if not text:
        raise ValidationFailed(_("Give a reason."), fields={"reason": _(hint)})
    if len(text) > REASON_MAX:
        raise ValidationFailed(
            _("Please correct the reason."),
            fields={
                "reason": _(
                    "Use at most %(max)s characters (this has %(count)s).",
                    max=REASON_MAX,
                    count=i18n.number(len(text)),
                )
            },
        )
    if "\x00" in text:
        raise ValidationFailed(_("Please correct the reason."), fields={"reason": _(NUL_PROBLEM)})
    return text


def content_language(raw: str | None, problems: dict[str, str]) -> str:
    """The language new content is written in: the known code `raw` names, in its canonical
    spelling; none given, the writer's interface language. An unknown code is a problem of
    the `language` field."""
    return _named_language(raw, problems) or i18n.current()


def edited_language(raw: str | None, problems: dict[str, str], recorded: str | None) -> str | None:
    """The language of edited content: the one `raw` names, else the one recorded, even none
    (content written before languages were recorded): an edit never guesses one."""
    return _named_language(raw, problems) or recorded


def _named_language(raw: str | None, problems: dict[str, str]) -> str | None:
    if raw is None or not raw.strip():
        return None
    language = i18n.content_language(raw)
    if language is None:
        problems["language"] = i18n.gettext(
            "Choose one of the languages offered (codes: %(codes)s).",
            codes=", ".join(i18n.CONTENT_LANGUAGES),
        )
    return language
