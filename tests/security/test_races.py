"""Races: the same write sent many times at once, through a real server, on a fresh database
of the kind under test (SQLite serializes writers; PostgreSQL runs them side by side).

Each race starts its requests together (a barrier), checks that none was answered with a 5xx,
that as many succeeded as the rule allows, and that the database holds exactly what one
success leaves: one membership, one guideline version, one new revision, one poll... The
double ballot (200 ballots of 20 members at once) is raced in
tests/functional/polls/test_concurrency.py.
"""

from __future__ import annotations

import html
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app import migrate
from app.accounts import service as accounts_service
from app.accounts.models import AccessToken, User
from app.communities.models import (
    Category,
    LogAction,
    Membership,
    ModerationLogEntry,
    Role,
    RoleChange,
    Suspension,
)
from app.db import create_db_engine, utcnow
from app.discussion import service as discussion_service
from app.guidelines import service as guidelines_service
from app.guidelines.models import ClauseTag, DocumentVersion, Ratification
from app.moderation import appeals as appeals_service
from app.moderation.models import Appeal, Flag
from app.polls import service as polls_service
from app.polls.models import ObjectionRuling, Poll
from app.proposals import exhibits as exhibits_service
from app.proposals import service as proposals_service
from app.proposals.models import (
    EventKind,
    Exhibit,
    Proposal,
    ProposalAuthor,
    ProposalEvent,
    ProposalState,
    ProposalTag,
    Revision,
)
from app.works import service as works_service
from app.works.models import WorkImage
from tests.factories import add_member, make_community, make_user
from tests.security.world import Call, Ref, World, csrf_token_of, flash_level, resolve
from tests.support.images import image_bytes
from tests.support.live import serve

#: Requests per race (the concurrent edits send more).
TIMES = 10


@dataclass
class Stage:
    """The seeded database: its URL, the ids of what the races act on, and who sends them."""

    url: str
    world: World
    engine: Engine
    base: str = ""


