"""Crash safety: the real server under write load, killed with SIGKILL at random moments.

    python -m tests.security.crash                       # SQLite, then PostgreSQL; 20 kills each
    python -m tests.security.crash --db sqlite --kills 5 --seed 7 --json numbers.json

Client threads (one per group of members, each with a write token) cast ballots and post
comments and replies through the JSON API, every write with an `Idempotency-Key` of its own
and a unique marker in its text. A write is *acknowledged* when a 2xx answer arrives. When
the answer is lost (the server died with the request in flight) or the connection is refused
(the server is down), the client sends the same request again with the same key until it is
acknowledged. Meanwhile the server (uvicorn, a process of its own, tests/support/live.py) is
killed with SIGKILL at random moments and started again on the same port.

At the end, the database must hold every acknowledged write exactly once (found by its
marker, with the id and receipt its answer gave) and nothing else: no write twice, none
half-written (a ballot off the roll, a voter without a counted ballot, a comment off its
thread's counts, a reply off its parent's count, a key without its result), no orphan on any
foreign key, no duplicate on any unique constraint, and the database's own check must pass
(SQLite `PRAGMA integrity_check` and `foreign_key_check`; PostgreSQL's amcheck on every
B-tree index and heap).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy import Engine, Index, UniqueConstraint, text
from sqlalchemy.orm import Session

from app import migrate
from app.accounts import service as accounts_service
from app.communities.models import Role
from app.db import create_db_engine, utcnow
from app.models import Base
from app.polls import service as polls_service
from app.proposals import service as proposals_service
from tests.factories import add_member, make_community, make_user
from tests.support import live, postgres

POSITIONS = ("consent", "concern", "object", "stand_aside")
ALIGNMENTS = ("supports", "opposes", "neutral", "question")
#: Comments a member may post a minute is 10 (app.discussion.service.POST_LIMIT); clients
#: keep under it, with a margin for the server's clock running after theirs.
COMMENTS_PER_MINUTE = 8
#: Statuses a client answers by sending the same request again, with the same key.
RETRIED = {409, 429, 503}
#: Share of writes whose first answer the client itself stops waiting for, as a network that
#: drops a connection would: the server carries on and commits, and only the key can tell
#: the retry apart from a new write.
DROPPED_SHARE = 0.03


@dataclass
class World:
    """What the load writes to: open polls, their proposals, members and their tokens."""

    poll_ids: list[int]
    proposal_ids: list[int]
    tokens: dict[str, str]
    user_ids: dict[str, int]


@dataclass
class Write:
    kind: Literal["ballot", "comment"]
    user: str
    key: str
    marker: str
    target: int
    body: dict[str, Any]
    sends: int = 0
    lost: int = 0
    dropped: int = 0
    refused: int = 0
    waits: int = 0
    replayed: bool = False
    answer: dict[str, Any] | None = None
    failure: str = ""


@dataclass
class Report:
    database: str
    kills: int = 0
    seconds: float = 0.0
    restart_seconds: list[float] = field(default_factory=list)
    acknowledged: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    retries: int = 0
    lost_answers: int = 0
    dropped_answers: int = 0
    refused_connections: int = 0
    replayed: int = 0
    #: Writes whose answer a kill took, found committed on retry (answered from their key).
    committed_before_kill: int = 0
    waits: int = 0
    duplicates: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    foreign_keys_checked: int = 0
    unique_checked: int = 0
    integrity: str = ""
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data["acknowledged"] = dict(self.acknowledged)
        data["restart_seconds"] = {
            "mean": round(sum(self.restart_seconds) / len(self.restart_seconds), 2)
            if self.restart_seconds
            else 0,
            "max": round(max(self.restart_seconds, default=0), 2),
        }
        data["seconds"] = round(self.seconds, 1)
        return data

    def lines(self) -> list[str]:
        acked = sum(self.acknowledged.values())
        restarts = self.summary()["restart_seconds"]
        return [
            f"database: {self.database}",
            f"  SIGKILLs: {self.kills}, restarts took {restarts['mean']} s on average "
            f"(at most {restarts['max']} s); run time {self.seconds:.1f} s",
            f"  acknowledged writes: {acked} ({self.acknowledged['ballot']} ballots, "
            f"{self.acknowledged['comment']} comments) in {self.requests} requests",
            f"  retries: {self.retries} ({self.lost_answers} answers lost in a kill, "
            f"{self.dropped_answers} dropped by the client, {self.refused_connections} "
            f"connections refused while down, {self.waits} asked to wait); "
            f"{self.replayed} answered from the idempotency key (written before; "
            f"{self.committed_before_kill} of them committed just before a kill)",
            f"  duplicates: {self.duplicates}; rows: {self.rows}",
            f"  no orphan on {self.foreign_keys_checked} foreign keys, no duplicate on "
            f"{self.unique_checked} unique constraints; integrity: {self.integrity}",
            "  problems: " + ("none" if not self.problems else f"{len(self.problems)}"),
            *[f"    - {problem}" for problem in self.problems[:50]],
        ]


# --- The world the load writes to ---------------------------------------------------------


def seed(url: str, *, members: int, polls: int) -> World:
    """A community of `members` fans (joined long ago) and `polls` proposals in voting."""
    opened_at = utcnow() - timedelta(minutes=1)
    long_ago = opened_at - timedelta(days=30)
    engine = create_db_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as db:
            community = make_community(db)
            moderator = make_user(db)
            add_member(db, community, moderator, Role.moderator, joined_at=long_ago)
            fans = [make_user(db) for _ in range(members)]
            for fan in fans:
                add_member(db, community, fan, joined_at=long_ago)
            poll_ids, proposal_ids = [], []
            for n in range(polls):
                published = opened_at - timedelta(days=4)
                proposal = proposals_service.create_proposal(
                    db,
                    actor=moderator,
                    community=community,
                    values=proposals_service.ProposalDraft(
                        title=f"Crash-safe norm {n + 1}",
                        summary="A proposal the crash test votes and comments on.",
                        norm_text=f"Clause {n + 1}: every acknowledged write is kept.",
                    ),
                    now=published,
                )
                proposals_service.publish(db, actor=moderator, proposal=proposal, now=published)
                poll = polls_service.open_poll(
                    db, actor=moderator, proposal=proposal, now=opened_at
                )
                poll_ids.append(poll.id)
                proposal_ids.append(proposal.id)
            tokens = {}
            for fan in fans:
                _, plain = accounts_service.create_token(
                    db, actor=fan, name="crash", scope="write", now=utcnow()
                )
                tokens[fan.username] = plain
            db.commit()
            return World(poll_ids, proposal_ids, tokens, {f.username: f.id for f in fans})
    finally:
        engine.dispose()


# --- The load -----------------------------------------------------------------------------


class Client(threading.Thread):
    """One client program: its members' writes, one at a time, each until acknowledged."""

    def __init__(
        self,
        number: int,
        base: str,
        world: World,
        users: list[str],
        rng: random.Random,
        stop: threading.Event,
        give_up_at: float,
        label: str,
        keys: bool = True,
        dropped_share: float = DROPPED_SHARE,
    ) -> None:
        super().__init__(name=f"client-{number}", daemon=True)
        self.number = number
        self.base = base
        self.world = world
        self.users = users
        self.rng = rng
        self.stop = stop
        self.give_up_at = give_up_at
        self.label = label
        self.keys = keys
        self.dropped_share = dropped_share
        self.writes: list[Write] = []
        self.sequence = 0
        self.comment_times: dict[str, deque[float]] = {u: deque() for u in users}
        self.comments: dict[int, list[int]] = {p: [] for p in world.proposal_ids}

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=15, trust_env=False) as http:
            while not self.stop.is_set() and time.monotonic() < self.give_up_at:
                write = self.next_write()
                self.writes.append(write)
                self.deliver(http, write)

    def next_write(self) -> Write:
        self.sequence += 1
        user = self.rng.choice(self.users)
        marker = f"[{self.label}-{self.number}-{self.sequence}]"
        key = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        if self.rng.random() < 0.5 and self.may_comment(user):
            proposal = self.rng.choice(self.world.proposal_ids)
            body: dict[str, Any] = {"body": f"Comment {marker}: kept exactly once, I hope."}
            earlier = self.comments[proposal]
            if earlier and self.rng.random() < 0.3:
                body["parent"] = self.rng.choice(earlier)
            else:
                body["alignment"] = self.rng.choice(ALIGNMENTS)
            self.comment_times[user].append(time.monotonic())
            return Write("comment", user, key, marker, proposal, body)
        position = self.rng.choice(POSITIONS)
        body = {"position": position, "reason": f"Ballot {marker}: {position}."}
        return Write("ballot", user, key, marker, self.rng.choice(self.world.poll_ids), body)

    def may_comment(self, user: str) -> bool:
        times = self.comment_times[user]
        while times and times[0] < time.monotonic() - 61:
            times.popleft()
        return len(times) < COMMENTS_PER_MINUTE

    def deliver(self, http: httpx.Client, write: Write) -> None:
        """Send until a 2xx answer: the same request, the same key, however often."""
        if write.kind == "ballot":
            method, url = "PUT", f"/api/v1/polls/{write.target}/ballot"
        else:
            method, url = "POST", f"/api/v1/proposals/{write.target}/comments"
        headers = {"Authorization": f"Bearer {self.world.tokens[write.user]}"}
        if self.keys:
            headers["Idempotency-Key"] = write.key
        drop = self.rng.random() < self.dropped_share
        while time.monotonic() < self.give_up_at:
            write.sends += 1
            # A read timeout of a millisecond: the request goes, its answer is not awaited.
            timeout = httpx.Timeout(15.0, read=0.001) if drop else httpx.Timeout(15.0)
            try:
                response = http.request(
                    method, url, json=write.body, headers=headers, timeout=timeout
                )
            except httpx.ConnectError:
                write.refused += 1
                time.sleep(0.05)
                continue
            except httpx.TransportError as exc:
                if drop and isinstance(exc, httpx.ReadTimeout):
                    write.dropped += 1
                    drop = False
                    continue
                # Sent, and no answer: written or not, only the key can tell.
                write.lost += 1
                time.sleep(0.05)
                continue
            if response.is_success:
                write.answer = response.json()
                write.replayed = response.headers.get("idempotent-replayed") == "true"
                if write.kind == "comment":
                    self.comments[write.target].append(int(write.answer["id"]))
                return
            if response.status_code in RETRIED:
                write.waits += 1
                time.sleep(min(float(response.headers.get("retry-after", "0.2")), 5.0))
                continue
            write.failure = f"{response.status_code}: {response.text[:300]}"
            return
        write.failure = "never acknowledged: the server did not come back in time"


