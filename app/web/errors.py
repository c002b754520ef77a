"""Exception handlers: JSON errors under /api/, friendly pages everywhere else."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import compile_path

from app.errors import DomainError, NotAuthenticated, RateLimited
from app.i18n import N_, gettext
from app.web.auth import Auth
from app.web.responses import safe_next
from app.web.templating import is_htmx, render

log = logging.getLogger(__name__)

#: Marked for the catalogs; translated where shown (`title`).
TITLES = {
    400: N_("Bad request"),
    401: N_("Please sign in"),
    403: N_("Not allowed"),
    404: N_("Page not found"),
    405: N_("Not allowed"),
    409: N_("That clashes with the current state"),
    413: N_("Too large"),
    422: N_("Something in the request is not right"),
    429: N_("Slow down"),
    500: N_("Something went wrong"),
}
CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_failed",
    429: "rate_limited",
    500: "server_error",
}


def title(status: int) -> str:
    """A status in words, in the reader's language."""
    return gettext(TITLES[status]) if status in TITLES else gettext("Error")


def is_api(request: Request) -> bool:
    """Every path under /api/ answers JSON, even one no version knows."""
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def json_error(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def error_page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    response = render(
        request,
        "errors/error.html",
        {"status": status, "title": title(status), "message": message},
        status_code=status,
    )
    response.headers.update(headers or {})
    return response


def _sign_in(then: str) -> str:
    return f"/login?next={quote(then)}"


def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    # Whatever the service did before it refused must not be stored.
    request.state.db_rollback = True
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if is_api(request):
        return json_error(exc.status, exc.code, exc.message, exc.fields, headers)
    if isinstance(exc, NotAuthenticated) and request.method == "GET":
        if is_htmx(request):
            # A part of a page (a reply box's form) asked for after the session ended: the
            # whole page goes to sign in, and comes back after. (A refused POST keeps its
            # page as it is, with what was typed.)
            page = safe_next(urlsplit(request.headers.get("hx-current-url", "")).path)
            return Response(status_code=401, headers={"HX-Redirect": _sign_in(page)})
        return RedirectResponse(_sign_in(request.url.path), status_code=303)
    return error_page(request, exc.status, exc.message, headers)


def allowed_methods(request: Request) -> str:
    """Every method some route answers at this path (Starlette names only the first route's)."""
    path = request.url.path
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.methods and route.path and compile_path(route.path)[0].match(path):
            methods |= route.methods
    return ", ".join(sorted(methods))


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    # A detail a route wrote is its own (English, for the few routes that raise one).
    detail = exc.detail if isinstance(exc.detail, str) else title(status)
    headers = exc.headers
    if status == 404:
        detail = gettext("There is nothing at this address.")
    if status == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    if is_api(request):
        return json_error(status, CODES.get(status, "error"), detail, headers=headers)
    return error_page(request, status, detail, headers)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "request"


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields: dict[str, str] = {}
    for error in exc.errors():
        fields.setdefault(_field_name(tuple(error.get("loc", ()))), str(error.get("msg", "")))
    if is_api(request):
        return json_error(422, "validation_failed", gettext("The request is not valid."), fields)
    message = gettext(
        "Something in the request is not right: %(problems)s",
        problems="; ".join(f"{name}: {problem}" for name, problem in fields.items()),
    )
    return error_page(request, 422, message)


def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = gettext("The server failed to answer. The error was logged; please try again later.")
    if is_api(request):
        return json_error(500, "server_error", message)
    # The request's database session ended with the failure: the page must not touch it.
    request.state.auth = Auth(user=None, via="anonymous")
    try:
        return error_page(request, 500, message)
    except Exception:  # the error page itself may depend on what broke
        return Response("Internal server error", status_code=500, media_type="text/plain")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
