"""A proposal's thread at 50 and at 10,000 comments: time and SQL statements per call.

Run with `make bench-thread` (or `python -m bench.thread --db sqlite|postgresql`).

Each size gets a fresh database holding one proposal and its thread. The big thread is the
small one plus 9,950 later comments, placed so that nothing the measured views show changes:
the same comments, at the same places, only more of them behind the "load more replies" and
"continue this thread" links and on later pages. Any difference in cost between the two
columns is then the data behind the page, not the page.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import migrate
from app.accounts.models import User
from app.communities.models import Community, Membership, Role
from app.config import Settings
from app.db import create_db_engine, utcnow
from app.discussion import service as discussion_service
from app.discussion import thread
from app.discussion.models import Alignment, Comment, ThreadStats
from app.main import create_app
from app.markdown import render_markdown
from app.proposals.models import (
    AuthorRole,
    Proposal,
    ProposalAuthor,
    ProposalKind,
    ProposalState,
    Revision,
)

SMALL, BIG = 50, 10_000
SIZES = (SMALL, BIG)
#: Top-level comments of the small thread: a full first page, and a second one.
SMALL_TOP = 25
#: The third top-level comment gets the pile of direct replies (10 small, 2,000 big).
HOT_ROOT = 3
HOT_REPLIES = {SMALL: 10, BIG: 2_000}
#: The cursor page starts after this many top-level comments.
CURSOR_AFTER = 5
#: The deep page (big thread only) starts after this many top-level comments.
DEEP_AFTER = 2_000
CALLS = 100
REQUESTS = 60
USERS = 40
PROPOSAL_ID = 1
BODIES = [
    "I agree with this.",
    "**Strongly** disagree: the credit rule already covers it.",
    "Could we add an exception for *parody*? See the [old thread](https://example.org/t/12).",
    "Quoting the draft:\n\n> fan art of canon characters is fine\n\nWhat about OCs?",
    "Two points:\n\n1. commercial use\n2. attribution upstream",
    "This seems fine for illustrations but not for AI models trained on the stems.",
    "+1",
    "Why does the wording say `derivative` rather than `remix`?",
    "The booth rules at events are a separate question, I think.",
    "Thanks, that clears it up.",
    "I'd rather wait for the producer's statement before voting.",
    "Same concern as above. The age of the character is stated in canon, so depiction should "
    "follow it.\n\nAlso: *merchandise* needs its own proposal.",
]


@dataclass
class Row:
    """A comment being generated."""

    id: int
    parent: Row | None
    depth: int
    body: int
    alignment: Alignment | None
    deleted: bool
    children: list[Row] = field(default_factory=list)


def _shown(rows: list[Row], roots: list[Row], level: int = 0) -> list[tuple[Row, int, bool]]:
    """What `thread._expand` shows from `roots`: (comment, level, whether it may get more
    replies without changing the view), following the same limits."""
    shown: list[tuple[Row, int, bool]] = []
    frontier = [(r, level) for r in roots]
    while frontier:
        fetched = 0
        nxt: list[tuple[Row, int]] = []
        for node, lvl in frontier:
            if lvl >= thread.INLINE_DEPTH:
                # "Continue this thread" shows only when it already has replies.
                shown.append((node, lvl, bool(node.children)))
                continue
            if not node.children:
                shown.append((node, lvl, False))
                continue
            if fetched >= thread.PARENTS_PER_LEVEL:
                shown.append((node, lvl, True))
                continue
            fetched += 1
            limit = thread.REPLIES_SHOWN[min(lvl, len(thread.REPLIES_SHOWN) - 1)]
            shown.append((node, lvl, len(node.children) >= limit))
            nxt += [(c, lvl + 1) for c in node.children[:limit]]
        frontier = nxt
    return shown


class Thread:
    """Comments generated in order of posting (ids ascending), as a forum fills up."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.rows: list[Row] = []
        self.top: list[Row] = []
        self.locked: set[int] = set()

    def add(self, parent: Row | None) -> Row:
        rng = self.rng
        row = Row(
            id=len(self.rows) + 1,
            parent=parent,
            depth=parent.depth + 1 if parent else 0,
            body=rng.randrange(len(BODIES)),
            alignment=None if parent else rng.choice(list(Alignment)),
            deleted=rng.random() < 0.02,
        )
        self.rows.append(row)
        if parent is None:
            self.top.append(row)
        else:
            parent.children.append(row)
        return row

    def small(self) -> None:
        """25 top-level comments, a comment with 10 replies, a chain 8 deep, a few more."""
        rng = self.rng
        for _ in range(HOT_ROOT):
            self.add(None)
        hot = self.top[HOT_ROOT - 1]
        chain = self.top[0]
        kinds = ["top"] * (SMALL_TOP - HOT_ROOT) + ["hot"] * HOT_REPLIES[SMALL] + ["chain"] * 8
        kinds += ["reply"] * (SMALL - len(self.rows) - len(kinds))
        rng.shuffle(kinds)
        for kind in kinds:
            if kind == "top":
                self.add(None)
            elif kind == "hot":
                self.add(hot)
            elif kind == "chain":
                chain = self.add(chain)
            else:
                self.add(rng.choice(self.rows))

    def lock(self) -> None:
        """Freeze what the measured views show: later comments must not change it."""
        roots = self.top[: thread.PAGE_SIZE]
        cursor_roots = self.top[CURSOR_AFTER : CURSOR_AFTER + thread.PAGE_SIZE]
        hot = self.top[HOT_ROOT - 1]
        more = hot.children[4:8]  # "load more replies" after the first 4 shown
        views = _shown(self.rows, roots) + _shown(self.rows, cursor_roots)
        views += _shown(self.rows, more, level=1)
        # Top-level comments after the first page's: the page's `next_cursor` stays put.
        self.locked = {row.id for row, _, may_grow in views if not may_grow}

    def grow(self, size: int) -> None:
        """Later comments: 30% top-level, the hot comment's pile, long chains, random replies."""
        rng = self.rng
        extra = size - len(self.rows)
        hot = self.top[HOT_ROOT - 1]
        hot_extra = HOT_REPLIES[BIG] - len(hot.children)
        chain_lengths = [150, 120, 100, 80, 60, 50, 40, 30]
        kinds = ["top"] * int(extra * 0.3) + ["hot"] * hot_extra
        kinds += [f"chain{i}" for i, n in enumerate(chain_lengths) for _ in range(n)]
        kinds += ["reply"] * (extra - len(kinds))
        rng.shuffle(kinds)
        chains: dict[str, Row] = {}
        for kind in kinds:
            if kind == "top":
                self.add(None)
            elif kind == "hot":
                self.add(hot)
            elif kind.startswith("chain"):
                if kind not in chains:
                    chains[kind] = self._open_parent()
                chains[kind] = self.add(chains[kind])
            else:
                self.add(self._open_parent())

    def _open_parent(self) -> Row:
        """A random comment (recent ones more likely) not frozen by `lock`."""
        while True:
            if self.rng.random() < 0.5:
                row = self.rng.choice(self.rows[-300:])
            else:
                row = self.rng.choice(self.rows)
            if row.id not in self.locked:
                return row


