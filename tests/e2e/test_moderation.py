"""A member's comment is flagged; a moderator hides it from the queue, and the hide shows in
the community's public moderation log, with the reason and without who flagged it.

The demo database is shared by every browser test: this one writes its own comment, on the
proposal in deliberation whose thread no other test reads, and warns or suspends nobody.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_proposals import sign_in

pytestmark = pytest.mark.e2e

PROPOSAL = "No sexualised depictions of the character"
REMARK = "Moderation journey: whoever drew the last fan art cannot draw hands."
REASON = "Mocks a fellow fan's art instead of discussing the proposal."

Person = Callable[[str], Page]


@pytest.fixture
def person(browser: Browser, live_server: str) -> Iterator[Person]:
    """`person(username)`: a browser of their own, signed in, with the console-error check."""
    contexts = []
    errors: list[str] = []

    def make(username: str) -> Page:
        context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, username)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"browser console errors: {errors}"


def test_a_moderator_hides_a_flagged_comment_which_shows_in_the_public_log(person: Person) -> None:
    author = person("fan_kaito")
    author.goto("/c/miku/proposals")
    author.get_by_role("link", name=PROPOSAL).click()
    proposal_url = author.url
    form = author.locator("#comment-form-new")
    form.get_by_label("Your comment").fill(REMARK)
    form.get_by_role("button", name="Post comment").click()
    remark = author.locator("#comment-list > .comment").filter(has_text=REMARK)
    expect(remark).to_be_visible()

    flagger = person("fan_luka")
    flagger.goto(proposal_url)
    theirs = flagger.locator("#comment-list > .comment").filter(has_text=REMARK)
    theirs.locator("summary", has_text="Flag").click()
    theirs.get_by_label("Why should moderators look at it?").fill("Mocking someone's drawing")
    theirs.get_by_role("button", name="Send flag").click()
    expect(flagger.get_by_text("Thanks — moderators will review it.")).to_be_visible()

    moderator = person("mod_rin")
    moderator.goto("/c/miku")
    moderator.get_by_role("link", name="Moderation queue").click()
    expect(moderator.get_by_role("heading", name="Moderation queue")).to_be_visible()
    item = moderator.locator(".moderation-item").filter(has_text=REMARK)
    expect(item).to_contain_text("Mocking someone's drawing")
    expect(item).to_contain_text("Luka Fan")  # moderators see who flagged
    item.get_by_label("Public reason for hiding").fill(REASON)
    item.get_by_role("button", name="Hide", exact=True).click()
    expect(
        moderator.get_by_text("The comment is hidden, with your reason shown in its place.")
    ).to_be_visible()
    expect(moderator.locator(".moderation-item").filter(has_text=REMARK)).to_have_count(0)

    # Anyone reads the log from the community page: who, what, why; not who flagged.
    flagger.goto("/c/miku")
    flagger.get_by_role("link", name="Moderation log").click()
    expect(flagger).to_have_url(re.compile(r"/c/miku/moderation-log$"))
    entry = flagger.locator(".log-entry").filter(has_text=REASON).first
    expect(entry).to_contain_text("Rin (moderator)")
    expect(entry).to_contain_text("hid a comment")
    expect(entry).to_contain_text(PROPOSAL)
    expect(entry).not_to_contain_text("Luka Fan")
    expect(entry).not_to_contain_text("Kaito Fan")
    expect(flagger.locator(".moderation-log")).not_to_contain_text("Mocking someone's drawing")

    # The entry leads to the comment, hidden in its thread with the reason in its place.
    entry.get_by_role("link", name=re.compile(r"^#\d+$")).click()
    expect(flagger.get_by_text(f"[removed by a moderator: {REASON}]").first).to_be_visible()
    expect(flagger.get_by_text(REMARK)).to_have_count(0)
