"""The preview of an image work: who may set and remove it, replacing, and what is stored."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import delete, func, select

from app.communities.models import Membership
from app.errors import NotAuthenticated, PermissionDenied, ValidationFailed
from app.works import service
from app.works.models import WorkImage
from tests.support.images import image_bytes, jpeg_with_exif, opened
from tests.unit.works.conftest import NOW, values


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(WorkImage)) or 0


@pytest.fixture
def picture(make_work):
    return make_work(medium="image", title="Miku design")


def test_the_registering_member_sets_a_preview(db, world, picture):
    preview = service.set_preview(
        db, actor=world.member, work=picture, data=jpeg_with_exif((900, 300)), now=NOW
    )
    assert preview.work_id == picture.id
    assert preview.content_type == "image/jpeg"
    assert (preview.width, preview.height) == (900, 300)
    assert preview.thumb_content_type == "image/webp"
    assert (preview.thumb_width, preview.thumb_height) == (480, 160)
    assert preview.uploaded_by_id == world.member.id
    assert preview.digest == hashlib.sha256(preview.data).hexdigest()
    assert b"Secret Artist Name" not in preview.data
    db.expire_all()
    stored = service.preview_of(db, picture)
    assert stored is not None
    assert stored.digest == preview.digest
    assert service.preview_bytes(db, picture, thumbnail=False) == preview.data
    thumb = service.preview_bytes(db, picture, thumbnail=True)
    assert thumb is not None
    assert opened(thumb).size == (480, 160)


def test_a_moderator_may_set_it_too(db, world, picture):
    service.set_preview(db, actor=world.moderator, work=picture, data=image_bytes(), now=NOW)
    assert count(db) == 1


@pytest.mark.parametrize(
    ("who", "error"),
    [("fan", PermissionDenied), ("outsider", PermissionDenied), (None, NotAuthenticated)],
)
def test_others_may_not_set_or_remove_it(db, world, picture, who, error):
    actor = getattr(world, who) if who else None
    with pytest.raises(error):
        service.set_preview(db, actor=actor, work=picture, data=image_bytes(), now=NOW)
    assert count(db) == 0
    service.set_preview(db, actor=world.member, work=picture, data=image_bytes(), now=NOW)
    with pytest.raises(error):
        service.remove_preview(db, actor=actor, work=picture)
    assert count(db) == 1


def test_a_former_member_may_no_longer_set_it(db, world, picture):
    db.execute(
        delete(Membership).where(
            Membership.user_id == world.member.id, Membership.community_id == world.community.id
        )
    )
    with pytest.raises(PermissionDenied):
        service.set_preview(db, actor=world.member, work=picture, data=image_bytes(), now=NOW)


@pytest.mark.parametrize("medium", ["video", "audio", "text", "model3d", "ai_model", "other"])
def test_only_image_works_have_a_preview(db, world, make_work, medium):
    work = make_work(medium=medium)
    with pytest.raises(ValidationFailed) as info:
        service.set_preview(db, actor=world.member, work=work, data=image_bytes(), now=NOW)
    assert info.value.fields == {"file": service.ONLY_IMAGES}
    assert count(db) == 0


def test_an_invalid_file_stores_nothing_and_keeps_the_old_preview(db, world, picture):
    first = service.set_preview(db, actor=world.member, work=picture, data=image_bytes(), now=NOW)
    digest = first.digest
    with pytest.raises(ValidationFailed) as info:
        service.set_preview(db, actor=world.member, work=picture, data=b"not an image", now=NOW)
    assert info.value.fields == {"file": "Upload a PNG, JPEG or WebP image."}
    db.expire_all()
    kept = service.preview_of(db, picture)
    assert kept is not None
    assert kept.digest == digest


def test_uploading_again_replaces_the_preview(db, world, picture):
    first = service.set_preview(
        db, actor=world.member, work=picture, data=image_bytes("PNG"), now=NOW
    )
    old_digest = first.digest
    service.set_preview(
        db,
        actor=world.moderator,
        work=picture,
        data=image_bytes("WEBP", (30, 30), color=(1, 2, 3)),
        now=NOW,
    )
    assert count(db) == 1
    db.expire_all()
    now = service.preview_of(db, picture)
    assert now is not None
    assert now.digest != old_digest
    assert now.content_type == "image/webp"
    assert (now.width, now.height) == (30, 30)
    assert now.uploaded_by_id == world.moderator.id


def test_remove(db, world, picture):
    service.set_preview(db, actor=world.member, work=picture, data=image_bytes(), now=NOW)
    assert service.remove_preview(db, actor=world.member, work=picture) is True
    assert count(db) == 0
    assert service.preview_of(db, picture) is None
    assert service.preview_bytes(db, picture, thumbnail=True) is None
    assert service.remove_preview(db, actor=world.moderator, work=picture) is False


def test_changing_the_medium_drops_the_preview(db, world, picture):
    service.set_preview(db, actor=world.member, work=picture, data=image_bytes(), now=NOW)
    service.update_work(
        db, actor=world.member, work=picture, values=values(title="Miku design", medium="image")
    )
    assert count(db) == 1
    service.update_work(db, actor=world.member, work=picture, values=values(medium="video"))
    assert count(db) == 0


def test_previews_of_loads_many_without_their_bytes(db, world, make_work, picture):
    other = make_work(medium="image", title="Other")
    video = make_work(medium="video")
    service.set_preview(db, actor=world.member, work=picture, data=image_bytes(), now=NOW)
    db.expire_all()
    found = service.previews_of(db, [picture, other, video])
    assert set(found) == {picture.id}
    # The bytes are deferred: listing works never reads them.
    assert "data" not in found[picture.id].__dict__
    assert "thumb_data" not in found[picture.id].__dict__
    assert service.previews_of(db, [video]) == {}


def test_deleting_the_work_deletes_its_preview(db, world, picture):
    service.set_preview(db, actor=world.member, work=picture, data=image_bytes(), now=NOW)
    db.delete(picture)
    db.flush()
    assert count(db) == 0