def build(size: int) -> Thread:
    """The same small thread for both sizes; the big one grows it afterwards."""
    generated = Thread(seed=7)
    generated.small()
    if size > SMALL:
        generated.lock()
        generated.grow(size)
    return generated


def insert_thread(
    db: Session | Connection,
    generated: Thread,
    proposal_id: int,
    *,
    start: datetime,
    author_of: Callable[[int], int],
    first_id: int = 1,
) -> None:
    """The generated thread's comments (over three days from `start`) and kept counts, in
    bulk, under ids from `first_id` on; `author_of(n)` writes comment `n`."""
    offset = first_id - 1
    step = timedelta(days=3) / len(generated.rows)
    html = [str(render_markdown(body)) for body in BODIES]  # once per distinct body
    rows: list[dict[str, Any]] = []
    for row in generated.rows:
        at: datetime = start + step * row.id
        rows.append(
            {
                "id": row.id + offset,
                "proposal_id": proposal_id,
                "parent_id": row.parent.id + offset if row.parent else None,
                "depth": row.depth,
                "author_id": author_of(row.id),
                "alignment": row.alignment,
                "body": BODIES[row.body],
                "body_html": html[row.body],
                "reply_count": len(row.children),
                "edit_count": 0,
                "created_at": at,
                "deleted_at": at + timedelta(minutes=5) if row.deleted else None,
                "hidden_reason": "",
            }
        )
    for first in range(0, len(rows), 2000):
        db.execute(insert(Comment), rows[first : first + 2000])
    visible = [r for r in generated.rows if not r.deleted]
    db.execute(
        insert(ThreadStats),
        [
            {
                "proposal_id": proposal_id,
                "comments": len(visible),
                **{
                    a.value: sum(1 for r in visible if r.alignment is a and r.parent is None)
                    for a in Alignment
                },
            }
        ],
    )


