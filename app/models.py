"""Imports every domain's tables, so that the metadata Alembic compares against is complete."""

from app.accounts.models import AccessToken, User, UserSession
from app.communities.models import Category, Community, Membership, RoleChange
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
from app.mail.models import OutboxMail
from app.moderation.models import Flag
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
    "Ballot",
    "Base",
    "Category",
    "Clause",
    "ClauseCredit",
    "ClauseTag",
    "ClauseVersion",
    "Comment",
    "CommentAnchor",
    "CommentVersion",
    "Community",
    "DocumentVersion",
    "Exhibit",
    "Flag",
    "Follow",
    "Membership",
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
    "ThreadStats",
    "User",
    "UserSession",
    "Voter",
    "Work",
    "WorkParent",
]