# --- The server, killed and started again -------------------------------------------------


class Server:
    def __init__(self, url: str) -> None:
        self.url = url
        self.port = live.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        began = time.monotonic()
        self.process = live.launch(
            self.url,
            self.port,
            sweep_interval_seconds="0",
            # The load's members are new accounts; their first-day limits are not under test.
            new_account_hours="0",
        )
        live.wait_until_up(self.base, self.process)
        return time.monotonic() - began

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def run(
    url: str,
    *,
    label: str,
    kills: int = 20,
    threads: int = 6,
    members: int = 60,
    polls: int = 4,
    up_seconds: tuple[float, float] = (0.5, 3.0),
    seed_value: int = 2026,
    keys: bool = True,
    dropped_share: float = DROPPED_SHARE,
) -> Report:
    """Migrate `url`, seed it, run the load through `kills` SIGKILLs, and check the result.

    `keys=False` sends no idempotency keys: the control that shows the checks catch the
    duplicates retries then make.
    """
    rng = random.Random(seed_value)
    report = Report(database=label)
    migrate.upgrade(url)
    world = seed(url, members=members, polls=polls)
    server = Server(url)
    began = time.monotonic()
    server.start()
    stop = threading.Event()
    give_up_at = began + 60 + kills * 30
    names = sorted(world.tokens)
    clients = [
        Client(
            n,
            server.base,
            world,
            names[n::threads],
            random.Random(rng.getrandbits(64)),
            stop,
            give_up_at,
            label,
            keys,
            dropped_share,
        )
        for n in range(threads)
    ]
    for client in clients:
        client.start()
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(*up_seconds))
            server.kill()
            report.kills += 1
            report.restart_seconds.append(server.start())
        # Some load after the last restart, then every write still open finishes.
        time.sleep(rng.uniform(*up_seconds))
        stop.set()
        for client in clients:
            client.join(timeout=max(1.0, give_up_at - time.monotonic()))
    finally:
        stop.set()
        server.stop()
    report.seconds = time.monotonic() - began
    writes = [w for client in clients for w in client.writes]
    for write in writes:
        report.requests += write.sends
        report.retries += write.sends - 1
        report.lost_answers += write.lost
        report.dropped_answers += write.dropped
        report.refused_connections += write.refused
        report.waits += write.waits
        report.replayed += write.replayed
        report.committed_before_kill += write.replayed and write.lost > 0
        if write.answer is not None:
            report.acknowledged[write.kind] += 1
        else:
            report.problems.append(f"{write.kind} {write.marker} failed: {write.failure}")
    engine = create_db_engine(url)
    try:
        check(engine, world, writes, report)
    finally:
        engine.dispose()
    return report


