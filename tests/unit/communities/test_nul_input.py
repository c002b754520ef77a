"""NUL can be stored by SQLite but not by PostgreSQL: both must refuse it as a field error."""

import pytest

from app.communities import service
from app.communities.models import Role
from app.db import utcnow
from app.errors import NotFound, ValidationFailed
from tests.factories import add_member, make_community, make_user


@pytest.fixture
def moderated(db):
    community = make_community(db)
    moderator = make_user(db)
    add_member(db, community, moderator, Role.moderator)
    fan = make_user(db)
    add_member(db, community, fan)
    return community, moderator, fan


def test_community_fields_refuse_nul(db, moderated):
    community, moderator, _ = moderated
    with pytest.raises(ValidationFailed) as caught:
        service.update_community(
            db, actor=moderator, community=community, name="Fine", description="a\x00b"
        )
    assert set(caught.value.fields) == {"description"}


def test_category_fields_refuse_nul(db, moderated):
    community, moderator, _ = moderated
    with pytest.raises(ValidationFailed) as caught:
        service.add_category(db, actor=moderator, community=community, name="Ag\x00e")
    assert "name" in caught.value.fields
    category = service.add_category(db, actor=moderator, community=community, name="Age")
    with pytest.raises(ValidationFailed) as caught:
        service.update_category(
            db,
            actor=moderator,
            community=community,
            category=category,
            description="x\x00",
            now=utcnow(),
        )
    assert "description" in caught.value.fields


def test_a_category_address_with_nul_is_not_found(db, moderated):
    community, _, _ = moderated
    with pytest.raises(NotFound):
        service.get_category(db, community, "a\x00b")


def test_a_role_change_reason_refuses_nul(db, moderated):
    community, moderator, fan = moderated
    with pytest.raises(ValidationFailed) as caught:
        service.change_role(
            db,
            actor=moderator,
            community=community,
            username=fan.username,
            role="creator",
            reason="because\x00",
            now=utcnow(),
        )
    assert "reason" in caught.value.fields
