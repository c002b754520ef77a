"""Counting the SQL statements a piece of work sends: query budgets, kept pages, reads
asked once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, event


@contextmanager
def counting(connection: Connection) -> Iterator[list[str]]:
    """The statements sent on `connection` inside the block, in order."""
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)