# --- The checks ---------------------------------------------------------------------------


def check(engine: Engine, world: World, writes: list[Write], report: Report) -> None:
    """Every acknowledged write present once and whole; the database consistent."""
    with engine.connect() as connection:
        report.integrity = integrity(connection)
        if not report.integrity.startswith("ok"):
            report.problems.append(f"integrity check: {report.integrity}")
        report.foreign_keys_checked = orphans(connection, report.problems)
        report.unique_checked = duplicates(connection, report.problems)
        invariants(connection, report.problems)
        acknowledged_once(connection, world, writes, report)


def integrity(connection: Any) -> str:
    """The database's own verdict on its files and indexes."""
    if connection.dialect.name == "sqlite":
        verdict = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
        foreign = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if verdict != ["ok"] or foreign:
            return f"integrity_check {verdict[:5]}, foreign_key_check {foreign[:5]}"
        return "ok (PRAGMA integrity_check: ok; PRAGMA foreign_key_check: no rows)"
    connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
    indexes = connection.exec_driver_sql(
        "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE a.amname = 'btree' AND n.nspname = 'public'"
    ).scalars()
    names = list(indexes)
    for name in names:
        connection.execute(
            text("SELECT bt_index_check(CAST(:name AS regclass), true)"), {"name": name}
        )
    tables = list(
        connection.exec_driver_sql(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
        ).scalars()
    )
    corrupt = 0
    for table in tables:
        corrupt += len(
            connection.execute(
                text("SELECT * FROM verify_heapam(CAST(:name AS regclass))"), {"name": table}
            ).fetchall()
        )
    connection.rollback()
    if corrupt:
        return f"verify_heapam found {corrupt} corrupt tuples"
    return (
        f"ok (amcheck: bt_index_check with heapallindexed on {len(names)} indexes, "
        f"verify_heapam on {len(tables)} tables)"
    )


