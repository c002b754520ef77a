"""Community guidelines after 10 and after 2,000 versions: time and SQL statements per read.

Run with `make bench-guidelines` (or `python -m bench.guidelines --db sqlite|postgresql`).

Issue 6: the guideline page's cost depends on the number of current clauses, not on the length
of history. One database holds two communities whose guidelines both have 200 clauses in
force, in 10 sections of 20:

- "short": 196 clauses imported as version 1, then 9 ratified changes (5 clauses added, 3
  amended, 1 repealed): 10 versions, 205 clause versions;
- "long": 100 clauses imported, then 1,999 ratified changes (105 added, 1,889 amended, 5
  repealed): 2,000 versions, 2,099 clause versions behind the same 200 clauses in force.

Both imports go through `service.import_rules`, and the last three changes of each history (an
addition, an amendment and a repeal) through `service.ratify`. Everything in between is
bulk-inserted as `service._publish` would have written it: a passed proposal with its closed
poll, the ratification, the document version, the clause (for an addition), the clause
version with its provenance, the version it replaces closed at that number and date, and the
credits. Before anything is timed, every guideline row of both communities must equal the
generated history (so the three changes ratify made are the ones predicted), and documents
read through `service.document` (versions, dates, a tag) must equal the history's.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app import migrate
from app.accounts.models import User
from app.communities import service as communities_service
from app.communities.models import Community, Membership, Role
from app.config import Settings
from app.db import Base, create_db_engine, utcnow
from app.guidelines import service
from app.guidelines.models import (
    Change,
    Clause,
    ClauseCredit,
    ClauseTag,
    ClauseVersion,
    Credit,
    Decision,
    DocumentVersion,
    Ratification,
    Section,
    Source,
)
from app.main import create_app
from app.polls import tally as counting
from app.polls.models import Outcome, Poll, Position
from app.polls.policy import PollPolicy
from app.proposals.models import (
    AuthorRole,
    EventKind,
    Proposal,
    ProposalAuthor,
    ProposalEvent,
    ProposalKind,
    ProposalState,
    Revision,
)

SECTIONS = [
    "Attribution",
    "Commercial use",
    "Derivative works",
    "AI and datasets",
    "Depiction",
    "Events and merchandise",
    "Music and audio",
    "Translations",
    "Reposting",
    "Moderation",
]
#: Clauses in force in each section at the end of both histories.
PER_SECTION = 20
#: The last changes of each history go through `service.ratify`: an addition, an amendment
#: and a repeal, so the generated rows are checked against the service's own.
BY_SERVICE = 3
MEMBERS = 30
MODERATOR = 1
CALLS = 60
REQUESTS = 40
#: The current document after 2,000 versions may cost at most this much more than after 10.
RATIO_TARGET = 1.25
#: Tags by a clause's place among its section's clauses in force: the same share of each kind
#: in both communities (a fifth for images, three fifths of clauses apply to image works).
TAG_PATTERN: list[tuple[str, ...]] = [
    ("image",),
    ("audio", "commercial"),
    ("ai-generated",),
    (),
    (),
]
TAG = "image"


@dataclass(frozen=True)
class Shape:
    """A community's history: what is imported, what is repealed, how many versions."""

    slug: str
    label: str
    versions: int
    #: Clauses imported into each section (version 1).
    imported: tuple[int, ...]
    #: Sections in which one clause is repealed.
    repeals: tuple[int, ...]
    #: Time between two versions.
    spacing: timedelta

    def adds(self, section: int) -> int:
        return PER_SECTION - self.imported[section - 1] + self.repeals.count(section)


SHORT = Shape(
    slug="short",
    label="10 versions",
    versions=10,
    imported=(19, 19, 19, 19, 20, 20, 20, 20, 20, 20),
    repeals=(5,),
    spacing=timedelta(days=36),
)
LONG = Shape(
    slug="long",
    label="2,000 versions",
    versions=2_000,
    imported=(10,) * 10,
    repeals=(1, 2, 3, 4, 5),
    spacing=timedelta(hours=12),
)
SHAPES = (SHORT, LONG)

# --- Words -----------------------------------------------------------------------------------

