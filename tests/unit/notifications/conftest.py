"""The polls' test community (a moderator, an author, fans...) with helpers to read what each
member was told."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.notifications import service
from app.notifications.models import Delivery, Kind, Notification, Preference
from tests.unit.polls import conftest as polls_fixtures

town = polls_fixtures.town
proposal = polls_fixtures.proposal
open_poll = polls_fixtures.open_poll
VERIFIED = datetime(2026, 11, 1, tzinfo=UTC)


def told(db: Session, kind: Kind | None = None) -> dict[int, list[Notification]]:
    """Every notification (of `kind`), by the id of the member told."""
    query = select(Notification).order_by(Notification.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    found: dict[int, list[Notification]] = {}
    for note in db.scalars(query):
        found.setdefault(note.user_id, []).append(note)
    return found


def told_ids(db: Session, kind: Kind) -> set[int]:
    return set(told(db, kind))


def prefer(
    db: Session,
    user: User,
    delivery: Delivery,
    *,
    muted: tuple[Kind, ...] = (),
    verified: bool = True,
) -> Preference:
    """Set a member's preference, and whether they proved their address."""
    user.email_verified_at = VERIFIED if verified else None
    return service.save_preference(
        db, actor=user, delivery=delivery.value, muted_kinds=[k.value for k in muted]
    )


@pytest.fixture
def clean(db: Session) -> None:
    """Forget what building the community told anyone, so a test sees its own event alone."""
    for note in db.scalars(select(Notification)):
        db.delete(note)
    db.flush()
