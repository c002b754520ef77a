"""A member's header count rises without a reload when someone replies to their comment; the
list shows the reply, marking it read in place empties the count."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_discussion import PROPOSAL, open_proposal, second_page
from tests.e2e.test_proposals import sign_in

pytestmark = pytest.mark.e2e

__all__ = ["second_page"]


def test_a_reply_raises_the_live_count_and_is_marked_read_in_place(
    page: Page, second_page: Page
) -> None:
    sign_in(page, "fan_luka")
    page.goto("/notifications")
    mark_all = page.get_by_role("button", name="Mark all read")
    if mark_all.count():
        mark_all.click()
    header = page.locator(".nav-notifications")
    expect(header).to_have_text("Notifications")

    proposal_url = open_proposal(page)
    form = page.locator("#comment-form-new")
    form.get_by_label("Your comment").fill("Who counts as a small-scale seller?")
    form.get_by_role("button", name="Post comment").click()
    expect(
        page.locator("#comment-list > .comment").filter(has_text="small-scale seller")
    ).to_be_visible()
    page.goto("/c/miku")

    sign_in(second_page, "fan_kaito")
    second_page.goto(proposal_url)
    theirs = second_page.locator("#comment-list > .comment").filter(has_text="small-scale seller")
    theirs.locator(".reply-box summary").first.click()
    theirs.get_by_label("Your reply").fill("Anyone with one table, I would say.")
    theirs.get_by_role("button", name="Reply").click()
    expect(theirs.locator(".replies .comment").filter(has_text="one table")).to_be_visible()

    # The first browser was not reloaded: the count arrived over server-sent events.
    expect(header.locator(".unread-count")).to_have_text("1", timeout=15_000)
    expect(page).to_have_url(re.compile(r"/c/miku$"))

    header.click()
    item = page.locator(".notification-unread").first
    expect(item).to_contain_text(f"replied to your comment on “{PROPOSAL}”")
    item.get_by_role("button", name="Mark read").click()
    expect(page.locator(".notification-unread")).to_have_count(0)
    expect(header).to_have_text("Notifications", timeout=15_000)
