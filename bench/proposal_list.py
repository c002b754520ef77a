"""Proposal list and search at 100 and at 10,000 proposals: time and SQL statements per request.

Run with `make bench-proposals` (or `python -m bench.proposal_list --db sqlite|postgresql`).
Each size gets a fresh database, migrated and seeded; requests go through the whole app
in-process (ASGI), so the figures include routing, the service, templates and the database.
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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from app import migrate
from app.accounts import service as accounts_service
from app.communities.models import Category, Community, Membership, Role
from app.config import Settings
from app.db import create_db_engine, utcnow
from app.main import create_app
from app.proposals.models import (
    AuthorRole,
    Proposal,
    ProposalAuthor,
    ProposalKind,
    ProposalState,
    ProposalTag,
    Revision,
)

SIZES = (100, 10_000)
REQUESTS = 60
WORDS = [
    "fan",
    "art",
    "commercial",
    "use",
    "character",
    "depiction",
    "age",
    "credit",
    "attribution",
    "derivative",
    "model",
    "training",
    "data",
    "remix",
    "cover",
    "song",
    "illustration",
    "merchandise",
    "parody",
    "sexualised",
    "costume",
    "lyrics",
    "stems",
    "sampling",
    "license",
    "upstream",
    "producer",
    "vocal",
    "library",
    "event",
    "booth",
]
CATEGORIES = ["depiction-and-age", "sexual-content", "commercial-use", "ai-works", "credit"]
# Every row below returns the same number of items at both sizes, so only the data behind the
# page grows: a word in exactly one proposal, a word in one proposal of four, and so on.
UNIQUE_WORD = "vocaloidmanifesto"
QUARTER_WORD = "lorasheet"
# The same few proposals at both sizes are written in Japanese, and withdrawn.
IN_JAPANESE = {7, 42, 77}
WITHDRAWN = {13, 31, 63}


def seed(url: str, size: int) -> None:
    engine = create_db_engine(url)
    rng = random.Random(size)
    now = utcnow()
    with Session(engine) as db:
        user = accounts_service.create_user(
            db,
            username="bench",
            email="bench@example.org",
            password="bench-password-1",  # noqa: S106
            now=now,
        )
        community = Community(slug="bench", name="Bench", description="", created_at=now)
        db.add(community)
        db.flush()
        db.add(Membership(community_id=community.id, user_id=user.id, role=Role.fan))
        categories = [
            Category(community_id=community.id, slug=slug, name=slug, position=i)
            for i, slug in enumerate(CATEGORIES)
        ]
        db.add_all(categories)
        db.flush()
        proposals, revisions, authors, tags = [], [], [], []
        for n in range(1, size + 1):
            at = now - timedelta(minutes=size - n)
            words = rng.sample(WORDS, 12)
            if n == 42:
                words.append(UNIQUE_WORD)
            if n % 4 == 0:
                words.append(QUARTER_WORD)
            body = " ".join(words)
            published = n % 50 != 0
            proposals.append(
                {
                    "id": n,
                    "community_id": community.id,
                    "author_id": user.id,
                    "category_id": categories[n % len(categories)].id,
                    "kind": ProposalKind.new,
                    "state": ProposalState.withdrawn
                    if n in WITHDRAWN
                    else ProposalState.deliberation
                    if published
                    else ProposalState.draft,
                    "language": "ja" if n in IN_JAPANESE else "en",
                    "title": f"Proposal {n}: {' '.join(words[:4])}",
                    "summary": body,
                    "rationale": body,
                    "norm_text": body,
                    "revision_number": 1,
                    "created_at": at,
                    "listed_at": at,
                    "last_activity_at": at,
                    "published_at": at if published else None,
                    "deadline_at": at + timedelta(days=3) if published else None,
                }
            )
            revisions.append(
                {
                    "proposal_id": n,
                    "number": 1,
                    "title": f"Proposal {n}",
                    "summary": body,
                    "rationale": body,
                    "norm_text": body,
                    "message": "",
                    "author_id": user.id,
                    "created_at": at,
                }
            )
            authors.append(
                {"proposal_id": n, "user_id": user.id, "role": AuthorRole.author, "added_at": at}
            )
            tags += [{"proposal_id": n, "tag": t} for t in {"fan-art", words[0]}]
        for table, rows in (
            (Proposal, proposals),
            (Revision, revisions),
            (ProposalAuthor, authors),
            (ProposalTag, tags),
        ):
            for start in range(0, len(rows), 2000):
                db.execute(insert(table), rows[start : start + 2000])
        db.commit()
    # Statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) would keep them:
    # without them a planner cannot tell a rare search word from a common one.
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


@contextmanager
def databases(kind: str) -> Iterator[dict[int, str]]:
    """One fresh database per size, all alive at once (so requests can alternate)."""
    if kind == "postgresql":
        from tests.support import postgres

        with postgres.cluster() as server:
            yield {size: postgres.create_database(server, f"bench_{size}") for size in SIZES}
        return
    with tempfile.TemporaryDirectory() as folder:
        yield {size: f"sqlite:///{Path(folder) / f'bench-{size}.sqlite'}" for size in SIZES}


def _counter(statements: list[int]) -> Callable[..., None]:
    def count(*args: object) -> None:
        statements.append(1)

    return count


Figures = tuple[float, float, int, int]


@dataclass
class Target:
    """One size's app under test, with its statement counter."""

    client: TestClient
    statements: list[int]