SUBJECTS = [
    "Fan art",
    "A cover song",
    "A remix",
    "A 3D model",
    "Fan fiction",
    "A video edit",
    "Merchandise",
    "An AI-assisted work",
    "A translation",
    "A parody",
]
VERBS = ["building on", "quoting", "adapting", "sampling", "tracing", "reusing", "extending"]
OBJECTS = [
    "an official illustration",
    "a canon character",
    "the original melody",
    "an earlier fan work",
    "the rights holder's logo",
    "a voice bank",
    "a published story",
    "a model rig",
]
RULES = [
    "credits the original creator by name",
    "links to the work it builds on",
    "stays non-commercial unless the rights holder agreed in writing",
    "is labelled as a fan work wherever it is posted",
    "keeps the original creator's notice intact",
    "says which parts are new",
    "is not sold at events without the organiser's permission",
    "does not suggest that the rights holder endorses it",
]
EXTRAS = [
    "Moderators may ask for the source.",
    "This applies to reposts and compilations as well.",
    "Small print runs at fan events count as *commercial use*.",
    "The rights holder's own guidelines take precedence where they are stricter.",
    "A link in the description is enough.",
    "When in doubt, ask the original creator first and keep their answer.",
    "Works made before this clause was adopted have **30 days** to comply.",
]


def words(rng: random.Random) -> tuple[str, str]:
    """A clause title and its text: two or three sentences, some Markdown."""
    subject, verb, thing = rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)
    title = f"{subject} {verb} {thing}"
    extras = rng.sample(EXTRAS, rng.choice((1, 2)))
    body = f"{subject} {verb} {thing} {rng.choice(RULES)}. " + " ".join(extras)
    return title, body


# --- The plan of a history ---------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One ratified change: the proposal and what ratifying it does to the guidelines."""

    number: int
    kind: ProposalKind
    section: int
    #: The clause it amends or repeals, or the number the added clause gets.
    clause: str
    title: str
    norm_text: str
    note: str
    author: int
    coauthor: int | None
    at: datetime


@dataclass
class Plan:
    shape: Shape
    #: When each version was published: `times[n - 1]` for version n.
    times: list[datetime]
    #: The imported rules, per section: (title, text) of each clause.
    imported: list[list[tuple[str, str]]]
    steps: list[Step]
    #: Tags per clause number, given at the end by place among the section's clauses in force.
    tags: dict[str, tuple[str, ...]]

    @property
    def markdown(self) -> str:
        lines: list[str] = []
        for title, items in zip(SECTIONS, self.imported, strict=True):
            lines += [f"## {title}", ""]
            lines += [f"{n}. **{t}.** {body}" for n, (t, body) in enumerate(items, 1)]
            lines.append("")
        return "\n".join(lines)


def plan(shape: Shape, end: datetime, seed: int) -> Plan:
    """The history: clauses imported, then the changes in a random order (the last three an
    addition, an amendment and a repeal), each targeting clauses in force at that time."""
    rng = random.Random(seed)
    times = [end - shape.spacing * (shape.versions - n) for n in range(1, shape.versions + 1)]
    imported = [[words(rng) for _ in range(count)] for count in shape.imported]
    adds = [s for s in range(1, len(SECTIONS) + 1) for _ in range(shape.adds(s))]
    amends = shape.versions - 1 - len(adds) - len(shape.repeals)
    assert amends >= 1, "too few versions for the clauses"
    last = shape.repeals[-1]
    adds.remove(last)
    middle: list[tuple[ProposalKind, int]] = [(ProposalKind.new, s) for s in adds]
    middle += [(ProposalKind.repeal, s) for s in shape.repeals[:-1]]
    middle += [(ProposalKind.amend, 0)] * (amends - 1)
    rng.shuffle(middle)
    order = [
        *middle,
        (ProposalKind.new, last),
        (ProposalKind.amend, 0),
        (ProposalKind.repeal, last),
    ]
    in_force: dict[int, list[str]] = {
        s: [f"{s}.{p}" for p in range(1, count + 1)] for s, count in enumerate(shape.imported, 1)
    }
    positions = dict(enumerate(shape.imported, 1))
    steps: list[Step] = []
    for number, (kind, section) in enumerate(order, 2):
        title, body = words(rng)
        if kind == ProposalKind.new:
            positions[section] += 1
            clause = f"{section}.{positions[section]}"
            in_force[section].append(clause)
        elif kind == ProposalKind.repeal:
            clause = rng.choice(in_force[section])
            in_force[section].remove(clause)
            title = f"Repeal {clause}"
            body = f"Clause {clause} is covered by the rest of section {section}. " + rng.choice(
                EXTRAS
            )
        else:
            section = rng.randrange(1, len(SECTIONS) + 1)
            clause = rng.choice(in_force[section])
            title = f"Reword {clause}"
        author = 2 + number % (MEMBERS - 1)
        steps.append(
            Step(
                number=number,
                kind=kind,
                section=section,
                clause=clause,
                title=title,
                norm_text=body,
                note="Thanks to everyone who took part." if number % 5 == 0 else "",
                author=author,
                coauthor=2 + (number + 7) % (MEMBERS - 1) if number % 4 == 0 else None,
                at=times[number - 1],
            )
        )
    tags: dict[str, tuple[str, ...]] = {}
    for clauses in in_force.values():
        assert len(clauses) == PER_SECTION
        ordered = sorted(clauses, key=lambda c: int(c.split(".")[1]))
        tags.update({c: TAG_PATTERN[i % len(TAG_PATTERN)] for i, c in enumerate(ordered)})
    return Plan(shape, times, imported, steps, tags)


