"""Reads that one request asks several times, answered once per database session.

A proposal page asks who the viewer is in the community, and who wrote the proposal, in
four places each (the page, its poll panel, its example works, its thread); on PostgreSQL
each question is a round trip. Remembering the answer in the session keeps every caller
simple and asks once.

Only a request's session remembers (`for_one_request`): it lives as long as the request, so
it does not miss what other sessions commit meanwhile for longer than that. A session
that outlives a request (a worker's, a test's) asks every time. Even then, an answer is only
remembered while the session has written nothing since: any flush, any ORM insert, update or
delete statement, row lock, commit or rollback forgets them all; and while changes wait to
be flushed nothing is remembered, since the query would flush them first.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

T = TypeVar("T")
_KEY = "remembered"
_ON = "remembers"


def for_one_request(db: Session) -> Session:
    """Let `db`, a session opened for one request, remember answers."""
    db.info[_ON] = True
    return db


def remembered(db: Session, key: Hashable, load: Callable[[], T]) -> T:
    """`load()`, or what it answered the last time `key` was asked in this session."""
    if not db.info.get(_ON) or db.new or db.dirty or db.deleted:
        return load()
    answers: dict[Hashable, Any] = db.info.setdefault(_KEY, {})
    if key not in answers:
        answers[key] = load()
    value: T = answers[key]
    return value


def forget(session: Session, *_: object) -> None:
    session.info.pop(_KEY, None)


def _on_execute(state: ORMExecuteState) -> None:
    # A row lock (`SELECT ... FOR UPDATE`, `refresh(with_for_update=True)`) waits for other
    # transactions and then reads what they left: what was answered before it may be stale,
    # and a check made after the lock must ask again.
    locking = getattr(state.statement, "_for_update_arg", None) is not None
    if not state.is_select or locking:
        forget(state.session)


event.listen(Session, "after_flush", forget)
event.listen(Session, "after_commit", forget)
event.listen(Session, "after_soft_rollback", forget)
event.listen(Session, "do_orm_execute", _on_execute)
