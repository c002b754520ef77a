"""Registering and editing works: validation and who may do it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from app.works import service
from app.works.models import Medium
from tests.unit.works.conftest import NOW, values


def problems(db, world, **overrides) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as info:
        service.create_work(
            db, actor=world.member, community=world.community, values=values(**overrides), now=NOW
        )
    return info.value.fields


def test_a_member_registers_a_work(db, world):
    work = service.create_work(
        db,
        actor=world.member,
        community=world.community,
        values=values(content_notes=" flashing lights,, blood ", duration_seconds="215.5"),
        now=NOW,
    )
    assert work.id
    assert work.medium == Medium.video
    assert work.created_by_id == world.member.id
    assert work.content_notes == "flashing lights, blood"
    assert work.content_note_list == ["flashing lights", "blood"]
    assert work.duration_seconds == 215.5
    assert work.excerpt is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"creator_name": ""}, "creator_name"),
        ({"creator_name": "x" * 121}, "creator_name"),
        ({"url": ""}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://example.org/a"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://example.org/" + "a" * 2000}, "url"),
        ({"medium": "painting"}, "medium"),
        ({"license": "x" * 121}, "license"),
        ({"content_notes": "x" * 301}, "content_notes"),
        ({"description": "x" * 5001}, "description"),
        ({"medium": "text", "excerpt": "x" * 5001}, "excerpt"),
        ({"medium": "image", "excerpt": "Once upon a time"}, "excerpt"),
        ({"medium": "image", "duration_seconds": "12"}, "duration_seconds"),
        ({"medium": "text", "duration_seconds": "12"}, "duration_seconds"),
        ({"duration_seconds": "0"}, "duration_seconds"),
        ({"duration_seconds": "-3"}, "duration_seconds"),
        ({"duration_seconds": "86401"}, "duration_seconds"),
        ({"duration_seconds": "nan"}, "duration_seconds"),
        ({"duration_seconds": "long"}, "duration_seconds"),
        ({"title": "a\x00b"}, "title"),
        ({"parents": ["abc"]}, "parents"),
        ({"parents": ["999999"]}, "parents"),
        ({"creator_username": "nobody_here"}, "creator_username"),
    ],
)
def test_each_rule_is_a_field_error(db, world, overrides, field):
    assert field in problems(db, world, **overrides)


def test_text_works_carry_an_excerpt_and_timed_works_a_duration(db, world, make_work):
    text = make_work(medium="text", excerpt="Once upon a time")
    assert text.excerpt == "Once upon a time"
    audio = make_work(medium="audio", duration_seconds="86400")
    assert audio.duration_seconds == 86400


def test_parents_from_another_community_are_refused(db, world, make_work):
    foreign = make_work(actor=world.outsider, community=world.other)
    assert "parents" in problems(db, world, parents=[str(foreign.id)])


def test_creator_may_be_linked_to_a_member(db, world, make_work):
    work = make_work(creator_username=world.fan.username)
    assert work.creator_user_id == world.fan.id
    assert "creator_username" in problems(db, world, creator_username=world.outsider.username)


def test_only_members_register_works(db, world):
    with pytest.raises(PermissionDenied):
        service.create_work(
            db, actor=world.outsider, community=world.community, values=values(), now=NOW
        )
    with pytest.raises(NotAuthenticated):
        service.create_work(db, actor=None, community=world.community, values=values(), now=NOW)


def test_permission_comes_before_validation(db, world):
    with pytest.raises(PermissionDenied):
        service.create_work(
            db, actor=world.outsider, community=world.community, values=values(title=""), now=NOW
        )


def test_the_registrant_and_moderators_edit(db, world, make_work):
    work = make_work()
    service.update_work(db, actor=world.member, work=work, values=values(title="Renamed"))
    assert work.title == "Renamed"
    service.update_work(db, actor=world.moderator, work=work, values=values(title="Again"))
    assert work.title == "Again"
    for actor in (world.fan, world.outsider):
        with pytest.raises(PermissionDenied):
            service.update_work(db, actor=actor, work=work, values=values(title="Mine"))
    with pytest.raises(NotAuthenticated):
        service.update_work(db, actor=None, work=work, values=values())


def test_edit_validates_too(db, world, make_work):
    work = make_work()
    with pytest.raises(ValidationFailed) as info:
        service.update_work(db, actor=world.member, work=work, values=values(url="nope"))
    assert "url" in info.value.fields


def test_draft_of_round_trips(db, world, make_work):
    parent = make_work(title="Parent")
    work = make_work(parents=[parent], duration_seconds="90")
    draft = service.draft_of(db, work)
    assert draft.parents == [str(parent.id)]
    assert draft.duration_seconds == "90"
    service.update_work(db, actor=world.member, work=work, values=replace(draft))
    assert service.parent_ids(db, work) == [parent.id]


def test_get_work_checks_the_community(db, world, make_work):
    work = make_work()
    assert service.get_work(db, work.id, community=world.community) is work
    with pytest.raises(NotFound):
        service.get_work(db, work.id, community=world.other)
    with pytest.raises(NotFound):
        service.get_work(db, 10**9)


def test_list_pages_by_id_and_filters_by_medium(db, world, make_work):
    works = [make_work(title=f"W{i}", medium="image" if i % 2 else "audio") for i in range(5)]
    first = service.list_works(db, community=world.community, limit=2)
    assert [w.id for w in first.items] == [works[4].id, works[3].id]
    second = service.list_works(db, community=world.community, limit=2, cursor=first.next_cursor)
    assert [w.id for w in second.items] == [works[2].id, works[1].id]
    third = service.list_works(db, community=world.community, limit=2, cursor=second.next_cursor)
    assert [w.id for w in third.items] == [works[0].id]
    assert third.next_cursor is None
    images = service.list_works(db, community=world.community, medium="image")
    assert {w.id for w in images.items} == {works[1].id, works[3].id}
    with pytest.raises(ValidationFailed):
        service.list_works(db, community=world.community, medium="painting")
    with pytest.raises(ValidationFailed):
        service.list_works(db, community=world.community, cursor="!!")