# --- The rows the service would write ----------------------------------------------------------

Row = dict[str, Any]
#: Guideline tables compared row by row with the database once ratify has run.
COMPARED: list[type[Base]] = [Section, Clause, DocumentVersion, ClauseVersion, ClauseCredit]
#: Tables the generated steps write, in the order they are inserted.
WRITTEN: list[type[Base]] = [
    Proposal,
    Revision,
    ProposalAuthor,
    Poll,
    Ratification,
    ProposalEvent,
    DocumentVersion,
    Clause,
    ClauseVersion,
    ClauseCredit,
]


def _name(model: type[Base]) -> str:
    return str(model.__tablename__)


def _row(item: Any, model: type[Base]) -> Row:
    return {column.key: getattr(item, column.key) for column in model.__table__.columns}


@dataclass
class History:
    """A community's guideline rows after every step: those the import wrote (read back),
    then those of each ratified change, with the ids the database hands out next."""

    #: Rows by table: the import's, then the changes' (closings applied: the final state).
    rows: dict[str, list[Row]] = field(default_factory=dict)
    #: Each generated row with the version that writes it (0: written before any ratifying,
    #: as the passed proposals and their polls are).
    made: list[tuple[int, type[Base], Row]] = field(default_factory=list)
    next_id: dict[str, int] = field(default_factory=dict)
    #: Proposal ids by the version that ratifies them.
    proposals: dict[int, int] = field(default_factory=dict)

    def add(self, model: type[Base], row: Row, *, version: int = 0) -> Row:
        name = _name(model)
        row = {"id": self.next_id[name], **row}
        self.next_id[name] += 1
        self.made.append((version, model, row))
        self.rows.setdefault(name, []).append(row)
        return row


def _tally(policy: PollPolicy) -> dict[str, Any]:
    """The frozen tally of every bench poll: 18 of the 30 members took part, 14 consented."""
    roll: dict[str, list[int]] = {}
    for user_id in range(1, MEMBERS + 1):
        role = role_of(user_id)
        group = roll.setdefault(policy.constituency_of(role), [0, 0])
        group[0] += 1
        group[1] += policy.weight_of(role)
    fan, weight = policy.constituency_of(Role.fan), policy.weight_of(Role.fan)
    ballots = {Position.consent: 14, Position.concern: 2, Position.stand_aside: 2}
    tally = counting.decide(
        policy,
        round_number=1,
        revision=1,
        roll=[counting.RollGroup(c, n, w) for c, (n, w) in roll.items()],
        groups=[counting.BallotGroup(fan, p, n, n * weight) for p, n in ballots.items()],
    )
    assert tally.passed
    return tally.to_json()


def role_of(user_id: int) -> Role:
    if user_id == MODERATOR:
        return Role.moderator
    return Role.fan if user_id <= 21 else Role.creator


