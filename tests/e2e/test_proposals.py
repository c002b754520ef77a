"""A fan drafts a proposal, invites a co-author, publishes, edits, and compares two revisions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill("miku-demo-2026")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def test_draft_invite_publish_edit_and_compare(page: Page) -> None:
    sign_in(page, "fan_luka")
    page.goto("/c/miku")
    page.get_by_role("link", name="Write a proposal").click()

    page.get_by_label("Title").fill("Credit the vocal library in every cover")
    page.get_by_label("Summary").fill("Covers name the voice bank they use.")
    page.get_by_label("Norm text").fill("Every cover must credit the original producer.")
    page.get_by_label("Rationale").fill("Listeners should find the *original* song.")
    page.get_by_label("Category").select_option(label="Attribution and credit")
    page.get_by_label("Tags").fill("covers, Credit")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(
        page.get_by_role("heading", name="Credit the vocal library in every cover")
    ).to_be_visible()
    expect(page.get_by_text("#credit")).to_be_visible()

    page.get_by_label("Invite a co-author").fill("fan_kaito")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_text("Kaito Fan is now a co-author.")).to_be_visible()

    page.get_by_role("button", name="Publish for deliberation").click()
    expect(
        page.get_by_text("Published: the community can now read and discuss it.")
    ).to_be_visible()
    expect(page.get_by_text("Voting may open from")).to_be_visible()
    proposal_url = page.url

    page.get_by_role("link", name="Edit text").click()
    page.get_by_label("Norm text").fill(
        "Every cover must credit the original producer and the vocal library."
    )
    page.get_by_label("What did you change?").fill("Name the vocal library too")
    page.get_by_role("button", name="Save new revision").click()
    expect(page.get_by_text("Saved as a new revision.")).to_be_visible()

    page.get_by_role("link", name=re.compile(r"2 revisions")).click()
    diff = page.locator("#comparison")
    inserted = diff.locator("ins")
    expect(inserted.first).to_be_visible()
    assert "vocal library" in "".join(inserted.all_inner_texts())
    expect(diff).to_contain_text("Title — unchanged")
    # Changing the selection swaps the comparison in place and keeps the URL in step.
    page.get_by_label("From").select_option("2")
    expect(page).to_have_url(re.compile(r"from=2"))
    expect(diff).to_contain_text("Norm text — unchanged")

    # The co-author sees the draft history and may edit too.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "fan_kaito")
    page.goto(proposal_url)
    expect(page.get_by_role("link", name="Edit text")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("added @fan_kaito as co-author")


def test_live_search_keeps_the_url_in_step(page: Page) -> None:
    page.goto("/c/miku/proposals")
    results = page.locator("#results")
    expect(results).to_contain_text("No sexualised depictions of the character")
    page.get_by_label("Search").fill("doujin")
    expect(results).to_contain_text("Small-scale sales at fan events")
    expect(results).not_to_contain_text("No sexualised depictions")
    expect(page).to_have_url(re.compile(r"q=doujin"))
    page.get_by_label("State").select_option("withdrawn")
    expect(results).to_contain_text("No proposal matches these filters.")
    page.go_back()
    expect(page.get_by_label("State")).to_have_value("")
    expect(results).to_contain_text("Small-scale sales at fan events")
