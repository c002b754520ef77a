"""Screenshots of the main pages on a phone (375 px) and a desktop (1280 px), to look at.

They go to tests/e2e/screenshots/ (git-ignored); open them to see what a person sees. The test
also fails when a page scrolls sideways on the phone, or when something is cut off: an element
that runs past the screen's edge, or past the edge of a box that hides its overflow. Scroll
boxes (wide tables, code) are fine: their content is reached by scrolling them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.e2e.conftest import EXPECTED_4XX
from tests.e2e.test_accessibility import USERS, sign_in

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).parent / "screenshots"
PHONE, DESKTOP = 375, 1280
MEMBER = "member"
#: Who looks: a visitor, a signed-in member, or a visitor whose browser asks for Japanese
#: (kana and kanji wrap differently from English, and labels grow or shrink).
Who = Literal["visitor", "member", "visitor-ja"]

# (name, path, signed in as a member?, also in the dark theme?)
PAGES: list[tuple[str, str, bool, bool]] = [
    ("home", "/", False, True),
    ("community", "/c/miku", False, False),
    ("proposal-list", "/c/miku/proposals", False, False),
    ("proposal-thread", "/c/miku/proposals/1", True, True),
    ("proposal-voting", "/c/miku/proposals/2", True, False),
    ("poll-open", "/c/miku/polls/1", True, False),
    ("poll-results", "/c/miku/polls/2", False, False),
    ("work-lineage", "/c/miku/works/2", False, False),
    ("works", "/c/miku/works", False, False),
    ("guidelines", "/c/miku/guidelines", False, False),
    ("clause", "/c/miku/guidelines/clauses/3.1", False, False),
    ("clause-provenance", "/c/miku/guidelines/clauses/5.1/v2", False, False),
    ("diff", "/c/miku/guidelines/diff?from=1&to=2", False, False),
    ("members", "/c/miku/members", False, False),
    ("moderation-log", "/c/miku/moderation-log", False, False),
    ("sign-in", "/login", False, False),
    ("register", "/register", False, False),
    ("profile", "/profile", True, False),
    ("notifications", "/notifications", True, False),
]
JAPANESE = ["home", "proposal-list", "proposal-voting", "poll-results", "guidelines", "clause"]
SHOTS_TO_TAKE: list[tuple[str, str, Who, bool]] = [
    (name, path, "member" if signed_in else "visitor", dark)
    for name, path, signed_in, dark in PAGES
] + [
    (f"{name}-ja", path, "visitor-ja", False)
    for name, path, _signed_in, _dark in PAGES
    if name in JAPANESE
]

CUT_OFF = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + Array.from(el.classList).map((c) => '.' + c).join('');
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || el.closest('.visually-hidden, .skip-link')) continue;
    // The nearest box that does not let it show past its edges, if any.
    let edge = {left: 0, right: width};
    let scrolls = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') { scrolls = true; break; }
      if (overflow === 'hidden' || overflow === 'clip') {
        edge = up.getBoundingClientRect();
        break;
      }
    }
    if (scrolls) continue;
    if (box.left < edge.left - 1 || box.right > edge.right + 1) {
      found.push(`${name(el)} spans ${Math.round(box.left)}..${Math.round(box.right)}px`
        + ` in ${Math.round(edge.left)}..${Math.round(edge.right)}px`);
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def contexts(browser: Browser, demo_server: str) -> Iterator[dict[Who, BrowserContext]]:
    made: list[BrowserContext] = []

    def new(locale: str = "en-GB") -> BrowserContext:
        context = browser.new_context(
            base_url=demo_server, viewport={"width": DESKTOP, "height": 900}, locale=locale
        )
        made.append(context)
        return context

    visitor, member, japanese = new(), new(), new("ja-JP")
    sign_in(member.new_page(), USERS[MEMBER])
    yield {"visitor": visitor, "member": member, "visitor-ja": japanese}
    for context in made:
        context.close()


@pytest.fixture(scope="module")
def tabs(contexts: dict[Who, BrowserContext]) -> dict[Who, Page]:
    return {who: context.new_page() for who, context in contexts.items()}


@pytest.fixture(scope="module", autouse=True)
def shots_folder() -> Path:
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


def shoot(page: Page, name: str, width: int, theme: Literal["light", "dark"]) -> list[str]:
    """Screenshot the whole page at `width`; what overflows or is cut off there."""
    page.set_viewport_size({"width": width, "height": 800 if width == PHONE else 900})
    page.emulate_media(color_scheme=theme)
    suffix = "" if theme == "light" else "-dark"
    page.screenshot(path=SHOTS / f"{name}-{width}{suffix}.png", full_page=True)
    problems: list[str] = []
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    if width == PHONE and scroll_width > PHONE:
        problems.append(f"{name} at {width}px ({theme}) scrolls sideways: {scroll_width}px wide")
    problems += [f"{name} at {width}px ({theme}): {what}" for what in page.evaluate(CUT_OFF)]
    return problems


@pytest.mark.parametrize(
    ("name", "path", "who", "dark"), [pytest.param(*p, id=p[0]) for p in SHOTS_TO_TAKE]
)
def test_page_fits_phone_and_desktop(
    tabs: dict[Who, Page], name: str, path: str, who: Who, dark: bool
) -> None:
    page = tabs[who]
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not EXPECTED_4XX.match(message.text):
            errors.append(message.text)

    page.on("console", on_console)
    try:
        page.set_viewport_size({"width": PHONE, "height": 800})
        response = page.goto(path)
        assert response is not None, path
        assert response.status == 200, f"{path}: {response.status}"
        if who == "member":
            expect(page.locator(".nav-user")).to_be_visible()
        if who == "visitor-ja":
            expect(page.locator("html")).to_have_attribute("lang", "ja")
        problems = []
        for width in (PHONE, DESKTOP):
            problems += shoot(page, name, width, "light")
            if dark:
                problems += shoot(page, name, width, "dark")
        assert not problems, "\n".join(problems)
    finally:
        page.remove_listener("console", on_console)
    assert not errors, f"browser console errors: {errors}"