def history(db: Session, community: Community, the_plan: Plan) -> History:
    """What ratifying each step of the plan writes, on top of the imported rules (in the
    database already): the proposal side (passed, its poll closed), then `_publish`'s rows."""
    found = History()
    for model in WRITTEN:
        last = db.scalar(select(func.max(model.__table__.c.id))) or 0
        found.next_id[_name(model)] = last + 1
    for model in COMPARED[:-1]:
        query = select(model).where(model.__table__.c.community_id == community.id)
        found.rows[_name(model)] = [_row(item, model) for item in db.scalars(query)]
    found.rows[_name(ClauseCredit)] = []
    sections = {row["number"]: row for row in found.rows[_name(Section)]}
    clauses = {row["number"]: row for row in found.rows[_name(Clause)]}
    current = {
        row["clause_id"]: row
        for row in found.rows[_name(ClauseVersion)]
        if row["to_version"] is None
    }
    names = {user.id: user.display_name for user in db.scalars(select(User))}
    policy = PollPolicy()
    tally = _tally(policy)
    for step in the_plan.steps:
        by_service = step.number > the_plan.shape.versions - BY_SERVICE
        now, number = step.at, step.number
        opened, closed = now - timedelta(hours=11), now - timedelta(hours=1)
        published = now - timedelta(days=5)
        section = sections[step.section]
        proposal = found.add(
            Proposal,
            {
                "community_id": community.id,
                "author_id": step.author,
                "category_id": section["category_id"],
                "kind": step.kind,
                "target_clause": None if step.kind == ProposalKind.new else step.clause,
                # Passed, waiting for the service; or as ratifying left it.
                "state": ProposalState.passed if by_service else ProposalState.ratified,
                "title": step.title,
                "summary": f"{step.title}: a change to the guidelines.",
                "rationale": "Discussed in the forum first.",
                "norm_text": step.norm_text,
                "revision_number": 1,
                "created_at": published,
                "listed_at": published,
                "last_activity_at": closed if by_service else now,
                "deadline_at": None,
                "published_at": published,
                "voting_may_open_at": published + timedelta(hours=community.min_deliberation_hours),
                "voting_opened_at": opened,
                "closed_at": closed,
                "withdrawn_at": None,
                "ratified_at": None if by_service else now,
                "locked_at": None,
            },
        )
        found.proposals[number] = proposal["id"]
        found.add(
            Revision,
            {
                "proposal_id": proposal["id"],
                "number": 1,
                "title": step.title,
                "summary": proposal["summary"],
                "rationale": proposal["rationale"],
                "norm_text": step.norm_text,
                "message": "First draft",
                "author_id": step.author,
                "created_at": published,
            },
        )
        authors = [step.author]
        if step.coauthor is not None and step.coauthor != step.author:
            authors.append(step.coauthor)
        for user_id in authors:
            found.add(
                ProposalAuthor,
                {
                    "proposal_id": proposal["id"],
                    "user_id": user_id,
                    "role": AuthorRole.author if user_id == step.author else AuthorRole.coauthor,
                    "added_by_id": step.author,
                    "added_at": published,
                },
            )
        poll = found.add(
            Poll,
            {
                "community_id": community.id,
                "proposal_id": proposal["id"],
                "number": 1,
                "policy": policy.to_json(),
                "current_round": 1,
                "opened_by_id": step.author,
                "opened_at": opened,
                "closes_at": opened + timedelta(days=policy.duration_days),
                "closed_at": closed,
                "closed_by_id": MODERATOR,
                "outcome": Outcome.passed,
                "tally": tally,
            },
        )
        # From here on, what `service.ratify` writes, in its order.
        if step.kind == ProposalKind.new:
            change, summary = Change.added, f"Added {step.clause} “{step.title}”"
        elif step.kind == ProposalKind.amend:
            title = clauses[step.clause]["title"]
            change, summary = Change.amended, f"Amended {step.clause} “{title}”"
        else:
            title = clauses[step.clause]["title"]
            change, summary = Change.repealed, f"Repealed {step.clause} “{title}”"
        found.add(
            Ratification,
            {
                "proposal_id": proposal["id"],
                "poll_id": poll["id"],
                "actor_id": MODERATOR,
                "capacity": "moderator",
                "decision": Decision.ratify,
                "note": step.note,
                "created_at": now,
            },
            version=number,
        )
        if step.kind == ProposalKind.new:
            clauses[step.clause] = found.add(
                Clause,
                {
                    "community_id": community.id,
                    "section_id": section["id"],
                    "number": step.clause,
                    "position": int(step.clause.split(".")[1]),
                    "title": step.title[:140],
                    "created_at": now,
                },
                version=number,
            )
        found.add(
            DocumentVersion,
            {
                "community_id": community.id,
                "number": number,
                "source": Source.ratified,
                "summary": f"{summary} (proposal #{proposal['id']})"[:500],
                "proposal_id": proposal["id"],
                "published_by_id": MODERATOR,
                "published_at": now,
            },
            version=number,
        )
        clause_id = clauses[step.clause]["id"]
        previous = current.get(clause_id)
        if previous is not None:
            previous["to_version"], previous["effective_to"] = number, now
        current[clause_id] = found.add(
            ClauseVersion,
            {
                "clause_id": clause_id,
                "community_id": community.id,
                "version": previous["version"] + 1 if previous else 1,
                "change": change,
                "text": step.norm_text,
                "from_version": number,
                "to_version": None,
                "effective_from": now,
                "effective_to": None,
                "proposal_id": proposal["id"],
                "revision_number": 1,
                "poll_id": poll["id"],
                "tally": tally,
                "objections": [],
                "note": step.note[:500],
                "created_by_id": MODERATOR,
            },
            version=number,
        )
        credits = [(step.author, Credit.proposer)]
        credits += [(user_id, Credit.coauthor) for user_id in authors[1:]]
        credits.append((MODERATOR, Credit.ratifier))
        for user_id, credit in credits:
            found.add(
                ClauseCredit,
                {
                    "clause_version_id": current[clause_id]["id"],
                    "user_id": user_id,
                    "name": names[user_id][:80],
                    "credit": credit,
                },
                version=number,
            )
        found.add(
            ProposalEvent,
            {
                "proposal_id": proposal["id"],
                "kind": EventKind.ratified,
                "actor_id": MODERATOR,
                "detail": f"{summary}, version {number}"[:500],
                "revision_number": None,
                "created_at": now,
            },
            version=number,
        )
    return found