def orphans(connection: Any, problems: list[str]) -> int:
    """No row refers to a row that is not there, on any foreign key of the schema."""
    checked = 0
    for table in Base.metadata.sorted_tables:
        for constraint in table.foreign_key_constraints:
            columns = [element.parent.name for element in constraint.elements]
            targets = [element.column.name for element in constraint.elements]
            parent = constraint.elements[0].column.table.name
            joined = " AND ".join(f"p.{t} = c.{c}" for c, t in zip(columns, targets, strict=True))
            present = " AND ".join(f"c.{c} IS NOT NULL" for c in columns)
            count = connection.exec_driver_sql(
                f"SELECT count(*) FROM {table.name} c WHERE {present} "  # noqa: S608
                f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {joined})"
            ).scalar_one()
            checked += 1
            if count:
                problems.append(f"{count} rows of {table.name} refer to missing {parent} rows")
    return checked


def duplicates(connection: Any, problems: list[str]) -> int:
    """No two rows share what a unique constraint or unique index keeps apart."""
    checked = 0
    dialect = connection.dialect.name
    for table in Base.metadata.sorted_tables:
        groups: list[tuple[list[str], str | None]] = []
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                groups.append(([c.name for c in constraint.columns], None))
        for index in table.indexes:
            if isinstance(index, Index) and index.unique:
                where = index.dialect_options[dialect].get("where")
                groups.append(
                    ([c.name for c in index.columns], str(where) if where is not None else None)
                )
        for columns, where in groups:
            listed = ", ".join(columns)
            conditions = [f"{c} IS NOT NULL" for c in columns]
            if where:
                conditions.append(f"({where})")
            count = connection.exec_driver_sql(
                f"SELECT count(*) FROM (SELECT {listed} FROM {table.name} "  # noqa: S608
                f"WHERE {' AND '.join(conditions)} GROUP BY {listed} HAVING count(*) > 1) AS d"
            ).scalar_one()
            checked += 1
            if count:
                problems.append(f"{count} duplicated ({listed}) in {table.name}")
    return checked


