"""The language a proposal is written in: given, or the writer's; changed by an edit; filtered."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import TypeVar

import pytest

from app import i18n
from app.errors import ValidationFailed
from app.proposals import service
from tests.unit.proposals.conftest import edit, hours, make_proposal

T = TypeVar("T")


def speaking(language: str, call: Callable[[], T]) -> T:
    """`call` made in a request whose interface speaks `language` (its own context)."""

    def run() -> T:
        i18n.begin(language)
        return call()

    return contextvars.copy_context().run(run)


def test_a_proposal_records_the_language_given_in_its_canonical_spelling(db, world):
    assert make_proposal(db, world, language="ja").language == "ja"
    assert make_proposal(db, world, language="ZH_hans").language == "zh-Hans"


def test_without_one_the_writers_interface_language_is_recorded(db, world):
    assert make_proposal(db, world).language == "en"
    assert speaking("ja", lambda: make_proposal(db, world)).language == "ja"


@pytest.mark.parametrize("code", ["xx", "japanese", "en-US-x", "ja\x00"])
def test_an_unknown_language_is_a_field_error(db, world, code):
    with pytest.raises(ValidationFailed) as caught:
        make_proposal(db, world, language=code)
    assert set(caught.value.fields) == {"language"}
    assert "zh-Hans" in caught.value.fields["language"]


def test_an_edit_may_change_the_language_without_a_new_revision(db, world, now):
    proposal = make_proposal(db, world, language="en")
    edit(db, proposal, world.author, now=now + hours(1), language="ja")
    assert proposal.language == "ja"
    assert proposal.revision_number == 1
    assert proposal.last_activity_at == now + hours(1)


def test_an_edit_without_one_keeps_the_recorded_language(db, world, now):
    proposal = make_proposal(db, world, language="ko")
    speaking("ja", lambda: edit(db, proposal, world.author, now=now, norm_text="Changed."))
    assert (proposal.language, proposal.revision_number) == ("ko", 2)


def test_an_edit_never_guesses_the_language_of_a_proposal_without_one(db, world, now):
    # A co-author reading in Japanese edits a proposal written before languages were
    # recorded: the writer's interface says nothing about the proposal's words.
    proposal = make_proposal(db, world)
    proposal.language = None
    speaking("ja", lambda: edit(db, proposal, world.author, now=now, norm_text="Changed."))
    assert (proposal.language, proposal.revision_number) == (None, 2)
    edit(db, proposal, world.author, now=now, language="en", norm_text="Changed again.")
    assert proposal.language == "en"


def test_an_edit_with_an_unknown_language_changes_nothing(db, world, now):
    proposal = make_proposal(db, world, language="en")
    with pytest.raises(ValidationFailed) as caught:
        edit(db, proposal, world.author, now=now, language="klingon", norm_text="Changed.")
    assert "language" in caught.value.fields
    assert (proposal.language, proposal.revision_number) == ("en", 1)


def test_the_list_filters_by_language(db, world, now):
    english = make_proposal(db, world, publish=True, language="en")
    japanese = make_proposal(db, world, publish=True, language="ja", now=now + hours(1))
    unrecorded = make_proposal(db, world, publish=True, now=now + hours(2))
    unrecorded.language = None
    db.flush()

    def listed(language: str) -> list[int]:
        filters = service.check_filter({"language": language})
        page = service.list_proposals(
            db, community=world.community, viewer=None, filters=filters, limit=10
        )
        return [p.id for p in page.items]

    assert listed("ja") == [japanese.id]
    assert listed("EN") == [english.id]
    assert listed("") == [unrecorded.id, japanese.id, english.id]


def test_the_filter_refuses_an_unknown_language():
    with pytest.raises(ValidationFailed) as caught:
        service.check_filter({"language": "xx"})
    assert set(caught.value.fields) == {"language"}
    assert service.check_filter({"language": " zh-hant "}).language == "zh-Hant"
