"""One-time messages carried across a redirect in a small signed cookie."""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.responses import Response

from app.config import Settings
from app.web.cookies import flash_cookie_name

Level = Literal["success", "info", "error"]


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.secret, salt="flash")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def add(request: Request, response: Response, text: str, level: Level = "success") -> None:
    messages = [*pending(request), {"level": level, "text": text}]
    settings = _settings(request)
    response.set_cookie(
        flash_cookie_name(settings),
        _serializer(request).dumps(messages),
        httponly=True,
        samesite="lax",
        secure=settings.is_https,
        path="/",
    )


def pending(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(flash_cookie_name(_settings(request)))
    if not raw:
        return []
    try:
        messages = _serializer(request).loads(raw)
    except BadSignature:
        return []
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict)][:5]


def consume(request: Request, response: Response) -> None:
    settings = _settings(request)
    name = flash_cookie_name(settings)
    if name in request.cookies:
        # With the flags it was set with: a browser ignores a __Host- cookie without Secure.
        response.delete_cookie(
            name, path="/", httponly=True, samesite="lax", secure=settings.is_https
        )