def seed(url: str) -> World:
    """Everything the races act on, each race its own objects; committed."""
    engine = create_db_engine(url)
    now = utcnow()
    long_ago = now - timedelta(days=30)
    try:
        with Session(engine, expire_on_commit=False) as db:
            community = make_community(db, "race", name="Race Fans")
            cats = make_community(db, "cats", name="Category Fans")
            names = (
                "mod_a",
                "mod_b",
                "author",
                "coauthor",
                "joiner",
                "leaver",
                "flagger",
                "objector",
                "target",
                "promoted",
                "follower",
            )
            people = {name: make_user(db, name) for name in names}
            for person in people.values():
                person.created_at = long_ago
            for name, person in people.items():
                if name == "joiner":
                    continue
                role = Role.moderator if name in ("mod_a", "mod_b") else Role.fan
                add_member(db, community, person, role, joined_at=long_ago)
            add_member(db, cats, people["mod_a"], Role.moderator, joined_at=long_ago)
            author, mod_a = people["author"], people["mod_a"]

            guidelines_service.import_rules(
                db,
                actor=mod_a,
                community=community,
                markdown="## Rules\n- **Credit.** Credit the original artist.\n",
                now=long_ago,
            )

            def proposal(title: str, *, published: bool = True) -> Proposal:
                made = proposals_service.create_proposal(
                    db,
                    actor=author,
                    community=community,
                    values=proposals_service.ProposalDraft(title=title, norm_text=f"{title}."),
                    now=now - timedelta(days=20),
                )
                if published:
                    proposals_service.publish(
                        db, actor=author, proposal=made, now=now - timedelta(days=20)
                    )
                return made

            def passed(title: str) -> Proposal:
                made = proposal(title)
                poll = polls_service.open_poll(
                    db, actor=mod_a, proposal=made, now=now - timedelta(days=5)
                )
                for voter in ("mod_a", "mod_b", "author", "coauthor"):
                    polls_service.cast_ballot(
                        db,
                        actor=people[voter],
                        poll=poll,
                        position="consent",
                        reason="",
                        now=now - timedelta(days=4),
                    )
                polls_service.close_early(db, actor=mod_a, poll=poll, now=now - timedelta(days=3))
                assert made.state == ProposalState.passed
                return made

            to_ratify = passed("Credit every remix")
            to_return = passed("Tag AI works")
            editable = proposal("Name the singer")
            proposals_service.add_coauthor(
                db, actor=author, proposal=editable, username="coauthor", now=long_ago
            )
            shared = proposal("Share the stems")
            proposals_service.add_coauthor(
                db, actor=author, proposal=shared, username="coauthor", now=long_ago
            )
            draft = proposal("A draft to publish", published=False)
            withdrawable = proposal("A proposal to withdraw")
            ready = proposal("Ready for a poll")
            closing = proposal("A poll to close")
            closing_poll = polls_service.open_poll(
                db, actor=mod_a, proposal=closing, now=now - timedelta(days=1)
            )
            objected = proposal("An objection to rule on")
            objected_poll = polls_service.open_poll(
                db, actor=mod_a, proposal=objected, now=now - timedelta(days=1)
            )
            objection = polls_service.cast_ballot(
                db,
                actor=people["objector"],
                poll=objected_poll,
                position="object",
                reason="Too strict.",
                now=now,
            )
            lockable = proposal("A thread to lock")

            work = works_service.create_work(
                db,
                actor=author,
                community=community,
                values=works_service.WorkDraft(
                    title="Rin Sketch",
                    creator_name="Author",
                    url="https://example.org/rin",
                    medium="image",
                ),
                now=long_ago,
            )
            work_to_hide = works_service.create_work(
                db,
                actor=author,
                community=community,
                values=works_service.WorkDraft(
                    title="Len Sketch",
                    creator_name="Author",
                    url="https://example.org/len",
                    medium="image",
                ),
                now=long_ago,
            )
            exhibit = exhibits_service.add_exhibit(
                db,
                actor=author,
                proposal=lockable,
                work_id=work.id,
                stance="acceptable",
                note="",
                now=long_ago,
            )

            def comment(body: str) -> int:
                made = discussion_service.post_comment(
                    db,
                    actor=author,
                    proposal=lockable,
                    draft=discussion_service.CommentDraft(body=body),
                    now=now - timedelta(days=1),
                )
                return made.id

            flagged = comment("Flag me.")
            to_hide = comment("Hide me, twice at once.")
            appealed = comment("Hide me, then I appeal.")
            decided = comment("Hide me, then they decide.")
            for hidden in (appealed, decided):
                discussion_service.hide_comment(
                    db,
                    actor=mod_a,
                    comment=discussion_service.get_comment(db, hidden, viewer=mod_a),
                    reason="Rude.",
                    now=now,
                )
            appeal = appeals_service.appeal_by_id(
                db,
                actor=author,
                community=community,
                kind="comment",
                target_id=decided,
                message="Please.",
                now=now,
            )

            cookies: dict[str, dict[str, str]] = {"anonymous": {"nf_csrf": "csrf-anonymous"}}
            for name, person in people.items():
                cookies[name] = {
                    "nf_csrf": f"csrf-{name}",
                    "nf_session": accounts_service.start_session(
                        db, user=person, now=now, settings=_settings(url)
                    ),
                }
            db.commit()
            ids: dict[str, int | str] = {
                "slug": community.slug,
                "cats": cats.slug,
                "to_ratify": to_ratify.id,
                "to_return": to_return.id,
                "editable": editable.id,
                "shared": shared.id,
                "draft": draft.id,
                "withdrawable": withdrawable.id,
                "ready": ready.id,
                "closing": closing.id,
                "closing_poll": closing_poll.id,
                "objected_poll": objected_poll.id,
                "objection": objection.id,
                "lockable": lockable.id,
                "work": work.id,
                "exhibit": exhibit.id,
                "flagged": flagged,
                "to_hide": to_hide,
                "work_to_hide": work_to_hide.id,
                "appealed": appealed,
                "appeal": appeal.id,
                **{name: person.id for name, person in people.items()},
            }
            return World(ids=ids, cookies=cookies)
    finally:
        engine.dispose()


