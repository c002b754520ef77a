"""Accessibility (issue 10): axe-core on every main page, and the keyboard on its own.

Each page is checked in English and Japanese, signed out and signed in (moderators' pages as a
moderator), in the light and the dark colour scheme, against WCAG 2.0, 2.1 and 2.2 A and AA.
axe-core comes from the npm registry, pinned in tests/e2e/axe/package-lock.json and installed by
`npm ci --prefix tests/e2e/axe` (the Makefile's dev install step does it).

One server on a demo of its own (`demo_server`) and one browser serve the whole file: a tab per
(who, language) is opened once and reused, and each page is loaded once and checked in both
colour schemes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, expect

from tests.conftest import required
from tests.e2e.conftest import EXPECTED_4XX

pytestmark = pytest.mark.e2e

AXE_JS = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PASSWORD = "miku-demo-2026"

VISITOR, MEMBER, MODERATOR = "visitor", "member", "moderator"
#: Who is signed in, for each state. The member has not voted in the open poll, so its ballot
#: form is on the page; the keyboard test votes as someone else.
USERS = {MEMBER: "fan_kaito", MODERATOR: "mod_rin"}
LANGUAGES = ("en", "ja")
Theme = Literal["light", "dark"]
THEMES: tuple[Theme, ...] = ("light", "dark")
BOTH = (VISITOR, MEMBER)


@dataclass(frozen=True)
class Screen:
    name: str
    path: str
    states: tuple[str, ...]


# The demo (app/demo.py): proposal 1 has the thread with anchored comments on exhibited works;
# poll 1 is open (on proposal 2), poll 2 closed and passed after an amendment; work 2 has a
# parent and children; clause 5.1 came from a ratified proposal in version 2.
SCREENS = [
    Screen("home", "/", BOTH),
    Screen("community", "/c/miku", BOTH),
    Screen("proposal-list", "/c/miku/proposals", BOTH),
    Screen("proposal-thread", "/c/miku/proposals/1", BOTH),
    Screen("proposal-voting", "/c/miku/proposals/2", BOTH),
    Screen("work-lineage", "/c/miku/works/2", BOTH),
    Screen("poll-open", "/c/miku/polls/1", BOTH),
    Screen("poll-results", "/c/miku/polls/2", BOTH),
    Screen("guidelines", "/c/miku/guidelines", BOTH),
    Screen("clause", "/c/miku/guidelines/clauses/3.1", BOTH),
    Screen("clause-provenance", "/c/miku/guidelines/clauses/5.1/v2", BOTH),
    Screen("guideline-versions", "/c/miku/guidelines/versions", BOTH),
    Screen("diff", "/c/miku/guidelines/diff?from=1&to=2", BOTH),
    Screen("sign-in", "/login", (VISITOR,)),
    Screen("register", "/register", (VISITOR,)),
    Screen("profile", "/profile", (MEMBER,)),
    Screen("notifications", "/notifications", (MEMBER,)),
    Screen("moderation-queue", "/c/miku/moderation", (MODERATOR,)),
    Screen("ratification-queue", "/c/miku/ratification", (MODERATOR,)),
    Screen("moderation-log", "/c/miku/moderation-log", BOTH),
    Screen("works", "/c/miku/works", BOTH),
    Screen("members", "/c/miku/members", BOTH),
]

#: Violations that need a change in a template this change could not make (the templates were
#: being edited for translation at the time). Keyed by axe rule id and a CSS selector that the
#: offending element matches; the value is the fix. Once a fix is applied, delete its line: the
#: test then guards it. Keep this list empty otherwise.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def combinations() -> list[Any]:
    return [
        pytest.param(screen, state, language, id=f"{screen.name}-{state}-{language}")
        for screen in SCREENS
        for state in screen.states
        for language in LANGUAGES
    ]


# --- The browser side ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def axe_js() -> Path:
    if not AXE_JS.is_file():
        missing = "axe-core is not installed (npm ci --prefix tests/e2e/axe)"
        if required("NORMSFORUM_REQUIRE_BROWSER"):
            pytest.fail(f"The accessibility tests are required, but {missing}.")
        pytest.skip(f"{missing}; CI installs it and requires these tests")
    return AXE_JS


def watch_console(page: Page, errors: list[str]) -> None:
    """Collect the page's console errors (but the 4xx a form answers on purpose) in `errors`."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not EXPECTED_4XX.match(message.text):
            errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))


