"""The language of each request: chosen as it starts, refined once the member is known."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from app import i18n
from app.accounts.models import User
from app.config import Settings
from app.web.cookies import language_cookie_name


def request_language(connection: HTTPConnection, user: User | None) -> str:
    """The member's saved language, else the visitor's footer choice, else the browser's."""
    settings: Settings = connection.app.state.settings
    return i18n.choose(
        preference=user.locale if user is not None else None,
        cookie=connection.cookies.get(language_cookie_name(settings)),
        accept_language=connection.headers.get("accept-language"),
        default=settings.default_language,
    )


class LanguageMiddleware:
    """Starts each request in the visitor's language, before anything is said to them: the
    member's own preference replaces it when the request resolves who they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            i18n.begin(request_language(HTTPConnection(scope), None))
        await self.app(scope, receive, send)
