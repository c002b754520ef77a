"""Polls at scale: a tally of 1,000,000 ballots, and results at 10 vs 100,000 ballots.

Run with `make bench-polls` (or `python -m bench.polls --db sqlite|postgresql`).

One database holds a community of 1,000,002 members and four polls on four proposals:

- a running poll in which every member voted (1,000,000 counted ballots, 50,000 more that
  their voters replaced, one objection in ten ruled not paramount): `service.tally_of`, the
  database's aggregation, is timed on it and checked against a recount;
- three closed polls with the same rules and the same roll (the 100,002 members of more than
  100 days), with 10, 10,000 and 100,000 ballots: their results are read through
  `service.view()`, the HTML results page and the JSON API. Issue 5 wants 10 and 100,000 to
  cost the same, since a closed poll's results are its frozen tally; 10,000 against 100,000
  tells a page that lists more ballots from one whose cost keeps growing with the poll.

Members, memberships and ballots are bulk-loaded (Core executemany batches on SQLite, COPY on
PostgreSQL); proposals, polls (the roll is frozen by `service.open_poll` itself), the smallest
poll's ballots and every closing go through the service, as the app would.
"""

from __future__ import annotations

import argparse
import base64
import enum
import itertools
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, func, insert, literal, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app import migrate
from app.accounts.models import User
from app.communities.models import Community, Membership, Role
from app.config import Settings
from app.db import Base, create_db_engine, utcnow
from app.main import create_app
from app.polls import service
from app.polls import tally as counting
from app.polls.models import Ballot, ObjectionRuling, Poll, Position
from app.polls.policy import PollPolicy
from app.proposals import service as proposals_service

BIG = 1_000_000
#: Ballots of the closed polls whose results are read.
CLOSED = (10, 10_000, 100_000)
SMALL, MIDDLE, LARGE = CLOSED
#: Voters of the big poll who changed their ballot once: rows that must not count.
REPLACED = 50_000
#: Members who joined long ago: the roll of the closed polls (with the two staff).
VETERANS = LARGE
#: User ids: the moderator who opens and closes, the author, then the voters.
MODERATOR, AUTHOR, FIRST_VOTER = 1, 2, 3
TALLY_RUNS = 5
CALLS = 100
REQUESTS = 60
BATCH = 50_000
#: The 1,000,000-ballot tally must take less than this (median) on each database: closing a
#: poll, in a request or a sweep, runs it once inside one transaction.
TALLY_TARGET_MS = 3_000.0
#: Results of the 100,000-ballot poll may cost at most this much more than the 10-ballot one.
RATIO_TARGET = 1.25
SLUG = "bench"
#: Positions of the bulk-loaded ballots, in tenths: 5 consent, 2 concern, 1 object, 2 stand aside.
MIX = (
    [Position.consent] * 5 + [Position.concern] * 2 + [Position.object] + [Position.stand_aside] * 2
)


def role_of(user_id: int) -> Role:
    """Mixed roles: of each 100 voters 1 moderator, 3 rights holders, 20 creators, 76 fans."""
    if user_id == MODERATOR:
        return Role.moderator
    if user_id == AUTHOR:
        return Role.fan
    slot = user_id % 100
    if slot == 0:
        return Role.moderator
    if slot <= 3:
        return Role.rights_holder
    return Role.creator if slot <= 23 else Role.fan


def position_of(user_id: int, salt: int = 0) -> Position:
    """A position spread over voters without a pattern tied to their role."""
    return MIX[(user_id * 7_919 + salt * 104_729) % 9_973 % len(MIX)]


def ruled(user_id: int, position: Position) -> bool:
    """One objection in ten is ruled not paramount (it then counts as a concern)."""
    return position == Position.object and user_id % 10 == 7


def receipt(n: int) -> str:
    return base64.b32encode(n.to_bytes(10, "big")).decode()


# --- Seeding ------------------------------------------------------------------------------


def bulk(connection: Connection, model: type[Base], rows: Iterable[dict[str, Any]]) -> None:
    """Load rows: Core executemany batches on SQLite, COPY on PostgreSQL."""
    if connection.dialect.name == "postgresql":
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return
        columns = list(first)
        statement = f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in itertools.chain([first], rows):
                copy.write_row([_plain(row[c]) for c in columns])
        return
    rows = iter(rows)
    while batch := list(itertools.islice(rows, BATCH)):
        connection.execute(insert(model), batch)


