"""The reader's language: which one, the catalogs that translate the interface into it, and
dates, numbers and relative times written its way (Babel).

The language of a request is the member's saved preference, else the visitor's choice in the
footer (a cookie), else the browser's `Accept-Language`, else the site default. A middleware
chooses it from the cookie and the header when the request starts (`begin`); once the request
knows who is signing in, their preference replaces it (`set_language`). It lives in a context
variable holding one `Choice` per request, which the threads serving the request share, so
that routes, services and templates translate into it without passing it around.

Catalogs live in `app/locales/<lang>/LC_MESSAGES/messages.po`, English being the language the
interface is written in. `make compile-messages` compiles them to `.mo` files; a catalog
whose `.mo` is missing or older than its `.po` is compiled in memory on first use, so a fresh
checkout works either way.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.dates import DateTimePattern, format_timedelta, match_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALES_DIR = Path(__file__).parent / "locales"
#: The languages of the interface, in the order the switcher offers them.
LANGUAGES = {"en": "English", "ja": "日本語"}
DEFAULT = "en"
DOMAIN = "messages"


class Choice:
    """The language of one request: a mutable box, so that a thread serving the request
    (which runs in a copy of its context) can change it for the rest of the request."""

    def __init__(self, language: str) -> None:
        self.language = language


_current: ContextVar[Choice | None] = ContextVar("language", default=None)


def supported(code: str | None) -> str | None:
    """`code` if the interface speaks it (`ja-JP` counts as `ja`), else None."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The best of our languages for an `Accept-Language` header, by its q-values."""
    if not header:
        return None
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            weighted.append((-quality, position, tag.strip()))
    preferred = [tag.replace("-", "_") for _, _, tag in sorted(weighted)]
    found = negotiate_locale(preferred, list(LANGUAGES), sep="_")
    return supported(found) if found else None


