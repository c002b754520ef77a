"""A member's data export: everything the site stores that they wrote or that is about them.

One JSON document, a section per kind of record, each record with every stored column except
secrets (password and token hashes) and image bytes (the images are on the site). Their
ballots are in it, those of anonymous polls too: the secrecy of a ballot protects the voter
from others, not from themselves.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, inspect, or_, select
from sqlalchemy.orm import Session

from app.accounts.models import AccessToken, Identity, User, UserSession
from app.communities.models import (
    Community,
    Membership,
    MemberWarning,
    ModerationLogEntry,
    RoleChange,
    Suspension,
)
from app.db import Base
from app.discussion.models import Comment, CommentAnchor, CommentVersion
from app.guidelines.models import ClauseCredit, Ratification
from app.moderation.models import Appeal, Flag
from app.notifications.models import Notification, Preference
from app.polls.models import Ballot, ObjectionRuling, PolicyChange, Poll, Voter
from app.proposals.models import (
    Exhibit,
    Follow,
    Proposal,
    ProposalAuthor,
    ProposalEvent,
    Revision,
)
from app.works.models import Work, WorkImage

FORMAT = "normsforum-member-export"
VERSION = 1
#: Columns never exported: secrets that prove identity, and bulky bytes.
LEFT_OUT = frozenset({"password_hash", "token_hash", "data", "thumb_data"})


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def record(row: Base) -> dict[str, Any]:
    """Every stored column of a row, as JSON values (secrets and bytes left out)."""
    mapper = inspect(type(row))
    return {
        attribute.key: _value(getattr(row, attribute.key))
        for attribute in mapper.column_attrs
        if attribute.key not in LEFT_OUT
    }


def _rows(db: Session, query: Select[Any]) -> list[dict[str, Any]]:
    return [record(row) for row in db.scalars(query)]


def _ordered(model: type[Base], *conditions: Any) -> Select[Any]:
    primary = inspect(model).primary_key
    return select(model).where(*conditions).order_by(*primary)


def sections(db: Session, user: User) -> dict[str, list[dict[str, Any]]]:
    """The export's sections: what each table holds that they wrote or that is theirs."""
    uid = user.id
    my_comments = select(Comment.id).where(Comment.author_id == uid)
    my_proposals = select(ProposalAuthor.proposal_id).where(ProposalAuthor.user_id == uid)
    queries: dict[str, Select[Any]] = {
        "identities": _ordered(Identity, Identity.user_id == uid),
        "sessions": _ordered(UserSession, UserSession.user_id == uid),
        "access_tokens": _ordered(AccessToken, AccessToken.user_id == uid),
        "memberships": _ordered(Membership, Membership.user_id == uid),
        "role_changes": _ordered(
            RoleChange, or_(RoleChange.user_id == uid, RoleChange.changed_by_id == uid)
        ),
        "proposals": _ordered(
            Proposal, or_(Proposal.id.in_(my_proposals), Proposal.author_id == uid)
        ),
        "proposal_authorships": _ordered(ProposalAuthor, ProposalAuthor.user_id == uid),
        "revisions": _ordered(Revision, Revision.author_id == uid),
        "proposal_events": _ordered(ProposalEvent, ProposalEvent.actor_id == uid),
        "follows": _ordered(Follow, Follow.user_id == uid),
        "comments": _ordered(Comment, Comment.author_id == uid),
        "comment_versions": _ordered(CommentVersion, CommentVersion.comment_id.in_(my_comments)),
        "comment_anchors": _ordered(CommentAnchor, CommentAnchor.comment_id.in_(my_comments)),
        "ballots": _ordered(Ballot, Ballot.voter_id == uid),
        "poll_rolls": _ordered(Voter, Voter.user_id == uid),
        "polls_opened": _ordered(Poll, or_(Poll.opened_by_id == uid, Poll.closed_by_id == uid)),
        "objection_rulings": _ordered(ObjectionRuling, ObjectionRuling.moderator_id == uid),
        "poll_policy_changes": _ordered(PolicyChange, PolicyChange.changed_by_id == uid),
        "works": _ordered(Work, or_(Work.created_by_id == uid, Work.creator_user_id == uid)),
        "work_images": _ordered(WorkImage, WorkImage.uploaded_by_id == uid),
        "exhibits": _ordered(Exhibit, Exhibit.added_by_id == uid),
        "flags": _ordered(Flag, Flag.flagger_id == uid),
        "appeals": _ordered(Appeal, Appeal.appellant_id == uid),
        "warnings_received": _ordered(MemberWarning, MemberWarning.user_id == uid),
        "suspensions": _ordered(Suspension, Suspension.user_id == uid),
        "moderation_actions": _ordered(ModerationLogEntry, ModerationLogEntry.actor_id == uid),
        "ratifications": _ordered(Ratification, Ratification.actor_id == uid),
        "guideline_credits": _ordered(ClauseCredit, ClauseCredit.user_id == uid),
        "notifications": _ordered(Notification, Notification.user_id == uid),
        "notification_preferences": _ordered(Preference, Preference.user_id == uid),
    }
    return {name: _rows(db, query) for name, query in queries.items()}


def _communities(db: Session, ids: Iterable[int]) -> dict[str, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {
        str(c.id): c.slug for c in db.scalars(select(Community).where(Community.id.in_(wanted)))
    }


def export_member(db: Session, user: User, *, now: datetime) -> dict[str, Any]:
    """The whole export of one member, ready for `json.dumps`."""
    account = record(user)
    account["has_password"] = user.has_password
    found = sections(db, user)
    mentioned: list[int] = [
        row["community_id"]
        for rows in found.values()
        for row in rows
        if isinstance(row.get("community_id"), int)
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now.isoformat(),
        "account": account,
        # Ids in the records point at communities; their names in the URLs are these.
        "communities": _communities(db, mentioned),
        **found,
    }


def attachment(user: User, now: datetime) -> str:
    """The Content-Disposition of the export's download."""
    return f'attachment; filename="normsforum-{user.username}-{now:%Y-%m-%d}.json"'