#: What a half-written ballot or comment would leave: each query counts the rows that show it.
INVARIANTS = {
    "ballots of voters not on the poll's roll": """
        SELECT count(*) FROM ballots b WHERE NOT EXISTS (
            SELECT 1 FROM poll_voters v WHERE v.poll_id = b.poll_id AND v.user_id = b.voter_id)
    """,
    "voters whose ballots in a round have no counted (latest) one": """
        SELECT count(*) FROM (
            SELECT poll_id, round_number, voter_id FROM ballots
            GROUP BY poll_id, round_number, voter_id
            HAVING sum(CASE WHEN latest THEN 1 ELSE 0 END) <> 1) AS g
    """,
    "counted ballots that are not their voter's newest in the round": """
        SELECT count(*) FROM ballots b WHERE b.latest AND EXISTS (
            SELECT 1 FROM ballots n WHERE n.poll_id = b.poll_id
            AND n.round_number = b.round_number AND n.voter_id = b.voter_id AND n.id > b.id)
    """,
    "threads whose kept counts differ from their comments": """
        SELECT count(*) FROM thread_stats s WHERE s.comments <> (
            SELECT count(*) FROM comments c WHERE c.proposal_id = s.proposal_id
            AND c.deleted_at IS NULL AND c.hidden_at IS NULL)
        OR s.supports <> (SELECT count(*) FROM comments c WHERE c.proposal_id = s.proposal_id
            AND c.parent_id IS NULL AND c.alignment = 'supports'
            AND c.deleted_at IS NULL AND c.hidden_at IS NULL)
        OR s.opposes <> (SELECT count(*) FROM comments c WHERE c.proposal_id = s.proposal_id
            AND c.parent_id IS NULL AND c.alignment = 'opposes'
            AND c.deleted_at IS NULL AND c.hidden_at IS NULL)
        OR s.neutral <> (SELECT count(*) FROM comments c WHERE c.proposal_id = s.proposal_id
            AND c.parent_id IS NULL AND c.alignment = 'neutral'
            AND c.deleted_at IS NULL AND c.hidden_at IS NULL)
        OR s.question <> (SELECT count(*) FROM comments c WHERE c.proposal_id = s.proposal_id
            AND c.parent_id IS NULL AND c.alignment = 'question'
            AND c.deleted_at IS NULL AND c.hidden_at IS NULL)
    """,
    "threads with comments and no kept counts": """
        SELECT count(DISTINCT c.proposal_id) FROM comments c WHERE NOT EXISTS (
            SELECT 1 FROM thread_stats s WHERE s.proposal_id = c.proposal_id)
    """,
    "comments whose reply count differs from their replies": """
        SELECT count(*) FROM comments c
        WHERE c.reply_count <> (SELECT count(*) FROM comments r WHERE r.parent_id = c.id)
    """,
    "replies not one level below their parent, or in another thread": """
        SELECT count(*) FROM comments r JOIN comments p ON p.id = r.parent_id
        WHERE r.depth <> p.depth + 1 OR r.proposal_id <> p.proposal_id
    """,
    "comments whose kept versions differ from their edit count": """
        SELECT count(*) FROM comments c
        WHERE c.edit_count <> (SELECT count(*) FROM comment_versions v WHERE v.comment_id = c.id)
    """,
    "idempotency keys without the answer of their write": """
        SELECT count(*) FROM idempotency_keys WHERE result_id IS NULL OR status_code IS NULL
    """,
    "ballot keys whose ballot is missing or is another user's": """
        SELECT count(*) FROM idempotency_keys k WHERE k.action = 'api:ballot' AND NOT EXISTS (
            SELECT 1 FROM ballots b WHERE b.id = k.result_id AND b.voter_id = k.user_id)
    """,
    "comment keys whose comment is missing or is another user's": """
        SELECT count(*) FROM idempotency_keys k WHERE k.action = 'api:comment' AND NOT EXISTS (
            SELECT 1 FROM comments c WHERE c.id = k.result_id AND c.author_id = k.user_id)
    """,
    "ballots and comments written under two keys": """
        SELECT count(*) FROM (SELECT action, result_id FROM idempotency_keys
            GROUP BY action, result_id HAVING count(*) > 1) AS d
    """,
}


def invariants(connection: Any, problems: list[str]) -> None:
    for what, query in INVARIANTS.items():
        count = connection.exec_driver_sql(query).scalar_one()
        if count:
            problems.append(f"{count} {what}")