def _plain(value: Any) -> Any:
    """What COPY takes: enums as their values."""
    return value.value if isinstance(value, enum.Enum) else value


@dataclass
class Seeded:
    big: int
    #: The closed polls' ids by their number of ballots.
    closed: dict[int, int]
    #: Seconds per seeding step.
    steps: dict[str, float] = field(default_factory=dict)
    #: The big poll's ballots summed in Python as they were generated.
    expected: counting.Tally | None = None


@contextmanager
def step(seeded: Seeded, name: str) -> Iterator[None]:
    """Time a seeding step, and print it as it ends (a million rows take a while)."""
    started = time.perf_counter()
    yield
    seeded.steps[name] = time.perf_counter() - started
    print(f"  {name:<58}{seeded.steps[name]:>8.1f} s", flush=True)


def seed(engine: Engine) -> Seeded:
    now = utcnow()
    long_ago, lately = now - timedelta(days=200), now - timedelta(days=10)
    last_user = FIRST_VOTER + BIG - 1
    seeded = Seeded(big=0, closed={})
    members = f"members: {last_user:,} users and memberships (bulk)"
    with step(seeded, members), engine.begin() as connection:
        connection.execute(
            insert(Community),
            [{"id": 1, "slug": SLUG, "name": "Bench", "description": "", "created_at": now}],
        )
        bulk(connection, User, (_user(n, long_ago) for n in range(1, last_user + 1)))
        bulk(
            connection,
            Membership,
            (
                {
                    "id": n,
                    "community_id": 1,
                    "user_id": n,
                    "role": role_of(n),
                    "joined_at": long_ago if n < FIRST_VOTER + VETERANS else lately,
                }
                for n in range(1, last_user + 1)
            ),
        )
        _restart_sequences(connection, [User, Membership, Community])

    with Session(engine, expire_on_commit=False) as db:
        community = db.get(Community, 1)
        moderator, author = db.get(User, MODERATOR), db.get(User, AUTHOR)
        assert community is not None
        assert moderator is not None
        assert author is not None

        def open_poll(title: str, label: str, **overrides: object) -> Poll:
            published = now - timedelta(days=10)
            draft = proposals_service.ProposalDraft(
                title=title, summary="A bench proposal.", norm_text=f"{title}: the norm."
            )
            proposal = proposals_service.create_proposal(
                db, actor=author, community=community, values=draft, now=published
            )
            proposals_service.publish(db, actor=author, proposal=proposal, now=published)
            with step(seeded, label):
                poll = service.open_poll(
                    db,
                    actor=moderator,
                    proposal=proposal,
                    now=now,
                    overrides={"weight_policy": "role", "quorum": 5, **overrides},
                )
                db.commit()
            return poll

        big = open_poll("Everyone votes", f"open the big poll: {last_user:,} on its roll (service)")
        seeded.big = big.id
        big_policy = service.policy_in(big)
        for size in CLOSED:
            poll = open_poll(
                f"{size:,} ballots",
                f"open the {size:,}-ballot poll: {VETERANS + 2:,} on its roll (service)",
                min_membership_days=100,
            )
            seeded.closed[size] = poll.id

    ballots = f"ballots: {BIG:,} + {REPLACED:,} replaced, {sum(CLOSED[1:]):,} (bulk)"
    with step(seeded, ballots), engine.begin() as connection:
        cast_at = now + timedelta(minutes=1)
        voters = range(FIRST_VOTER, FIRST_VOTER + BIG)
        bulk(connection, Ballot, _ballots(big.id, voters[:REPLACED], cast_at, salt=1))
        bulk(connection, Ballot, _ballots(big.id, voters, cast_at + timedelta(minutes=1)))
        _rule_objections(connection, big.id, now)
        for size in CLOSED[1:]:
            veterans = range(FIRST_VOTER, FIRST_VOTER + size)
            bulk(connection, Ballot, _ballots(seeded.closed[size], veterans, cast_at))
            _rule_objections(connection, seeded.closed[size], now)
        _restart_sequences(connection, [Ballot, ObjectionRuling])

    with step(seeded, "analyze"), engine.begin() as connection:
        connection.execute(text("ANALYZE"))

    with Session(engine, expire_on_commit=False) as db:
        moderator = db.get(User, MODERATOR)
        assert moderator is not None
        smallest = db.get(Poll, seeded.closed[CLOSED[0]])
        assert smallest is not None
        with step(seeded, f"{CLOSED[0]} ballots of the smallest poll (service)"):
            for n in range(FIRST_VOTER, FIRST_VOTER + CLOSED[0]):
                position = position_of(n)
                service.cast_ballot(
                    db,
                    actor=db.get(User, n),
                    poll=smallest,
                    position=position.value,
                    reason="Bench." if position in (Position.concern, Position.object) else "",
                    now=now + timedelta(minutes=2),
                )
            db.commit()
        for size in CLOSED:
            closing = db.get(Poll, seeded.closed[size])
            assert closing is not None
            with step(seeded, f"close the {size:,}-ballot poll (service: tally, frozen)"):
                service.close_early(db, actor=moderator, poll=closing, now=now + timedelta(hours=1))
                db.commit()
            assert closing.tally is not None
            assert closing.tally["participants"] == size
    seeded.expected = _expected(big_policy, big.current_round, last_user)
    return seeded