def seed(url: str, size: int) -> Thread:
    engine = create_db_engine(url)
    generated = build(size)
    now = utcnow()
    start = now - timedelta(days=3)
    with Session(engine) as db:
        community = Community(slug="bench", name="Bench", description="", created_at=start)
        db.add(community)
        db.flush()
        users = [
            {
                "id": n,
                "username": f"member{n}",
                "display_name": f"Member {n}",
                "email": f"member{n}@example.org",
                "password_hash": None,
                "created_at": start,
            }
            for n in range(1, USERS + 1)
        ]
        db.execute(insert(User), users)
        db.execute(
            insert(Membership),
            [{"community_id": community.id, "user_id": u["id"], "role": Role.fan} for u in users],
        )
        body = "Fan art of canon characters is allowed with credit."
        db.execute(
            insert(Proposal),
            [
                {
                    "id": PROPOSAL_ID,
                    "community_id": community.id,
                    "author_id": 1,
                    "kind": ProposalKind.new,
                    "state": ProposalState.deliberation,
                    "title": "Fan art of canon characters",
                    "summary": body,
                    "rationale": body,
                    "norm_text": body,
                    "revision_number": 1,
                    "created_at": start,
                    "listed_at": start,
                    "last_activity_at": now,
                    "published_at": start,
                    "deadline_at": now + timedelta(days=3),
                }
            ],
        )
        db.execute(
            insert(Revision),
            [
                {
                    "proposal_id": PROPOSAL_ID,
                    "number": 1,
                    "title": "Fan art of canon characters",
                    "summary": body,
                    "rationale": body,
                    "norm_text": body,
                    "message": "",
                    "author_id": 1,
                    "created_at": start,
                }
            ],
        )
        db.execute(
            insert(ProposalAuthor),
            [
                {
                    "proposal_id": PROPOSAL_ID,
                    "user_id": 1,
                    "role": AuthorRole.author,
                    "added_at": start,
                }
            ],
        )
        insert_thread(
            db, generated, PROPOSAL_ID, start=start, author_of=lambda n: 1 + n * 7 % USERS
        )
        db.commit()
        proposal = db.get(Proposal, PROPOSAL_ID)
        assert proposal is not None
        # The kept counts agree with the comments themselves.
        assert discussion_service.recount(db, proposal) == discussion_service.counts(db, proposal)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return generated


@contextmanager
def databases(kind: str) -> Iterator[dict[int, str]]:
    """One fresh database per size, all alive at once (so calls can alternate)."""
    if kind == "postgresql":
        from tests.support import postgres

        with postgres.cluster() as server:
            yield {size: postgres.create_database(server, f"bench_{size}") for size in SIZES}
        return
    with tempfile.TemporaryDirectory() as folder:
        yield {size: f"sqlite:///{Path(folder) / f'thread-{size}.sqlite'}" for size in SIZES}


@dataclass
class Target:
    """One size's app under test, with its statement counter and generated thread."""

    engine: Engine
    client: TestClient
    generated: Thread
    statements: list[str]


#: A measured call: returns how many comments it showed.
Call = Callable[[], int]
#: Median ms, p95 ms, SQL statements, comments shown.
Figures = tuple[float, float, int, int]


def _count_nodes(nodes: list[thread.Node]) -> int:
    return sum(1 + _count_nodes(n.children) for n in nodes)


def _service(target: Target, work: Callable[[Session, Proposal], list[thread.Node]]) -> Call:
    """A call to the thread module in a fresh session, as a request would make it."""

    def call() -> int:
        with Session(target.engine) as db:
            proposal = db.get(Proposal, PROPOSAL_ID)
            assert proposal is not None
            target.statements.clear()
            return _count_nodes(work(db, proposal))

    return call