def write(db: Session, found: History, cut: int) -> None:
    """Insert what the history holds up to version `cut` (the service makes the rest): rows
    written by later versions left out, and versions those later ones close still open."""
    for model in WRITTEN:
        rows = [r for v, m, r in found.made if m is model and v <= cut]
        if model is ClauseVersion:
            rows = [_as_of(r, cut) for r in rows]
        for first in range(0, len(rows), 1_000):
            db.execute(insert(model), rows[first : first + 1_000])
    made = {r["id"] for v, m, r in found.made if m is ClauseVersion}
    closings = [
        {"id": r["id"], "to_version": r["to_version"], "effective_to": r["effective_to"]}
        for r in found.rows[_name(ClauseVersion)]
        if r["id"] not in made and r["to_version"] is not None and r["to_version"] <= cut
    ]
    if closings:
        db.execute(update(ClauseVersion), closings)


def _as_of(row: Row, cut: int) -> Row:
    """A clause version as it stood at version `cut`: closings after it not made yet."""
    if row["to_version"] is not None and row["to_version"] > cut:
        return {**row, "to_version": None, "effective_to": None}
    return row


# --- Seeding -----------------------------------------------------------------------------------


@dataclass
class Built:
    """A seeded community: its plan and every row it holds."""

    shape: Shape
    plan: Plan
    community_id: int
    history: History

    @property
    def middle(self) -> int:
        """The old version read: halfway through the history."""
        return self.shape.versions // 2

    @property
    def middle_day(self) -> date:
        """The date read `as_of`: the day the old version was published."""
        return self.plan.times[self.middle - 1].date()


def _users(engine: Engine, at: datetime) -> None:
    with Session(engine) as db:
        db.execute(
            insert(User),
            [
                {
                    "id": n,
                    "username": f"member{n}",
                    "display_name": f"Member {n}",
                    "email": f"member{n}@example.org",
                    "password_hash": None,
                    "is_admin": False,
                    "created_at": at,
                }
                for n in range(1, MEMBERS + 1)
            ],
        )
        db.commit()


def _restart_sequences(connection: Connection) -> None:
    """After rows with explicit ids, PostgreSQL's sequences go on from the last id."""
    if connection.dialect.name != "postgresql":
        return
    models: list[type[Base]] = [User, *WRITTEN]
    for model in models:
        last = connection.scalar(select(func.max(model.__table__.c.id))) or 0
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :next, false)"),
            {"table": _name(model), "next": last + 1},
        )


def seed_community(engine: Engine, shape: Shape, end: datetime, seed: int) -> Built:
    """Import through the service, bulk-insert the changes but the last three, ratify those
    through the service, then tag the clauses in force."""
    the_plan = plan(shape, end, seed)
    start = the_plan.times[0]
    cut = shape.versions - BY_SERVICE
    with Session(engine, expire_on_commit=False) as db:
        community = Community(
            slug=shape.slug,
            name=f"Bench ({shape.label})",
            description="",
            created_at=start - timedelta(days=60),
            created_by_id=MODERATOR,
        )
        db.add(community)
        db.flush()
        db.execute(
            insert(Membership),
            [
                {
                    "community_id": community.id,
                    "user_id": n,
                    "role": role_of(n),
                    "joined_at": community.created_at,
                }
                for n in range(1, MEMBERS + 1)
            ],
        )
        moderator = db.get(User, MODERATOR)
        for title in SECTIONS:
            communities_service.add_category(db, actor=moderator, community=community, name=title)
        service.import_rules(
            db, actor=moderator, community=community, markdown=the_plan.markdown, now=start
        )
        db.commit()
        found = history(db, community, the_plan)
        write(db, found, cut)
        db.commit()
    with engine.begin() as connection:
        _restart_sequences(connection)
    with Session(engine, expire_on_commit=False) as db:
        moderator = db.get(User, MODERATOR)
        for step in the_plan.steps[-BY_SERVICE:]:
            proposal = db.get(Proposal, found.proposals[step.number])
            assert proposal is not None
            published = service.ratify(
                db, actor=moderator, proposal=proposal, note=step.note, now=step.at
            )
            assert published is not None
            assert published.number == step.number
        ids = {
            c.number: c.id
            for c in db.scalars(select(Clause).where(Clause.community_id == community.id))
        }
        db.execute(
            insert(ClauseTag),
            [
                {"clause_id": ids[number], "tag": tag}
                for number, tags in the_plan.tags.items()
                for tag in tags
            ],
        )
        db.commit()
    return Built(shape, the_plan, community.id, found)


