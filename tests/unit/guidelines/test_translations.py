"""Clause versions record their language; moderators translate a clause's current text, and
readers get the translation of the version shown, or an earlier one flagged out of date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.communities import service as communities_service
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.guidelines import service
from app.guidelines.models import ClauseVersion
from app.proposals.models import ProposalKind
from tests.unit.guidelines.test_guidelines import imported
from tests.unit.polls.conftest import NOW, Town


def translate(
    db: Session,
    town: Town,
    number: str,
    *,
    language: str = "ja",
    title: str = "タイトル",
    text: str = "本文。",
    at: int = 0,
) -> None:
    service.save_translation(
        db,
        actor=town.moderator,
        community=town.community,
        clause=service.get_clause(db, town.community, number),
        language=language,
        title=title,
        text=text,
        now=NOW + timedelta(minutes=at),
    )


def current(db: Session, town: Town, number: str) -> ClauseVersion:
    return service.history(db, service.get_clause(db, town.community, number))[0]


def test_versions_are_written_in_the_community_language_or_the_proposals(db, town, passed):
    town.community.language = "ja"
    imported(db, town)
    assert current(db, town, "1.1").language == "ja"
    proposal = passed()
    proposal.language = "fr"
    service.ratify(db, actor=town.moderator, proposal=proposal, note="", now=NOW)
    made = service.made_by(db, proposal)
    assert made is not None
    assert made.language == "fr"
    unrecorded = passed(
        "Amend 1.2",
        "Keep it calm.",
        kind=ProposalKind.amend,
        target_clause="1.2",
        at=NOW + timedelta(days=1),
    )
    unrecorded.language = None
    service.ratify(
        db, actor=town.moderator, proposal=unrecorded, note="", now=NOW + timedelta(days=1)
    )
    assert current(db, town, "1.2").language == "ja"


def test_moderators_add_and_correct_a_translation_of_the_current_text(db, town):
    imported(db, town)
    translate(db, town, "1.1", title="  性的な描写はしない ", text="キャラクターは16歳です。")
    translate(
        db, town, "1.1", title="性的な描写は禁止", text="キャラクターは16歳として描かれます。", at=5
    )
    [view] = service.translations_of(db, service.get_clause(db, town.community, "1.1"))
    assert (view.language, view.translation.title) == ("ja", "性的な描写は禁止")
    assert view.translation.text == "キャラクターは16歳として描かれます。"
    assert (view.translated_version, view.out_of_date) == (1, False)
    assert view.translation.translator_id == town.moderator.id
    assert view.translation.updated_at == NOW + timedelta(minutes=5)
    assert service.translation_languages(db, town.community) == ["ja"]


def test_only_moderators_translate_and_bad_input_is_refused_field_by_field(db, town):
    imported(db, town)
    clause = service.get_clause(db, town.community, "1.1")
    with pytest.raises(PermissionDenied):
        service.save_translation(
            db,
            actor=town.fan,
            community=town.community,
            clause=clause,
            language="ja",
            title="T",
            text="x",
            now=NOW,
        )
    cases = [
        ("xx", "T", "x", "language"),
        ("en", "T", "x", "language"),
        ("ja", "  ", "x", "title"),
        ("ja", "t" * 141, "x", "title"),
        ("ja", "T", " \n ", "text"),
        ("ja", "T", "x" * (service.TRANSLATION_TEXT_MAX + 1), "text"),
        ("ja", "T\x00", "x", "title"),
        ("ja", "T", "x\x00", "text"),
    ]
    for language, title, text, field in cases:
        with pytest.raises(ValidationFailed) as info:
            service.save_translation(
                db,
                actor=town.moderator,
                community=town.community,
                clause=clause,
                language=language,
                title=title,
                text=text,
                now=NOW,
            )
        assert field in info.value.fields, (language, title[:5], text[:5])
    assert service.translations_of(db, clause) == []
    # Spelled another way, a known language is that language.
    translate(db, town, "1.1", language="ZH-hans")
    assert [v.language for v in service.translations_of(db, clause)] == ["zh-Hans"]


def test_readers_get_the_exact_translation_else_an_earlier_one_out_of_date(db, town, passed):
    imported(db, town)
    translate(db, town, "1.1", title="一", text="旧訳。")
    translate(db, town, "1.2", title="二", text="暴力は控えめに。")
    amend = passed("Tighten 1.1", "New text of 1.1.", kind=ProposalKind.amend, target_clause="1.1")
    service.ratify(db, actor=town.moderator, proposal=amend, note="", now=NOW)
    doc = service.document(db, town.community)
    shown = service.translations_for(db, [c.version for c in doc.clauses], "ja")
    by_number = {c.number: shown.get(c.clause.id) for c in doc.clauses}
    assert by_number["2.1"] is None
    stale, fresh = by_number["1.1"], by_number["1.2"]
    assert stale is not None
    assert fresh is not None
    assert (stale.translation.text, stale.translated_version, stale.out_of_date) == (
        "旧訳。",
        1,
        True,
    )
    assert (fresh.translation.text, fresh.out_of_date) == ("暴力は控えめに。", False)
    # The version shown in a past document: its own translation is not out of date.
    first = service.document(db, town.community, version=1)
    past = service.translations_for(db, [c.version for c in first.clauses], "ja")
    assert not past[first.clauses[0].clause.id].out_of_date
    # Translating the new text makes it current; the old one is kept, listed as out of date.
    translate(db, town, "1.1", title="一", text="新訳。", at=1)
    shown = service.translations_for(db, [c.version for c in doc.clauses], "ja")
    assert shown[doc.clauses[0].clause.id].translation.text == "新訳。"
    assert not shown[doc.clauses[0].clause.id].out_of_date
    clause = service.get_clause(db, town.community, "1.1")
    assert [(v.translated_version, v.out_of_date) for v in service.translations_of(db, clause)] == [
        (2, False),
        (1, True),
    ]
    # Nothing is translated into the language the text is written in.
    assert service.translations_for(db, [c.version for c in doc.clauses], "en") == {}


def test_reading_translations_is_one_query_however_many_clauses(db, town):
    imported(db, town)
    for number in ("1.1", "1.2", "2.1"):
        translate(db, town, number)
    doc = service.document(db, town.community)
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    connection = db.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        shown = service.translations_for(db, [c.version for c in doc.clauses], "ja")
    finally:
        event.remove(connection, "before_cursor_execute", record)
    assert len(shown) == 3
    assert len(statements) == 1


def test_a_repealed_clause_is_not_translated(db, town, passed):
    imported(db, town)
    repeal = passed("Drop 2.1", "Not needed.", kind=ProposalKind.repeal, target_clause="2.1")
    service.ratify(db, actor=town.moderator, proposal=repeal, note="", now=NOW)
    with pytest.raises(Conflict):
        translate(db, town, "2.1")


def test_moderators_delete_a_language_with_its_older_translations(db, town, passed):
    imported(db, town)
    translate(db, town, "1.1")
    translate(db, town, "1.1", language="fr", title="Titre", text="Texte.")
    amend = passed("Tighten 1.1", "New.", kind=ProposalKind.amend, target_clause="1.1")
    service.ratify(db, actor=town.moderator, proposal=amend, note="", now=NOW)
    translate(db, town, "1.1", text="新訳。", at=1)
    clause = service.get_clause(db, town.community, "1.1")
    with pytest.raises(PermissionDenied):
        service.delete_translation(
            db, actor=town.fan, community=town.community, clause=clause, language="ja"
        )
    assert (
        service.delete_translation(
            db, actor=town.moderator, community=town.community, clause=clause, language="ja"
        )
        == 2
    )
    assert [v.language for v in service.translations_of(db, clause)] == ["fr"]
    with pytest.raises(NotFound):
        service.delete_translation(
            db, actor=town.moderator, community=town.community, clause=clause, language="ja"
        )


def test_the_wanted_language(db):
    assert service.wanted_language(None, "ja") == "ja"
    assert service.wanted_language(" ", "en") == "en"
    assert service.wanted_language("JA", "en") == "ja"
    with pytest.raises(ValidationFailed) as info:
        service.wanted_language("klingon", "en")
    assert "lang" in info.value.fields


def test_moderators_set_the_language_of_the_guidelines(db, town):
    with pytest.raises(PermissionDenied):
        communities_service.update_community(
            db, actor=town.fan, community=town.community, language="ja"
        )
    with pytest.raises(ValidationFailed) as info:
        communities_service.update_community(
            db, actor=town.moderator, community=town.community, language="xx"
        )
    assert "language" in info.value.fields
    communities_service.update_community(
        db, actor=town.moderator, community=town.community, language="ja"
    )
    assert town.community.language == "ja"
    # Left out: unchanged.
    communities_service.update_community(db, actor=town.moderator, community=town.community)
    assert town.community.language == "ja"