def prepare(target: Target, name: str) -> Call:
    """The call measured for a row."""
    generated = target.generated
    if name == "first page":
        return _service(target, lambda db, p: thread.thread_page(db, p).items)
    if name == "page via cursor":
        cursor = thread.encode_cursor(generated.top[CURSOR_AFTER - 1].id)
        return _service(target, lambda db, p: thread.thread_page(db, p, cursor=cursor).items)
    if name == "deep page via cursor":
        deep = thread.encode_cursor(generated.top[min(DEEP_AFTER, len(generated.top)) - 21].id)
        return _service(target, lambda db, p: thread.thread_page(db, p, cursor=deep).items)
    if name == "more replies (hot comment)":
        hot = generated.top[HOT_ROOT - 1]
        after = hot.children[3].id

        def more(db: Session, proposal: Proposal) -> list[thread.Node]:
            parent = db.get(Comment, hot.id)
            assert parent is not None
            return thread.more_replies(db, parent, after=after, shown=4, level=0).children

        return _service(target, more)

    def page() -> int:
        target.statements.clear()
        response = target.client.get(f"/c/bench/proposals/{PROPOSAL_ID}")
        assert response.status_code == 200, response.status_code
        return response.text.count('<article class="comment')

    return page


ROWS = (
    "first page",
    "page via cursor",
    "deep page via cursor",
    "more replies (hot comment)",
    "proposal page (HTTP)",
)


def measure(targets: dict[int, Target], name: str) -> dict[int, Figures]:
    """Median and p95 ms, statements and comments shown per size, the sizes alternating."""
    prepared = {size: prepare(target, name) for size, target in targets.items()}
    repeat = REQUESTS if name.endswith("(HTTP)") else CALLS
    timings: dict[int, list[float]] = {size: [] for size in targets}
    counts: dict[int, int] = {}
    shown: dict[int, int] = {}
    for call in prepared.values():
        call()  # warm up caches and templates
    for _ in range(repeat):
        for size, call in prepared.items():
            started = time.perf_counter()
            shown[size] = call()
            timings[size].append((time.perf_counter() - started) * 1000)
            counts[size] = len(targets[size].statements)
    figures: dict[int, Figures] = {}
    for size, values in timings.items():
        values.sort()
        figures[size] = (
            statistics.median(values),
            values[int(len(values) * 0.95) - 1],
            counts[size],
            shown[size],
        )
    return figures


def run(kind: str) -> dict[str, dict[int, Figures]]:
    results: dict[str, dict[int, Figures]] = {}
    with databases(kind) as urls, ExitStack() as stack:
        targets: dict[int, Target] = {}
        for size, url in urls.items():
            migrate.upgrade(url)
            generated = seed(url, size)
            settings = Settings(
                environment="test",
                database_url=url,
                secret_key="bench-secret-" + "x" * 32,
                # What a page costs to make is measured, not the copy kept for visitors.
                page_cache_mb=0,
            )
            app = create_app(settings)
            engine: Engine = app.state.engine
            stack.callback(engine.dispose)
            statements: list[str] = []

            def count(*args: Any, statements: list[str] = statements) -> None:
                statements.append(str(args[2]))

            event.listen(engine, "before_cursor_execute", count)
            client = stack.enter_context(TestClient(app))
            targets[size] = Target(engine, client, generated, statements)
        for name in ROWS:
            results[name] = measure(targets, name)
    return results


def report(kind: str, results: dict[str, dict[int, Figures]]) -> bool:
    print(f"\nThread on {kind}: {SMALL:,} vs {BIG:,} comments, {CALLS} calls ({REQUESTS} HTTP)")
    print("(deep page: after top-level comment 1,980 of the big thread, 5 of the small)\n")
    header = (
        f"{'call':<28}{'shown':>10}{'median ms':>18}{'p95 ms':>18}{'SQL statements':>17}"
        f"{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for name, per_size in results.items():
        (m1, p1, q1, n1), (m2, p2, q2, n2) = per_size[SMALL], per_size[BIG]
        ratio = m2 / m1
        print(
            f"{name:<28}{n1:>5} {n2:<4}{m1:>9.2f} {m2:<8.2f}{p1:>9.2f} {p2:<8.2f}"
            f"{q1:>8} {q2:<8}{ratio:>6.2f}x"
        )
        # The deep page shows other comments in each thread; the rest show the same ones.
        if name != "deep page via cursor" and (q1 != q2 or n1 != n2 or ratio > 1.3):
            ok = False
    print(
        "\nPASS: the same views cost the same at 50 and at 10,000 comments"
        if ok
        else "\nFAIL: a view got slower, made more queries or showed other comments"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    return 0 if report(args.db, run(args.db)) else 1


if __name__ == "__main__":
    sys.exit(main())
