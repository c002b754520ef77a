"""Test data builders, one per model; each flushes so ids are there."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy.orm import Session

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.communities.models import Community, Membership, Role, RoleChange
from app.db import utcnow

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(
    db: Session,
    username: str | None = None,
    *,
    password: str = PASSWORD,
    is_admin: bool = False,
    display_name: str | None = None,
) -> User:
    n = next(_seq)
    username = username or f"user{n}"
    return accounts_service.create_user(
        db,
        username=username,
        email=f"{username}@example.org",
        password=password,
        display_name=display_name or f"User {username}",
        is_admin=is_admin,
        now=utcnow(),
    )


def make_community(
    db: Session, slug: str | None = None, *, name: str | None = None, description: str = ""
) -> Community:
    n = next(_seq)
    slug = slug or f"community-{n}"
    community = Community(slug=slug, name=name or f"Community {n}", description=description)
    db.add(community)
    db.flush()
    return community


def add_member(
    db: Session,
    community: Community,
    user: User,
    role: Role = Role.fan,
    *,
    joined_at: datetime | None = None,
) -> Membership:
    membership = Membership(
        community_id=community.id, user_id=user.id, role=role, joined_at=joined_at or utcnow()
    )
    db.add(membership)
    db.add(
        RoleChange(
            community_id=community.id,
            user_id=user.id,
            changed_by_id=user.id,
            old_role=None,
            new_role=role,
        )
    )
    db.flush()
    return membership
