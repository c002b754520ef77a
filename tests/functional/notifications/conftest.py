"""The discussion's cast (a community "miku" with named members and a published proposal),
Bearer headers, and a helper that tells a member something."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.db import utcnow
from app.notifications import service
from app.notifications.models import Kind
from tests.functional.discussion import conftest as discussion_fixtures

cast = discussion_fixtures.cast
bearer = discussion_fixtures.bearer

Tell = Callable[..., list[int]]


@pytest.fixture
def tell(db: Session) -> Tell:
    """`tell(user, n=1, text=..., kind=...)`: the ids of `n` new notifications of `user`."""

    def make(user: User, n: int = 1, text: str = "News", kind: Kind = Kind.reply) -> list[int]:
        made = []
        for i in range(n):
            service.notify(
                db,
                recipients=[user],
                kind=kind,
                text=f"{text} {i}",
                url="/c/miku",
                now=utcnow(),
            )
            made.append(service.latest_id(db, user))
        return [i for i in made if i is not None]

    return make
