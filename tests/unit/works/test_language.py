"""The language of a work's title, description and excerpt."""

from __future__ import annotations

import contextvars

import pytest

from app import i18n
from app.errors import ValidationFailed
from app.works import service
from tests.unit.works.conftest import values


def test_a_work_records_the_language_given_or_the_writers(db, world, make_work):
    assert make_work(language="ja").language == "ja"
    assert make_work().language == "en"

    def in_japanese():
        i18n.begin("ja")
        return make_work()

    assert contextvars.copy_context().run(in_japanese).language == "ja"


def test_an_unknown_language_is_a_field_error(db, world, make_work):
    with pytest.raises(ValidationFailed) as caught:
        make_work(language="elvish")
    assert set(caught.value.fields) == {"language"}


def test_an_edit_changes_or_keeps_the_language(db, world, make_work):
    work = make_work(language="fr")
    service.update_work(db, actor=world.member, work=work, values=service.draft_of(db, work))
    assert work.language == "fr"
    service.update_work(db, actor=world.member, work=work, values=values(language="de"))
    assert work.language == "de"
    assert service.draft_of(db, work).language == "de"
