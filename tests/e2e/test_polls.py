"""The author opens a poll; three members vote, one objects; the author amends the text and
round 2 begins; the voters vote again; a moderator closes the poll early and it passed.

The journey polls the demo's "No sexualised depictions of the character", which is in
deliberation past its minimum period. The other journeys only need that proposal to be listed
(which it stays, in any state), so they pass before or after this one. Its voters are the
moderator, the creator and the rights holder, whose weights no other journey changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    ViewportSize,
    expect,
)

from tests.e2e.conftest import EXPECTED_4XX
from tests.e2e.test_proposals import sign_in

pytestmark = pytest.mark.e2e

PROPOSAL = "No sexualised depictions of the character"
OPEN_POLL = "Small-scale sales at fan events are acceptable"
CLOSED_POLL = "Credit the work you build on, in the work's description"
OBJECTION = "Say what counts as focusing on her body: framing alone should not ban a work."
AMENDED = (
    "Works that present the character in a sexualised way are not accepted in this community, "
    "whatever the medium, and regardless of any age claimed for her in the work. This includes "
    "poses, costumes and camera work that focus on her body."
)
PHONE = ViewportSize(width=375, height=800)

Person = Callable[[str], Page]


@pytest.fixture
def person(browser: Browser, live_server: str) -> Iterator[Person]:
    """Opens another person's browser, signed in, with the same console-error check as `page`."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not EXPECTED_4XX.match(message.text):
            errors.append(message.text)

    def open_as(username: str) -> Page:
        context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        other = context.new_page()
        other.on("console", on_console)
        other.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(other, username)
        return other

    yield open_as
    for context in contexts:
        context.close()
    assert not errors, f"browser console errors: {errors}"


def open_proposal(page: Page, title: str) -> None:
    page.goto("/c/miku/proposals")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def position(page: Page, name: str) -> Locator:
    """A ballot's position radio; its label also holds a hint, so match the name's start."""
    return page.locator("#poll").get_by_role("radio", name=re.compile(rf"^{name}(?! with)"))


def vote(page: Page, name: str, reason: str = "") -> None:
    panel = page.locator("#poll")
    position(page, name).check()
    if reason:
        panel.get_by_label("Your reason").fill(reason)
    panel.get_by_role("button", name="Cast my ballot").click()
    # htmx swaps the panel in place, with the ballot and its receipt.
    expect(panel.get_by_text(f"Your ballot was cast: {name}.")).to_be_visible()
    expect(panel.locator(".my-ballot")).to_contain_text(name)
    expect(panel.locator(".my-ballot .receipt")).to_be_visible()


