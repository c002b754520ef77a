"""A fan exhibits a video, points a comment at 0:42–0:50 of it; another member sees it arrive
live, replies in place; the chip opens the marked moment; the thread filters to that work."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_proposals import sign_in

pytestmark = pytest.mark.e2e

PROPOSAL = "Small-scale sales at fan events are acceptable"


@pytest.fixture
def second_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """Another person's browser, with the same console-error check as `page`."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    other = context.new_page()
    errors: list[str] = []
    other.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    other.on("pageerror", lambda error: errors.append(str(error)))
    yield other
    context.close()
    assert not errors, f"browser console errors: {errors}"


def open_proposal(page: Page) -> str:
    page.goto("/c/miku/proposals")
    page.get_by_role("link", name=PROPOSAL).click()
    expect(page.get_by_role("heading", name=PROPOSAL)).to_be_visible()
    return page.url


def test_anchored_comment_reply_chip_and_filter(page: Page, second_page: Page) -> None:
    sign_in(page, "fan_luka")
    proposal_url = open_proposal(page)

    exhibits = page.locator("#exhibits")
    exhibits.get_by_label("Work").select_option(label="Rooftop remix (music video) — Luka Fan")
    exhibits.get_by_label("Borderline").check()
    exhibits.get_by_label("Note (optional)").fill("Merch shown at 0:42 is sold at events.")
    exhibits.get_by_role("button", name="Add example").click()
    expect(exhibits.get_by_role("link", name="Rooftop remix (music video)")).to_be_visible()

    # Someone else has the thread open while the comment is written.
    sign_in(second_page, "fan_kaito")
    second_page.goto(proposal_url)
    expect(second_page.locator("#discussion")).to_be_visible()

    form = page.locator("#comment-form-new")
    form.get_by_label("Question").check()
    form.get_by_label("Your comment").fill("Is the merch table here a sale or a giveaway?")
    form.get_by_text("Point at a moment, passage or region of an example work").click()
    form.get_by_label("Work", exact=True).select_option(
        label="Rooftop remix (music video) (Video, 3:35)"
    )
    form.get_by_label("a time range (audio, video)").check()
    form.get_by_label("Start (m:ss)").fill("0:42")
    form.get_by_label("End (m:ss)").fill("0:50")
    form.get_by_role("button", name="Post comment").click()

    comment = page.locator("#comment-list > .comment").filter(has_text="merch table")
    expect(comment).to_be_visible()
    expect(comment.locator(".anchor-chip")).to_have_text("▶ 0:42–0:50")
    expect(form.get_by_label("Your comment")).to_have_value("")

    # It arrives on the other page without a reload.
    live = second_page.locator("#comment-list > .comment").filter(has_text="merch table")
    expect(live).to_be_visible(timeout=15_000)
    expect(live.locator(".anchor-chip")).to_have_text("▶ 0:42–0:50")

    live.locator(".reply-box summary").click()
    live.get_by_label("Your reply").fill("A sale: the video's description lists prices.")
    live.get_by_role("button", name="Reply").click()
    reply = live.locator(".replies .comment").filter(has_text="lists prices")
    expect(reply).to_be_visible()

    # The chip opens the work with the moment marked, and a link to play from it.
    page.reload()
    comment = page.locator("#comment-list > .comment").filter(has_text="merch table")
    expect(comment.locator(":scope > .replies")).to_contain_text("lists prices")
    comment.locator(".anchor-chip").click()
    panel = comment.locator(".anchor-panel")
    expect(panel).to_be_visible()
    panel.get_by_text("Content notes: flashing lights — show the work").click()
    expect(panel.locator("mark")).to_have_text("0:42–0:50")
    expect(panel.get_by_role("link", name="Play from 0:42 ↗")).to_have_attribute(
        "href", "https://example.org/works/rooftop-remix#t=42,50"
    )

    # The thread filtered to comments about that work.
    page.locator("#thread-work").select_option(label="comments about “Rooftop remix (music video)”")
    expect(page).to_have_url(re.compile(r"\?work=\d+"))
    expect(page.locator("#comment-list > .comment")).to_have_count(1)
    expect(page.get_by_text("Comments pointing into")).to_be_visible()
