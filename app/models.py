"""Imports every domain's tables, so that the metadata Alembic compares against is complete."""

from app.accounts.models import AccessToken, EmailToken, Identity, User, UserSession
from app.changes import ChangeCounter
from app.communities.models import (
    Category,
    Community,
    Membership,
    MemberWarning,
    ModerationLogEntry,
    RoleChange,
    Suspension,
)
from app.db import Base
from app.discussion.models import Comment, CommentAnchor, CommentVersion, ThreadStats
from app.guidelines.models import (
    Clause,
    ClauseCredit,
    ClauseTag,
    ClauseVersion,
    DocumentVersion,
    Ratification,
    Section,
)
from app.idempotency import IdempotencyKey
from app.mail.models import OutboxMail
from app.moderation.models import Appeal, Flag
from app.notifications.models import Notification, Preference
from app.polls.models import Ballot, ObjectionRuling, PolicyChange, Poll, PollRound, Voter
from app.proposals.models import (
    Exhibit,
    Follow,
    Proposal,
    ProposalAuthor,
    ProposalEvent,
    ProposalTag,
    Revision,
)
from app.ratelimit import RateLimitHit
from app.works.models import Work, WorkParent

__all__ = [
    "AccessToken",
    "Appeal",
    "Ballot",
    "Base",
    "Category",
    "ChangeCounter",
    "Clause",
    "ClauseCredit",
    "ClauseTag",
    "ClauseVersion",
    "Comment",
    "CommentAnchor",
    "CommentVersion",
    "Community",
    "DocumentVersion",
    "EmailToken",
    "Exhibit",
    "Flag",
    "Follow",
    "IdempotencyKey",
    "Identity",
    "MemberWarning",
    "Membership",
    "ModerationLogEntry",
    "Notification",
    "ObjectionRuling",
    "OutboxMail",
    "PolicyChange",
    "Poll",
    "PollRound",
    "Preference",
    "Proposal",
    "ProposalAuthor",
    "ProposalEvent",
    "ProposalTag",
    "RateLimitHit",
    "Ratification",
    "Revision",
    "RoleChange",
    "Section",
    "Suspension",
    "ThreadStats",
    "User",
    "UserSession",
    "Voter",
    "Work",
    "WorkParent",
]
