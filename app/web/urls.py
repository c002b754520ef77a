"""Addresses of named routes. Starlette's `url_for` tries every route in turn, raising and
catching an exception at each one that does not match: a page that links 400 clauses spent
most of its time there. Routes are looked up by name once per app instead."""

from __future__ import annotations

from typing import Any

import fastapi.routing
from fastapi import Request
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute


def _routes(request: Request) -> dict[str, Any]:
    found: dict[str, Any] | None = getattr(request.app.state, "routes_by_name", None)
    if found is None:
        found = {}
        # FastAPI keeps included routers as nodes of the route list; this walks into them,
        # each route with its full path (older versions flattened the list themselves).
        walk = getattr(fastapi.routing, "iter_route_contexts", None)
        routes: list[BaseRoute] = list(walk(request.app.routes) if walk else request.app.routes)
        for route in routes:
            name = getattr(route, "name", None)
            if name:
                # The first route of a name wins, as in Starlette's own search.
                found.setdefault(name, route)
        request.app.state.routes_by_name = found
    return found


def _path(request: Request, name: str, params: dict[str, Any]) -> URLPath:
    strings = {key: str(value) for key, value in params.items()}
    route = _routes(request).get(name)
    if route is None:
        return request.app.url_path_for(name, **strings)  # type: ignore[no-any-return]
    path: URLPath = route.url_path_for(name, **strings)
    return path


def url_for(request: Request, name: str, /, **params: Any) -> str:
    """The absolute address of a named route, as `request.url_for` gives it."""
    return str(_path(request, name, params).make_absolute_url(base_url=request.base_url))


def path_for(request: Request, name: str, /, **params: Any) -> str:
    """The path of a named route (with the app's root path), for links within the site.

    The path `url_for`'s absolute URL holds, without building and parsing that URL for each
    link: the guidelines page builds 400 of them (bench/load).
    """
    return request.base_url.path.rstrip("/") + str(_path(request, name, params))