def assert_no_count(page: Page) -> None:
    """While results are hidden, the voter sees no figure of the count anywhere."""
    expect(page.get_by_text("Results are hidden until the poll closes")).to_be_visible()
    expect(page.locator("svg.chart-bar, .results-table, .figures")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(re.compile(r"took part|Share of weight"))


def test_open_vote_object_amend_and_pass_in_round_two(page: Page, person: Person) -> None:
    sign_in(page, "fan_luka")
    open_proposal(page, PROPOSAL)
    panel = page.locator("#poll")
    expect(panel).to_contain_text("The minimum deliberation period is over")
    panel.get_by_label("Voting lasts (days)").fill("7")
    panel.get_by_role("button", name="Open the poll").click()
    expect(page.get_by_text("The poll is open until")).to_be_visible()
    expect(panel.get_by_text("Open · round 1")).to_be_visible()
    proposal_url = page.url.split("#")[0]

    # Three members vote, each in their own browser; the rights holder objects.
    voters = {name: person(name) for name in ("creator_len", "rights_crypton", "mod_rin")}
    for voter in voters.values():
        voter.goto(proposal_url)
    expect(
        voters["rights_crypton"].get_by_text("You vote as a rights holder with weight 3.")
    ).to_be_visible()
    vote(voters["creator_len"], "Consent")
    vote(voters["rights_crypton"], "Object", OBJECTION)
    vote(voters["mod_rin"], "Consent")

    # The objection is listed on the proposal with its reason and who raised it.
    page.reload()
    objection = panel.locator(".objection-list .objection")
    expect(objection).to_have_count(1)
    expect(objection.locator("blockquote")).to_have_text(OBJECTION)
    expect(objection).to_contain_text("Rights Holder Office")

    # Results are hidden while the poll runs: no count on the proposal or the poll page.
    creator = voters["creator_len"]
    assert_no_count(creator)
    creator.get_by_role("link", name="How this poll is counted").click()
    expect(creator.get_by_role("heading", name=f"Poll on “{PROPOSAL}”")).to_be_visible()
    assert_no_count(creator)

    # The author amends the text; the edit page warns that it starts a new round.
    page.get_by_role("link", name="Amend the text", exact=True).click()
    expect(page.get_by_role("heading", name="Amend the text")).to_be_visible()
    expect(page.locator(".amend-warning")).to_contain_text("round 2 of the poll begins")
    page.get_by_label("Norm text").fill(AMENDED)
    page.get_by_label("What did you change?").fill("Name the camera work, as objected")
    page.get_by_role("button", name="Save and start round 2").click()
    expect(page.get_by_text("round 2 of the poll has begun")).to_be_visible()
    expect(panel.get_by_text("Open · round 2")).to_be_visible()
    expect(panel.locator(".objection-list")).to_have_count(0)

    # Each voter is told that a new round began, and votes again.
    for name, voter in voters.items():
        voter.reload()
        expect(voter.locator("#poll").get_by_text("round 2 began")).to_be_visible()
        vote(voter, "Consent")
        expect(voter.locator("#poll")).not_to_contain_text("round 2 began")
        if name == "rights_crypton":
            expect(voter.locator("#poll")).to_contain_text("No objection is open.")
    assert_no_count(creator)

    # The objector's earlier ballot stays in their history, but no longer counts.
    objector = voters["rights_crypton"]
    objector.get_by_role("link", name="How this poll is counted").click()
    history = objector.locator(".ballot-history li")
    expect(history).to_have_count(2)
    expect(history.filter(has_text="Object")).to_contain_text("no longer counts")
    expect(history.filter(has_text="round 2")).to_contain_text("counts")

    # A moderator closes the poll early; it passed, and the results show with charts.
    moderator = voters["mod_rin"]
    moderator.reload()
    moderator.get_by_text("Moderators: close the poll now…").click()
    moderator.get_by_role("button", name="Close the poll and count it").click()
    expect(
        moderator.get_by_text("The poll is closed and counted: the proposal passed.")
    ).to_be_visible()
    moderator.get_by_role("link", name="Full results and charts").click()
    results = moderator.locator("#results")
    expect(results.get_by_role("heading", name="Results")).to_be_visible()
    expect(results.locator(".state-badge")).to_have_text("Passed")
    expect(results.locator(".result-headline")).to_contain_text(
        re.compile(r"^Passed: consent made up 100% of the weighted vote \(threshold 60%\)")
    )
    expect(results.locator("svg.chart-bar").first).to_be_visible()
    expect(results.get_by_role("img", name=re.compile("Support"))).to_be_visible()
    rounds = moderator.locator(".round-list li")
    expect(rounds).to_have_count(2)
    expect(rounds.nth(1)).to_contain_text("Round 2")

    # The author sees the outcome too.
    page.reload()
    expect(page.locator(".page-header")).to_contain_text("Passed")
    expect(panel.locator(".poll-outcome")).to_contain_text("Passed:")


def test_poll_panel_and_results_fit_a_phone(page: Page) -> None:
    """A voter's panel, with the ballot form, and a results page with its charts."""
    page.set_viewport_size(PHONE)
    sign_in(page, "fan_kaito")
    phone = page
    open_proposal(phone, OPEN_POLL)
    expect(phone.locator("#poll").get_by_role("button", name="Cast my ballot")).to_be_visible()
    fits_width(phone)
    open_proposal(phone, CLOSED_POLL)
    phone.get_by_role("link", name="Full results and charts").click()
    expect(phone.locator("#results svg.chart-bar").first).to_be_visible()
    fits_width(phone)


def fits_width(page: Page) -> None:
    """Nothing makes the page scroll sideways."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth, location.pathname]"
    )
    assert widths[0] <= widths[1], f"{widths[2]} is {widths[0]}px wide on a {widths[1]}px screen"
