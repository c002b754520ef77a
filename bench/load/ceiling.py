"""The ceiling: the app's server stack answering with pages it already has in memory.

Same uvicorn, same number of workers, a FastAPI app with the app's three middlewares (the
request's database session, the CSRF cookie, the security headers) and a plain `def` route
run in the thread pool as the app's page routes are. Only the work of the routes (queries,
templates, JSON) is missing, so a page's req/s over its ceiling's is the share of the
stack's throughput that the page's own work leaves.

Served by `python -m bench.load` as `uvicorn bench.load.ceiling:app_factory --factory`,
with BENCH_CEILING_PAGES naming the JSON file of captured pages and the app's NORMSFORUM_
settings in the environment.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response

from app.config import Settings
from app.db import create_db_engine, make_session_factory
from app.web.csrf import CSRFCookieMiddleware
from app.web.middleware import DBSessionMiddleware, SecurityHeadersMiddleware

#: Response headers carried over from the captured page (the middlewares add the rest).
KEPT = ("content-type", "cache-control", "etag", "last-modified", "vary")


def save(pages: dict[str, tuple[dict[str, str], bytes]], path: Path) -> None:
    """Write captured pages (address with query -> headers, body) for the ceiling."""
    data = {
        address: {
            "headers": {k: v for k, v in headers.items() if k in KEPT},
            "body": base64.b64encode(body).decode(),
        }
        for address, (headers, body) in pages.items()
    }
    path.write_text(json.dumps(data))


def load(path: Path) -> dict[str, tuple[dict[str, str], bytes]]:
    data: dict[str, Any] = json.loads(path.read_text())
    return {a: (page["headers"], base64.b64decode(page["body"])) for a, page in data.items()}


def create_ceiling(pages: dict[str, tuple[dict[str, str], bytes]], settings: Settings) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    engine = create_db_engine(settings.database_url)
    factory = make_session_factory(engine)
    app.add_middleware(DBSessionMiddleware, session_factory=lambda: factory)
    app.add_middleware(CSRFCookieMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware)

    @app.get("/{path:path}")
    def page(request: Request) -> Response:
        address = request.url.path
        if request.url.query:
            address += "?" + request.url.query
        found = pages.get(address)
        if found is None:
            return Response(b"not captured", status_code=404)
        headers, body = found
        return Response(body, headers=headers)

    return app


def app_factory() -> FastAPI:
    """Entry point for uvicorn's `--factory`."""
    return create_ceiling(load(Path(os.environ["BENCH_CEILING_PAGES"])), Settings())
