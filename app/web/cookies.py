"""The names every web module agrees on: safe methods and the site's cookies."""

from __future__ import annotations

from app.config import Settings

#: Methods that change nothing: no CSRF token, no write lock, read-only tokens allowed.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def session_cookie_name(settings: Settings) -> str:
    # The __Host- prefix pins the cookie to this exact host over https.
    return "__Host-nf_session" if settings.is_https else "nf_session"


def csrf_cookie_name(settings: Settings) -> str:
    return "__Host-nf_csrf" if settings.is_https else "nf_csrf"


def flash_cookie_name(settings: Settings) -> str:
    return "__Host-nf_flash" if settings.is_https else "nf_flash"


def language_cookie_name(settings: Settings) -> str:
    """A visitor's choice of language from the footer (members' is saved on their account)."""
    return "__Host-nf_lang" if settings.is_https else "nf_lang"
