"""The application factory: settings in, a ready FastAPI app out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from app import collector, events, jobs, worker
from app.accounts import api as accounts_api
from app.accounts import passwords
from app.accounts import routes as accounts_routes
from app.communities import api as communities_api
from app.communities import routes as communities_routes
from app.config import Settings
from app.db import REQUESTS_AT_ONCE, create_db_engine, make_session_factory
from app.discussion import api as discussion_api
from app.discussion import routes as discussion_routes
from app.guidelines import api as guidelines_api
from app.guidelines import routes as guidelines_routes
from app.mail import routes as mail_routes
from app.moderation import api as moderation_api
from app.moderation import routes as moderation_routes
from app.notifications import api as notifications_api
from app.notifications import routes as notifications_routes
from app.polls import api as polls_api
from app.polls import routes as polls_routes
from app.polls import sweeper
from app.proposals import api as proposals_api
from app.proposals import routes as proposals_routes
from app.web import errors
from app.web.admission import AdmissionMiddleware
from app.web.api import API_PREFIX, declare_unreadable_bodies
from app.web.csrf import CSRFCookieMiddleware, csrf_protect
from app.web.language import LanguageMiddleware
from app.web.middleware import BodyLimitMiddleware, DBSessionMiddleware, SecurityHeadersMiddleware
from app.web.pagecache import PageCache, VisitorPageCacheMiddleware
from app.web.templating import STATIC, make_environment
from app.works import api as works_api
from app.works import routes as works_routes

API_DESCRIPTION = """\
The JSON API of Norms Forum. Authenticate with the browser session (writes then need the
`X-CSRF-Token` header) or with `Authorization: Bearer <token>` using a personal access token
created on your profile page. Errors are `{"error": {"code", "message", "fields"}}`; lists are
`{"items": [...], "next_cursor": ...}` paged with `?limit=` and `?cursor=`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.check_for_serving()
    passwords.configure(
        time_cost=settings.argon2_time_cost,
        memory_cost_kib=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
    )
    app = FastAPI(
        title="Norms Forum",
        version="1",
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(csrf_protect)],
        lifespan=lifespan,
    )
    engine = create_db_engine(settings.database_url, echo=settings.sql_echo)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.templates = make_environment()

    if settings.page_cache_mb:
        app.state.page_cache = PageCache(
            settings.page_cache_mb * 1024 * 1024, settings.page_cache_seconds
        )
        # Inside the session and CSRF middlewares: it reads the change counter and the
        # visitor's CSRF secret.
        app.add_middleware(
            VisitorPageCacheMiddleware, settings=settings, cache=app.state.page_cache
        )
    app.add_middleware(DBSessionMiddleware, session_factory=lambda: app.state.session_factory)
    app.add_middleware(CSRFCookieMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(LanguageMiddleware)
    # Outermost: a request waits for its turn before anything is done for it.
    app.add_middleware(AdmissionMiddleware, limit=REQUESTS_AT_ONCE)
    errors.install(app)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(health_router)
    # HTML pages are hypermedia, not API: the OpenAPI schema describes /api/v1 alone.
    for router in (
        accounts_routes.router,
        communities_routes.router,
        proposals_routes.router,
        works_routes.router,
        discussion_routes.router,
        moderation_routes.router,
        polls_routes.router,
        guidelines_routes.router,
        mail_routes.router,
        notifications_routes.router,
    ):
        app.include_router(router, include_in_schema=False)
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(accounts_api.router)
    api.include_router(communities_api.router)
    api.include_router(proposals_api.router)
    api.include_router(works_api.router)
    api.include_router(discussion_api.router)
    api.include_router(moderation_api.router)
    api.include_router(polls_api.router)
    api.include_router(guidelines_api.router)
    api.include_router(notifications_api.router)
    app.include_router(api)
    # FastAPI answers 400 to a body it cannot parse, and no route says so: the schema must.
    generate_openapi = app.openapi
    app.openapi = lambda: declare_unreadable_bodies(generate_openapi())  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs the background jobs the settings ask for while the app serves: the poll sweep,
    and in development the worker. On Python 3.11 it also moves garbage collection to safe
    points (`app.collector`)."""
    settings: Settings = app.state.settings
    collector.start()
    stop = asyncio.Event()
    tasks = []
    if settings.sweep_interval_seconds > 0:
        # Looked up on every turn, as the request middleware does: tests swap it on a live app.
        tasks.append(
            asyncio.create_task(
                sweeper.sweep_forever(
                    lambda: app.state.session_factory, settings.sweep_interval_seconds, stop
                )
            )
        )
    if settings.runs_worker:
        tasks.append(
            asyncio.create_task(
                jobs.every(
                    settings.worker_interval_seconds,
                    stop,
                    lambda: worker.work_once(app.state.session_factory, settings),
                    "The worker",
                )
            )
        )
    listener = None
    if settings.live_events_listen and settings.database_url.startswith("postgresql"):
        listener = events.Listener(settings.database_url)
        listener.start()
    try:
        yield
    finally:
        # A job under way finishes its transaction before the process exits.
        stop.set()
        for task in tasks:
            await task
        if listener is not None:
            listener.stop()


health_router = APIRouter(tags=["operations"])


@health_router.get(
    "/healthz",
    summary="200 when the database answers, 503 when it does not",
    responses={503: {"description": "The database is unreachable"}},
)
def healthz(request: Request) -> Response:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means "unhealthy"
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def app_factory() -> FastAPI:
    """Entry point for uvicorn's `--factory`: settings from the environment."""
    return create_app(Settings())
