"""ASGI middleware: one database transaction per request, and security headers."""

from __future__ import annotations

from collections.abc import Callable

from anyio import to_thread
from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.cookies import SAFE_METHODS

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class DBSessionMiddleware:
    """Opens the request's session and commits it before the response starts.

    Committing before the first byte is sent means a client never sees a success that was
    not stored. Server errors and handled domain errors roll back instead.
    """

    def __init__(self, app: ASGIApp, session_factory: Callable[[], Callable[[bool], Session]]):
        self.app = app
        self.session_factory = session_factory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = self.session_factory()(scope["method"] not in SAFE_METHODS)
        state = scope.setdefault("state", {})
        state["db"] = session
        finished = False

        async def send_after_commit(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start" and not finished:
                finished = True
                if message["status"] >= 500 or state.get("db_rollback"):
                    await to_thread.run_sync(session.rollback)
                else:
                    await to_thread.run_sync(session.commit)
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        finally:
            await to_thread.run_sync(session.close)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