def sign_in(page: Page, username: str) -> None:
    """Sign in through the form (in whichever language the page is in)."""
    page.goto("/login")
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".nav-user")).to_be_visible()


class Tabs:
    """One tab per (who, language), opened on first use and kept for the module."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.tabs: dict[tuple[str, str], Page] = {}
        self.sessions: dict[str, Any] = {}
        self.errors: list[str] = []

    def new_context(self, language: str, storage_state: Any = None) -> BrowserContext:
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport={"width": 1280, "height": 900},
            locale="ja-JP" if language == "ja" else "en-GB",
            extra_http_headers={"Accept-Language": language},
            storage_state=storage_state,
            # axe goes in as an inline script, which the site's CSP (rightly) forbids.
            bypass_csp=True,
        )
        # Count the live unread count's arrivals, to check a page once its header is complete.
        context.add_init_script(
            "document.addEventListener('htmx:sseMessage', () => {"
            " window.__sseMessages = (window.__sseMessages || 0) + 1; });"
        )
        self.contexts.append(context)
        return context

    def watch(self, page: Page) -> Page:
        watch_console(page, self.errors)
        return page

    def session(self, state: str) -> Any:
        if state not in self.sessions:
            context = self.new_context("en")
            sign_in(context.new_page(), USERS[state])
            self.sessions[state] = context.storage_state()
            context.close()
            self.contexts.remove(context)
        return self.sessions[state]

    def get(self, state: str, language: str) -> Page:
        key = (state, language)
        if key not in self.tabs:
            storage = None if state == VISITOR else self.session(state)
            self.tabs[key] = self.watch(self.new_context(language, storage).new_page())
        return self.tabs[key]

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="module")
def tabs(browser: Browser, demo_server: str) -> Iterator[Tabs]:
    opened = Tabs(browser, demo_server)
    yield opened
    opened.close()


@pytest.fixture
def tab_errors(tabs: Tabs) -> Iterator[list[str]]:
    """Fails the test on a console error its pages logged (CSP included)."""
    tabs.errors.clear()
    yield tabs.errors
    assert not tabs.errors, f"browser console errors: {tabs.errors}"


# --- axe ------------------------------------------------------------------------------------

RUN_AXE = """async ([tags, exceptions]) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  const excepted = (rule, target) => {
    const element = target.length === 1 ? document.querySelector(target[0]) : null;
    return exceptions.some(([id, selector]) => id === rule && element && element.matches(selector));
  };
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.map(String), html: n.html, summary: n.failureSummary || '',
      excepted: excepted(v.id, n.target),
    })),
  }));
}"""


def run_axe(page: Page, axe_js: Path) -> list[dict[str, Any]]:
    """The violations axe finds on the page as it is now, less the known exceptions."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(axe_js))
    violations: list[dict[str, Any]] = page.evaluate(
        RUN_AXE, [WCAG_TAGS, [list(key) for key in KNOWN_EXCEPTIONS]]
    )
    found = []
    for violation in violations:
        nodes = [node for node in violation["nodes"] if not node["excepted"]]
        if nodes:
            found.append({**violation, "nodes": nodes})
    return found