def seed(engine: Engine) -> list[Built]:
    end = utcnow().replace(microsecond=0) - timedelta(days=1)
    _users(engine, end - timedelta(days=3 * 365))
    built = [seed_community(engine, shape, end, seed=n) for n, shape in enumerate(SHAPES, 1)]
    # Statistics, and on PostgreSQL no dead row versions left by the closings: what
    # autovacuum would leave.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        vacuum = "VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"
        connection.execute(text(vacuum))
    return built


# --- Checking the data against the service -----------------------------------------------------


def _compare(label: str, found: list[Row], expected: list[Row], problems: list[str]) -> None:
    by_id = {row["id"]: row for row in expected}
    if len(found) != len(expected):
        problems.append(f"{label}: {len(found)} rows, {len(expected)} expected")
    for row in found:
        want = by_id.get(row["id"])
        if want is None:
            problems.append(f"{label}: unexpected row {row}")
            continue
        differ = [key for key in row if row[key] != want[key]]
        if differ:
            problems.append(
                f"{label} {row['id']}: "
                + ", ".join(f"{k} is {row[k]!r}, expected {want[k]!r}" for k in differ)
            )


def _versions_of(db: Session, community_id: int) -> list[int]:
    return list(
        db.scalars(select(ClauseVersion.id).where(ClauseVersion.community_id == community_id))
    )


def expected_document(built: Built, number: int, tag: str | None = None) -> list[tuple[Any, ...]]:
    """The clauses in force at version `number` according to the history."""
    rows = built.history.rows
    clauses = {row["id"]: row for row in rows[_name(Clause)]}
    found = []
    for version in rows[_name(ClauseVersion)]:
        if version["from_version"] > number or version["change"] == Change.repealed:
            continue
        if version["to_version"] is not None and version["to_version"] <= number:
            continue
        clause = clauses[version["clause_id"]]
        tags = sorted(built.plan.tags.get(clause["number"], ()))
        if tag and tags and tag not in tags:
            continue
        found.append(
            (
                clause["number"],
                clause["title"],
                version["text"],
                version["from_version"],
                version["version"],
                tags,
            )
        )
    return sorted(found, key=lambda c: tuple(int(p) for p in str(c[0]).split(".")))


def _seen(doc: service.Document) -> list[tuple[Any, ...]]:
    return [
        (
            c.number,
            c.clause.title,
            c.version.text,
            c.version.from_version,
            c.version.version,
            c.tags,
        )
        for c in doc.clauses
    ]


def check(engine: Engine, built: Built) -> list[str]:
    """Every guideline row equals the history's, and documents read through the service
    equal what the history says was in force."""
    problems: list[str] = []
    rows = built.history.rows
    label = built.shape.slug
    with Session(engine) as db:
        community = db.get(Community, built.community_id)
        assert community is not None
        versions = _versions_of(db, community.id)
        for model in COMPARED:
            table = model.__table__
            column = (
                table.c.clause_version_id.in_(versions)
                if model is ClauseCredit
                else table.c.community_id == community.id
            )
            found = [dict(r._mapping) for r in db.execute(select(table).where(column))]
            _compare(f"{label} {_name(model)}", found, rows[_name(model)], problems)
        sections = [
            (s.number, s.title)
            for s in db.scalars(
                select(Section).where(Section.community_id == community.id).order_by(Section.number)
            )
        ]
        if sections != list(enumerate(SECTIONS, 1)):
            problems.append(f"{label}: sections {sections}")
        last = built.shape.versions
        reads: list[tuple[str, dict[str, Any], int, str | None]] = [
            (f"version {n}", {"version": n}, n, None)
            for n in sorted({1, 2, built.middle, last - BY_SERVICE, last - 1})
        ]
        day = built.middle_day
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        in_force = max(n for n, at in enumerate(built.plan.times, 1) if at < end)
        reads += [
            ("current", {}, last, None),
            (f"as of {day}", {"as_of": day}, in_force, None),
            (f"tag {TAG}", {"tag": TAG}, last, TAG),
            (
                f"version {built.middle}, tag {TAG}",
                {"version": built.middle, "tag": TAG},
                built.middle,
                TAG,
            ),
        ]
        for name, arguments, number, tag in reads:
            doc = service.document(db, community, **arguments)
            assert doc.version is not None
            if doc.version.number != number:
                problems.append(f"{label} {name}: version {doc.version.number}, not {number}")
            if _seen(doc) != expected_document(built, number, tag):
                problems.append(f"{label} {name}: the clauses differ from the history")
        current = expected_document(built, last)
        if len(current) != PER_SECTION * len(SECTIONS):
            problems.append(f"{label}: {len(current)} clauses in force")
    return problems


