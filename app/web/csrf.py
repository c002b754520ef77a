"""CSRF protection: a random cookie, a form/header token derived from it, and an Origin check.

Every unsafe request made with cookies must carry `HMAC(secret, cookie)` as the `csrf_token`
form field or the `X-CSRF-Token` header; requests authenticated by a Bearer token carry no
cookies' authority and are exempt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings
from app.errors import PermissionDenied
from app.i18n import gettext as _
from app.web.cookies import SAFE_METHODS, csrf_cookie_name, session_cookie_name

FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"


class CSRFCookieMiddleware:
    """Gives every browser a CSRF secret cookie, set on its first response."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.name = csrf_cookie_name(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        current = HTTPConnection(scope).cookies.get(self.name)
        fresh = None if current else secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_secret"] = current or fresh

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and fresh:
                cookie: SimpleCookie = SimpleCookie()
                cookie[self.name] = fresh
                cookie[self.name]["path"] = "/"
                cookie[self.name]["httponly"] = True
                cookie[self.name]["samesite"] = "Lax"
                if self.settings.is_https:
                    cookie[self.name]["secure"] = True
                MutableHeaders(scope=message).append("set-cookie", cookie.output(header="").strip())
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def token_for(request: Request) -> str:
    """The token that this browser's forms must send back."""
    return token_from(request.app.state.settings, request.state.csrf_secret)


def token_from(settings: Settings, csrf_secret: str) -> str:
    """The token for the browser holding `csrf_secret` (64 hexadecimal digits)."""
    key = settings.secret.encode()
    return hmac.new(key, csrf_secret.encode(), hashlib.sha256).hexdigest()


def _origin_allowed(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        # Older clients send no Origin; the token alone decides for them.
        return True
    allowed = {request.app.state.settings.base_origin}
    host = request.headers.get("host")
    if host:
        allowed.add(f"{request.url.scheme}://{host}")
    return origin in allowed


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def csrf_protect(request: Request) -> None:
    """Refuse an unsafe cookie-authenticated request lacking a valid token or from another site."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    settings = request.app.state.settings
    if _is_api(request) and session_cookie_name(settings) not in request.cookies:
        # No session, no ambient authority to abuse: the API answers 401 on its own.
        return
    if not _origin_allowed(request):
        raise PermissionDenied(_("This request came from another site and was refused."))
    sent = request.headers.get(HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(FORM_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, token_for(request)):
        raise PermissionDenied(
            _("The form expired or was sent from elsewhere. Reload the page and try again.")
        )
