"""Notifications: written in the transaction of the event they tell of, read in the app,
mailed by the worker according to each member's preference."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from app import events
from app.accounts.models import User
from app.communities.models import Community
from app.notifications.models import Kind, Notification

TEXT_MAX = 300


def user_channel(user_id: int) -> str:
    """The live channel of one member's notifications (their unread count)."""
    return f"user:{user_id}"


def notify(
    db: Session,
    *,
    recipients: Iterable[User | int],
    kind: Kind,
    text: str,
    url: str,
    now: datetime,
    community: Community | None = None,
    actor: User | None = None,
) -> list[Notification]:
    """Tell each recipient (never the actor themself, never anyone twice) of an event.

    Called by the services where events happen, inside their transaction: a notification
    exists exactly when its event was stored.
    """
    seen: set[int] = set()
    made: list[Notification] = []
    for recipient in recipients:
        user_id = recipient if isinstance(recipient, int) else recipient.id
        if user_id in seen or (actor is not None and user_id == actor.id):
            continue
        seen.add(user_id)
        made.append(
            Notification(
                user_id=user_id,
                kind=kind,
                community_id=community.id if community else None,
                actor_id=actor.id if actor else None,
                text=text[:TEXT_MAX],
                url=url[:300],
                created_at=now,
            )
        )
        events.notify(db, user_channel(user_id))
    db.add_all(made)
    db.flush()
    return made
