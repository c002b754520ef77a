"""Joining and leaving a community, and the record each leaves behind."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service
from app.communities.models import Community, Membership, Role, RoleChange
from app.db import utcnow
from app.errors import Conflict, NotAuthenticated
from tests.factories import add_member, make_community, make_user


def changes_of(db: Session, community: Community, user: User) -> Sequence[RoleChange]:
    return db.scalars(
        select(RoleChange)
        .where(RoleChange.community_id == community.id, RoleChange.user_id == user.id)
        .order_by(RoleChange.id)
    ).all()


def membership_count(db: Session, community: Community, user: User) -> int | None:
    return db.scalar(
        select(func.count(Membership.id)).where(
            Membership.community_id == community.id, Membership.user_id == user.id
        )
    )


def test_joining_makes_a_fan_and_records_it(db):
    community, user = make_community(db), make_user(db)
    now = utcnow()

    membership = service.join(db, actor=user, community=community, now=now)

    assert membership.role == Role.fan
    assert membership.joined_at == now
    assert service.membership_of(db, community, user) is membership
    (change,) = changes_of(db, community, user)
    assert (change.old_role, change.new_role) == (None, Role.fan)
    assert change.changed_by_id == user.id
    assert change.created_at == now


def test_a_second_join_is_a_conflict_and_not_a_second_membership(db):
    community, user = make_community(db), make_user(db)
    service.join(db, actor=user, community=community, now=utcnow())

    with pytest.raises(Conflict):
        service.join(db, actor=user, community=community, now=utcnow())

    assert membership_count(db, community, user) == 1
    assert len(changes_of(db, community, user)) == 1


def test_a_join_that_loses_a_race_is_a_conflict_and_leaves_the_session_usable(db, monkeypatch):
    # Two requests of a double click both see "not a member yet"; the unique pair stops the second.
    community, user = make_community(db), make_user(db)
    service.join(db, actor=user, community=community, now=utcnow())
    monkeypatch.setattr(service, "membership_of", lambda *args, **kwargs: None)

    with pytest.raises(Conflict):
        service.join(db, actor=user, community=community, now=utcnow())

    db.flush()  # the failed insert must not be retried by the request's commit
    assert membership_count(db, community, user) == 1
    assert len(changes_of(db, community, user)) == 1


def test_anonymous_visitors_cannot_join_or_leave(db):
    community = make_community(db)
    with pytest.raises(NotAuthenticated):
        service.join(db, actor=None, community=community, now=utcnow())
    with pytest.raises(NotAuthenticated):
        service.leave(db, actor=None, community=community, now=utcnow())


def test_leaving_removes_the_membership_and_records_the_old_role(db):
    community, user = make_community(db), make_user(db)
    add_member(db, community, user, Role.creator)
    now = utcnow()

    service.leave(db, actor=user, community=community, now=now)

    assert service.membership_of(db, community, user) is None
    last = changes_of(db, community, user)[-1]
    assert (last.old_role, last.new_role) == (Role.creator, None)
    assert last.changed_by_id == user.id
    assert last.created_at == now


def test_leaving_a_community_one_is_not_in_is_a_conflict(db):
    community, user = make_community(db), make_user(db)
    with pytest.raises(Conflict):
        service.leave(db, actor=user, community=community, now=utcnow())
    assert changes_of(db, community, user) == []


def test_one_may_join_again_after_leaving(db):
    community, user = make_community(db), make_user(db)
    service.join(db, actor=user, community=community, now=utcnow())
    service.leave(db, actor=user, community=community, now=utcnow())
    assert service.join(db, actor=user, community=community, now=utcnow()).role == Role.fan
    roles = [(c.old_role, c.new_role) for c in changes_of(db, community, user)]
    assert roles == [(None, Role.fan), (Role.fan, None), (None, Role.fan)]


def test_the_last_moderator_cannot_leave(db):
    community, moderator = make_community(db), make_user(db)
    add_member(db, community, moderator, Role.moderator)

    with pytest.raises(Conflict):
        service.leave(db, actor=moderator, community=community, now=utcnow())

    assert service.membership_of(db, community, moderator) is not None
    assert len(changes_of(db, community, moderator)) == 1


def test_a_moderator_may_leave_when_another_remains(db):
    community = make_community(db)
    first, second = make_user(db), make_user(db)
    add_member(db, community, first, Role.moderator)
    add_member(db, community, second, Role.moderator)

    service.leave(db, actor=first, community=community, now=utcnow())

    assert service.membership_of(db, community, first) is None
    with pytest.raises(Conflict):
        service.leave(db, actor=second, community=community, now=utcnow())


def test_moderators_of_other_communities_do_not_count(db):
    community, other = make_community(db), make_community(db)
    moderator, elsewhere = make_user(db), make_user(db)
    add_member(db, community, moderator, Role.moderator)
    add_member(db, other, elsewhere, Role.moderator)
    with pytest.raises(Conflict):
        service.leave(db, actor=moderator, community=community, now=utcnow())


def test_memberships_of_a_user_are_sorted_by_community_name(db):
    user = make_user(db)
    zebra = make_community(db, name="zebra Circle")
    alpha = make_community(db, name="Alpha Fans")
    make_community(db, name="Not joined")
    add_member(db, zebra, user)
    add_member(db, alpha, user, Role.creator)

    memberships = service.memberships_of_user(db, user)

    assert [(m.community.name, m.role) for m in memberships] == [
        ("Alpha Fans", Role.creator),
        ("zebra Circle", Role.fan),
    ]
