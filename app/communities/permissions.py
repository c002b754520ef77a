"""Who may do what in a community; the services call these, so HTML and API always agree."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import i18n, ratelimit
from app.accounts.models import User
from app.communities.models import Community, Membership, MemberWarning, Role, Suspension
from app.config import Settings
from app.db import utcnow
from app.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from app.i18n import gettext as _
from app.i18n import ngettext


def require_user(actor: User | None) -> User:
    if actor is None:
        raise NotAuthenticated(_("Please sign in first."))
    return actor


def is_moderator(actor: User | None, membership: Membership | None) -> bool:
    if actor is None:
        return False
    return actor.is_admin or (membership is not None and membership.role == Role.moderator)


def ensure_can_create_community(actor: User | None) -> User:
    user = require_user(actor)
    if not user.is_admin:
        raise PermissionDenied(_("Only site administrators create communities."))
    return user


def ensure_can_moderate(actor: User | None, membership: Membership | None) -> User:
    user = require_user(actor)
    if not is_moderator(user, membership):
        raise PermissionDenied(_("Only this community's moderators may do that."))
    return user


# --- Standing: suspensions, unread warnings, new accounts -------------------------------


class Suspended(PermissionDenied):
    """The member is suspended in this community: they may read, not post, vote or flag."""

    code = "suspended"


class WarningUnread(PermissionDenied):
    """A moderator's warning waits for the member to acknowledge it before they post again."""

    code = "warning_unacknowledged"


def suspension_message(ends_at: datetime) -> str:
    """What a suspended member is told wherever they try to write."""
    when = ends_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _(
        "You are suspended in this community until %(when)s. You can read, but not post, vote "
        "or flag here until then; you may appeal the suspension once from your moderation "
        "record.",
        when=when,
    )


def active_suspension(
    db: Session, community: Community | int, user: User | int, now: datetime
) -> Suspension | None:
    """The member's suspension in force in the community (the longest, if several), or None."""
    community_id = community if isinstance(community, int) else community.id
    user_id = user if isinstance(user, int) else user.id
    return db.scalar(
        select(Suspension)
        .where(
            Suspension.community_id == community_id,
            Suspension.user_id == user_id,
            Suspension.lifted_at.is_(None),
            Suspension.ends_at > now,
        )
        .order_by(Suspension.ends_at.desc())
        .limit(1)
    )


def ensure_can_participate(
    db: Session, *, actor: User, community: Community | int, now: datetime | None = None
) -> None:
    """Refuse a member who is suspended in the community, or who has an unread warning there.

    Every service that lets members post, edit, vote, flag or join calls this (after its own
    checks of who may do what), so that every page and every API answer refuses alike.
    """
    now = now or utcnow()
    suspension = active_suspension(db, community, actor, now)
    if suspension is not None:
        raise Suspended(suspension_message(suspension.ends_at))
    community_id = community if isinstance(community, int) else community.id
    unread = db.scalar(
        select(MemberWarning.id)
        .where(
            MemberWarning.community_id == community_id,
            MemberWarning.user_id == actor.id,
            MemberWarning.acknowledged_at.is_(None),
        )
        .limit(1)
    )
    if unread is not None:
        raise WarningUnread(
            _(
                "A moderator of this community has sent you a warning. Read it and acknowledge "
                "it (it is shown at the top of every page) before you post here again."
            )
        )


def _settings(db: Session) -> Settings | None:
    """The app's settings, which the web layer hands to each request's session (keyed by
    the class). Scripts (the demo, the command line) run without, so without new-account
    limits."""
    value = db.info.get(Settings)
    return value if isinstance(value, Settings) else None


def new_account_until(db: Session, user: User) -> datetime | None:
    """When `user`'s first-day limits end, or None when none apply (any more, or here)."""
    settings = _settings(db)
    if settings is None or settings.new_account_hours <= 0:
        return None
    return user.created_at + timedelta(hours=settings.new_account_hours)


# Anything a reader would take for a link: Markdown links and autolinks, bare addresses.
LINK_RE = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\bmailto:|\]\s*\()")


def has_link(text: str) -> bool:
    """Whether `text` holds anything a reader would follow as a link."""
    return bool(LINK_RE.search(text))


def _first_day(hours: int) -> str:
    return ngettext("during their first %(num)d hour", "during their first %(num)d hours", hours)


def ensure_no_new_account_links(db: Session, *, user: User, now: datetime, text: str) -> None:
    """New accounts post no links in comments (unless the settings allow them): link spam is
    what throwaway accounts are made for."""
    until = new_account_until(db, user)
    settings = _settings(db)
    if until is None or now >= until or settings is None or settings.new_account_links:
        return
    if has_link(text):
        problem = _(
            "New accounts cannot post links %(first_day)s. Remove the link, or post it after "
            "%(when)s.",
            first_day=_first_day(settings.new_account_hours),
            when=i18n.date_time(until),
        )
        raise ValidationFailed(_("Please correct the marked fields."), fields={"body": problem})


def ensure_new_account_may_post(
    db: Session,
    *,
    user: User,
    what: Literal["comment", "proposal"],
    now: datetime,
    text: str | None = None,
) -> None:
    """Hold new accounts to their first-day limits, as Discourse's first trust level does.

    Comments are counted from the discussion's own rate-limit hits (it records one per
    comment); proposals are counted here. `text` (a comment's) may carry no link.
    """
    until = new_account_until(db, user)
    settings = _settings(db)
    if until is None or now >= until or settings is None:
        return
    if text is not None:
        ensure_no_new_account_links(db, user=user, now=now, text=text)
    limit = (
        settings.new_account_comments_per_hour
        if what == "comment"
        else settings.new_account_proposals_per_hour
    )
    first = _first_day(settings.new_account_hours)
    ratelimit.check(
        db,
        bucket=what,
        key=str(user.id),
        limit=limit,
        window=timedelta(hours=1),
        now=now,
        # Already in the reader's language (ratelimit's own gettext leaves it as it is).
        what=_(
            "comments from a new account (at most %(limit)s an hour %(first)s)",
            limit=limit,
            first=first,
        )
        if what == "comment"
        else _(
            "proposals from a new account (at most %(limit)s an hour %(first)s)",
            limit=limit,
            first=first,
        ),
    )
    if what == "proposal":
        ratelimit.hit(db, bucket="proposal", key=str(user.id), now=now)
