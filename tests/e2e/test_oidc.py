"""Sign in with the test OpenID provider in Chromium: a first sign-in that picks a username,
then signing out and back in with one click at the provider."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from app import migrate
from tests.e2e.conftest import EXPECTED_4XX
from tests.oidc.fixtures import ACCOUNTS, LoopbackProvider, oidc_provider
from tests.support import live

__all__ = ["oidc_provider"]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def oidc_site(make_database_url, oidc_provider: LoopbackProvider) -> Iterator[str]:
    url = make_database_url("e2e_oidc")
    migrate.upgrade(url)
    entry = oidc_provider.new_client()
    with live.serve(url, oidc_providers=json.dumps([entry]), sweep_interval_seconds="0") as base:
        oidc_provider.allow(entry, base)
        yield base


@pytest.fixture
def oidc_page(browser: Browser, oidc_site: str) -> Iterator[Page]:
    """A fresh context on the site; console errors on the site's own pages fail the test."""
    context = browser.new_context(base_url=oidc_site, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []

    def on_console(message) -> None:
        # The test provider's pages are not the site's; only the site must be spotless.
        on_site = page.url.startswith(oidc_site)
        if on_site and message.type == "error" and not EXPECTED_4XX.match(message.text):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"browser console errors: {errors}"


def test_sign_in_with_the_provider(oidc_page: Page) -> None:
    page = oidc_page
    account = ACCOUNTS["hatsune"]
    page.goto("/login")
    page.get_by_role("link", name="Sign in with Test ID").click()

    expect(page.get_by_role("heading", name="Test provider")).to_be_visible()
    page.get_by_label("Provider login").fill("hatsune")
    page.get_by_label("Provider password").fill(account["password"])
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Choose your username")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("hatsune")
    expect(page.get_by_label("Email")).to_have_value(account["email"])
    page.get_by_label("Display name").fill("Hatsune")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome, Hatsune! Your account is ready.")).to_be_visible()

    page.get_by_role("link", name="Hatsune").click()
    expect(page).to_have_url(re.compile(r"/profile$"))
    sign_in = page.locator("#sign-in")
    expect(sign_in).to_contain_text(f"Test ID ({account['email']})")
    expect(sign_in).to_contain_text("Your only way in")

    page.get_by_role("button", name="Sign out").click()
    page.goto("/login")
    # The provider remembers the browser: one click signs in again.
    page.get_by_role("link", name="Sign in with Test ID").click()
    expect(page.get_by_text("Signed in as Hatsune.")).to_be_visible()
