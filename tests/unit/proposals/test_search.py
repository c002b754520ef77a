"""Full-text search of the list: SQLite FTS5 or PostgreSQL tsvector, behind one function.

This module runs on whichever database the suite runs on (`--db=sqlite` / `--db=postgresql`),
so both search paths are covered by the two passes.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.errors import ValidationFailed
from app.proposals import service
from tests.factories import add_member, make_community
from tests.unit.proposals.conftest import World, edit, hours, make_proposal, values


def search(
    db: Session, world: World, q: str, viewer: User | None = None, **filters: Any
) -> set[int]:
    page = service.list_proposals(
        db,
        community=world.community,
        viewer=viewer,
        filters=service.ProposalFilter(q=q, **filters),
        limit=100,
    )
    return {p.id for p in page.items}


@pytest.fixture
def corpus(db, world, now, strategy):
    sexualised = make_proposal(
        db,
        world,
        publish=True,
        title="No sexualised depictions of minors",
        summary="Characters who look underage are never drawn in a sexual way.",
        norm_text="Works must not show the character in sexualised situations.",
    )
    lora = make_proposal(
        db,
        world,
        publish=True,
        category="ai-models",
        title="Label derivative AI models",
        summary="Fine-tunes say what they were trained on.",
        norm_text="Every LoRA or fine-tune names its base model and training data.",
    )
    credit = make_proposal(
        db,
        world,
        publish=True,
        now=now + hours(1),
        title="Credit the original illustrator",
        summary="Derivative drawings name the artist.",
        norm_text="Every derivative drawing credits the original illustrator by name.",
    )
    draft = make_proposal(
        db,
        world,
        title="Secret draft about illustrators",
        summary="Not yet for everyone.",
        norm_text="Illustrators unite.",
    )
    return {"sexualised": sexualised, "lora": lora, "credit": credit, "draft": draft}


def test_search_works_on_this_database(db, world, corpus, db_kind):
    dialect = db.get_bind().dialect.name
    assert dialect == db_kind
    assert search(db, world, "illustrator") == {corpus["credit"].id}


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("illustrator", {"credit"}),  # title
        ("artist", {"credit"}),  # summary
        ("training", {"lora"}),  # norm text
        ("LoRA", {"lora"}),  # any case
        ("lora", {"lora"}),
        ("derivative", {"lora", "credit"}),  # in several
        ("sexual", {"sexualised"}),  # a prefix of "sexualised"
        ("sexualised", {"sexualised"}),
        ("illus", {"credit"}),
        ("every derivative", {"lora", "credit"}),
        ("every drawing", {"credit"}),  # all words, in any field
        ("drawing every", {"credit"}),  # in any order
        ("every minors", set()),  # no proposal has both
        ("Derivative  MODELS", {"lora"}),
        ("nothing-like-this", set()),
        ("zebra", set()),
    ],
)
def test_search_finds_words_in_title_summary_and_norm_text(db, world, corpus, q, found):
    assert search(db, world, q) == {corpus[name].id for name in found}


def test_drafts_are_found_only_by_their_authors(db, world, corpus):
    assert search(db, world, "illustrators") == set()
    assert search(db, world, "illustrators", world.author) == {corpus["draft"].id}
    assert search(db, world, "illustrator", world.fan) == {corpus["credit"].id}


def test_search_combines_with_filters(db, world, corpus):
    assert search(db, world, "derivative", category="ai-models") == {corpus["lora"].id}
    assert search(db, world, "derivative", tag="credit") == {corpus["lora"].id, corpus["credit"].id}
    assert search(db, world, "derivative", state="withdrawn") == set()


def test_search_stays_in_its_community(db, world, now, corpus):
    other = make_community(db)
    add_member(db, other, world.author)
    service.create_proposal(
        db,
        actor=world.author,
        community=other,
        values=values(category="", title="Illustrator rules elsewhere"),
        now=now,
    )
    assert search(db, world, "illustrator", world.author) == {
        corpus["credit"].id,
        corpus["draft"].id,
    }


def test_search_results_are_sorted_and_paged(db, world, corpus):
    first = service.list_proposals(
        db,
        community=world.community,
        viewer=None,
        filters=service.ProposalFilter(q="derivative", sort="newest"),
        limit=1,
    )
    assert [p.id for p in first.items] == [corpus["credit"].id]
    second = service.list_proposals(
        db,
        community=world.community,
        viewer=None,
        filters=service.ProposalFilter(q="derivative", sort="newest"),
        limit=1,
        cursor=first.next_cursor,
    )
    assert [p.id for p in second.items] == [corpus["lora"].id]
    assert second.next_cursor is None


def test_search_reflects_edits(db, world, now, corpus):
    credit = corpus["credit"]
    edit(
        db,
        credit,
        world.author,
        now=now + hours(2),
        title="Credit the original painter",
        norm_text="Every remix names the painter.",
    )
    assert search(db, world, "remix") == {credit.id}
    assert search(db, world, "painter") == {credit.id}
    assert search(db, world, "illustrator") == set()
    assert search(db, world, "credits") == set()
    # Still found by what did not change.
    assert search(db, world, "artist") == {credit.id}


def test_withdrawn_proposals_are_still_found(db, world, now, corpus):
    service.withdraw(db, actor=world.author, proposal=corpus["lora"], reason="", now=now)
    assert search(db, world, "lora") == {corpus["lora"].id}


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '""',
        '"unterminated illustrator',
        "*",
        "illustrator*",
        "*illustrator",
        "NEAR",
        "NEAR(illustrator credit)",
        "illustrator NEAR credit",
        "-illustrator",
        "credit -illustrator",
        "title:illustrator",
        ":",
        ":*",
        "(",
        "(illustrator",
        "illustrator)",
        "AND",
        "illustrator AND credit",
        "OR",
        "illustrator OR",
        "NOT illustrator",
        "^illustrator",
        "+illustrator",
        "illustrator & credit",
        "illustrator | credit",
        "!illustrator",
        "illustrator <-> credit",
        "illustrator <2> credit",
        "'illustrator'",
        "illustrator's",
        "\\",
        "{title}: illustrator",
        "%",
        "_",
        "__",
        "fan_art",
        "a_b_",
        "3.2",
        "ボカロ",
        "二次創作",
        "Ünïcödé",
        "🎤",
        "illustrator\x00credit",
        "\x00",
        " ",
        "a " * 60,
    ],
)
def test_query_syntax_never_raises(db, world, corpus, q):
    found = search(db, world, q)
    assert found <= {p.id for p in corpus.values()}


@pytest.mark.parametrize(
    "q",
    [
        '"illustrator"',
        "illustrator*",
        "(illustrator)",
        "-illustrator",
        "illustrator:",
        "illustrator:*",
        "'illustrator'",
        '"illustrator',
        "illustrator)",
    ],
)
def test_syntax_characters_are_ignored_around_words(db, world, corpus, q):
    assert search(db, world, q) == {corpus["credit"].id}


def test_operator_words_are_searched_as_words(db, world, now, corpus):
    near = make_proposal(
        db, world, publish=True, title="Not near the stage", norm_text="Or anywhere and ever."
    )
    assert search(db, world, "near") == {near.id}
    assert search(db, world, "NOT NEAR") == {near.id}
    assert search(db, world, "or anywhere AND") == {near.id}
    # "title:" is no column filter either: both words must be there.
    assert search(db, world, "title:illustrator") == set()


def test_only_the_first_words_of_a_long_query_count(db, world, corpus):
    q = "illustrator " + " ".join(f"zz{n}" for n in range(20))
    # Words past the tenth are dropped; the first ten must all match, and zz… do not.
    assert search(db, world, q) == set()
    assert search(db, world, "illustrator " * 30) == {corpus["credit"].id}


def test_a_query_of_only_punctuation_filters_nothing(db, world, corpus):
    everyone = search(db, world, "")
    assert search(db, world, "?!*") == everyone
    assert everyone == {corpus["sexualised"].id, corpus["lora"].id, corpus["credit"].id}


def test_a_long_query_is_refused_by_the_filter_check():
    with pytest.raises(ValidationFailed):
        service.check_filter({"q": "word " * 41})
