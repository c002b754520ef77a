"""ASGI middleware: one database transaction per request, security and cache headers, and
a limit on the size of request bodies."""

from __future__ import annotations

from collections.abc import Callable

from anyio import to_thread
from sqlalchemy.orm import Session
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.remembered import for_one_request
from app.web import caching
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
        session = for_one_request(self.session_factory()(scope["method"] not in SAFE_METHODS))
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
    """Security headers, and a Cache-Control, on every answer that lacks them."""

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
                headers.setdefault(
                    "cache-control",
                    caching.policy(
                        scope["method"],
                        scope["path"],
                        scope["query_string"].decode("latin-1"),
                        message["status"],
                    ),
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuses a request body larger than `max_bytes` with 413, before reading the rest.

    The largest thing anyone sends is a 2 MB preview image; without a limit of its own the
    app would read a body of any size before a service refused it. The check happens when
    the route first reads the body, so the refusal goes through the usual error pages: it
    is raised from the body stream, by the declared length or by what actually arrives.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise HTTPException(413, self.message)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self.message)
            return message

        await self.app(scope, limited_receive, send)

    @property
    def message(self) -> str:
        return i18n.gettext(
            "The request is larger than %(size)s MB.", size=self.max_bytes // (1024 * 1024)
        )
