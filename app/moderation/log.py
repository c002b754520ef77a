"""The public moderation log as anyone reads it: each entry with what it concerns, and the
member it concerns only where that is public anyway.

Entries are written by `app.communities.moderation_log.record`, from every domain. Who flagged
something, a warning's text and an appeal's message are never in the log; a warned member,
the author of a hidden comment or work, and an objector are not named here either (the thread
shows a hidden comment's author as "[hidden]", and an anonymous poll names no objector).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import moderation_log
from app.communities.models import Community, LogAction, ModerationLogEntry
from app.proposals import permissions as proposal_permissions
from app.proposals.models import Proposal
from app.works.models import Work

#: Actions whose member everyone may see: roles are public, and so is who may not post.
PUBLIC_MEMBER = frozenset(
    {LogAction.role_changed, LogAction.member_suspended, LogAction.suspension_lifted}
)
APPEALS = frozenset({LogAction.appeal_granted, LogAction.appeal_denied})


@dataclass(frozen=True)
class LogItem:
    entry: ModerationLogEntry
    #: The member the action concerns, where the log may name them.
    member: User | None
    #: The proposal concerned (of a comment too), unless only its authors may see it.
    proposal: Proposal | None
    work: Work | None

    @property
    def action(self) -> LogAction:
        return self.entry.action

    @property
    def actor(self) -> User | None:
        return self.entry.actor

    @property
    def created_at(self) -> datetime:
        return self.entry.created_at

    @property
    def comment_id(self) -> int | None:
        return self.entry.comment_id


@dataclass(frozen=True)
class LogView:
    items: list[LogItem]
    next_cursor: str | None


def member_is_public(entry: ModerationLogEntry) -> bool:
    """Whether the public log may name the member an entry concerns."""
    if entry.action in PUBLIC_MEMBER:
        return True
    # An appeal against a suspension names the member, as the suspension did.
    return entry.action in APPEALS and entry.comment_id is None and entry.work_id is None


def items(db: Session, entries: list[ModerationLogEntry], *, public: bool) -> list[LogItem]:
    """The entries with what they concern loaded; `public` leaves out what the public log may
    not show (members not to be named, proposals only their authors see)."""
    proposal_ids = {e.proposal_id for e in entries if e.proposal_id is not None}
    work_ids = {e.work_id for e in entries if e.work_id is not None}
    proposals = (
        {p.id: p for p in db.scalars(select(Proposal).where(Proposal.id.in_(proposal_ids)))}
        if proposal_ids
        else {}
    )
    works = (
        {w.id: w for w in db.scalars(select(Work).where(Work.id.in_(work_ids)))} if work_ids else {}
    )
    found = []
    for entry in entries:
        proposal = proposals.get(entry.proposal_id) if entry.proposal_id else None
        if public and proposal is not None and proposal_permissions.is_private(proposal):
            proposal = None
        found.append(
            LogItem(
                entry=entry,
                member=entry.member if not public or member_is_public(entry) else None,
                proposal=proposal,
                work=works.get(entry.work_id) if entry.work_id else None,
            )
        )
    return found


def public_page(
    db: Session,
    community: Community,
    *,
    limit: int = 50,
    cursor: str | None = None,
    action: str = "",
) -> LogView:
    """Anyone: one page of the community's log, newest first, optionally of one action."""
    page = moderation_log.page(
        db, community, limit=limit, cursor=cursor, action=moderation_log.parse_action(action)
    )
    return LogView(items(db, page.entries, public=True), page.next_cursor)