def _user(n: int, at: datetime) -> dict[str, Any]:
    return {
        "id": n,
        "username": f"member{n}",
        "display_name": f"Member {n}",
        "email": f"member{n}@example.org",
        "password_hash": None,
        "is_admin": False,
        "created_at": at,
    }


def _ballots(
    poll_id: int, voters: range, cast_at: datetime, salt: int = 0
) -> Iterator[dict[str, Any]]:
    """Ballots of `voters`; with a salt, earlier ones they replaced (not counted)."""
    latest = salt == 0
    for n in voters:
        position = position_of(n, salt)
        yield {
            "poll_id": poll_id,
            "round_number": 1,
            "voter_id": n,
            "position": position,
            "reason": "Bench." if position in (Position.concern, Position.object) else "",
            "receipt": receipt(n * 2 + (0 if latest else 1)),
            "latest": latest,
            "cast_at": cast_at,
        }


def _rule_objections(connection: Connection, poll_id: int, now: datetime) -> None:
    """A moderator ruled one counted objection in ten not paramount (the same as `ruled`)."""
    objections = select(
        Ballot.id, literal("Bench ruling."), literal(MODERATOR), literal(now, Ballot.cast_at.type)
    ).where(
        Ballot.poll_id == poll_id,
        Ballot.latest,
        Ballot.position == Position.object,
        Ballot.voter_id % 10 == 7,
    )
    connection.execute(
        insert(ObjectionRuling).from_select(
            ["ballot_id", "reason", "moderator_id", "created_at"], objections
        )
    )


def _restart_sequences(connection: Connection, models: list[type[Base]]) -> None:
    """After rows with explicit ids (or COPY), PostgreSQL's sequences go on from the last id."""
    if connection.dialect.name != "postgresql":
        return
    for model in models:
        table = model.__table__
        last = connection.scalar(select(func.max(table.c.id))) or 0
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :next, false)"),
            {"table": model.__tablename__, "next": last + 1},
        )


def _expected(policy: PollPolicy, round_number: int, last_user: int) -> counting.Tally:
    """The big poll counted in Python from how its ballots were generated."""
    roll: Counter[str] = Counter()
    weights: Counter[str] = Counter()
    ballots: Counter[tuple[str, Position]] = Counter()
    ballot_weights: Counter[tuple[str, Position]] = Counter()
    ruled_count = 0
    for n in range(1, last_user + 1):
        role = role_of(n)
        constituency, weight = policy.constituency_of(role), policy.weight_of(role)
        roll[constituency] += 1
        weights[constituency] += weight
        if n < FIRST_VOTER:
            continue
        position = position_of(n)
        if ruled(n, position):
            ruled_count += 1
            position = Position.concern
        ballots[constituency, position] += 1
        ballot_weights[constituency, position] += weight
    return counting.decide(
        policy,
        round_number=round_number,
        revision=1,
        roll=[counting.RollGroup(c, roll[c], weights[c]) for c in roll],
        groups=[
            counting.BallotGroup(c, p, ballots[c, p], ballot_weights[c, p]) for c, p in ballots
        ],
        ruled_not_paramount=ruled_count,
    )


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "postgresql":
        from tests.support import postgres

        with postgres.cluster() as server:
            yield postgres.create_database(server, "bench_polls")
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'polls.sqlite'}"