def describe(where: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{where}: {len(violations)} accessibility violation(s)"]
    for violation in violations:
        rule = f"[{violation['impact']}] {violation['id']}: {violation['help']}"
        lines.append(f"  {rule} ({violation['helpUrl']})")
        for node in violation["nodes"][:8]:
            lines.append(f"    at {' '.join(node['target'])}")
            lines.append(f"       {node['html'][:160]}")
            for hint in node["summary"].splitlines()[1:3]:
                lines.append(f"       {hint.strip()}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


def settle(page: Page, state: str) -> None:
    """Wait for what arrives after the load: the signed-in header's unread count."""
    if state != VISITOR:
        page.wait_for_function("() => (window.__sseMessages || 0) > 0", timeout=10_000)


@pytest.mark.parametrize(("screen", "state", "language"), combinations())
def test_page_has_no_axe_violations(
    tabs: Tabs, axe_js: Path, tab_errors: list[str], screen: Screen, state: str, language: str
) -> None:
    page = tabs.get(state, language)
    page.emulate_media(color_scheme="light")
    response = page.goto(screen.path)
    assert response is not None, screen.path
    assert response.status == 200, f"{screen.path}: {response.status}"
    expect(page.locator("html")).to_have_attribute("lang", language)
    if state != VISITOR:
        expect(page.locator(".nav-user")).to_be_visible()
    settle(page, state)
    check_both_themes(page, axe_js, f"{screen.path} ({state}, {language}")


def check_both_themes(page: Page, axe_js: Path, where: str) -> None:
    problems = []
    for theme in THEMES:
        page.emulate_media(color_scheme=theme)  # as the context's color_scheme would
        violations = run_axe(page, axe_js)
        if violations:
            problems.append(describe(f"{where}, {theme})", violations))
    page.emulate_media(color_scheme="light")
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_forms_showing_errors_have_no_axe_violations(
    tabs: Tabs, axe_js: Path, tab_errors: list[str], language: str
) -> None:
    """The states a page reaches by use: forms shown again with their errors (whole pages, and
    the ballot swapped in place by htmx), and an opened reply box."""
    visitor = tabs.get(VISITOR, language)
    visitor.emulate_media(color_scheme="light")
    visitor.goto("/login")
    visitor.locator("input[name=login]").fill("nobody")
    visitor.locator("input[name=password]").fill("not the password")
    visitor.locator("main form button[type=submit]").click()
    expect(visitor.locator("main [role=alert]")).to_be_visible()
    check_both_themes(visitor, axe_js, f"/login with errors (visitor, {language}")

    visitor.goto("/register")
    visitor.locator("main form button[type=submit]").click()
    expect(visitor.locator("main [aria-invalid=true]").first).to_be_visible()
    check_both_themes(visitor, axe_js, f"/register with errors (visitor, {language}")

    member = tabs.get(MEMBER, language)
    member.emulate_media(color_scheme="light")
    member.goto("/c/miku/proposals/2")
    settle(member, MEMBER)
    panel = member.locator("#poll")
    # Cast without a position: the panel comes back in place with the error, which gets the
    # focus (static/js/app.js), as the button that had it is gone.
    panel.locator(".ballot-form button[type=submit]").click()
    summary = member.locator("#poll .form-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    check_both_themes(member, axe_js, f"/c/miku/proposals/2 ballot error (member, {language}")

    member.goto("/c/miku/proposals/1")
    settle(member, MEMBER)
    member.locator(".reply-box > summary").first.click()
    expect(member.locator(".reply-box[open] textarea").first).to_be_visible()
    check_both_themes(member, axe_js, f"/c/miku/proposals/1 reply box open (member, {language}")


# --- The keyboard alone ---------------------------------------------------------------------

FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== 'none';
  const label = (el.getAttribute('aria-label') || el.textContent || el.value || el.name || '');
  return {
    tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || '',
    text: label.trim().replace(/\\s+/g, ' ').slice(0, 60),
    visibleFocus: el.matches(':focus-visible') && (outline || shadow),
    outline: style.outline, shadow: style.boxShadow,
  };
}"""


def tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus, checking on every stop that the
    focused element shows it is focused."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUS_STYLE)
        if focused is None:
            continue
        assert focused["visibleFocus"], f"no visible focus indicator on {focused}"
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} was not reached with {key} in {limit} presses")


def assert_focused(target: Locator) -> None:
    assert target.evaluate("el => el === document.activeElement"), f"{target} is not focused"


@pytest.fixture
def keyboard_page(browser: Browser, demo_server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=demo_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    watch_console(page, errors)
    yield page
    context.close()
    assert not errors, f"browser console errors: {errors}"


def test_keyboard_header_footer_comment_form_and_ballot(keyboard_page: Page) -> None:
    page = keyboard_page
    # Signed out: the skip link first, then the header's links, then the footer's switcher.
    page.goto("/c/miku")
    skip = page.get_by_role("link", name="Skip to content")
    tab_to(page, skip)
    expect(skip).to_be_in_viewport()
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Norms Forum", "Communities", "Sign in", "Create account"):
        tab_to(page, nav.get_by_role("link", name=name, exact=True))
    # Shift+Tab walks back, the focus still showing.
    tab_to(page, nav.get_by_role("link", name="Communities", exact=True), backwards=True)

    # The language switcher: one submit button per language; Enter on one switches.
    japanese = page.locator(".language-switcher button[value=ja]")
    tab_to(page, japanese)
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page).to_have_url(re.compile(r"/c/miku$"))
    english = page.locator(".language-switcher button[value=en]")
    tab_to(page, english)
    page.keyboard.press("Space")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # Signed in as a member who has not voted: the comment form on the thread.
    sign_in(page, "rights_crypton")
    # From the form's anchor (as its "Answer in the discussion" links go), not through the
    # whole thread: the fragment is where Tab starts.
    page.goto("/c/miku/proposals/1#comment-form-new")
    form = page.locator("#comment-form-new")
    # The stance: Tab enters the group at its checked choice (Neutral), arrows change it.
    tab_to(page, form.locator("input[name=alignment][value=neutral]"))
    page.keyboard.press("ArrowDown")
    expect(form.locator("input[name=alignment][value=question]")).to_be_checked()
    body = form.locator("textarea[name=body]")
    tab_to(page, body)
    page.keyboard.type("Checked with the keyboard alone.")
    submit = form.get_by_role("button", name="Post comment")
    tab_to(page, submit)
    page.keyboard.press("Enter")
    posted = page.locator("article.comment", has_text="Checked with the keyboard alone.")
    expect(posted).to_be_visible()
    # The focus moves to the comment just posted, where a screen reader reads it out.
    assert_focused(posted)

    # The ballot on the open poll: choose a position with the arrow keys, cast it with Enter.
    page.goto("/c/miku/proposals/2")
    panel = page.locator("#poll")
    first_position = panel.locator("input[type=radio][name=position]").first
    tab_to(page, first_position)
    page.keyboard.press("Space")
    expect(first_position).to_be_checked()
    page.keyboard.press("ArrowDown")
    concern = panel.locator("input[type=radio][name=position]").nth(1)
    expect(concern).to_be_checked()
    page.keyboard.press("ArrowUp")
    expect(first_position).to_be_checked()
    cast = panel.get_by_role("button", name="Cast my ballot")
    tab_to(page, cast)
    page.keyboard.press("Enter")
    expect(panel.get_by_text("Your ballot was cast: Consent.")).to_be_visible()
    # After the swap the focus is not lost on the page's body: it lands in the new panel.
    assert page.evaluate(
        "() => document.activeElement !== document.body"
        " && document.getElementById('poll').contains(document.activeElement)"
    ), "the focus was lost when the poll panel was swapped"
    expect(page.locator("[data-announcer]")).to_contain_text("Your ballot was cast")


MOVING = """() => {
  // A comment as it arrives live, with its highlight animation.
  document.querySelector('article.comment').classList.add('comment-new');
  return Array.from(document.querySelectorAll('*')).filter((el) => {
    const style = getComputedStyle(el);
    const moving = (value) => value.split(',').some((part) => parseFloat(part) > 0);
    return style.animationName !== 'none' && moving(style.animationDuration)
      || moving(style.transitionDuration);
  }).map((el) => el.tagName.toLowerCase() + '.' + Array.from(el.classList).join('.'));
}"""


def test_reduced_motion_stops_animations_and_transitions(keyboard_page: Page) -> None:
    page = keyboard_page
    page.emulate_media(reduced_motion="no-preference")
    page.goto("/c/miku/proposals/1")
    assert page.evaluate(MOVING), "the live comment's highlight should animate by default"
    page.emulate_media(reduced_motion="reduce")
    page.goto("/c/miku/proposals/1")
    assert page.evaluate(MOVING) == []
