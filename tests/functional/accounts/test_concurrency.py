"""A sign-up or a new access token submitted several times at once makes one, and the others
are told the name is taken (found by tests/security/test_races.py on PostgreSQL, where they
failed with a 500 on the unique name)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import service
from app.accounts.models import AccessToken, User
from app.db import utcnow
from app.errors import ValidationFailed
from tests.conftest import make_settings
from tests.factories import make_user
from tests.support.races import at_once, committed, reading, refused

TIMES = 8


@dataclass(frozen=True)
class Seeded:
    url: str
    member: int


@pytest.fixture(scope="module")
def seeded(make_database_url) -> Seeded:
    url = make_database_url("account-races")
    with committed(url) as db:
        member = make_user(db)
        db.flush()
        return Seeded(url, member.id)


def test_a_sign_up_sent_at_once_makes_one_account(seeded: Seeded):
    settings = make_settings(seeded.url, registrations_per_ip=100)
    counter = iter(range(TIMES))

    def register(db: Session) -> object:
        return service.register(
            db,
            username="newcomer",
            display_name="Newcomer",
            email="newcomer@example.org",
            password="a long enough passphrase",
            # Each from another network, so that no rate limit decides.
            client_ip=f"192.0.2.{next(counter)}",
            now=utcnow(),
            settings=settings,
        )

    outcomes = at_once(seeded.url, TIMES, register)
    assert len(refused(outcomes)) == TIMES - 1
    for refusal in refused(outcomes):
        assert isinstance(refusal, ValidationFailed)
        assert refusal.fields["username"] == "That username is taken."
    with reading(seeded.url) as db:
        assert db.scalar(select(func.count(User.id)).where(User.username == "newcomer")) == 1


def test_a_token_created_at_once_is_created_once(seeded: Seeded):
    def create(db: Session) -> object:
        member = db.get(User, seeded.member)
        assert member is not None
        return service.create_token(db, actor=member, name="cli", scope="read", now=utcnow())

    outcomes = at_once(seeded.url, TIMES, create)
    assert len(refused(outcomes)) == TIMES - 1
    for refusal in refused(outcomes):
        assert isinstance(refusal, ValidationFailed)
        assert "name" in refusal.fields
    with reading(seeded.url) as db:
        assert db.scalar(select(func.count(AccessToken.id))) == 1
