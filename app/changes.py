"""The change counter: one number that grows with every committed change visitors could see.

Pages rendered for visitors are kept in memory (`app.web.pagecache`) together with the counter
they were rendered at; a kept page is served while the counter has not moved. The counter is
a row in the database, not a number in a process, so a change committed by any process or
host reaches every cache.

It moves in the same transaction as the change, just before the commit: a reader sees the
new count exactly when it can see the new data, and the row is locked only for as long as
the commit takes. Sessions count their own changes (flushed objects and ORM-executed
`insert`, `update` and `delete`), so no service has to remember to; changes to tables that no
page shows a visitor (sessions, notifications, rate limits...) do not move it.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import BigInteger, Integer, event, select, update
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    UOWTransaction,
    mapped_column,
)

from app.db import Base

ROW = 1
_KEY = "changes.pending"
_COUNTED = "changes.counted"
_generation = 0
_generation_lock = threading.Lock()

#: Tables about one account, or only for moderators and the worker: changing them changes
#: nothing on a page a visitor is served.
UNSEEN = frozenset(
    {
        "access_tokens",
        "change_counter",
        "email_tokens",
        "idempotency_keys",
        "mail_outbox",
        "notification_poll_reminders",
        "notification_preferences",
        "notifications",
        "rate_limit_hits",
        "user_identities",
        "user_sessions",
    }
)


class ChangeCounter(Base):
    """A single row (id 1) holding the count of committed changes."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


def current(db: Session) -> int | None:
    """The count as this transaction sees it; None where the row is missing (nothing may be
    kept then, as nothing would tell when it changed)."""
    return db.scalar(select(ChangeCounter.value).where(ChangeCounter.id == ROW))


def _seen(table: Any) -> bool:
    return getattr(table, "name", None) not in UNSEEN


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    if any(_seen(getattr(type(obj), "__table__", None)) for obj in _pending(session)):
        session.info[_KEY] = True


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and _seen(
        getattr(state.statement, "table", None)
    ):
        state.session.info[_KEY] = True


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint: the count waits for the real commit (and its lock for the commit only).
        return
    # Flush first: changes still pending mark the session as they go out.
    session.flush()
    count(session)


def count(session: Session) -> None:
    """Move the counter if `session` changed anything visitors see since it last counted."""
    if session.info.pop(_KEY, False):
        session.connection().execute(
            update(ChangeCounter)
            .where(ChangeCounter.id == ROW)
            .values(value=ChangeCounter.value + 1)
        )
        session.info[_COUNTED] = True
        # Twice on purpose: here, so a reader in this process asks the database from now
        # on; and after the commit, since a reader that asked between the two saw the old
        # value (the new one not yet committed) and must not keep it.
        _changed_here()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_COUNTED, False):
        _changed_here()


def local_generation() -> int:
    """A number that changes whenever this process counts or commits a change: a reader
    that remembered the counter for a moment knows to read it again at once."""
    return _generation


def _changed_here() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Only the outermost transaction forgets: a savepoint rolled back may follow changes
    # that still count, and counting too often costs a page render, never a stale page.
    if transaction.parent is None:
        session.info.pop(_KEY, None)
        session.info.pop(_COUNTED, None)


def _pending(session: Session) -> list[Any]:
    return [*session.new, *session.dirty, *session.deleted]
