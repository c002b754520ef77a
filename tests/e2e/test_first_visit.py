"""A new fan registers, signs in, joins the demo community and sees it on their profile."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_register_log_in_join_and_see_it_on_profile(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Communities")).to_be_visible()
    page.get_by_role("link", name="Create account").first.click()

    page.get_by_label("Username").fill("hatsune_fan")
    page.get_by_label("Display name").fill("Hatsune Fan")
    page.get_by_label("Email").fill("hatsune_fan@example.org")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    # A bad password is refused next to the field, and the rest of the form is kept.
    expect(page.get_by_text("Use at least 10 characters.")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("hatsune_fan")

    page.get_by_label("Password").fill("leek spin all night long")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome, Hatsune Fan!")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Username or email").fill("hatsune_fan")
    page.get_by_label("Password").fill("wrong password here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.get_by_label("Password").fill("leek spin all night long")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as Hatsune Fan.")).to_be_visible()

    page.get_by_role("link", name="Hatsune Miku Fans").click()
    expect(page).to_have_url(re.compile(r"/c/miku$"))
    page.get_by_role("button", name="Join community").click()
    # htmx swaps the membership box in place.
    expect(page.locator("#membership")).to_contain_text("You are a Fan here.")
    expect(page.get_by_role("button", name="Leave community")).to_be_visible()

    page.get_by_role("link", name="Hatsune Fan").click()
    expect(page).to_have_url(re.compile(r"/profile$"))
    communities = page.locator("section", has=page.get_by_role("heading", name="Your communities"))
    expect(communities).to_contain_text("Hatsune Miku Fans")
    expect(communities).to_contain_text("Fan")


def test_moderator_changes_a_role_with_a_reason(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill("mod_rin")
    page.get_by_label("Password").fill("miku-demo-2026")
    page.get_by_role("button", name="Sign in").click()
    page.goto("/c/miku/members")
    page.get_by_label("New role for Kaito Fan").select_option("creator")
    page.locator("#reason-fan_kaito").fill("Publishes original covers")
    page.locator("#reason-fan_kaito").press("Enter")
    expect(page.get_by_text("Kaito Fan is now a creator.")).to_be_visible()
    expect(page.locator(".log")).to_contain_text("Publishes original covers")
