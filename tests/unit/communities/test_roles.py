"""Moderators change members' roles; every change is public, with who, when and why."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service
from app.communities.models import Community, Membership, Role, RoleChange
from app.db import utcnow
from app.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from tests.factories import add_member, make_community, make_user


@pytest.fixture
def community(db):
    return make_community(db)


@pytest.fixture
def moderator(db, community):
    user = make_user(db, "mod_rin")
    add_member(db, community, user, Role.moderator)
    return user


@pytest.fixture
def fan(db, community):
    user = make_user(db, "fan_luka")
    add_member(db, community, user, Role.fan)
    return user


def change(
    db: Session,
    actor: User | None,
    community: Community,
    username: str,
    role: str = "creator",
    reason: str = "Publishes original songs.",
) -> Membership:
    return service.change_role(
        db,
        actor=actor,
        community=community,
        username=username,
        role=role,
        reason=reason,
        now=utcnow(),
    )


def changes_of(db: Session, community: Community, user: User) -> Sequence[RoleChange]:
    return db.scalars(
        select(RoleChange)
        .where(RoleChange.community_id == community.id, RoleChange.user_id == user.id)
        .order_by(RoleChange.id)
    ).all()


def test_a_moderator_changes_a_role_and_the_change_is_recorded(db, community, moderator, fan):
    now = utcnow()
    membership = service.change_role(
        db,
        actor=moderator,
        community=community,
        username="fan_luka",
        role="creator",
        reason="  Publishes original songs.  ",
        now=now,
    )

    assert membership.role == Role.creator
    assert service.membership_of(db, community, fan).role == Role.creator  # type: ignore[union-attr]
    last = changes_of(db, community, fan)[-1]
    assert (last.old_role, last.new_role) == (Role.fan, Role.creator)
    assert last.changed_by_id == moderator.id
    assert last.reason == "Publishes original songs."
    assert last.created_at == now


def test_usernames_are_matched_whatever_their_case(db, community, moderator, fan):
    assert change(db, moderator, community, "Fan_Luka").role == Role.creator


def test_a_site_admin_who_is_no_member_may_change_roles(db, community, moderator, fan):
    admin = make_user(db, is_admin=True)
    change(db, admin, community, "fan_luka", role="rights_holder")
    last = changes_of(db, community, fan)[-1]
    assert last.new_role == Role.rights_holder
    assert last.changed_by_id == admin.id


@pytest.mark.parametrize("role", [Role.fan, Role.creator, Role.rights_holder])
def test_members_who_do_not_moderate_may_not_change_roles(db, community, moderator, fan, role):
    member = make_user(db)
    add_member(db, community, member, role)
    with pytest.raises(PermissionDenied):
        change(db, member, community, "fan_luka", role="moderator")
    assert service.membership_of(db, community, fan).role == Role.fan  # type: ignore[union-attr]
    assert len(changes_of(db, community, fan)) == 1


def test_the_moderator_of_another_community_may_not_change_roles(db, community, fan):
    other = make_community(db)
    outsider = make_user(db)
    add_member(db, other, outsider, Role.moderator)
    with pytest.raises(PermissionDenied):
        change(db, outsider, community, "fan_luka")


def test_a_fan_may_not_promote_themselves(db, community, moderator, fan):
    with pytest.raises(PermissionDenied):
        change(db, fan, community, "fan_luka", role="moderator")


def test_anonymous_visitors_may_not_change_roles(db, community, fan):
    with pytest.raises(NotAuthenticated):
        change(db, None, community, "fan_luka")


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_a_reason_is_required(db, community, moderator, fan, reason):
    with pytest.raises(ValidationFailed) as caught:
        change(db, moderator, community, "fan_luka", reason=reason)
    assert set(caught.value.fields) == {"reason"}
    assert service.membership_of(db, community, fan).role == Role.fan  # type: ignore[union-attr]


def test_a_reason_may_not_be_longer_than_the_limit(db, community, moderator, fan):
    with pytest.raises(ValidationFailed) as caught:
        change(db, moderator, community, "fan_luka", reason="x" * (service.MAX_REASON + 1))
    assert set(caught.value.fields) == {"reason"}
    change(db, moderator, community, "fan_luka", reason="x" * service.MAX_REASON)
    assert changes_of(db, community, fan)[-1].reason == "x" * service.MAX_REASON


@pytest.mark.parametrize("role", ["", "admin", "Moderator", "owner", "label"])
def test_an_unknown_role_is_a_field_error(db, community, moderator, fan, role):
    with pytest.raises(ValidationFailed) as caught:
        change(db, moderator, community, "fan_luka", role=role)
    assert set(caught.value.fields) == {"role"}


def test_role_and_reason_problems_are_reported_together(db, community, moderator, fan):
    with pytest.raises(ValidationFailed) as caught:
        change(db, moderator, community, "fan_luka", role="owner", reason="")
    assert set(caught.value.fields) == {"role", "reason"}


def test_an_unknown_user_is_not_found(db, community, moderator):
    with pytest.raises(NotFound):
        change(db, moderator, community, "nobody_here")


def test_a_user_who_is_not_a_member_is_not_found(db, community, moderator):
    outsider = make_user(db)
    with pytest.raises(NotFound):
        change(db, moderator, community, outsider.username)
    assert changes_of(db, community, outsider) == []


def test_the_last_moderator_cannot_be_demoted(db, community, moderator):
    with pytest.raises(Conflict):
        change(db, moderator, community, "mod_rin", role="fan")
    assert service.membership_of(db, community, moderator).role == Role.moderator  # type: ignore[union-attr]
    assert len(changes_of(db, community, moderator)) == 1


def test_a_site_admin_cannot_demote_the_last_moderator_either(db, community, moderator):
    admin = make_user(db, is_admin=True)
    with pytest.raises(Conflict):
        change(db, admin, community, "mod_rin", role="creator")


def test_a_moderator_may_step_down_once_another_is_appointed(db, community, moderator, fan):
    change(db, moderator, community, "fan_luka", role="moderator")
    change(db, moderator, community, "mod_rin", role="fan", reason="Stepping down.")
    assert service.membership_of(db, community, moderator).role == Role.fan  # type: ignore[union-attr]
    with pytest.raises(PermissionDenied):
        change(db, moderator, community, "fan_luka", role="fan")
    with pytest.raises(Conflict):
        change(db, fan, community, "fan_luka", role="fan")


def test_the_same_role_again_changes_and_records_nothing(db, community, moderator, fan):
    membership = change(db, moderator, community, "fan_luka", role="fan")
    assert membership.role == Role.fan
    assert len(changes_of(db, community, fan)) == 1


def test_role_changes_are_listed_newest_first(db, community, moderator, fan):
    change(db, moderator, community, "fan_luka", role="creator", reason="first")
    change(db, moderator, community, "fan_luka", role="rights_holder", reason="second")
    log = service.role_changes(db, community)
    assert [c.reason for c in log[:2]] == ["second", "first"]
    assert all(c.community_id == community.id for c in log)
    assert len(service.role_changes(db, community, limit=1)) == 1
