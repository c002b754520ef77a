"""A live server on a free loopback port and a headless Chromium driven by Playwright."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from app import demo, migrate
from app.db import create_db_engine, utcnow
from tests.conftest import required
from tests.support import live

pytestmark = pytest.mark.e2e

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


EXPECTED_4XX = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="session")
def live_server(make_database_url) -> Iterator[str]:
    """The app served by uvicorn in its own process, on a seeded database of the kind under test."""
    url = make_database_url("e2e")
    migrate.upgrade(url)
    engine = create_db_engine(url)
    with Session(engine) as db:
        demo.seed(db, now=utcnow())
        db.commit()
    engine.dispose()
    with live.serve(url) as base:
        yield base


@pytest.fixture(scope="session")
def demo_server(make_database_url) -> Iterator[str]:
    """A second server on a demo of its own, for the accessibility and screenshot tests: they
    see the demo as seeded whatever the journeys changed, and what they do (one ballot, cast
    with the keyboard) changes nothing that a journey counts on."""
    url = make_database_url("e2e_demo")
    migrate.upgrade(url)
    engine = create_db_engine(url)
    with Session(engine) as db:
        demo.seed(db, now=utcnow())
        db.commit()
    engine.dispose()
    with live.serve(url) as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    executable = find_chromium()
    if executable is None:
        if required("NORMSFORUM_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required but not installed (apt-get install chromium).")
        pytest.skip("Chromium is not installed; CI installs it and requires these tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context per test; fails the test on any console error (CSP included)."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []

    def on_console(message) -> None:
        # Form errors answer 4xx on purpose; Chromium logs those too. Anything else counts.
        if message.type == "error" and not EXPECTED_4XX.match(message.text):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"browser console errors: {errors}"
