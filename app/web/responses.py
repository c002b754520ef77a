"""Small response helpers for routes: post/redirect/get with an optional flash message."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import RedirectResponse

from app.web import flash


def see_other(
    request: Request, url: str, *, message: str | None = None, level: flash.Level = "success"
) -> RedirectResponse:
    """Answer a successful POST with 303 See Other, so a reload does not send it twice."""
    response = RedirectResponse(url, status_code=303)
    if message:
        flash.add(request, response, message, level)
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths may be a redirect target after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