# --- Measuring ----------------------------------------------------------------------------

#: Median ms, p95 ms, SQL statements, what the call showed (ballots listed or bytes).
Figures = tuple[float, float, int, int]


def _figures(timings: list[float], statements: int, shown: int) -> Figures:
    timings = sorted(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    return statistics.median(timings), p95, statements, shown


def time_tally(engine: Engine, statements: list[str], poll_id: int) -> tuple[Figures, Any]:
    """`service.tally_of` in a fresh session each run, after one run to warm the cache."""
    timings: list[float] = []
    result: counting.Tally | None = None
    for run in range(TALLY_RUNS + 1):
        with Session(engine) as db:
            poll = db.get(Poll, poll_id)
            assert poll is not None
            statements.clear()
            started = time.perf_counter()
            result = service.tally_of(db, poll)
            elapsed = (time.perf_counter() - started) * 1000
            if run:
                timings.append(elapsed)
    assert result is not None
    return _figures(timings, len(statements), result.participants), result


#: A measured call: returns what it showed (ballots listed, or the response's bytes).
Call = Callable[[], int]


class Missing(Exception):
    """A route the bench reads is not there (yet)."""


ROWS = {
    "service.view()": "",
    "results page (HTTP)": "/c/{slug}/polls/{poll}",
    "API poll (HTTP)": "/api/v1/polls/{poll}",
    "API results (HTTP)": "/api/v1/polls/{poll}/results",
    "ballots page (HTTP)": "/c/{slug}/polls/{poll}/ballots",
    "API ballots (HTTP)": "/api/v1/polls/{poll}/ballots",
}
#: Rows that list a page of ballots: a poll of 10 has fewer to show, so they are held to the
#: same cost at 10,000 and 100,000 ballots (a full page either way), not at 10.
PAGED = frozenset({"ballots page (HTTP)", "API ballots (HTTP)"})


def prepare(
    name: str, engine: Engine, client: TestClient, statements: list[str], poll_id: int
) -> Call:
    """The call measured for a row: the service in a fresh session, as a request makes it,
    or a GET through the whole app (routing, service, SQL, template or JSON)."""
    if not ROWS[name]:

        def view() -> int:
            with Session(engine) as db:
                poll = db.get(Poll, poll_id)
                assert poll is not None
                statements.clear()
                seen = service.view(db, poll, None, utcnow())
                assert seen.tally is not None
                return len(seen.rounds)

        return view
    url = ROWS[name].format(slug=SLUG, poll=poll_id)

    def request() -> int:
        statements.clear()
        response = client.get(url)
        if response.status_code != 200:
            raise Missing(f"GET {url} answered {response.status_code}")
        return len(response.content)

    return request


def measure_results(
    engine: Engine, client: TestClient, statements: list[str], polls: dict[int, int]
) -> dict[str, dict[int, Figures] | str]:
    """Each row at every size, the sizes alternating call by call: whatever else the machine
    does slows them alike."""
    results: dict[str, dict[int, Figures] | str] = {}
    for name in ROWS:
        calls = {size: prepare(name, engine, client, statements, p) for size, p in polls.items()}
        repeat = REQUESTS if ROWS[name] else CALLS
        timings: dict[int, list[float]] = {size: [] for size in polls}
        counts: dict[int, int] = {}
        shown: dict[int, int] = {}
        try:
            for call in calls.values():
                call()  # warm up caches and templates
            for _ in range(repeat):
                for size, call in calls.items():
                    started = time.perf_counter()
                    shown[size] = call()
                    timings[size].append((time.perf_counter() - started) * 1000)
                    counts[size] = len(statements)
        except Missing as exc:
            results[name] = str(exc)
            continue
        results[name] = {size: _figures(timings[size], counts[size], shown[size]) for size in polls}
    return results


@dataclass
class Run:
    seeded: Seeded
    #: Tally figures by number of counted ballots.
    tallies: dict[int, Figures]
    tally_matches: bool
    results: dict[str, dict[int, Figures] | str]


def run(kind: str) -> Run:
    print(f"\nSeeding on {kind}:", flush=True)
    with database(kind) as url, ExitStack() as stack:
        migrate.upgrade(url)
        seed_engine = create_db_engine(url)
        try:
            seeded = seed(seed_engine)
        finally:
            seed_engine.dispose()
        settings = Settings(
            environment="test",
            database_url=url,
            secret_key="bench-secret-" + "x" * 32,
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
        tallies: dict[int, Figures] = {}
        tallies[LARGE], _ = time_tally(engine, statements, seeded.closed[LARGE])
        tallies[BIG], counted = time_tally(engine, statements, seeded.big)
        client = stack.enter_context(TestClient(app))
        results = measure_results(engine, client, statements, seeded.closed)
        return Run(seeded, tallies, counted == seeded.expected, results)


def report(kind: str, outcome: Run) -> bool:
    total = sum(outcome.seeded.steps.values())
    print(f"\nSeeding took {total:.0f} s in all.")
    print(f"\nTally on {kind}: service.tally_of, {TALLY_RUNS} runs after a warm-up\n")
    header = f"{'counted ballots':>15}{'median ms':>12}{'p95 ms':>10}{'SQL':>6}"
    print(header)
    print("-" * len(header))
    for _, (median, p95, queries, counted) in sorted(outcome.tallies.items()):
        print(f"{counted:>15,}{median:>12.1f}{p95:>10.1f}{queries:>6}")
    tally_ok = outcome.tally_matches and outcome.tallies[BIG][0] < TALLY_TARGET_MS
    print(
        f"\nThe {BIG:,}-ballot count equals a recount of the ballots as generated."
        if outcome.tally_matches
        else f"\nThe {BIG:,}-ballot count differs from a recount of the ballots as generated!"
    )

    sizes = " / ".join(f"{size:,}" for size in CLOSED)
    print(
        f"\nResults of a closed poll on {kind}: {sizes} ballots, {CALLS} calls "
        f"({REQUESTS} HTTP); shown: ballots view() lists, bytes of HTTP responses\n"
    )
    header = (
        f"{'call':<21}{'shown':>20}{'median ms':>22}{'p95 ms':>22}{'SQL':>10}"
        f"{'ratio vs 10':>13}{'vs 10,000':>10}"
    )
    print(header)
    print("-" * len(header))
    flat = bounded = True
    missing = []
    for name, per_size in outcome.results.items():
        if isinstance(per_size, str):
            print(f"{name:<21}  not measured: {per_size}")
            missing.append(name)
            continue
        figures = [per_size[size] for size in CLOSED]
        medians = [f[0] for f in figures]
        same_sql = len({f[2] for f in figures}) == 1
        ratio, ratio_middle = medians[2] / medians[0], medians[2] / medians[1]
        print(
            f"{name:<21}{' '.join(f'{f[3]:>6}' for f in figures):>20}"
            f"{' '.join(f'{m:>7.2f}' for m in medians):>22}"
            f"{' '.join(f'{f[1]:>7.2f}' for f in figures):>22}"
            f"{' '.join(f'{f[2]:>3}' for f in figures):>10}"
            f"{ratio:>12.2f}x{ratio_middle:>9.2f}x"
        )
        if name not in PAGED:
            flat = flat and same_sql and ratio <= RATIO_TARGET
        bounded = bounded and same_sql and ratio_middle <= RATIO_TARGET
    if missing:
        print(f"\nINCOMPLETE: {', '.join(missing)} not measured; run again once they exist")
    print(
        f"\n{'PASS' if tally_ok else 'FAIL'}: {BIG:,} ballots tallied right, median "
        f"{outcome.tallies[BIG][0] / 1000:.1f} s (target under {TALLY_TARGET_MS / 1000:.0f} s)"
    )
    print(
        f"{'PASS' if flat and not missing else 'FAIL'}: results at {LARGE:,} ballots cost as "
        f"at {SMALL} (same SQL statements, median within {RATIO_TARGET}x)"
    )
    print(
        f"{'PASS' if bounded else 'FAIL'}: every row, pages of ballots included, costs at "
        f"{LARGE:,} ballots as at {MIDDLE:,}"
    )
    return tally_ok and flat and bounded and not missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    return 0 if report(args.db, run(args.db)) else 1


if __name__ == "__main__":
    sys.exit(main())
