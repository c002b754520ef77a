"""Hostile input: every field a member writes, filled with hostile strings, and every page, feed
and download that shows it, parsed and checked (see `html_checker`).

How the corpus is used (`corpus.py`), so that the suite stays fast on both databases:

1. Every string (the 485 of blns, our additions and the core list) goes through the Markdown
   renderer and through the site's own template environment in each context the templates put
   text in (element text, quoted attribute, textarea, title, option, the Markdown filter): the
   only two ways text becomes HTML here.
2. Through the running app, the fields are in eight groups of related forms (accounts,
   communities, proposals, works, comments, polls, guidelines, moderation). Every field of every
   form is filled with each string of `corpus.CORE` (one per way out of an escaping context, per
   dangerous scheme in each spelling, per element that runs or loads, per kind of character that
   breaks storage, feeds or mail); each blns string goes into every field of one form too (each
   group takes an eighth of blns, shared among its forms), so every blns string is written
   through the app once. Objects take a different string in each of their fields (rotated), and
   pages that list objects show many of them at once, so a page render checks many strings.

A field may refuse a string (too long, NUL, not a username): the refusal must then be a clear
4xx answer with the error beside the field (or, for one-button forms, an error message after the
redirect), nothing may be stored, and the form shown again with the string in it is checked too.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Role
from app.db import Base, utcnow
from app.discussion import service as discussion_service
from app.discussion.models import Comment
from app.errors import ValidationFailed
from app.guidelines import service as guidelines_service
from app.mail import sender
from app.mail.models import OutboxMail
from app.markdown import render_markdown
from app.moderation import service as moderation_service
from app.moderation.models import Appeal
from app.notifications import jobs
from app.notifications import service as notifications_service
from app.polls import exports
from app.polls import service as polls_service
from app.proposals import service as proposals_service
from app.proposals.models import Proposal, ProposalState
from app.web.templating import make_environment
from tests.conftest import TEST_SECRET, csrf_token
from tests.factories import PASSWORD, add_member
from tests.functional.web.apps import client_for, make_app
from tests.security import corpus
from tests.security.html_checker import check_feed, check_html
from tests.security.stage import Stage, established_member, make_stage

__all__ = ["client_for", "make_app"]

GROUPS = 8
ACCOUNTS, COMMUNITIES, PROPOSALS, WORKS, COMMENTS, POLLS, GUIDELINES, MODERATION = range(GROUPS)
#: Written by the app on its own, whatever was typed; not "stored half" of a refused write.
BOOKKEEPING = {"rate_limit_hits", "user_sessions", "idempotency_keys"}
RENDERS: Counter[str] = Counter()
#: What the app tests reached: "form field" names, and the pages and feeds they checked.
FIELDS: Counter[str] = Counter()
PAGES: set[str] = set()
COUNTS = [
    select(func.count()).select_from(table).scalar_subquery().label(table.name)
    for table in Base.metadata.sorted_tables
    if table.name not in BOOKKEEPING
]


def strings_for(group: int, form: int = 0, forms: int = 1) -> list[str]:
    """What every field of form `form` (of the group's `forms`) is filled with: the core list,
    and the form's share of the group's eighth of blns."""
    share = corpus.BLNS[group::GROUPS][form::forms]
    return list(dict.fromkeys(corpus.CORE + share))


def rotated(strings: list[str], j: int, k: int, fields: int) -> str:
    """Field `k` (of `fields`) of object `j`: a different string for each field."""
    step = max(1, len(strings) // fields)
    return strings[(j + k * step) % len(strings)]


@pytest.fixture(scope="module", autouse=True)
def summary() -> Iterator[None]:
    """The numbers of the run, printed at its end (seen with `pytest -s`)."""
    yield
    forms = sorted(FIELDS)
    print(
        f"\nhostile input: {len(corpus.BLNS)} blns strings, {len(corpus.ADDITIONS)} additions, "
        f"{len(corpus.CORE)} core, {len(corpus.ALL)} distinct; {len(forms)} form fields "
        f"written {sum(FIELDS.values())} times; {len(PAGES)} distinct pages and feeds; "
        f"renders checked: {dict(RENDERS)}"
    )
    for name in forms:
        print(f"  {FIELDS[name]:5d} {name}")
    for page in sorted(PAGES):
        print(f"  page {page}")


# --- 1. Every string through the renderer and the templates ----------------------------------


def test_every_string_through_the_markdown_renderer():
    problems = []
    for text in corpus.ALL:
        html = str(render_markdown(text))
        problems += [(text[:80], str(f)) for f in check_html(html)]
        # Only the tags the sanitizer allows survive, whatever the renderer made.
        assert not re.search(
            r"<(?!/?(?:a|p|em|strong|code|pre|br|hr|ul|ol|li|blockquote|"
            r"h[1-6]|del|s|table|thead|tbody|tr|th|td)\b)[a-zA-Z]",
            html,
        ), text
    RENDERS["markdown"] += len(corpus.ALL)
    assert problems == []


CONTEXTS = """<title>{{ s }} · Norms Forum</title>
<h1>{{ s }}</h1><p class="x" title="{{ s }}">{{ s }}</p><q>{{ s }}</q>
<input name="f" value="{{ s }}"><textarea name="t">{{ s }}</textarea>
<select><option value="{{ s }}">{{ s }}</option></select>
<a href="/c/x?tag={{ s|urlencode }}">#{{ s }}</a><div class="prose">{{ s|markdown }}</div>"""


def test_every_string_through_the_templates_escaping():
    template = make_environment().from_string(CONTEXTS)
    problems = []
    for text in corpus.ALL:
        html = template.render(s=text)
        problems += [(text[:80], str(f)) for f in check_html(html)]
    RENDERS["template contexts"] += len(corpus.ALL)
    assert problems == []


# --- 2. Through the app ------------------------------------------------------------------------


@pytest.fixture
def stage(db: Session) -> Stage:
    return make_stage(db)


@dataclass
class Problem:
    what: str
    where: str
    detail: str


@dataclass
class Browser:
    """A browser signed in as one member: each page it is shown is checked, each refusal it
    meets must be a clear one that stored nothing."""

    client: TestClient
    db: Session
    problems: list[Problem]
    user: User | None = None
    renders: int = 0

    def sign_in(self, user: User) -> Browser:
        response = self.post("/login", {"login": user.username, "password": PASSWORD})
        assert response.status_code == 303, response.text[:300]
        self.user = user
        return self

    def report(self, what: str, where: str, detail: str = "") -> None:
        title = re.search(r"<title>(.*?)</title>", detail, re.S)
        errors = re.findall(r'class="(?:field-error|flash flash-error)"[^>]*>(.*?)</p>', detail)
        if title:
            detail = f"{title.group(1).strip()} {errors[:3]}"
        self.problems.append(Problem(what, where, detail[:300]))

    def check(self, response: Response, where: str) -> None:
        if response.status_code >= 500:
            self.report(f"{response.status_code} server error", where, response.text)
            return
        kind = response.headers.get("content-type", "")
        if not where.startswith("POST") and response.status_code == 200:
            path = re.sub(r"^/c/[^/]+", "/c/{slug}", response.url.path)
            path = re.sub(r"^/u/[^/]+", "/u/{username}", path)
            path = re.sub(r"(?<=/members/)[^/]+", "{username}", path)
            PAGES.add(re.sub(r"\d+(\.\d+)?", "{n}", path))
        if kind.startswith("text/html"):
            self.renders += 1
            for finding in check_html(response.text):
                self.report("unsafe HTML", where, str(finding))
        elif kind.startswith("application/atom+xml"):
            self.renders += 1
            try:
                findings = check_feed(response.content)
            except Exception as exc:  # a feed reader would refuse it as a whole
                self.report("feed is not XML", where, repr(exc))
            else:
                for finding in findings:
                    self.report("unsafe feed", where, str(finding))

    def get(self, url: str, *, ok: tuple[int, ...] = (200,)) -> Response:
        response = self.client.get(url)
        self.check(response, url)
        if response.status_code not in ok and response.status_code < 500:
            self.report(f"answered {response.status_code}", url, response.text)
        return response

    def post(self, url: str, data: dict[str, Any]) -> Response:
        response = self.client.post(url, data={"csrf_token": csrf_token(self.client), **data})
        self.check(response, f"POST {url}")
        return response

    def crawl(self, url: str, next_link: str) -> list[Response]:
        """A list page and the pages after it, following the link `next_link` matches."""
        pages: list[Response] = []
        seen = set()
        while url and url not in seen and len(pages) < 200:
            seen.add(url)
            response = self.get(url)
            pages.append(response)
            match = re.search(next_link, response.text)
            url = match.group(1).replace("&amp;", "&") if match else ""
            if url.startswith("?"):
                url = pages[-1].url.path + url
        return pages

    def flash(self, response: Response) -> list[dict[str, str]]:
        raw = response.cookies.get("nf_flash")
        if not raw:
            return []
        messages: list[dict[str, str]] = URLSafeSerializer(TEST_SECRET, salt="flash").loads(raw)
        return messages

    def snapshot(self) -> tuple[int, ...]:
        """How many rows each table holds (one query)."""
        return tuple(self.db.execute(select(*COUNTS)).one())

    def fill(
        self,
        url: str,
        hostile: dict[str, str],
        benign: dict[str, Any],
        *,
        error_ids: dict[str, str] | None = None,
        retry: bool = True,
    ) -> tuple[Response, set[str]]:
        """Post a form with `hostile` values (the rest from `benign`). A refused field must be
        marked with its error and nothing stored; it is replaced by its benign value and the
        form sent again (unless not to `retry`). Returns the last answer and the fields that
        were refused."""
        error_ids = error_ids or {}
        refused: set[str] = set()
        form = re.sub(r"\d+", "{n}", url)
        FIELDS.update(f"{form} {name}" for name in hostile)
        while True:
            data = {**benign, **{k: v for k, v in hostile.items() if k not in refused}}
            before = self.snapshot()
            response = self.post(url, data)
            if response.status_code < 400 or response.status_code >= 500:
                return response, refused
            if response.status_code != 422:
                self.report(f"refused with {response.status_code}", url, response.text)
                return response, refused
            if self.snapshot() != before:
                self.report("stored half of a refused form", url, repr(data)[:300])
            left = [name for name in hostile if name not in refused]
            marked = {
                name
                for name in left
                if f'id="{error_ids.get(name, f"f-{name}")}-error"' in response.text
            }
            if not marked and len(left) == 1 and 'class="field-error"' in response.text:
                marked = set(left)
            if not marked:
                self.report("refused without a field error", url, repr(data)[:300])
                return response, refused
            refused |= marked
            if not retry:
                return response, refused

    def act(self, url: str, data: dict[str, Any]) -> tuple[Response, bool]:
        """A one-button form that answers with a redirect and a flash message: whether it was
        refused (an error message, nothing stored) or done."""
        form = re.sub(r"\d+", "{n}", url)
        FIELDS.update(f"{form} {name}" for name in data if name != "page")
        before = self.snapshot()
        response = self.post(url, data)
        if response.status_code >= 500:
            return response, True
        if response.status_code != 303:
            if response.status_code == 422 and self.snapshot() == before:
                return response, True
            self.report(f"answered {response.status_code}", url, response.text)
            return response, True
        # Messages pile up in the cookie until a page shows them: this answer's is the last.
        refused = [m.get("level") for m in self.flash(response)][-1:] == ["error"]
        if refused and self.snapshot() != before:
            self.report("stored half of a refused form", url, repr(data)[:300])
        return response, refused


@dataclass
class Browsers:
    """Browsers on the app, in the test's transaction, sharing one list of problems."""

    app: FastAPI
    db: Session
    problems: list[Problem] = field(default_factory=list)
    opened: list[Browser] = field(default_factory=list)

    def __call__(self, user: User | None = None) -> Browser:
        client = TestClient(
            self.app,
            base_url="http://testserver",
            follow_redirects=False,
            raise_server_exceptions=False,
        )
        browser = Browser(client, self.db, self.problems)
        self.opened.append(browser)
        return browser.sign_in(user) if user is not None else browser

    def verify(self) -> None:
        """No page was unsafe, no answer a server error, no refusal unclear."""
        RENDERS["app pages"] += sum(b.renders for b in self.opened)
        report = [f"{p.what} at {p.where}: {p.detail}" for p in self.problems]
        assert report == [], f"{len(report)} problems:\n" + "\n".join(report[:80])


@pytest.fixture
def browse(app: FastAPI, client: TestClient, db: Session) -> Iterator[Browsers]:
    browsers = Browsers(app, db)
    yield browsers
    db.expire_all()


def _location_id(response: Response, pattern: str) -> int | None:
    match = re.search(pattern, response.headers.get("location", ""))
    return int(match.group(1)) if match else None


def test_accounts(browse, db, stage, settings, monkeypatch):
    """Usernames, display names and email addresses at registration; display names changed on
    the profile; access token names. Shown on the profile, the member's page, the community's
    member list, and beside all they write (the stage's members have hostile names too)."""
    monkeypatch.setattr(settings, "registrations_per_ip", 10**6)
    visitor = browse()
    strings = strings_for(ACCOUNTS, 0, 3)
    registered: list[str] = []
    for j in range(len(strings)):
        hostile = {
            name: rotated(strings, j, k, 3)
            for k, name in enumerate(("username", "display_name", "email"))
        }
        benign = {
            "username": f"hostile-{j}",
            "display_name": f"Member {j}",
            "email": f"hostile-{j}@example.org",
            "password": "a long enough passphrase 2026",
        }
        response, refused = visitor.fill("/register", hostile, benign)
        if response.status_code != 303:
            visitor.report("registration not accepted", "/register", response.text)
            continue
        username = benign["username"] if "username" in refused else hostile["username"]
        registered.append(username.strip().lower())
        if j % 8 == 0:
            visitor.get("/profile")
        visitor.client.cookies.delete("nf_session")
    users = db.scalars(select(User).where(User.username.in_(registered))).all()
    assert len(users) == len(registered) >= 10
    for user in users:
        add_member(db, stage.community, user)
    visitor.get("/c/hostile/members")
    for user in users[::4]:
        visitor.get(f"/u/{user.username}")

    member = browse(stage.fan)
    for j, text in enumerate(strings_for(ACCOUNTS, 1, 3)):
        member.fill("/profile", {"display_name": text}, {"display_name": f"Luka {j}"})
        if j % 8 == 0:
            visitor.get(f"/c/hostile/proposals/{stage.proposal.id}")
    for j, text in enumerate(strings_for(ACCOUNTS, 2, 3)):
        member.fill(
            "/profile/tokens",
            {"name": text},
            {"name": f"token {j}", "scope": "read"},
            error_ids={"name": "f-token-name"},
        )
    member.get("/profile")
    browse.verify()


def test_communities(browse, db, stage):
    """Community names, addresses and descriptions (new and edited), category names and
    descriptions, the reasons for role changes. Shown on the home page, each community's page,
    settings, members and log, the proposal forms and filters, and in each community's
    guidelines feed (its title) and Markdown download."""
    admin = browse(stage.admin)
    created: list[str] = []
    strings = strings_for(COMMUNITIES, 0, 4)
    for j in range(len(strings)):
        hostile = {
            name: rotated(strings, j, k, 3)
            for k, name in enumerate(("name", "slug", "description"))
        }
        benign = {"name": f"Community {j}", "slug": f"c-{j}", "description": ""}
        response, _ = admin.fill("/communities/new", hostile, benign)
        if response.status_code != 303:
            admin.report("community not created", "/communities/new", response.text)
            continue
        created.append(response.headers["location"].removeprefix("/c/"))
    assert len(created) >= 10
    anyone = browse()
    anyone.get("/")
    for slug in created:
        anyone.get(f"/c/{slug}")
        check_download(anyone, f"/c/{slug}/guidelines.md")
        anyone.get(f"/c/{slug}/guidelines.atom")

    strings = strings_for(COMMUNITIES, 1, 4)
    for j in range(len(strings)):
        hostile = {
            "name": rotated(strings, j, 0, 4),
            "description": rotated(strings, j, 1, 4),
            "min_deliberation_hours": rotated(strings, j, 2, 4),
            "flag_hide_threshold": rotated(strings, j, 3, 4),
        }
        benign = {
            "name": "Hostile fans",
            "description": "",
            "min_deliberation_hours": "72",
            "flag_hide_threshold": "3",
            "ratification": "moderator",
        }
        admin.fill("/c/hostile/edit", hostile, benign)
        if j % 6 == 0:
            anyone.get("/c/hostile")

    for j, text in enumerate(strings_for(COMMUNITIES, 2, 4)):
        admin.fill(
            "/c/hostile/categories",
            {"name": text, "description": rotated(strings, j, 1, 2)},
            {"name": f"Category {j}", "description": ""},
            error_ids={"name": "f-category-name", "description": "f-category-description"},
        )
    for j, text in enumerate(strings_for(COMMUNITIES, 3, 4)):
        role = ("creator", "fan")[j % 2]
        admin.fill(
            "/c/hostile/members/fan_luka/role",
            {"reason": text},
            {"role": role, "reason": "For the record."},
            error_ids={"reason": "error-fan_luka"},
        )
    for url in (
        "/c/hostile",
        "/c/hostile/edit",
        "/c/hostile/members",
        "/c/hostile/proposals",
        "/c/hostile/proposals/new",
        "/c/hostile/guidelines",
    ):
        admin.get(url)
    anyone.crawl("/c/hostile/moderation-log", r'href="([^"]*cursor=[^"]*)"')
    browse.verify()


def check_download(browser: Browser, url: str) -> None:
    """The guidelines as Markdown: served as text/markdown that no browser may sniff as HTML."""
    response = browser.get(url)
    if response.status_code == 200:
        kind = response.headers.get("content-type", "")
        if not kind.startswith("text/markdown"):
            browser.report("download served as " + kind, url)
        if response.headers.get("x-content-type-options") != "nosniff":
            browser.report("download without nosniff", url)


PROPOSAL_FIELDS = ("title", "summary", "rationale", "norm_text", "tags")


def _proposal_form(stage: Stage, j: int) -> dict[str, str]:
    return {
        "title": f"Proposal number {j}",
        "summary": "",
        "rationale": "",
        "norm_text": "Works credit their creator.",
        "tags": "",
        "category": stage.category.slug,
        "kind": "new",
    }


def test_proposals(browse, db, stage, monkeypatch):
    """Titles, summaries, rationales, norm texts and tags, new and edited; revision messages,
    reasons for withdrawing and locking, co-author usernames, flags. Shown on each proposal's
    page, its revisions and their word diff, the list (to members and visitors), the community
    page, the moderation queue and log, and the notifications of a follower."""
    monkeypatch.setattr("app.moderation.service.FLAG_LIMIT", 10**6)
    author = browse(stage.author)
    fan = browse(stage.fan)
    moderator = browse(stage.moderator)
    made: list[int] = []
    drafts: list[int] = []
    strings = strings_for(PROPOSALS, 0, 3)
    for j in range(len(strings)):
        hostile = {name: rotated(strings, j, k, 5) for k, name in enumerate(PROPOSAL_FIELDS)}
        response, _ = author.fill("/c/hostile/proposals/new", hostile, _proposal_form(stage, j))
        number = _location_id(response, r"/proposals/(\d+)$")
        if number is None:
            author.report("proposal not created", "/c/hostile/proposals/new", response.text)
            continue
        proposal = db.get(Proposal, number)
        assert proposal is not None
        if j % 5 == 0 or not proposal.norm_text.strip():
            drafts.append(number)
            continue
        made.append(number)
        proposals_service.publish(db, actor=stage.author, proposal=proposal, now=utcnow())
        proposals_service.follow(db, actor=stage.fan, proposal=proposal, now=utcnow())

    assert len(made) >= 10
    # Each of a few proposals is edited again and again: its revisions pile up.
    strings = strings_for(PROPOSALS, 1, 3)
    edited = made[:4]
    for j in range(len(strings)):
        number = edited[j % len(edited)]
        revision = db.scalar(select(Proposal.revision_number).where(Proposal.id == number))
        hostile = {
            name: rotated(strings, j, k, 6) for k, name in enumerate((*PROPOSAL_FIELDS, "message"))
        }
        benign = {**_proposal_form(stage, j), "message": "", "base_revision": str(revision)}
        author.fill(f"/c/hostile/proposals/{number}/edit", hostile, benign)
    for number in edited:
        author.get(f"/c/hostile/proposals/{number}/revisions")
        author.get(f"/c/hostile/proposals/{number}/revisions?from=1&to=2")

    # Moderators lock and unlock one proposal, retag it; the fan flags each proposal once;
    # the author withdraws the rest, each with a reason.
    strings = strings_for(PROPOSALS, 2, 3)
    proposal = f"/c/hostile/proposals/{stage.proposal.id}"
    for j, text in enumerate(strings):
        moderator.fill(
            f"{proposal}/moderate",
            {"tags": rotated(strings, j, 1, 2), "reason": text},
            {"category": stage.category.slug, "tags": "", "lock": ("lock", "unlock")[j % 2]},
            error_ids={"tags": "f-mod-tags", "reason": "f-mod-reason"},
            retry=False,
        )
        fan.act(f"/c/hostile/proposals/{made[j % len(made)]}/flag", {"reason": text})
        author.fill(
            f"{proposal}/coauthors",
            {"username": text},
            {},
            error_ids={"username": "f-coauthor"},
            retry=False,
        )
    for j, number in enumerate(made[len(edited) :]):
        author.act(f"/c/hostile/proposals/{number}/withdraw", {"reason": strings[j]})

    for number in made + drafts:
        author.get(f"/c/hostile/proposals/{number}")
    visitor = browse()
    pager = r'class="pager"><a [^>]*href="([^"]+)"'
    author.crawl("/c/hostile/proposals", pager)
    visitor.crawl("/c/hostile/proposals?sort=active", pager)
    visitor.get("/c/hostile")
    visitor.get(f"/c/hostile/proposals/{stage.proposal.id}")
    moderator.crawl("/c/hostile/moderation", r'href="([^"]*cursor=[^"]*)"')
    visitor.crawl("/c/hostile/moderation-log", r'href="([^"]*cursor=[^"]*)"')
    fan.crawl("/notifications", r'href="([^"]*before=[^"]*)"')
    browse.verify()


WORK_FIELDS = (
    "title",
    "creator_name",
    "creator_username",
    "url",
    "license_other",
    "content_notes",
    "description",
    "excerpt",
    "duration_seconds",
    "parents",
)


def test_works(browse, db, stage, monkeypatch):
    """Every field of a work (title, creator, creator's username, address, license, content
    notes, description, excerpt, duration, parents); exhibit notes; reasons for hiding and
    flagging; quotes of excerpts in anchored comments. Shown on each work's page and lineage,
    the works list, the proposal's exhibits and thread filter, anchor pages, the queue, the
    log."""
    monkeypatch.setattr("app.moderation.service.FLAG_LIMIT", 10**6)
    monkeypatch.setattr("app.discussion.service.POST_LIMIT", 10**6)
    author = browse(stage.author)
    made: list[int] = []
    excerpts: dict[int, str] = {}
    strings = strings_for(WORKS, 0, 2)
    for j in range(len(strings)):
        hostile = {
            name: rotated(strings, j, k, len(WORK_FIELDS)) for k, name in enumerate(WORK_FIELDS)
        }
        # Text works have an excerpt, audio and video a duration: each takes the core list.
        text_work = j % 2 == 0
        hostile.pop("duration_seconds" if text_work else "excerpt")
        hostile["excerpt" if text_work else "duration_seconds"] = strings[j // 2]
        benign = {
            "title": f"Work {j}",
            "creator_name": "Len",
            "creator_username": "",
            "url": f"https://example.org/works/{j}",
            "medium": "text" if text_work else "video",
            "license": "other",
            "license_other": "",
            "content_notes": "",
            "description": "",
            "excerpt": "",
            "duration_seconds": "",
            "parents": str(made[-1]) if made else "",
        }
        response, refused = author.fill("/c/hostile/works/new", hostile, benign)
        number = _location_id(response, r"/works/(\d+)$")
        if number is None:
            author.report("work not created", "/c/hostile/works/new", response.text)
            continue
        made.append(number)
        if text_work and "excerpt" not in refused and hostile["excerpt"].strip():
            excerpts[number] = hostile["excerpt"]

    assert len(made) >= 10
    strings = strings_for(WORKS, 1, 2)
    moderator = browse(stage.moderator)
    fan = browse(stage.fan)
    proposal = f"/c/hostile/proposals/{stage.proposal.id}"
    for j, number in enumerate(made):
        note = rotated(strings, j, 0, 3)
        author.fill(
            f"{proposal}/exhibits",
            {"note": note},
            {"work": str(number), "stance": "borderline", "note": ""},
            error_ids={"note": "f-exhibit-note"},
        )
        if number in excerpts and len(excerpts[number]) <= 1000:
            author.fill(
                f"{proposal}/comments",
                {"anchor_exact": excerpts[number], "body": rotated(strings, j, 1, 3)},
                {
                    "body": "See this passage.",
                    "anchor_work": str(number),
                    "anchor_kind": "quote",
                    "anchor_exact": excerpts[number],
                },
                error_ids={"anchor_exact": "anchor-exact-new", "body": "body-new"},
            )
    visitor = browse()
    for number in made:
        visitor.get(f"/c/hostile/works/{number}")
    pager = r'class="pager"><a [^>]*href="([^"]+)"'
    visitor.crawl("/c/hostile/works", pager)
    for match in re.finditer(r'href="([^"]*/comments/\d+/anchor)"', author.get(proposal).text):
        visitor.get(match.group(1))

    # The fan flags each work, and a moderator hides them from the last one up, with reasons.
    for j, text in enumerate(strings):
        fan.act(f"/c/hostile/works/{made[j % len(made)]}/flag", {"reason": text})
        hidden = made[-1 - j % len(made)]
        moderator.act(f"/c/hostile/works/{hidden}/hide", {"reason": rotated(strings, j, 1, 2)})
    for number in made[::4]:
        visitor.get(f"/c/hostile/works/{number}")
    visitor.crawl("/c/hostile/works", pager)
    author.get(proposal)
    moderator.crawl("/c/hostile/moderation", r'href="([^"]*cursor=[^"]*)"')
    visitor.crawl("/c/hostile/moderation-log", r'href="([^"]*cursor=[^"]*)"')
    browse.verify()


def test_comments(browse, db, stage, monkeypatch, make_app, client_for):
    """Comment bodies, new and edited, top level and replies; reasons for hiding and
    flagging. Shown in the thread (to members, moderators and visitors), on each comment's
    page and history, in the queue and log, and in the notifications of whoever was replied
    to."""
    monkeypatch.setattr("app.moderation.service.FLAG_LIMIT", 10**6)
    monkeypatch.setattr("app.discussion.service.POST_LIMIT", 10**6)
    fan = browse(stage.fan)
    author = browse(stage.author)
    moderator = browse(stage.moderator)
    proposal = f"/c/hostile/proposals/{stage.proposal.id}"
    posted: list[int] = []
    writers: dict[int, Browser] = {}
    strings = strings_for(COMMENTS, 0, 2)
    for j, text in enumerate(strings):
        writer = author if j % 3 == 2 else fan
        form = {"body": "", "alignment": ("supports", "opposes", "neutral", "question")[j % 4]}
        if j % 3 == 2 and posted:
            form = {"body": "", "parent": str(posted[-1])}
        response, _ = writer.fill(f"{proposal}/comments", {"body": text}, form, retry=False)
        number = _location_id(response, r"#comment-(\d+)$")
        if number is not None:
            posted.append(number)
            writers[number] = writer

    assert len(posted) >= 10
    # A few comments are edited again and again (their history grows); each comment is
    # flagged by the other member, and then hidden by a moderator, each with a reason.
    strings = strings_for(COMMENTS, 1, 2)
    edited = [n for n in posted if writers[n] is fan][:4]
    for j, text in enumerate(strings):
        number = edited[j % len(edited)]
        writers[number].fill(
            f"{proposal}/comments/{number}/edit",
            {"body": text},
            {"alignment": ""},
            error_ids={"body": "f-body"},
            retry=False,
        )
    for j, text in enumerate(strings):
        number = posted[j % len(posted)]
        flagger = author if writers[number] is fan else fan
        flagger.act(f"{proposal}/comments/{number}/flag", {"reason": text})
    for j, text in enumerate(strings):
        number = posted[-1 - j % len(posted)]
        moderator.act(f"{proposal}/comments/{number}/hide", {"reason": text})

    pager = r'class="load-more" href="([^"#]*\?cursor=[^"#]*)'
    for viewer in (fan, moderator, browse()):
        viewer.crawl(proposal, pager)
    for j, number in enumerate(posted):
        if j % 3 == 0:
            fan.get(f"{proposal}/comments/{number}")
    for number in edited:
        browse().get(f"{proposal}/comments/{number}/history")
    moderator.crawl("/c/hostile/moderation", r'href="([^"]*cursor=[^"]*)"')
    fan.crawl("/c/hostile/moderation-log", r'href="([^"]*cursor=[^"]*)"')
    fan.crawl("/notifications", r'href="([^"]*before=[^"]*)"')

    # The live thread: each comment arrives as HTML over server-sent events.
    live = client_for(make_app(live_poll_seconds=0.05, live_stream_seconds=0.5))
    sign_in_as(live, stage.moderator)
    with live.stream("GET", f"{proposal}/events?after=0") as stream:
        text = "".join(stream.iter_text())
    events = [
        "\n".join(line[6:] for line in block.split("\n") if line.startswith("data: "))
        for block in text.split("\n\n")
        if "event: comment" in block
    ]
    assert len(events) >= len(posted) // 2
    for html in events:
        for finding in check_html(html):
            moderator.report("unsafe HTML", f"{proposal}/events", str(finding))
    RENDERS["app pages"] += len(events)
    browse.verify()


def sign_in_as(client: TestClient, user: User) -> None:
    data = {"csrf_token": csrf_token(client), "login": user.username, "password": PASSWORD}
    assert client.post("/login", data=data).status_code == 303


def test_polls(browse, db, stage):
    """Reasons of concerns and objections (changed again and again), reasons of rulings that
    an objection is not paramount. Shown on the poll page and its ballots, the proposal's
    panel, the authors' notifications, and in the export (JSON and CSV, which must still
    recount, with no cell a spreadsheet would run)."""
    voters = [stage.fan, stage.rights_holder, stage.moderator, stage.author]
    poll = polls_service.open_poll(
        db, actor=stage.author, proposal=stage.proposal, now=utcnow() - timedelta(hours=1)
    )
    browsers = [browse(v) for v in voters]
    url = f"/c/hostile/polls/{poll.id}"
    strings = strings_for(POLLS, 0, 2)
    for j, text in enumerate(strings):
        voter = browsers[j % len(voters)]
        position = ("object", "concern")[(j // len(voters)) % 2]
        voter.fill(
            f"{url}/ballot",
            {"reason": text},
            {"position": position, "reason": "", "page": "poll"},
            error_ids={"reason": "ballot-reason"},
            retry=False,
        )
        if j % 6 == 0:
            voter.get(url)
    moderator = browsers[2]
    strings = strings_for(POLLS, 1, 2)
    for j, text in enumerate(strings):
        objections = polls_service.objections(db, poll)
        if not objections:
            browsers[j % 2].fill(
                f"{url}/ballot",
                {"reason": text},
                {"position": "object", "page": "poll"},
                error_ids={"reason": "ballot-reason"},
                retry=False,
            )
            continue
        ballot = objections[0].id
        moderator.fill(
            f"{url}/objections/{ballot}/ruling",
            {"reason": text},
            {"page": "poll"},
            error_ids={"reason": f"ruling-reason-{ballot}"},
            retry=False,
        )
    for viewer in (*browsers, browse()):
        viewer.get(url)
    browsers[3].get(f"/c/hostile/proposals/{stage.proposal.id}")
    browsers[3].crawl(f"{url}/ballots", r'class="pager"><a [^>]*href="([^"]+)"')
    browsers[3].crawl("/notifications", r'href="([^"]*before=[^"]*)"')

    moderator.act(f"{url}/close", {"page": "poll"})
    browse().get(url)
    exported = browse().client.get(f"/api/v1/polls/{poll.id}/export.csv")
    assert exported.status_code == 200
    data = exports.from_csv(exported.text)
    assert polls_service.verify(data).matches
    for row in csv.reader(io.StringIO(exported.text.split("\n", len(exports.HEADER_PARTS))[-1])):
        for cell in row:
            assert not cell.startswith(exports.FORMULA_STARTS), cell
    browse.verify()


def _passed(db: Session, stage: Stage, title: str, norm_text: str, target: str = "") -> Proposal:
    """A proposal made, published, polled and consented to through the services; one that
    amends clause `target` if given."""
    values = proposals_service.ProposalDraft(
        title=title,
        # A proposal is published only with a text (refused clearly, as the proposals test shows).
        norm_text=norm_text if norm_text.strip() else "An empty text, replaced.",
        category=stage.category.slug,
        kind="amend" if target else "new",
        target_clause=target,
    )
    numbers = guidelines_service.clause_numbers(db, stage.community)
    long_ago = utcnow() - timedelta(days=6)
    try:
        proposal = proposals_service.create_proposal(
            db,
            actor=stage.author,
            community=stage.community,
            values=values,
            now=long_ago,
            clause_numbers=numbers,
        )
    except ValidationFailed:
        values.title, values.norm_text = "A refused title, replaced", "A refused text, replaced."
        proposal = proposals_service.create_proposal(
            db,
            actor=stage.author,
            community=stage.community,
            values=values,
            now=long_ago,
            clause_numbers=numbers,
        )
    proposals_service.publish(db, actor=stage.author, proposal=proposal, now=long_ago)
    return _consented(db, stage, proposal)


def _consented(db: Session, stage: Stage, proposal: Proposal) -> Proposal:
    """The proposal polled (again) and consented to: passed, waiting for ratification."""
    now = utcnow()
    poll = polls_service.open_poll(
        db, actor=stage.author, proposal=proposal, now=now - timedelta(days=2)
    )
    for voter in (stage.fan, stage.author, stage.moderator, stage.rights_holder):
        polls_service.cast_ballot(
            db, actor=voter, poll=poll, position="consent", reason="", now=now - timedelta(days=1)
        )
    polls_service.close_early(db, actor=stage.moderator, poll=poll, now=now - timedelta(hours=1))
    return proposal


def test_guidelines(browse, db, stage):
    """Guideline text, section and clause titles, imported from Markdown and ratified from
    proposals (new and amending clauses); ratification notes, reasons for returning a
    proposal, clause tags. Shown on the guidelines page, each clause's page and versions,
    the versions list, the diff between versions, the ratification queue, the proposal's
    page, the Atom feed (which must stay XML) and the Markdown download."""
    admin = browse(stage.admin)
    anyone = browse()
    strings = strings_for(GUIDELINES, 0, 2)
    imported = 0
    for j in range(0, len(strings), 5):
        a, b, c, d, e = (strings[(j + k) % len(strings)] for k in range(5))
        community = communities_service.create_community(
            db,
            actor=stage.admin,
            name=f"Rules {j}",
            slug=f"rules-{j}",
            description="",
            now=utcnow(),
        )
        markdown = f"## {a}\n\n- **{b}** {c}\n- {d}\n\n## Rules\n\n1. {e}\n"
        response, _ = admin.fill(
            f"/c/{community.slug}/guidelines/import", {"markdown": markdown}, {}, retry=False
        )
        if response.status_code != 303:
            continue
        imported += 1
        page = anyone.get(f"/c/{community.slug}/guidelines").text
        check_download(anyone, f"/c/{community.slug}/guidelines.md")
        anyone.get(f"/c/{community.slug}/guidelines.atom")
        anyone.get(f"/c/{community.slug}/guidelines/versions")
        for number in sorted(set(re.findall(r"/guidelines/clauses/([\d.]+)\"", page))):
            anyone.get(f"/c/{community.slug}/guidelines/clauses/{number}")
            anyone.get(f"/c/{community.slug}/guidelines/clauses/{number}/v1")

    assert imported >= 5
    # Ratified proposals (new clauses, and amendments of the last one), each with a note;
    # one proposal returned to deliberation again and again, each time with a reason; tags.
    moderator = browse(stage.moderator)
    strings = strings_for(GUIDELINES, 1, 2)
    for j in range(len(strings)):
        clauses = sorted(guidelines_service.clause_numbers(db, stage.community))
        target = clauses[-1] if j % 2 and clauses else ""
        proposal = _passed(db, stage, strings[j], rotated(strings, j, 1, 3), target)
        if j % 8 == 0:
            moderator.get("/c/hostile/ratification")
        moderator.act(
            f"/c/hostile/proposals/{proposal.id}/ratify", {"note": rotated(strings, j, 2, 3)}
        )
        if j % 4 == 0:
            anyone.get(f"/c/hostile/proposals/{proposal.id}")
    returned = _passed(db, stage, "Returned again and again", "Text.")
    for reason in corpus.CORE:
        db.refresh(returned)
        if returned.state == ProposalState.deliberation:
            # Returned (the reason was taken): its minimum period over, it passes again.
            returned.voting_may_open_at = utcnow() - timedelta(days=3)
            _consented(db, stage, returned)
        moderator.act(f"/c/hostile/proposals/{returned.id}/return", {"reason": reason})
    anyone.get(f"/c/hostile/proposals/{returned.id}")
    numbers = sorted(guidelines_service.clause_numbers(db, stage.community))
    for j, tag in enumerate(strings):
        moderator.act(
            f"/c/hostile/guidelines/clauses/{numbers[j % len(numbers)]}/tags", {"tags": tag}
        )
    # Translations of the clauses, shown in place of their text to readers of the language.
    for j in range(len(strings)):
        number = numbers[j % len(numbers)]
        moderator.fill(
            f"/c/hostile/guidelines/clauses/{number}/translations",
            {"title": strings[j], "text": rotated(strings, j, 1, 2)},
            {"language": "ja", "title": "Title", "text": "Text."},
            error_ids={"title": "t-title", "text": "t-text"},
        )
        if j % 4 == 0:
            anyone.get(f"/c/hostile/guidelines/clauses/{number}?lang=ja")
    anyone.get("/c/hostile/guidelines?lang=ja")
    check_download(anyone, "/c/hostile/guidelines.md?lang=ja")
    latest = guidelines_service.latest_number(db, stage.community)
    anyone.get("/c/hostile/guidelines")
    check_download(anyone, "/c/hostile/guidelines.md")
    anyone.get("/c/hostile/guidelines.atom")
    anyone.get("/c/hostile/guidelines/versions")
    anyone.get(f"/c/hostile/guidelines/diff?from=1&to={latest}")
    for version in range(1, latest + 1):
        anyone.get(f"/c/hostile/guidelines?version={version}")
    for number in sorted(guidelines_service.clause_numbers(db, stage.community)):
        anyone.get(f"/c/hostile/guidelines/clauses/{number}")
    anyone.crawl("/c/hostile/moderation-log", r'href="([^"]*cursor=[^"]*)"')
    browse.verify()


def _comment(db: Session, stage: Stage, author: User, body: str) -> int:
    comment = discussion_service.post_comment(
        db,
        actor=author,
        proposal=stage.proposal,
        draft=discussion_service.CommentDraft(body=body),
        now=utcnow(),
    )
    return comment.id


def test_moderation(browse, db, stage, monkeypatch):
    """Warnings and their public reasons, suspension periods and reasons, reasons for lifting
    them, appeals and the reasons of their decisions, reasons for resolving flags. Shown in
    the warned member's banner (on every page) and record, the member's page for moderators,
    the queue, the public log, notifications, and the mail those become (the admins' outbox,
    and each mail must be one that can be sent)."""
    monkeypatch.setattr("app.moderation.service.FLAG_LIMIT", 10**6)
    monkeypatch.setattr("app.discussion.service.POST_LIMIT", 10**6)
    meiko = established_member(db, stage.community, "fan_meiko", "Meiko <b>Fan</b>", Role.fan)
    for member in (stage.fan, meiko):
        notifications_service.save_preference(db, actor=member, delivery="email", muted_kinds=[])
    moderator = browse(stage.moderator)
    # The community's name is in the notifications, so in the subject of their mail.
    moderator.fill(
        "/c/hostile/edit",
        {"name": "Hostile\r\nBcc: victim@example.org"},
        {
            "description": "",
            "min_deliberation_hours": "72",
            "flag_hide_threshold": "3",
            "ratification": "moderator",
        },
    )
    strings = strings_for(MODERATION, 0, 4)
    for j in range(len(strings)):
        moderator.fill(
            "/c/hostile/moderation/members/fan_luka/warn",
            {"message": rotated(strings, j, 0, 2), "reason": rotated(strings, j, 1, 2)},
            {"message": "Please keep it civil.", "reason": ""},
            error_ids={"message": "f-warn-message", "reason": "f-warn-reason"},
            retry=False,
        )
    fan = browse(stage.fan)
    fan.get("/")
    fan.get("/c/hostile/moderation/mine")

    strings = strings_for(MODERATION, 1, 4)
    for j in range(len(strings)):
        response, _ = moderator.fill(
            "/c/hostile/moderation/members/fan_meiko/suspend",
            {"days": rotated(strings, j, 0, 3), "reason": rotated(strings, j, 1, 3)},
            {"days": "7", "reason": "Spam."},
            error_ids={"days": "f-suspend-days", "reason": "f-suspend-reason"},
        )
        if response.status_code == 303:
            moderator.get("/c/hostile/moderation/members/fan_meiko")
            moderator.fill(
                "/c/hostile/moderation/members/fan_meiko/lift",
                {"reason": rotated(strings, j, 2, 3)},
                {"reason": "Served."},
                error_ids={"reason": "f-lift-reason"},
            )

    # Meiko's comments are hidden, each with a reason; Meiko appeals each, and a moderator
    # decides each appeal, all with reasons.
    strings = strings_for(MODERATION, 2, 4)
    appellant = browse(meiko)
    decided = 0
    for j, text in enumerate(strings):
        comment = db.get(Comment, _comment(db, stage, meiko, f"Comment {j}"))
        assert comment is not None
        reason = rotated(strings, j, 1, 3)
        try:
            discussion_service.hide_comment(
                db, actor=stage.moderator, comment=comment, reason=reason, now=utcnow()
            )
        except ValidationFailed:
            discussion_service.hide_comment(
                db, actor=stage.moderator, comment=comment, reason="Rude.", now=utcnow()
            )
        if j % 8 == 0:
            appellant.get("/c/hostile/moderation/mine")
        appellant.fill(
            "/c/hostile/moderation/mine/appeals",
            {"message": text},
            {"kind": "comment", "target": str(comment.id)},
            retry=False,
        )
        appeal = db.scalar(select(Appeal).where(Appeal.comment_id == comment.id))
        if appeal is not None:
            if j % 8 == 0:
                moderator.get("/c/hostile/moderation")
            moderator.fill(
                f"/c/hostile/moderation/appeals/{appeal.id}",
                {"reason": strings[decided]},
                {"decision": ("grant", "deny")[j % 2]},
                retry=False,
            )
            decided += 1

    strings = strings_for(MODERATION, 3, 4)
    for j, text in enumerate(strings):
        number = _comment(db, stage, meiko, f"Flagged comment {j}")
        comment = db.get(Comment, number)
        assert comment is not None
        moderation_service.flag_comment(
            db, actor=stage.author, comment=comment, reason="Rude.", now=utcnow()
        )
        moderator.fill(
            f"/c/hostile/moderation/comments/{number}",
            {"reason": text},
            {"action": "hide"},
            retry=False,
        )

    moderator.crawl("/c/hostile/moderation", r'href="([^"]*cursor=[^"]*)"')
    moderator.get("/c/hostile/moderation/members/fan_luka")
    moderator.get("/c/hostile/moderation/members/fan_meiko")
    appellant.get("/c/hostile/moderation/mine")
    browse().crawl("/c/hostile/moderation-log", r'href="([^"]*cursor=[^"]*)"')
    for reader in (fan, appellant):
        reader.crawl("/notifications", r'href="([^"]*before=[^"]*)"')
    settings = moderator.client.app.state.settings
    jobs.mail_at_once(db, now=utcnow(), links=jobs.Links(settings.base_url, settings.secret))
    browse(stage.admin).get("/admin/outbox")
    mails = db.scalars(select(OutboxMail)).all()
    assert mails, "no notification was mailed"
    for mail in mails:
        try:
            sender.message(mail, settings.mail_from)
        except ValueError as exc:
            moderator.report("mail that cannot be sent", mail.subject, repr(exc))
    browse.verify()


#: Query parameters that pages read, and often show back in a form or a message.
REFLECTED = [
    ("/c/hostile/proposals", ("q", "tag", "category", "state", "sort", "cursor")),
    ("/c/hostile/proposals/new", ("title", "summary", "norm_text", "kind", "target_clause")),
    ("/c/hostile/works", ("medium", "cursor")),
    ("/c/hostile/guidelines", ("version", "as_of", "tag", "q", "lang")),
    ("/c/hostile/guidelines.md", ("version", "as_of", "tag", "lang")),
    ("/c/hostile/guidelines/diff", ("from", "to")),
    ("/c/hostile/moderation-log", ("action", "cursor")),
    ("/c/hostile/moderation/members", ("username",)),
    ("/notifications", ("before", "unread")),
    ("/login", ("next",)),
    ("/password/reset", ("token",)),
    ("/verify-email", ("token",)),
]


def test_query_parameters(browse, db, stage):
    """What a link can put in the address, and the page may show back: filters, searches,
    cursors, prefilled forms, the page to return to after signing in, mailed tokens."""
    proposal = f"/c/hostile/proposals/{stage.proposal.id}"
    comment = _comment(db, stage, stage.fan, "A comment.")
    poll = polls_service.open_poll(
        db, actor=stage.author, proposal=stage.proposal, now=utcnow() - timedelta(hours=1)
    )
    pages = [
        *REFLECTED,
        (proposal, ("work", "cursor")),
        (f"{proposal}/revisions", ("from", "to")),
        (f"{proposal}/comments/{comment}", ("after", "shown", "level")),
        (f"/c/hostile/polls/{poll.id}/ballots", ("after", "position")),
    ]
    moderator = browse(stage.moderator)
    # The escaping and URL attacks of the core list, and what breaks storage and parsers.
    strings = [*corpus.CORE[:18], "a\x00b", "x" * 8000, "a\r\nSet-Cookie: injected=1", "-1"]
    for url, names in pages:
        for k, name in enumerate(names):
            for text in strings[k % 3 :: 3]:
                response = moderator.client.get(url, params={name: text})
                moderator.check(response, f"{url}?{name}={text[:40]!r}")
                if response.status_code not in (200, 303, 400, 404, 422):
                    moderator.report(f"answered {response.status_code}", url, response.text)
    browse.verify()
