"""The public moderation log of a community: every moderator action, who took it, when, why.

It lives with the communities because every domain writes it (discussion and works when a
moderator hides, proposals on locks, polls on rulings, guidelines on ratifications, the
moderation domain for warnings, suspensions and appeals), and all of them sit above this one.
The log is append-only in the database itself (see the 0012 migration's triggers); this module
only ever inserts and reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import paging
from app.accounts.models import User
from app.communities.models import Community, LogAction, ModerationLogEntry
from app.errors import ValidationFailed
from app.i18n import gettext as _

PAGE_MAX = 100
#: Ids compared in SQL must fit a 64-bit integer.
_ID_LIMIT = 2**63 - 1


def record(
    db: Session,
    *,
    community: Community | int,
    action: LogAction,
    actor: User | None,
    now: datetime,
    reason: str = "",
    detail: str = "",
    member: User | int | None = None,
    proposal_id: int | None = None,
    comment_id: int | None = None,
    work_id: int | None = None,
) -> ModerationLogEntry:
    """Append one moderator action to the community's public log, in the caller's transaction.

    Pass only what may be public: the reason the moderator gave for everyone to read, never
    who flagged, a warning's text or an appeal's message.
    """
    entry = ModerationLogEntry(
        community_id=community if isinstance(community, int) else community.id,
        action=action,
        actor_id=actor.id if actor is not None else None,
        member_id=member if isinstance(member, int) or member is None else member.id,
        proposal_id=proposal_id,
        comment_id=comment_id,
        work_id=work_id,
        reason=reason[:500],
        detail=detail[:200],
        created_at=now,
    )
    db.add(entry)
    db.flush()
    return entry


@dataclass(frozen=True)
class LogPage:
    entries: list[ModerationLogEntry]
    next_cursor: str | None


def parse_action(raw: str) -> LogAction | None:
    """An action filter from a query string: None for all, a field error for an unknown one."""
    if not raw:
        return None
    if raw not in LogAction.__members__:
        raise ValidationFailed(
            _("The filter is not valid."),
            fields={
                "action": _(
                    "Choose one of: %(choices)s.", choices=", ".join(a.value for a in LogAction)
                )
            },
        )
    return LogAction(raw)


def page(
    db: Session,
    community: Community,
    *,
    limit: int = 50,
    cursor: str | None = None,
    action: LogAction | None = None,
    member_id: int | None = None,
) -> LogPage:
    """One page of the log, newest first, by key (the id of the last entry seen)."""
    limit = max(1, min(limit, PAGE_MAX))
    query = select(ModerationLogEntry).where(ModerationLogEntry.community_id == community.id)
    if action is not None:
        query = query.where(ModerationLogEntry.action == action)
    if member_id is not None:
        query = query.where(ModerationLogEntry.member_id == member_id)
    after = paging.decode(cursor, size=1)
    if after is not None:
        value = after[0]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= _ID_LIMIT:
            raise ValidationFailed(
                _("The cursor is not valid."),
                fields={"cursor": _("Use the next_cursor of a previous page.")},
            )
        query = query.where(ModerationLogEntry.id < value)
    entries = list(db.scalars(query.order_by(ModerationLogEntry.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(entries) > limit:
        entries = entries[:limit]
        next_cursor = paging.encode(entries[-1].id)
    return LogPage(entries, next_cursor)
