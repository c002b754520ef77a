"""Small response helpers for routes: post/redirect/get with an optional flash message."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from starlette.responses import RedirectResponse

from app.errors import Conflict, DomainError, RateLimited, ValidationFailed
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


def refusal_message(exc: DomainError) -> str:
    """A refusal in one sentence, its field problems appended (each once)."""
    detail = " ".join(exc.fields.values()) if exc.fields else ""
    return exc.message if detail in exc.message else f"{exc.message} {detail}".strip()


def after_action(
    request: Request,
    url: str,
    run: Callable[[], object],
    success: str,
    *,
    level: flash.Level = "success",
    refusals: tuple[type[DomainError], ...] = (Conflict, ValidationFailed),
) -> RedirectResponse:
    """Run a one-button change, then go to `url` with its outcome as a flash message.

    A refusal (by default: a conflict with the item's state, or a bad field) rolls the
    request back and comes back as an error message, not an error page. A rate limit is never
    such a refusal: it answers 429 with Retry-After (an error page that says when to try
    again), which a redirect would hide from the browser and from whatever watches the site.
    """
    try:
        run()
    except RateLimited:
        request.state.db_rollback = True
        raise
    except refusals as exc:
        request.state.db_rollback = True
        return see_other(request, url, message=refusal_message(exc), level="error")
    return see_other(request, url, message=success, level=level)