def _settings(url: str) -> Any:
    from tests.conftest import make_settings

    return make_settings(url)


@pytest.fixture(scope="module")
def stage(make_database_url) -> Iterator[Stage]:
    url = make_database_url("races")
    migrate.upgrade(url)
    world = seed(url)
    engine = create_db_engine(url)
    try:
        with serve(url, sweep_interval_seconds="0") as base:
            yield Stage(url, world, engine, base)
    finally:
        engine.dispose()


@dataclass
class Sent:
    who: str
    call: Call
    response: httpx.Response

    @property
    def succeeded(self) -> bool:
        """A 2xx, or a redirect carrying no error and no "already" notice."""
        status = self.response.status_code
        if 200 <= status < 300:
            return True
        return 300 <= status < 400 and flash_level(self.response) == "success"


@dataclass
class Race:
    stage: Stage
    answers: list[Sent] = field(default_factory=list)

    def run(self, requests: list[tuple[str, Call]]) -> list[Sent]:
        """Send every request at once (each from its own thread, released together)."""
        world = self.stage.world
        start = threading.Barrier(len(requests))

        def one(item: tuple[str, Call]) -> Sent:
            who, call = item
            jar = world.cookies[who]
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
            form = resolve(call.form, world) if call.form is not None else None
            if call.is_unsafe:
                token = csrf_token_of(jar["nf_csrf"])
                if call.is_api:
                    headers["X-CSRF-Token"] = token
                else:
                    form = {**(form or {}), "csrf_token": token}
            with httpx.Client(base_url=self.stage.base, timeout=60) as http:
                request = http.build_request(
                    call.method,
                    resolve(call.url, world),
                    data=form,
                    json=resolve(call.json, world) if call.json is not None else None,
                    files=call.files,
                    headers=headers,
                )
                start.wait()
                return Sent(who, call, http.send(request))

        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            self.answers = list(pool.map(one, requests))
        statuses = Counter(a.response.status_code for a in self.answers)
        assert not [s for s in statuses if s >= 500], statuses
        return self.answers

    @property
    def successes(self) -> int:
        return sum(a.succeeded for a in self.answers)


def count(stage: Stage, query: Any) -> int:
    with Session(stage.engine) as db:
        return int(db.scalar(query) or 0)


def events(stage: Stage, proposal: str, kind: EventKind) -> int:
    return count(
        stage,
        select(func.count(ProposalEvent.id)).where(
            ProposalEvent.proposal_id == stage.world[proposal], ProposalEvent.kind == kind
        ),
    )


def times(who: str, call: Call, n: int = TIMES) -> list[tuple[str, Call]]:
    return [(who, call)] * n


# --- The four of the issue: ballots (elsewhere), ratification, join, edits ---------------


