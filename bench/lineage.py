"""Lineage walks in a community of 10,000 works: time, SQL statements and rows per call.

Run with `make bench-lineage` (or `python -m bench.lineage --db sqlite|postgresql`).

The community's lineage graph mixes the shapes fan works take:

- a hub: an original with 1,500 direct derivatives (covers, remixes), some derived further;
- 16 families, layered DAGs of 50 generations with 8 works each, every work deriving from one
  to three works of the generation before (and one in five also from an older generation, so
  a work is reached by paths of several lengths); four families descend from the hub;
- 10 chains of 50 works, one parent each;
- and standalone works with no lineage.

It measures the lineage functions of `app.works.service` on three works: the last generation
of a family below the hub (a deep leaf: about 50 levels up to the hub), the hub itself (a root
with thousands of descendants), and a work of the 25th generation of the same family.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import migrate
from app.communities.models import Community
from app.db import create_db_engine, utcnow
from app.works import service
from app.works.models import Medium, Work, WorkParent
from app.works.routes import TREE_LIMIT

WORKS = 10_000
HUB_CHILDREN = 1_500
HUB_GRANDCHILDREN = 500
FAMILIES = 16
FAMILIES_BELOW_HUB = 4
GENERATIONS = 50
PER_GENERATION = 8
CHAINS = 10
CHAIN_LENGTH = 50
CALLS = 40
TARGET_MS = 50.0


@dataclass
class Graph:
    """Works (by id, from 1) and edges (child, parent), with the works to measure."""

    count: int = 0
    edges: set[tuple[int, int]] = field(default_factory=set)
    picks: dict[str, int] = field(default_factory=dict)

    def work(self, *parents: int) -> int:
        self.count += 1
        self.edges.update((self.count, p) for p in parents)
        return self.count


def build(seed: int = 11) -> Graph:
    rng = random.Random(seed)
    graph = Graph()
    hub = graph.work()
    children = [graph.work(hub) for _ in range(HUB_CHILDREN)]
    for _ in range(HUB_GRANDCHILDREN):
        graph.work(*rng.sample(children, rng.choice((1, 1, 2))))
    for family in range(FAMILIES):
        root = graph.work(hub) if family < FAMILIES_BELOW_HUB else graph.work()
        layers = [[root]]
        for generation in range(1, GENERATIONS):
            layer = []
            for _ in range(PER_GENERATION):
                parents = set(rng.sample(layers[-1], min(len(layers[-1]), rng.randint(1, 3))))
                if generation > 2 and rng.random() < 0.2:
                    parents.add(rng.choice(rng.choice(layers[:-1])))
                layer.append(graph.work(*parents))
            layers.append(layer)
        if family == 0:
            graph.picks["deep leaf"] = layers[-1][0]
            graph.picks["middle"] = layers[GENERATIONS // 2][0]
    for _ in range(CHAINS):
        last = graph.work()
        for _ in range(CHAIN_LENGTH - 1):
            last = graph.work(last)
    while graph.count < WORKS:
        graph.work()
    graph.picks["hub root"] = hub
    return graph


def seed(url: str) -> Graph:
    graph = build()
    engine = create_db_engine(url)
    now = utcnow()
    media = list(Medium)
    rng = random.Random(5)
    with Session(engine) as db:
        community = Community(slug="bench", name="Bench", description="", created_at=now)
        db.add(community)
        db.flush()
        works: list[dict[str, Any]] = [
            {
                "id": n,
                "community_id": community.id,
                "title": f"Work {n} {rng.choice(['cover', 'remix', 'fan art', 'edit', 'model'])}",
                "creator_name": f"creator{n % 700}",
                "url": f"https://example.org/works/{n}",
                "medium": media[n % len(media)],
                "license": service.LICENSES[n % len(service.LICENSES)],
                "content_notes": "",
                "description": "",
                "created_at": now - timedelta(minutes=WORKS - n),
                "hidden_reason": "",
            }
            for n in range(1, graph.count + 1)
        ]
        for first in range(0, len(works), 2000):
            db.execute(insert(Work), works[first : first + 2000])
        edges = [{"child_id": c, "parent_id": p} for c, p in sorted(graph.edges)]
        for first in range(0, len(edges), 5000):
            db.execute(insert(WorkParent), edges[first : first + 5000])
        db.commit()
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return graph


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "postgresql":
        from tests.support import postgres

        with postgres.cluster() as server:
            yield postgres.create_database(server, "bench_lineage")
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'lineage.sqlite'}"


def _tree_size(nodes: list[service.LineageNode]) -> int:
    return sum(1 + _tree_size(n.children) for n in nodes)


def _page_tree(db: Session, work: Work, *, up: bool) -> int:
    """The tree as the work page builds it: the nearest works, a count of the rest."""
    return _tree_size(service.lineage_tree(db, work, up=up, limit=TREE_LIMIT).nodes)


#: What each row calls, returning the rows it produced (works, tree nodes or credits).
FUNCTIONS: dict[str, Callable[[Session, Work], int]] = {
    "ancestors": lambda db, w: len(service.ancestors(db, w)),
    "descendants": lambda db, w: len(service.descendants(db, w)),
    "lineage_tree up": lambda db, w: _tree_size(service.lineage_tree(db, w, up=True).nodes),
    "lineage_tree down": lambda db, w: _tree_size(service.lineage_tree(db, w, up=False).nodes),
    "page tree up": lambda db, w: _page_tree(db, w, up=True),
    "page tree down": lambda db, w: _page_tree(db, w, up=False),
    "attribution": lambda db, w: service.attribution(db, w).count('" by '),
}

#: Median ms, p95 ms, SQL statements, rows.
Figures = tuple[float, float, int, int]


def measure(engine: Engine, graph: Graph) -> dict[tuple[str, str], Figures]:
    statements: list[int] = []

    def count(*args: object) -> None:
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    rows = [(pick, name) for pick in graph.picks for name in FUNCTIONS]
    timings: dict[tuple[str, str], list[float]] = {row: [] for row in rows}
    counts: dict[tuple[str, str], tuple[int, int]] = {}

    def once(pick: str, name: str) -> float:
        with Session(engine) as db:
            work = db.get(Work, graph.picks[pick])
            assert work is not None
            statements.clear()
            started = time.perf_counter()
            found = FUNCTIONS[name](db, work)
            elapsed = (time.perf_counter() - started) * 1000
            counts[pick, name] = (len(statements), found)
        return elapsed

    for row in rows:
        once(*row)  # warm up
    # Round-robin over all rows, so background load falls on every row alike.
    for _ in range(CALLS):
        for row in rows:
            timings[row].append(once(*row))
    figures: dict[tuple[str, str], Figures] = {}
    for row, values in timings.items():
        values.sort()
        figures[row] = (
            statistics.median(values),
            values[int(len(values) * 0.95) - 1],
            *counts[row],
        )
    return figures


def run(kind: str) -> tuple[Graph, dict[tuple[str, str], Figures]]:
    with database(kind) as url:
        migrate.upgrade(url)
        graph = seed(url)
        engine = create_db_engine(url)
        try:
            return graph, measure(engine, graph)
        finally:
            engine.dispose()


def report(kind: str, graph: Graph, figures: dict[tuple[str, str], Figures]) -> bool:
    print(
        f"\nLineage on {kind}: {graph.count:,} works, {len(graph.edges):,} edges, "
        f"{CALLS} calls each\n"
    )
    header = f"{'work':<11}{'call':<19}{'rows':>7}{'median ms':>11}{'p95 ms':>9}{'SQL':>5}"
    print(header)
    print("-" * len(header))
    ok = True
    for (pick, name), (median, p95, queries, found) in figures.items():
        print(f"{pick:<11}{name:<19}{found:>7,}{median:>11.2f}{p95:>9.2f}{queries:>5}")
        ok = ok and median < TARGET_MS
    print(
        f"\nPASS: every call under {TARGET_MS:.0f} ms"
        if ok
        else f"\nFAIL: a call took {TARGET_MS:.0f} ms or more"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    graph, figures = run(args.db)
    return 0 if report(args.db, graph, figures) else 1


if __name__ == "__main__":
    sys.exit(main())
