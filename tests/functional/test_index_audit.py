"""Index audit: every statement the main pages make can be answered through indexes.

On PostgreSQL with sequential scans priced out (`enable_seqscan = off`), the planner still
falls back to one only where no index can serve a filter or join; SQLite's plan says `SCAN
table` (without an index) for the same. Each statement the main pages send, for a visitor, a
member and a moderator, is explained that way; a full scan left in a plan names a table and
condition that need an index in a migration.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, event

from app.models import Base
from tests.conftest import log_in
from tests.functional.test_query_budgets import Forum, urls

#: The app's tables: a scan of a common table expression or subquery is no table scan.
TABLES = set(Base.metadata.tables)


@contextmanager
def recording(connection: Connection) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def sequential_scans(connection: Connection, statement: str, parameters: Any) -> list[str]:
    """The full table scans in the plan of `statement`."""
    if connection.dialect.name == "sqlite":
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        pattern = r"^SCAN (\w+)$"
        lines = [row[-1] for row in plan]
    else:
        plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        pattern = r"Seq Scan on (\w+)"
        lines = list(plan.scalars())
    return [
        line.strip()
        for line in lines
        if (found := re.search(pattern, line.strip())) and found.group(1) in TABLES
    ]


def price_out_sequential_scans(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")


@pytest.fixture
def forum(db) -> Forum:
    return Forum(db)


@pytest.mark.parametrize("viewer", ["visitor", "member", "moderator"])
def test_the_main_pages_filter_and_join_through_indexes(client, connection, forum, viewer):
    if viewer != "visitor":
        log_in(client, (forum.moderator if viewer == "moderator" else forum.members[0]).username)
    forum.grow(2)
    price_out_sequential_scans(connection)
    found: dict[str, set[str]] = {}
    explained = 0
    for url in urls(forum):
        if url.endswith("/notifications") and viewer == "visitor":
            continue
        if url.endswith("/ratification") and viewer != "moderator":
            continue
        with recording(connection) as statements:
            assert client.get(url).status_code == 200, url
        explained += len(statements)
        for statement, parameters in statements:
            for scan in sequential_scans(connection, statement, parameters):
                found.setdefault(scan, set()).add(url)
    assert explained > 100
    assert found == {}, "\n".join(f"{scan}  <- {sorted(pages)}" for scan, pages in found.items())


def test_the_audit_sees_a_filter_no_index_serves(connection, forum):
    """The check itself: a search on comment bodies (no index) shows up, one by id does not."""
    price_out_sequential_scans(connection)
    body: Any
    id_: Any
    if connection.dialect.name == "sqlite":
        by_body, by_id = (
            "SELECT id FROM comments WHERE body = ?",
            "SELECT body FROM comments WHERE id = ?",
        )
        body, id_ = ("x",), (1,)
    else:
        by_body = "SELECT id FROM comments WHERE body = %(body)s"
        by_id = "SELECT body FROM comments WHERE id = %(id)s"
        body, id_ = {"body": "x"}, {"id": 1}
    assert sequential_scans(connection, by_body, body) != []
    assert sequential_scans(connection, by_id, id_) == []
