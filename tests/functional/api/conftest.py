"""Helpers for the JSON API's tests: Bearer headers from personal access tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.db import utcnow

Headers = dict[str, str]


@pytest.fixture
def bearer(db: Session) -> Callable[..., Headers]:
    """`bearer(user, scope="write")`: an Authorization header with a fresh token of `user`."""
    counter = iter(range(1000))

    def make(user: User, scope: str = "write") -> Headers:
        _, plain = accounts_service.create_token(
            db, actor=user, name=f"test-{next(counter)}", scope=scope, now=utcnow()
        )
        return {"Authorization": f"Bearer {plain}"}

    return make