# --- Measuring ---------------------------------------------------------------------------------

#: A measured call: returns what it showed (clauses, or feed entries).
Call = Callable[[], int]
#: Median ms, p95 ms, SQL statements, what the call showed.
Figures = tuple[float, float, int, int]


@dataclass
class Target:
    engine: Engine
    client: TestClient
    statements: list[str]


def _document(target: Target, built: Built, **arguments: Any) -> Call:
    """`service.document` in a fresh session, as a request would call it."""

    def call() -> int:
        with Session(target.engine) as db:
            community = db.get(Community, built.community_id)
            assert community is not None
            target.statements.clear()
            return len(service.document(db, community, **arguments).clauses)

    return call


def _get(target: Target, url: str, count: Callable[[str], int]) -> Call:
    """A GET through the whole app: routing, service, SQL, template or JSON."""

    def call() -> int:
        target.statements.clear()
        response = target.client.get(url)
        assert response.status_code == 200, f"GET {url} answered {response.status_code}"
        return count(response.text)

    return call


def _json_clauses(body: str) -> int:
    return sum(len(section["clauses"]) for section in json.loads(body)["sections"])


@dataclass(frozen=True)
class Measured:
    name: str
    #: "current": a read of the current guidelines, held to the pass condition; "past": a
    #: version or a date, compared with the current document of the same history; "feed".
    kind: str
    make: Callable[[Target, Built], Call]
    http: bool = False


def _page(path: str) -> Callable[[Target, Built], Call]:
    def make(target: Target, built: Built) -> Call:
        url = path.format(slug=built.shape.slug, middle=built.middle)
        if url.endswith(".atom"):
            return _get(target, url, lambda body: body.count("<entry>"))
        if url.endswith(".md"):
            return _get(target, url, lambda body: body.count("\n### "))
        if "/api/" in url:
            return _get(target, url, _json_clauses)
        return _get(target, url, lambda body: body.count('"clause card"'))

    return make


MEASURED = [
    Measured("document(), current", "current", lambda t, b: _document(t, b)),
    Measured(f"document(), tag={TAG}", "current", lambda t, b: _document(t, b, tag=TAG)),
    Measured("document(), old version", "past", lambda t, b: _document(t, b, version=b.middle)),
    Measured(
        "document(), previous version",
        "past",
        lambda t, b: _document(t, b, version=b.shape.versions - 1),
    ),
    Measured("document(), as of a date", "past", lambda t, b: _document(t, b, as_of=b.middle_day)),
    Measured("guidelines page (HTTP)", "current", _page("/c/{slug}/guidelines"), http=True),
    Measured(
        "JSON API (HTTP)", "current", _page("/api/v1/communities/{slug}/guidelines"), http=True
    ),
    Measured("Markdown (HTTP)", "current", _page("/c/{slug}/guidelines.md"), http=True),
    Measured("Atom feed (HTTP)", "feed", _page("/c/{slug}/guidelines.atom"), http=True),
    Measured(
        "page, old version (HTTP)",
        "past",
        _page("/c/{slug}/guidelines?version={middle}"),
        http=True,
    ),
]


def measure(target: Target, built: list[Built]) -> dict[str, list[Figures]]:
    """Each row for both communities, alternating call by call: whatever else the machine
    does slows both alike."""
    results: dict[str, list[Figures]] = {}
    for row in MEASURED:
        calls = [row.make(target, b) for b in built]
        timings: list[list[float]] = [[] for _ in built]
        counts = [0] * len(built)
        shown = [0] * len(built)
        for call in calls:
            call()  # warm up caches and templates
        for _ in range(REQUESTS if row.http else CALLS):
            for n, call in enumerate(calls):
                started = time.perf_counter()
                shown[n] = call()
                timings[n].append((time.perf_counter() - started) * 1000)
                counts[n] = len(target.statements)
        results[row.name] = [_figures(timings[n], counts[n], shown[n]) for n in range(len(built))]
    return results


