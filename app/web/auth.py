"""Who is making the request: a browser session cookie or a personal access token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from starlette.responses import Response

from app import i18n
from app.accounts import service as accounts_service
from app.accounts.models import TokenScope, User
from app.config import Settings
from app.db import utcnow
from app.errors import NotAuthenticated, PermissionDenied
from app.i18n import gettext as _
from app.web.cookies import SAFE_METHODS, session_cookie_name


@dataclass(frozen=True)
class Auth:
    user: User | None
    via: Literal["session", "token", "anonymous"]
    session_token: str | None = None


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        session_cookie_name(settings),
        token,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.is_https,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.is_https,
    )


def current_auth(request: Request) -> Auth:
    """Resolve (once per request) the session or token behind the request."""
    cached: Auth | None = getattr(request.state, "auth", None)
    if cached is not None:
        return cached
    settings: Settings = request.app.state.settings
    db = request.state.db
    now = utcnow()
    auth = Auth(user=None, via="anonymous")
    # A reading request's transaction must stay read-only: on SQLite it cannot become a writer
    # once another request has written ("database is locked"). Its bookkeeping, the last use
    # of a token or session, is written in a short transaction of its own.
    write = request.method not in SAFE_METHODS
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = accounts_service.token_user(db, token=header[7:].strip(), now=now, write=write)
        if token is None:
            raise NotAuthenticated(_("The access token is not valid or was revoked."))
        if token.scope == TokenScope.read and write:
            raise PermissionDenied(
                _("This access token may only read; create one with write scope.")
            )
        if not write and accounts_service.touch_due(token.last_used_at, now):
            with request.app.state.session_factory(True) as writer:
                accounts_service.touch_token(writer, token_id=token.id, now=now)
                writer.commit()
        auth = Auth(user=token.user, via="token")
    else:
        cookie = request.cookies.get(session_cookie_name(settings))
        if cookie:
            row = accounts_service.session_row(
                db, token=cookie, now=now, settings=settings, write=write
            )
            if row is not None:
                if not write and accounts_service.touch_due(row.last_seen_at, now):
                    with request.app.state.session_factory(True) as writer:
                        accounts_service.touch_session(writer, session_id=row.id, now=now)
                        writer.commit()
                auth = Auth(user=row.user, via="session", session_token=cookie)
    request.state.auth = auth
    if auth.user is not None and auth.user.locale:
        i18n.set_language(auth.user.locale)
    return auth


def optional_user(request: Request) -> User | None:
    return current_auth(request).user


def required_user(request: Request) -> User:
    user = current_auth(request).user
    if user is None:
        raise NotAuthenticated(_("Please sign in first."))
    return user