def choose(
    *,
    preference: str | None,
    cookie: str | None,
    accept_language: str | None,
    default: str = DEFAULT,
) -> str:
    """The language of a request, from what the reader said most explicitly."""
    return (
        supported(preference)
        or supported(cookie)
        or from_accept_language(accept_language)
        or supported(default)
        or DEFAULT
    )


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> NullTranslations:
    """The catalog of `language`: its `.mo`, or its `.po` compiled in memory when that is
    newer; English untranslated strings stand for themselves."""
    po = po_path(language)
    mo = po.with_suffix(".mo")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as file:
            return Translations(file, domain=DOMAIN)
    if not po.is_file():
        return NullTranslations()
    with po.open("rb") as file:
        catalog = read_po(file, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def begin(language: str) -> None:
    """Start a request (or a job) in `language`: a new choice of its own."""
    _current.set(Choice(supported(language) or DEFAULT))


def set_language(language: str) -> None:
    """Make `language` the language of the rest of this request (or context)."""
    choice = _current.get()
    if choice is None:
        begin(language)
    else:
        choice.language = supported(language) or DEFAULT


def current() -> str:
    choice = _current.get()
    return choice.language if choice is not None else DEFAULT


def chosen() -> str | None:
    """The language the page being answered speaks; None outside a request (a worker, the
    command line), where only a saved or the site's default language applies."""
    choice = _current.get()
    return choice.language if choice is not None else None


@contextmanager
def speaking(*languages: str | None) -> Iterator[str]:
    """Translate into the first of `languages` the interface speaks (else the default) inside
    the block, then back into whatever was spoken before: for what is written for someone
    other than the reader, such as a mail in its recipient's language
    (`speaking(user.locale, settings.default_language)`)."""
    chosen = next((found for code in languages if (found := supported(code))), DEFAULT)
    token = _current.set(Choice(chosen))
    try:
        yield current()
    finally:
        _current.reset(token)


def gettext(message: str, **variables: object) -> str:
    """`message` in the current language, with `%(name)s` placeholders filled in."""
    text = translations(current()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """The form for `n`, with `%(num)d` and the other placeholders filled in."""
    text = translations(current()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def pgettext(context: str, message: str, **variables: object) -> str:
    text = translations(current()).pgettext(context, message)
    return text % variables if variables else text


def template_callables() -> dict[str, Callable[..., str]]:
    """For Jinja's new-style gettext, which fills the placeholders in itself (escaping the
    values): the translations alone."""
    return {
        "gettext": lambda message: translations(current()).gettext(message),
        "ngettext": lambda singular, plural, n: translations(current()).ngettext(
            singular, plural, n
        ),
        "pgettext": lambda context, message: translations(current()).pgettext(context, message),
    }


def N_(message: str) -> str:
    """Marks a string for the catalogs (the name gettext tools look for) without translating
    it: for tables built at import time, translated where they are shown (`_(label)`)."""
    return message


def locale() -> Locale:
    return _locale(current())


@cache
def _locale(code: str) -> Locale:
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT)


@cache
def _skeleton_pattern(skeleton: str, code: str) -> DateTimePattern:
    """The locale's pattern for a skeleton: Babel matches skeletons anew on every call, which
    cost a page with 30 dates a tenth of its time."""
    found = _locale(code).datetime_skeletons
    pattern: DateTimePattern = found[
        skeleton if skeleton in found else match_skeleton(skeleton, found)
    ]
    return pattern


def _formatted(skeleton: str, value: datetime) -> str:
    code = current()
    return _skeleton_pattern(skeleton, code).apply(value, _locale(code))


def date(value: datetime) -> str:
    """A day (UTC), written the reader's way: "Dec 5, 2026", "2026年12月5日"."""
    return _formatted("yMMMd", value.astimezone(UTC))


def date_time(value: datetime) -> str:
    """A moment, in UTC and saying so: "Dec 5, 2026 09:05 UTC", "2026年12月5日 9:05 UTC"."""
    moment = value.astimezone(UTC)
    return f"{date(moment)} {_formatted('Hm', moment)} UTC"


def number(value: float) -> str:
    return format_decimal(value, locale=locale())


def relative(now: datetime, when: datetime) -> str:
    """`when` seen from `now` in words: "3 days ago", "in 5 hours", "3日前", "just now"."""
    delta: timedelta = when - now
    if abs(delta.total_seconds()) < 60:
        return gettext("in a moment") if delta.total_seconds() > 0 else gettext("just now")
    return format_timedelta(
        delta, granularity="minute", threshold=1, add_direction=True, locale=locale()
    )


def choices() -> Iterable[tuple[str, str]]:
    """(code, name in its own language) of each language of the interface."""
    return LANGUAGES.items()


#: The languages content may be written in (BCP 47 tags): wider than the interface's, since a
#: comment in Korean or a translation of a clause into Spanish needs no catalog. The order is
#: the order forms offer them in, after the reader's own.
CONTENT_LANGUAGES = (
    "en",
    "ja",
    "zh-Hans",
    "zh-Hant",
    "ko",
    "es",
    "pt",
    "fr",
    "de",
    "it",
    "ru",
    "id",
    "th",
    "vi",
)


def content_language(code: str | None) -> str | None:
    """The known content language `code` names, in its canonical spelling, else None:
    `JA` and `ja` are `ja`, `zh-hans` is `zh-Hans`."""
    if not code:
        return None
    wanted = code.strip().replace("_", "-").lower()
    return next((tag for tag in CONTENT_LANGUAGES if tag.lower() == wanted), None)


# Bounded: a code may come from a request (a translation's address) and is looked up as is.
@lru_cache(maxsize=512)
def _language_name(code: str, reader: str) -> str:
    try:
        name = Locale.parse(code, sep="-").get_display_name(Locale.parse(reader))
    except (UnknownLocaleError, ValueError):
        return code
    return name or code


def language_name(code: str) -> str:
    """`code`'s name in the reader's language: "Japanese", "日本語", "中国語 (簡体字)"."""
    return _language_name(code, current())


def content_language_choices() -> list[tuple[str, str]]:
    """(code, name) of every content language, the reader's own first, for a select."""
    mine = current()
    ordered = sorted(CONTENT_LANGUAGES, key=lambda tag: tag != mine)
    return [(tag, language_name(tag)) for tag in ordered]
