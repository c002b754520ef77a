"""Founding a community and editing its page: who may, and which values are accepted."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.communities import service
from app.communities.models import Community, Membership, Role, RoleChange
from app.db import utcnow
from app.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from tests.factories import add_member, make_community, make_user


def create(
    db: Session,
    actor: User | None,
    *,
    name: str = "Hatsune Miku Fans",
    slug: str = "miku",
    description: str = "About **us**.",
) -> Community:
    return service.create_community(
        db, actor=actor, name=name, slug=slug, description=description, now=utcnow()
    )


def test_admin_founds_a_community_and_becomes_its_moderator(db):
    admin = make_user(db, is_admin=True)
    before = utcnow()

    community = create(db, admin, name="  Hatsune Miku Fans ", slug=" Miku ")

    assert community.slug == "miku"
    assert community.name == "Hatsune Miku Fans"
    assert community.description == "About **us**."
    assert community.created_by_id == admin.id
    membership = service.membership_of(db, community, admin)
    assert membership is not None
    assert membership.role == Role.moderator
    changes = db.scalars(select(RoleChange).where(RoleChange.community_id == community.id)).all()
    assert len(changes) == 1
    (change,) = changes
    assert (change.user_id, change.changed_by_id) == (admin.id, admin.id)
    assert (change.old_role, change.new_role) == (None, Role.moderator)
    assert change.reason
    assert change.created_at >= before


def test_a_fan_may_not_found_a_community(db):
    fan = make_user(db)
    with pytest.raises(PermissionDenied):
        create(db, fan)
    assert db.scalar(select(Community.id).where(Community.slug == "miku")) is None


def test_anonymous_visitors_must_sign_in_first(db):
    with pytest.raises(NotAuthenticated):
        create(db, None)


@pytest.mark.parametrize(
    "slug",
    ["", "m", "-miku", "miku fans", "miku_fans", "mikü", "miku/fans", "a" * 41, "miku\nfans"],
)
def test_slugs_that_break_the_rule_are_refused(db, slug):
    admin = make_user(db, is_admin=True)
    with pytest.raises(ValidationFailed) as caught:
        create(db, admin, slug=slug)
    assert set(caught.value.fields) == {"slug"}


@pytest.mark.parametrize("slug", ["mi", "miku", "miku-fans-2", "0x", "a" * 40])
def test_slugs_that_keep_the_rule_are_accepted(db, slug):
    admin = make_user(db, is_admin=True)
    assert create(db, admin, slug=slug).slug == slug


def test_a_slug_in_use_is_a_field_error(db):
    admin = make_user(db, is_admin=True)
    create(db, admin, slug="miku")
    with pytest.raises(ValidationFailed) as caught:
        create(db, admin, name="Another", slug="MIKU")
    assert "slug" in caught.value.fields
    assert len(db.scalars(select(Community).where(Community.slug == "miku")).all()) == 1


@pytest.mark.parametrize("name", ["", "  ", "ab", "  ab  ", "x" * 81])
def test_names_of_the_wrong_length_are_refused(db, name):
    admin = make_user(db, is_admin=True)
    with pytest.raises(ValidationFailed) as caught:
        create(db, admin, name=name)
    assert set(caught.value.fields) == {"name"}


@pytest.mark.parametrize("name", ["abc", "x" * 80])
def test_names_at_the_limits_are_accepted(db, name):
    admin = make_user(db, is_admin=True)
    assert create(db, admin, name=name).name == name


def test_every_problem_is_reported_at_once(db):
    admin = make_user(db, is_admin=True)
    with pytest.raises(ValidationFailed) as caught:
        create(db, admin, name="x", slug="!", description="d" * (service.MAX_DESCRIPTION + 1))
    assert set(caught.value.fields) == {"name", "slug", "description"}


def test_a_moderator_edits_the_name_and_description(db):
    community = make_community(db, name="Old name", description="old")
    moderator = make_user(db)
    add_member(db, community, moderator, Role.moderator)

    service.update_community(
        db, actor=moderator, community=community, name=" New name ", description=" new "
    )

    assert (community.name, community.description) == ("New name", "new")


def test_an_edit_of_one_field_keeps_the_other(db):
    community = make_community(db, name="Keep this", description="old")
    admin = make_user(db, is_admin=True)
    service.update_community(db, actor=admin, community=community, description="new")
    assert (community.name, community.description) == ("Keep this", "new")


@pytest.mark.parametrize("role", [Role.fan, Role.creator, Role.rights_holder])
def test_members_who_do_not_moderate_may_not_edit(db, role):
    community = make_community(db, name="Unchanged")
    member = make_user(db)
    add_member(db, community, member, role)
    with pytest.raises(PermissionDenied):
        service.update_community(db, actor=member, community=community, name="Changed")
    assert community.name == "Unchanged"


def test_the_moderator_of_another_community_may_not_edit(db):
    community, other = make_community(db), make_community(db)
    moderator = make_user(db)
    add_member(db, other, moderator, Role.moderator)
    with pytest.raises(PermissionDenied):
        service.update_community(db, actor=moderator, community=community, name="Changed")


def test_an_edit_with_a_bad_name_changes_nothing(db):
    community = make_community(db, name="Unchanged", description="old")
    admin = make_user(db, is_admin=True)
    with pytest.raises(ValidationFailed) as caught:
        service.update_community(db, actor=admin, community=community, name="x", description="new")
    assert set(caught.value.fields) == {"name"}
    assert (community.name, community.description) == ("Unchanged", "old")


def test_membership_rows_point_at_the_community(db):
    admin = make_user(db, is_admin=True)
    community = create(db, admin)
    memberships = db.scalars(select(Membership).where(Membership.community_id == community.id))
    assert [m.user_id for m in memberships] == [admin.id]


def test_a_double_submit_that_passes_the_slug_check_is_a_field_error(db, monkeypatch):
    # Both requests of a double submit saw the slug free; the unique constraint stops the second.
    admin = make_user(db, is_admin=True)
    create(db, admin, slug="miku")
    monkeypatch.setattr(service, "_slug_taken", lambda *args: False)

    with pytest.raises(ValidationFailed) as caught:
        create(db, admin, name="Second", slug="miku")

    assert set(caught.value.fields) == {"slug"}
    db.flush()  # the session is still usable: the failed insert is not retried
    assert len(db.scalars(select(Community).where(Community.slug == "miku")).all()) == 1