def test_double_ratification_publishes_one_version(stage: Stage):
    before = count(stage, select(func.count(DocumentVersion.id)).where(DocumentVersion.number > 0))
    html_call = Call("POST", "/c/{slug}/proposals/{to_ratify}/ratify")
    api_call = Call("POST", "/api/v1/proposals/{to_ratify}/ratify")
    race = Race(stage)
    race.run(
        [
            (m, c)
            for m in ("mod_a", "mod_b")
            for c in (html_call, api_call)
            for _ in range(TIMES // 4)
        ]
    )
    assert race.successes == 1
    after = count(stage, select(func.count(DocumentVersion.id)).where(DocumentVersion.number > 0))
    assert after == before + 1
    signed = select(func.count(Ratification.id)).where(
        Ratification.proposal_id == stage.world["to_ratify"]
    )
    assert count(stage, signed) == 1
    assert events(stage, "to_ratify", EventKind.ratified) == 1
    for sent in race.answers:
        if not sent.succeeded:
            assert sent.response.status_code in (303, 409), sent.response.status_code


def test_double_join_makes_one_membership(stage: Stage):
    race = Race(stage)
    race.run(
        times("joiner", Call("POST", "/api/v1/communities/{slug}/join"), TIMES // 2)
        + times("joiner", Call("POST", "/c/{slug}/join"), TIMES // 2)
    )
    assert race.successes == 1
    joiner = stage.world["joiner"]
    assert count(stage, select(func.count(Membership.id)).where(Membership.user_id == joiner)) == 1
    joins = select(func.count(RoleChange.id)).where(
        RoleChange.user_id == joiner, RoleChange.old_role.is_(None)
    )
    assert count(stage, joins) == 1
    assert {a.response.status_code for a in race.answers} <= {201, 303, 409}


def test_concurrent_edits_from_one_revision_make_one_revision(stage: Stage):
    """Authors save the same base revision at once: one new revision; every other save is a
    409 that keeps what its author typed."""
    requests = []
    for n in range(12):
        who = "author" if n % 2 else "coauthor"
        title = f"Name the singer, take {n} <&>"
        if n % 3:
            form = {"title": title, "norm_text": f"Text {n}.", "base_revision": "1"}
            requests.append((who, Call("POST", "/c/{slug}/proposals/{editable}/edit", form=form)))
        else:
            body = {"title": title, "norm_text": f"Text {n}.", "base_revision": 1}
            requests.append((who, Call("PATCH", "/api/v1/proposals/{editable}", json=body)))
    race = Race(stage)
    race.run(requests)
    assert race.successes == 1
    with Session(stage.engine) as db:
        proposal = db.get(Proposal, stage.world["editable"])
        assert proposal is not None
        revisions = db.scalars(
            select(Revision).where(Revision.proposal_id == proposal.id).order_by(Revision.number)
        ).all()
        assert [r.number for r in revisions] == [1, 2]
        assert proposal.revision_number == 2
        assert (proposal.title, proposal.norm_text) == (revisions[1].title, revisions[1].norm_text)
    (winner,) = [a for a in race.answers if a.succeeded]
    typed = winner.call.form or winner.call.json
    assert typed["title"] == revisions[1].title
    for sent in race.answers:
        if sent is winner:
            continue
        assert sent.response.status_code == 409
        typed = sent.call.form or sent.call.json
        if sent.call.is_api:
            assert sent.response.json()["error"]["code"] == "stale_revision"
        else:
            # Their text is kept in the form, to compare and save again.
            assert html.escape(typed["title"]) in sent.response.text
            assert typed["norm_text"] in sent.response.text


# --- Other double submits -----------------------------------------------------------------

Check = Callable[[Stage], None]


@dataclass(frozen=True)
class Double:
    """`who` sends `call` TIMES at once; `successes` may succeed; `check` looks at the result."""

    name: str
    who: str | tuple[str, ...]
    call: Call
    check: Check
    successes: int | None = 1


def _one(query: Any) -> Check:
    def check(stage: Stage) -> None:
        assert count(stage, query(stage.world)) == 1

    return check


def _event_once(proposal: str, kind: EventKind) -> Check:
    def check(stage: Stage) -> None:
        assert events(stage, proposal, kind) == 1

    return check


def _both(*checks: Check) -> Check:
    def check(stage: Stage) -> None:
        for each in checks:
            each(stage)

    return check


def _left(stage: Stage) -> None:
    leaver = stage.world["leaver"]
    assert count(stage, select(func.count(Membership.id)).where(Membership.user_id == leaver)) == 0
    leaves = select(func.count(RoleChange.id)).where(
        RoleChange.user_id == leaver, RoleChange.new_role.is_(None)
    )
    assert count(stage, leaves) == 1


def _tags(stage: Stage) -> None:
    with Session(stage.engine) as db:
        tags = db.scalars(select(ClauseTag.tag)).all()
    assert sorted(tags) == ["audio", "image"]


def _no_exhibit(stage: Stage) -> None:
    gone = select(func.count(Exhibit.id)).where(Exhibit.id == stage.world["exhibit"])
    assert count(stage, gone) == 0


def _no_coauthor(stage: Stage) -> None:
    left = select(func.count(ProposalAuthor.id)).where(
        ProposalAuthor.proposal_id == stage.world["shared"],
        ProposalAuthor.user_id == stage.world["coauthor"],
    )
    assert count(stage, left) == 0


def _state(proposal: str, state: ProposalState) -> Check:
    def check(stage: Stage) -> None:
        with Session(stage.engine) as db:
            found = db.get(Proposal, stage.world[proposal])
            assert found is not None
            assert found.state == state

    return check


PREVIEW = {"file": ("preview.png", image_bytes(), "image/png")}
DOUBLES = [
    Double(
        "leave",
        "leaver",
        Call("POST", "/c/{slug}/leave"),
        _left,
    ),
    Double(
        "publish",
        "author",
        Call("POST", "/c/{slug}/proposals/{draft}/publish"),
        _both(
            _event_once("draft", EventKind.published),
            _state("draft", ProposalState.deliberation),
        ),
    ),
    Double(
        "withdraw",
        "author",
        Call("POST", "/api/v1/proposals/{withdrawable}/withdraw"),
        _both(
            _event_once("withdrawable", EventKind.withdrawn),
            _state("withdrawable", ProposalState.withdrawn),
        ),
    ),
    Double(
        "open a poll",
        ("mod_a", "mod_b", "author"),
        Call("POST", "/api/v1/proposals/{ready}/poll"),
        _both(
            _one(lambda w: select(func.count(Poll.id)).where(Poll.proposal_id == w["ready"])),
            _event_once("ready", EventKind.poll_opened),
        ),
    ),
    Double(
        "close a poll",
        ("mod_a", "mod_b"),
        Call("POST", "/api/v1/polls/{closing_poll}/close"),
        _event_once("closing", EventKind.poll_closed),
    ),
    Double(
        "rule on an objection",
        ("mod_a", "mod_b"),
        Call(
            "POST",
            "/api/v1/polls/{objected_poll}/objections/{objection}/ruling",
            json={"ruling": "not_paramount", "reason": "Addressed by 1.1."},
        ),
        _one(
            lambda w: select(func.count(ObjectionRuling.id)).where(
                ObjectionRuling.ballot_id == w["objection"]
            )
        ),
    ),
    Double(
        "return to deliberation",
        ("mod_a", "mod_b"),
        Call("POST", "/api/v1/proposals/{to_return}/return", json={"reason": "Not yet."}),
        _event_once("to_return", EventKind.returned),
    ),
    Double(
        "lock a thread",
        ("mod_a", "mod_b"),
        Call("POST", "/api/v1/proposals/{lockable}/lock", json={"reason": "Heated."}),
        _event_once("lockable", EventKind.locked),
        successes=None,
    ),
    Double(
        "re-file a proposal",
        ("mod_a", "mod_b"),
        Call("PATCH", "/api/v1/proposals/{ready}", json={"tags": ["credit", "art"]}),
        _both(
            _event_once("ready", EventKind.recategorized),
            _one(
                lambda w: select(func.count(ProposalTag.tag)).where(
                    ProposalTag.proposal_id == w["ready"], ProposalTag.tag == "credit"
                )
            ),
        ),
        successes=None,
    ),
    Double(
        "hide a comment",
        ("mod_a", "mod_b"),
        Call("POST", "/api/v1/comments/{to_hide}/hide", json={"reason": "Rude."}),
        _one(
            lambda w: select(func.count(ModerationLogEntry.id)).where(
                ModerationLogEntry.comment_id == w["to_hide"],
                ModerationLogEntry.action == LogAction.comment_hidden,
            )
        ),
        successes=None,
    ),
    Double(
        "hide a work",
        ("mod_a", "mod_b"),
        Call("POST", "/api/v1/works/{work_to_hide}/hide", json={"reason": "Not a derivative."}),
        _one(
            lambda w: select(func.count(ModerationLogEntry.id)).where(
                ModerationLogEntry.work_id == w["work_to_hide"],
                ModerationLogEntry.action == LogAction.work_hidden,
            )
        ),
        successes=None,
    ),
    Double(
        "add a category",
        "mod_a",
        Call("POST", "/api/v1/communities/{cats}/categories", json={"name": "Songs"}),
        _one(lambda w: select(func.count(Category.id)).where(Category.name == "Songs")),
    ),
    Double(
        "create an access token",
        "author",
        Call("POST", "/profile/tokens", form={"name": "cli", "scope": "read"}),
        _one(
            lambda w: select(func.count(AccessToken.id)).where(
                AccessToken.user_id == w["author"], AccessToken.name == "cli"
            )
        ),
    ),
    Double(
        "register",
        "anonymous",
        Call(
            "POST",
            "/register",
            form={
                "username": "newcomer",
                "display_name": "Newcomer",
                "email": "newcomer@example.org",
                "password": "a long enough passphrase",
            },
        ),
        _one(lambda w: select(func.count(User.id)).where(User.username == "newcomer")),
    ),
    Double(
        "change a role",
        ("mod_a", "mod_b"),
        Call(
            "PUT",
            "/api/v1/communities/{slug}/members/promoted",
            json={"role": "creator", "reason": "Makes songs."},
        ),
        _one(
            lambda w: select(func.count(RoleChange.id)).where(
                RoleChange.user_id == w["promoted"], RoleChange.new_role == Role.creator
            )
        ),
        successes=None,
    ),
    Double(
        "suspend",
        ("mod_a", "mod_b"),
        Call(
            "POST",
            "/api/v1/communities/{slug}/members/target/suspension",
            json={"days": 3, "reason": "Spam."},
        ),
        _one(lambda w: select(func.count(Suspension.id)).where(Suspension.user_id == w["target"])),
    ),
    Double(
        "flag a comment",
        "flagger",
        Call("POST", "/api/v1/comments/{flagged}/flags", json={"reason": "Rude."}),
        _one(lambda w: select(func.count(Flag.id)).where(Flag.comment_id == w["flagged"])),
    ),
    Double(
        "appeal",
        "author",
        Call(
            "POST",
            "/api/v1/communities/{slug}/appeals",
            json={"comment": Ref("appealed"), "message": "Please."},
        ),
        _one(lambda w: select(func.count(Appeal.id)).where(Appeal.comment_id == w["appealed"])),
    ),
    Double(
        "decide an appeal",
        ("mod_a", "mod_b"),
        Call(
            "POST",
            "/api/v1/appeals/{appeal}/decision",
            json={"decision": "deny", "reason": "It was rude."},
        ),
        _one(
            lambda w: select(func.count(Appeal.id)).where(
                Appeal.id == w["appeal"], Appeal.decided_at.is_not(None)
            )
        ),
    ),
    Double(
        "follow",
        "follower",
        Call("PUT", "/api/v1/proposals/{lockable}/follow"),
        lambda stage: None,
        successes=None,
    ),
    Double(
        "remove an exhibit",
        "author",
        Call("DELETE", "/api/v1/proposals/{lockable}/exhibits/{exhibit}"),
        _no_exhibit,
    ),
    Double(
        "remove a co-author",
        "author",
        Call("DELETE", "/api/v1/proposals/{shared}/coauthors/coauthor"),
        _no_coauthor,
    ),
    Double(
        "upload a preview",
        "author",
        Call("PUT", "/api/v1/works/{work}/preview", files=PREVIEW),
        _one(lambda w: select(func.count(WorkImage.work_id)).where(WorkImage.work_id == w["work"])),
        successes=None,
    ),
    Double(
        "tag a clause",
        "mod_a",
        Call(
            "PUT",
            "/api/v1/communities/{slug}/guidelines/clauses/1.1/tags",
            json={"tags": ["image", "audio"]},
        ),
        _tags,
        successes=None,
    ),
]


@pytest.mark.parametrize("double", DOUBLES, ids=[d.name for d in DOUBLES])
def test_a_double_submit_ends_consistent(stage: Stage, double: Double):
    senders = (double.who,) if isinstance(double.who, str) else double.who
    requests = [(senders[n % len(senders)], double.call) for n in range(TIMES)]
    race = Race(stage)
    race.run(requests)
    if double.successes is not None:
        assert race.successes == double.successes, [
            (a.response.status_code, a.response.text[:200]) for a in race.answers
        ]
    double.check(stage)
