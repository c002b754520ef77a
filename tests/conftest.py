"""Shared fixtures: a migrated database per run, a rolled-back transaction per test, the app.

`pytest --db=sqlite` (default) uses a SQLite file; `pytest --db=postgresql` starts a throwaway
PostgreSQL cluster. Set NORMSFORUM_REQUIRE_POSTGRES=1 / NORMSFORUM_REQUIRE_BROWSER=1 /
NORMSFORUM_REQUIRE_NGINX=1 (as CI does) to fail instead of skipping when PostgreSQL, Chromium or
nginx (tests/deploy) is missing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from app import changes, migrate
from app.accounts import passwords
from app.config import Settings
from app.db import create_db_engine
from app.main import create_app
from tests.factories import PASSWORD
from tests.support import postgres

TEST_SECRET = "test-secret-that-is-long-enough-for-the-checks-0123456789"

# argon2 at full cost would make every test that hashes a password take 150 ms.
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 8, "argon2_parallelism": 1}
passwords.configure(time_cost=1, memory_cost_kib=8, parallelism=1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="database to run the suite on",
    )


def required(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--db") == "postgresql" and postgres.find_bin_dir() is None:
        if required("NORMSFORUM_REQUIRE_POSTGRES"):
            raise pytest.UsageError("PostgreSQL is required but initdb was not found.")
        # Not installed on this machine: say so and stop (CI installs it and requires it).
        pytest.exit(
            "PostgreSQL is not installed here, so the PostgreSQL pass does not run "
            "(bash .ci/run installs it and requires it).",
            returncode=0,
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test about one database's behaviour belongs to that database's pass alone.
    kind = config.getoption("--db")
    elsewhere = [
        item
        for item in items
        if (marker := item.get_closest_marker("database")) and marker.args[0] != kind
    ]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if item not in elsewhere]
    # The slow safety proofs run in `make check-security`, which sets this variable.
    if required("NORMSFORUM_CHECK_SECURITY"):
        return
    skip = pytest.mark.skip(reason="runs in make check-security (NORMSFORUM_CHECK_SECURITY=1)")
    for item in items:
        if item.get_closest_marker("check_security"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def pg_server(db_kind: str) -> Iterator[str | None]:
    if db_kind != "postgresql":
        yield None
        return
    with postgres.cluster() as url:
        yield url


@pytest.fixture(scope="session")
def make_database_url(
    db_kind: str, pg_server: str | None, tmp_path_factory: pytest.TempPathFactory
):
    """Makes a fresh, empty database of the kind under test and returns its URL."""
    counter = iter(range(1_000_000))

    def make(label: str) -> str:
        n = next(counter)
        if pg_server is not None:
            return postgres.create_database(pg_server, f"normsforum_{label}_{n}")
        path: Path = tmp_path_factory.mktemp("db") / f"{label}-{n}.sqlite"
        return f"sqlite:///{path}"

    return make


@pytest.fixture(scope="session")
def database_url(make_database_url) -> str:
    url: str = make_database_url("test")
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One transaction per test, rolled back at the end, so tests never see each other's data."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()


def _joined_session(connection: Connection) -> Session:
    # Commits inside the app release a savepoint; the outer transaction still rolls back.
    return Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def db(connection: Connection) -> Iterator[Session]:
    session = _joined_session(connection)
    # The test's own writes stand for committed work, so they move the change counter as
    # they flush, as a commit would (pages kept for visitors must not outlive them).
    event.listen(session, "after_flush", lambda flushed, _context: changes.count(flushed))
    yield session
    session.close()


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "base_url": "http://testserver",
        # No background sweep: tests run in transactions of their own that it must not touch.
        "sweep_interval_seconds": 0,
        # No listener thread per app either; tests of live events across processes turn it on.
        "live_events_listen": False,
        **CHEAP_ARGON2,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI, connection: Connection, db: Session) -> Iterator[TestClient]:
    """A browser-like client whose requests run inside the test's transaction."""
    original = app.state.session_factory
    app.state.session_factory = lambda write: _joined_session(connection)
    # Every test starts from the same counter (its transaction is rolled back), so pages kept
    # by an earlier test must go.
    if cache := getattr(app.state, "page_cache", None):
        cache.clear()
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client
    app.state.session_factory = original
    # Objects the app changed are stale in the test's own session.
    db.expire_all()


def csrf_token(client: TestClient) -> str:
    """The token this client's forms carry (HMAC of its CSRF cookie)."""
    if "nf_csrf" not in client.cookies:
        client.get("/healthz")
    secret = client.cookies["nf_csrf"]
    return hmac.new(TEST_SECRET.encode(), secret.encode(), hashlib.sha256).hexdigest()


def post_form(client: TestClient, url: str, data: dict[str, str] | None = None, **kwargs):
    """POST a form the way the browser does, CSRF token included."""
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    response = post_form(client, "/login", {"login": username, "password": password})
    assert response.status_code == 303, response.text


def form_token_in(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf token in the page"
    return match.group(1)