def acknowledged_once(connection: Any, world: World, writes: list[Write], report: Report) -> None:
    """Each acknowledged write is there once, as its answer said; nothing else was written."""
    ballots = {
        row.reason: row
        for row in connection.exec_driver_sql(
            "SELECT id, poll_id, voter_id, position, reason, receipt, latest FROM ballots"
        )
    }
    ballot_reasons = Counter(
        connection.exec_driver_sql("SELECT reason FROM ballots").scalars().all()
    )
    comments = Counter(connection.exec_driver_sql("SELECT body FROM comments").scalars().all())
    comment_rows = {
        row.body: row
        for row in connection.exec_driver_sql(
            "SELECT id, proposal_id, parent_id, author_id, body FROM comments"
        )
    }
    report.rows = {"ballots": sum(ballot_reasons.values()), "comments": sum(comments.values())}
    report.duplicates = sum(n - 1 for n in ballot_reasons.values() if n > 1) + sum(
        n - 1 for n in comments.values() if n > 1
    )
    if report.duplicates:
        report.problems.append(f"{report.duplicates} writes stored more than once")
    problems = report.problems
    last: dict[tuple[str, int], Write] = {}
    for write in writes:
        if write.answer is None:
            continue
        user_id = world.user_ids[write.user]
        if write.kind == "ballot":
            reason = write.body["reason"]
            row = ballots.get(reason)
            counted = write.answer.get("ballot") or {}
            if ballot_reasons[reason] != 1 or row is None:
                problems.append(f"ballot {write.marker} stored {ballot_reasons[reason]} times")
            elif (
                row.id != counted.get("id")
                or row.voter_id != user_id
                or row.poll_id != write.target
                or row.position != write.body["position"]
                or row.receipt.upper() != str(counted.get("receipt", "")).replace("-", "")
            ):
                problems.append(f"ballot {write.marker} is not what its answer said")
            last[(write.user, write.target)] = write
        else:
            body = write.body["body"]
            found = comment_rows.get(body)
            if comments[body] != 1 or found is None:
                problems.append(f"comment {write.marker} stored {comments[body]} times")
            elif (
                found.id != write.answer.get("id")
                or found.author_id != user_id
                or found.proposal_id != write.target
                or found.parent_id != write.body.get("parent")
            ):
                problems.append(f"comment {write.marker} is not what its answer said")
    # Nothing but acknowledged writes: every attempted write ended acknowledged.
    if report.rows["ballots"] != report.acknowledged["ballot"]:
        problems.append(
            f"{report.rows['ballots']} ballots stored, {report.acknowledged['ballot']} acknowledged"
        )
    if report.rows["comments"] != report.acknowledged["comment"]:
        problems.append(
            f"{report.rows['comments']} comments stored, "
            f"{report.acknowledged['comment']} acknowledged"
        )
    # Each member's counted ballot in a poll is the last one they were told was cast.
    for (user, _poll), write in last.items():
        row = ballots.get(write.body["reason"])
        if row is not None and not row.latest:
            problems.append(f"{user}'s last acknowledged ballot {write.marker} does not count")
    keys = connection.exec_driver_sql("SELECT count(*) FROM idempotency_keys").scalar_one()
    acked = sum(report.acknowledged.values())
    if keys != acked:
        problems.append(f"{keys} idempotency keys stored for {acked} acknowledged writes")


# --- Databases ----------------------------------------------------------------------------


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh database of `kind` for one run: a SQLite file, or a throwaway cluster."""
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="normsforum-crash-"))
        try:
            yield f"sqlite:///{folder / 'crash.sqlite'}"
        finally:
            for path in folder.iterdir():
                path.unlink()
            folder.rmdir()
        return
    with postgres.cluster() as server:
        url = postgres.create_database(server, "normsforum_crash")
        synchronous_commits(url)
        yield url


def synchronous_commits(url: str) -> None:
    """Commit synchronously on a PostgreSQL database, as production does (the test cluster
    turns it off for speed): the app is what gets killed, not the database, but no
    acknowledgement here should rest on a setting production does not use."""
    engine = create_db_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            return
        with engine.connect() as connection:
            name = connection.exec_driver_sql("SELECT current_database()").scalar_one()
            quoted = engine.dialect.identifier_preparer.quote(name)
            connection.exec_driver_sql(f"ALTER DATABASE {quoted} SET synchronous_commit = on")
            connection.commit()
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, help="Write the numbers to this file.")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    reports = []
    for kind in kinds:
        if kind == "postgresql" and postgres.find_bin_dir() is None:
            print("PostgreSQL is not installed: its run is skipped.", file=sys.stderr)
            if os.environ.get("NORMSFORUM_REQUIRE_POSTGRES", "") not in ("", "0", "false"):
                return 1
            continue
        with database(kind) as url:
            report = run(
                url, label=kind, kills=args.kills, threads=args.threads, seed_value=args.seed
            )
        print("\n".join(report.lines()), flush=True)
        reports.append(report)
    if args.json:
        args.json.write_text(json.dumps([r.summary() for r in reports], indent=2) + "\n")
    return 1 if any(r.problems for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