def measure(targets: dict[int, Target], paths: dict[int, str]) -> dict[int, Figures]:
    """Median and p95 ms, SQL statements and items shown per size, requests alternating.

    Alternating small and large request by request makes background load on the machine fall
    on both sizes alike, so the ratio between them stays honest on a busy machine.
    """
    timings: dict[int, list[float]] = {size: [] for size in targets}
    counts: dict[int, int] = {}
    items: dict[int, int] = {}
    for size, target in targets.items():
        target.client.get(paths[size])  # warm up caches and the template
    for _ in range(REQUESTS):
        for size, target in targets.items():
            path = paths[size]
            target.statements.clear()
            start = time.perf_counter()
            response = target.client.get(path)
            timings[size].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            counts[size] = len(target.statements)
            if path.startswith("/api/"):
                items[size] = len(response.json()["items"])
            else:
                items[size] = response.text.count('class="card proposal-card"')
    figures: dict[int, Figures] = {}
    for size, values in timings.items():
        values.sort()
        figures[size] = (
            statistics.median(values),
            values[int(len(values) * 0.95) - 1],
            counts[size],
            items[size],
        )
    return figures


def third_page(client: TestClient) -> str:
    first = client.get("/api/v1/communities/bench/proposals?limit=20").json()
    second = client.get(
        "/api/v1/communities/bench/proposals?limit=20&cursor=" + first["next_cursor"]
    ).json()
    return f"/c/bench/proposals?cursor={second['next_cursor']}"


PATHS = {
    "list page": "/c/bench/proposals",
    "list page, page 3": None,  # filled in with a real cursor
    "filtered (category + tag)": "/c/bench/proposals?category=credit&tag=fan-art",
    "search, one match": f"/c/bench/proposals?q={UNIQUE_WORD}",
    "search, 1 in 4 match": f"/c/bench/proposals?q={QUARTER_WORD}",
    "search, every proposal": "/c/bench/proposals?q=proposal",
    "sort: closing soon": "/c/bench/proposals?sort=closing",
    "language, few (3)": "/c/bench/proposals?language=ja",
    "language, most": "/c/bench/proposals?language=en",
    "state, few (3)": "/c/bench/proposals?state=withdrawn",
    "API list": "/api/v1/communities/bench/proposals?limit=20",
}


def run(kind: str) -> dict[int, dict[str, Figures]]:
    results: dict[int, dict[str, Figures]] = {size: {} for size in SIZES}
    with databases(kind) as urls, ExitStack() as stack:
        targets: dict[int, Target] = {}
        for size, url in urls.items():
            migrate.upgrade(url)
            seed(url, size)
            settings = Settings(
                environment="test",
                database_url=url,
                secret_key="bench-secret-" + "x" * 32,
                # What a page costs to make is measured, not the copy kept for visitors.
                page_cache_mb=0,
            )
            app = create_app(settings)
            stack.callback(app.state.engine.dispose)
            statements: list[int] = []
            event.listen(app.state.engine, "before_cursor_execute", _counter(statements))
            targets[size] = Target(stack.enter_context(TestClient(app)), statements)
        for name, path in PATHS.items():
            if path is None:
                # The third page lies at a different cursor in each database.
                paths = {size: third_page(target.client) for size, target in targets.items()}
            else:
                paths = dict.fromkeys(targets, path)
            per_size = measure(targets, paths)
            for size, figures in per_size.items():
                results[size][name] = figures
    return results


def report(kind: str, results: dict[int, dict[str, Figures]]) -> bool:
    small, large = results[SIZES[0]], results[SIZES[1]]
    print(
        f"\nProposal list on {kind}: {SIZES[0]:,} vs {SIZES[1]:,} proposals, "
        f"{REQUESTS} requests each\n"
    )
    header = (
        f"{'request':<26}{'items':>9}{'median ms':>18}{'p95 ms':>18}{'SQL statements':>17}"
        f"{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for name in small:
        (m1, p1, q1, n1), (m2, p2, q2, n2) = small[name], large[name]
        ratio = m2 / m1
        print(
            f"{name:<26}{n1:>4} {n2:<4}{m1:>9.1f} {m2:<8.1f}{p1:>9.1f} {p2:<8.1f}"
            f"{q1:>8} {q2:<8}{ratio:>6.2f}x"
        )
        # "No more per request": the same statements, and time within noise of the small case.
        if q1 != q2 or ratio > 1.5:
            ok = False
    print(
        "\nPASS: the cost per request does not grow with the number of proposals"
        if ok
        else "\nFAIL: a request got slower or made more queries with more data"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    return 0 if report(args.db, run(args.db)) else 1


if __name__ == "__main__":
    sys.exit(main())
