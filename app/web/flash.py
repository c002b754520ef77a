"""One-time messages carried across a redirect in a small signed cookie."""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.responses import Response

COOKIE = "nf_flash"
Level = Literal["success", "info", "error"]


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.settings.secret, salt="flash")


def add(request: Request, response: Response, text: str, level: Level = "success") -> None:
    messages = [*pending(request), {"level": level, "text": text}]
    response.set_cookie(
        COOKIE,
        _serializer(request).dumps(messages),
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.is_https,
        path="/",
    )


def pending(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(COOKIE)
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
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path="/")
