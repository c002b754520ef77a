"""Extra app instances with their own settings, wired into the test's transaction like `client`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.main import create_app
from tests.conftest import TEST_SECRET, make_settings

MakeApp = Callable[..., FastAPI]
MakeClient = Callable[..., TestClient]


def joined_session(connection: Connection) -> Session:
    return Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


def form_token(client: TestClient, cookie: str = "nf_csrf") -> str:
    """The CSRF form token of `client` (any cookie name, e.g. `__Host-nf_csrf` over https)."""
    if cookie not in client.cookies:
        client.get("/healthz")
    secret = client.cookies[cookie]
    return hmac.new(TEST_SECRET.encode(), secret.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def make_app(database_url: str) -> Iterator[MakeApp]:
    """Build an app from `make_settings(database_url, **overrides)`; engines closed afterwards."""
    apps: list[FastAPI] = []

    def make(**overrides: object) -> FastAPI:
        url = str(overrides.pop("database_url", database_url))
        app = create_app(make_settings(url, **overrides))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.state.engine.dispose()


@pytest.fixture
def client_for(connection: Connection, db: Session) -> Iterator[MakeClient]:
    """A browser-like client of `app` whose requests run in the test's transaction."""
    with ExitStack() as stack:

        def make(app: FastAPI, **kwargs: object) -> TestClient:
            if not getattr(app.state, "_joined", False):
                original = app.state.session_factory
                app.state.session_factory = lambda write: joined_session(connection)
                app.state._joined = True

                def restore() -> None:
                    app.state.session_factory = original
                    app.state._joined = False

                stack.callback(restore)
            base_url = str(kwargs.pop("base_url", app.state.settings.base_url))
            client = TestClient(app, base_url=base_url, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
            return stack.enter_context(client)

        yield make
    db.expire_all()
