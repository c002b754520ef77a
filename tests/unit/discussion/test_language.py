"""The language a comment is written in: given or the writer's, kept or changed by an edit."""

from __future__ import annotations

import contextvars

import pytest
from sqlalchemy.orm import Session

from app import i18n, ratelimit
from app.discussion import service
from app.discussion.models import Comment
from app.errors import ValidationFailed
from tests.unit.discussion.conftest import NOW, World, later, post


def write(db: Session, world: World, language: str | None, *, interface: str = "en") -> Comment:
    def run() -> Comment:
        i18n.begin(interface)
        return service.post_comment(
            db,
            actor=world.fan,
            proposal=world.proposal,
            draft=service.CommentDraft(body="意見です。", language=language),
            now=NOW,
        )

    comment = contextvars.copy_context().run(run)
    ratelimit.clear(db, bucket="comment", key=str(world.fan.id))
    return comment


def test_a_comment_records_the_language_given_or_the_writers(db: Session, world: World) -> None:
    assert write(db, world, "JA").language == "ja"
    assert write(db, world, None).language == "en"
    assert write(db, world, None, interface="ja").language == "ja"
    assert write(db, world, "", interface="ja").language == "ja"


def test_an_unknown_language_is_a_field_error(db: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        write(db, world, "tlh")
    assert set(caught.value.fields) == {"language"}


def test_an_edit_changes_the_language_or_keeps_it(db: Session, world: World) -> None:
    comment = post(db, world.proposal, world.fan, "Hello.")
    assert comment.language == "en"
    service.edit_comment(db, actor=world.fan, comment=comment, language="de", now=later(1))
    assert (comment.language, comment.edit_count) == ("de", 0)
    service.edit_comment(db, actor=world.fan, comment=comment, body="Hallo.", now=later(2))
    assert (comment.language, comment.edit_count) == ("de", 1)
    with pytest.raises(ValidationFailed) as caught:
        service.edit_comment(db, actor=world.fan, comment=comment, language="x", now=later(3))
    assert set(caught.value.fields) == {"language"}
    assert comment.language == "de"


def test_a_comment_without_a_recorded_language_gets_one_only_when_named(
    db: Session, world: World
) -> None:
    comment = post(db, world.proposal, world.fan, "Hello.", alignment="supports")
    comment.language = None  # written before languages were recorded
    service.edit_comment(db, actor=world.fan, comment=comment, alignment="opposes", now=later(1))
    service.edit_comment(db, actor=world.fan, comment=comment, body="Changed.", now=later(2))
    assert comment.language is None
    service.edit_comment(
        db, actor=world.fan, comment=comment, body="Changed.", language="en", now=later(3)
    )
    assert comment.language == "en"