def _figures(timings: list[float], statements: int, shown: int) -> Figures:
    timings = sorted(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    return statistics.median(timings), p95, statements, shown


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "postgresql":
        from tests.support import postgres

        with postgres.cluster() as server:
            yield postgres.create_database(server, "bench_guidelines")
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'guidelines.sqlite'}"


@dataclass
class Run:
    built: list[Built]
    seconds: float
    problems: list[str]
    results: dict[str, list[Figures]]


def run(kind: str) -> Run:
    with database(kind) as url, ExitStack() as stack:
        migrate.upgrade(url)
        started = time.perf_counter()
        seed_engine = create_db_engine(url)
        try:
            built = seed(seed_engine)
            problems = [p for b in built for p in check(seed_engine, b)]
        finally:
            seed_engine.dispose()
        seconds = time.perf_counter() - started
        if problems:
            return Run(built, seconds, problems, {})
        settings = Settings(
            environment="test",
            database_url=url,
            secret_key="bench-secret-" + "x" * 32,
            base_url="http://testserver",
            argon2_time_cost=1,
            argon2_memory_cost_kib=8,
            argon2_parallelism=1,
            # No background sweep: nothing is due, and it would only add noise.
            sweep_interval_seconds=0,
            # What a page costs to make is measured, not the copy kept for visitors.
            page_cache_mb=0,
        )
        app = create_app(settings)
        engine: Engine = app.state.engine
        stack.callback(engine.dispose)
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)
        client = stack.enter_context(TestClient(app))
        return Run(built, seconds, [], measure(Target(engine, client, statements), built))


def report(kind: str, outcome: Run) -> bool:
    short, long = outcome.built
    versions = [len(b.history.rows[_name(ClauseVersion)]) for b in outcome.built]
    print(
        f"\nGuidelines on {kind}: 200 clauses in force after {short.shape.versions} vs "
        f"{long.shape.versions:,} versions\n({versions[0]:,} vs {versions[1]:,} clause versions), "
        f"seeded and checked in {outcome.seconds:.1f} s"
    )
    if outcome.problems:
        print("\nFAIL: the seeded data is not what the service would have written:")
        for problem in outcome.problems[:20]:
            print(f"  {problem}")
        return False
    print(
        f"old version {short.middle} vs {long.middle}, previous version {short.shape.versions - 1}"
        f" vs {long.shape.versions - 1}, as of {short.middle_day} vs {long.middle_day};\n"
        f"{CALLS} calls ({REQUESTS} HTTP); shown: clauses (feed: entries)\n"
    )
    header = (
        f"{'call':<30}{'shown':>10}{'median ms':>18}{'p95 ms':>18}{'SQL statements':>17}"
        f"{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    flat = True
    for row in MEASURED:
        (m1, p1, q1, n1), (m2, p2, q2, n2) = outcome.results[row.name]
        ratio = m2 / m1
        print(
            f"{row.name:<30}{n1:>5} {n2:<4}{m1:>9.2f} {m2:<8.2f}{p1:>9.2f} {p2:<8.2f}"
            f"{q1:>8} {q2:<8}{ratio:>6.2f}x{'' if row.kind == 'current' else '  *'}"
        )
        if row.kind == "current" and (q1 != q2 or n1 != n2 or ratio > RATIO_TARGET):
            flat = False
    print("\n* not held to the pass condition: reads of the past, the feed of the latest changes")
    print(
        f"\n{'PASS' if flat else 'FAIL'}: the current guidelines cost as much after "
        f"{long.shape.versions:,} versions as after {short.shape.versions}\n"
        f"      (same clauses, same SQL statements, median within {RATIO_TARGET}x)"
    )
    current = outcome.results["document(), current"]
    past = [row for row in MEASURED if row.kind == "past" and not row.http]
    print(
        "Reads of the past, against the current document of the same history "
        f"({short.shape.versions} / {long.shape.versions:,} versions):\n  "
        + ", ".join(
            f"{row.name.removeprefix('document(), ')} "
            + " / ".join(
                f"{outcome.results[row.name][n][0] / current[n][0]:.2f}x" for n in range(2)
            )
            for row in past
        )
    )
    return flat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    return 0 if report(args.db, run(args.db)) else 1


if __name__ == "__main__":
    sys.exit(main())
