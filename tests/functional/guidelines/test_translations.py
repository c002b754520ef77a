"""Translations of clauses on the pages and in the API: the reader's language or ?lang=, the
authoritative text marked and one click away, stale translations flagged, moderators' forms
and endpoints, and validators that follow the translations."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy.orm import Session

from app.db import utcnow
from app.guidelines import service
from tests.conftest import log_in, post_form
from tests.functional.polls.conftest import Forum, error

JA_TITLE = "性的な描写はしない"
JA_TEXT = "キャラクターは**16歳**として描かれます。"


def translate(db: Session, forum: Forum, number: str, title: str, text: str) -> None:
    service.save_translation(
        db,
        actor=forum.moderator,
        community=forum.community,
        clause=service.get_clause(db, forum.community, number),
        language="ja",
        title=title,
        text=text,
        now=utcnow(),
    )


def test_the_document_in_the_readers_language_marks_the_authoritative_text(
    client, db, forum, rules
):
    translate(db, forum, "1.1", JA_TITLE, JA_TEXT)
    english = client.get("/c/miku/guidelines")
    assert JA_TITLE not in english.text
    assert 'hreflang="ja"' in english.text  # the picker offers it
    page = client.get("/c/miku/guidelines?lang=ja")
    assert page.status_code == 200
    html = unescape(page.text)
    assert f'<span lang="ja">{JA_TITLE}</span>' in html
    assert (
        '<div class="prose clause-translation" lang="ja"><p>キャラクターは<strong>16歳</strong>'
        in html
    )
    clause = html.split('id="clause-1.1"')[1].split('class="clause card"')[0]
    translated, authoritative = clause.split("<details", 1)
    assert "The character is presented as 16." not in translated
    assert '<div lang="en">' in authoritative
    assert "The character is presented as 16." in authoritative
    assert "text is authoritative" in html
    # The interface language chooses when ?lang= is not given.
    assert JA_TITLE in unescape(
        client.get("/c/miku/guidelines", headers={"Accept-Language": "ja"}).text
    )
    assert client.get("/c/miku/guidelines?lang=xx").status_code == 422
    # Asking for the authoritative language translates nothing.
    assert JA_TITLE not in unescape(client.get("/c/miku/guidelines?lang=en").text)


def test_an_out_of_date_translation_is_flagged_after_the_authoritative_text(
    client, db, forum, rules, passed
):
    translate(db, forum, "1.2", "暴力", "暴力は控えめに。")
    proposal = passed(
        "Gore is never fine",
        "Violence stays non-graphic, and gore is never shown.",
        kind="amend",
        target_clause="1.2",
    )
    service.ratify(db, actor=forum.moderator, proposal=proposal, note="", now=utcnow())
    html = unescape(client.get("/c/miku/guidelines?lang=ja").text)
    clause = html.split('id="clause-1.2"')[1].split('class="clause card"')[0]
    warning = "This translation was made for an earlier version of the clause"
    assert warning in clause
    assert clause.index("gore is never shown") < clause.index("暴力は控えめに。")
    clause_page = unescape(client.get("/c/miku/guidelines/clauses/1.2?lang=ja").text)
    assert warning in clause_page
    assert "out of date" in clause_page


def test_the_etag_follows_translations_and_the_language(client, db, forum, rules):
    before = client.get("/c/miku/guidelines?lang=ja")
    api = client.get("/api/v1/communities/miku/guidelines?lang=ja")
    english_api = client.get("/api/v1/communities/miku/guidelines?lang=en")
    assert api.headers["etag"] != english_api.headers["etag"]
    translate(db, forum, "1.1", JA_TITLE, JA_TEXT)
    for url, etag in (
        ("/c/miku/guidelines?lang=ja", before.headers["etag"]),
        ("/api/v1/communities/miku/guidelines?lang=ja", api.headers["etag"]),
    ):
        assert client.get(url, headers={"If-None-Match": etag}).status_code == 200, url
    edited = client.get("/api/v1/communities/miku/guidelines?lang=ja")
    translate(db, forum, "1.1", JA_TITLE, "直しました。")
    again = client.get(
        "/api/v1/communities/miku/guidelines?lang=ja",
        headers={"If-None-Match": edited.headers["etag"]},
    )
    assert again.status_code == 200
    assert "Accept-Language" in before.headers["vary"]


def test_a_moderator_translates_on_the_clause_page_and_deletes(client, db, forum, rules):
    log_in(client, forum.moderator.username)
    page = client.get("/c/miku/guidelines/clauses/1.1")
    assert "Translate the current text" in page.text
    bad = post_form(
        client,
        "/c/miku/guidelines/clauses/1.1/translations",
        {"language": "en", "title": "Kept title", "text": "Kept text"},
    )
    assert bad.status_code == 422
    assert "Kept title" in bad.text
    assert "Kept text" in bad.text
    done = post_form(
        client,
        "/c/miku/guidelines/clauses/1.1/translations",
        {"language": "ja", "title": JA_TITLE, "text": JA_TEXT},
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith("/c/miku/guidelines/clauses/1.1?lang=ja")
    shown = unescape(client.get("/c/miku/guidelines/clauses/1.1?lang=ja").text)
    assert f'<span lang="ja">{JA_TITLE}</span>' in shown
    # The form starts from the saved translation.
    assert f'value="{JA_TITLE}"' in shown
    gone = post_form(client, "/c/miku/guidelines/clauses/1.1/translations/ja/delete", {})
    assert gone.status_code == 303
    assert service.translations_of(db, service.get_clause(db, forum.community, "1.1")) == []


def test_fans_may_not_translate(client, forum, rules):
    log_in(client, forum.fan.username)
    assert "Translate the current text" not in client.get("/c/miku/guidelines/clauses/1.1").text
    refused = post_form(
        client,
        "/c/miku/guidelines/clauses/1.1/translations",
        {"language": "ja", "title": JA_TITLE, "text": JA_TEXT},
    )
    assert refused.status_code == 403
    unknown = client.get("/c/miku/guidelines/clauses/1.1?lang=xx")
    assert unknown.status_code == 422
    assert "Choose one of" in unknown.text


def test_the_api_gives_translations_and_takes_them_from_moderators(
    client, db, forum, rules, bearer
):
    url = "/api/v1/communities/miku/guidelines/clauses/1.1/translations/ja"
    body = {"title": JA_TITLE, "text": JA_TEXT}
    error(client.put(url, json=body, headers=bearer(forum.fan)), 403)
    moderator = bearer(forum.moderator)
    saved = client.put(url, json=body, headers=moderator)
    assert saved.status_code == 200, saved.text
    assert saved.json()["title"] == JA_TITLE
    assert saved.json()["out_of_date"] is False
    assert saved.json()["translated_version"] == 1
    same = error(client.put(url.replace("/ja", "/en"), json=body, headers=moderator), 422)
    assert "language" in same["fields"]
    error(client.put(url.replace("/ja", "/xx"), json=body, headers=moderator), 422)

    doc = client.get("/api/v1/communities/miku/guidelines?lang=ja").json()
    assert doc["lang"] == "ja"
    first = doc["sections"][0]["clauses"][0]
    assert first["language"] == "en"
    assert first["translation"]["language"] == "ja"
    assert first["translation"]["text"] == JA_TEXT
    assert doc["sections"][0]["clauses"][1]["translation"] is None
    plain = client.get("/api/v1/communities/miku/guidelines").json()
    assert plain["sections"][0]["clauses"][0]["translation"] is None
    unknown = error(client.get("/api/v1/communities/miku/guidelines?lang=xx"), 422)
    assert "lang" in unknown["fields"]

    clause = client.get("/api/v1/communities/miku/guidelines/clauses/1.1?lang=ja").json()
    assert clause["translation"]["title"] == JA_TITLE
    listed = client.get("/api/v1/communities/miku/guidelines/clauses/1.1/translations").json()
    assert listed["language"] == "en"
    assert [(t["language"], t["translator"]) for t in listed["items"]] == [
        ("ja", forum.moderator.username)
    ]

    markdown = client.get("/c/miku/guidelines.md?lang=ja").text
    assert f"### 1.1 {JA_TITLE}" in markdown
    assert "> The character is presented as 16." in markdown

    error(client.delete(url, headers=bearer(forum.fan)), 403)
    assert client.delete(url, headers=moderator).status_code == 204
    error(client.delete(url, headers=moderator), 404)


def picker(html: str) -> list[tuple[str, bool]]:
    """(language, marked authoritative) in the guidelines page's language picker."""
    found = re.findall(r'hreflang="([^"]+)"[^>]*>[^<]*</a>( <span class="muted small">)?', html)
    return [(tag, bool(mark)) for tag, mark in found]


def test_the_picker_marks_the_language_the_clauses_are_written_in(client, db, forum, rules):
    translate(db, forum, "1.1", JA_TITLE, JA_TEXT)
    assert picker(client.get("/c/miku/guidelines").text) == [("en", True), ("ja", False)]
    # The community now writes in Japanese, but its clauses were ratified in English.
    forum.community.language = "ja"
    db.flush()
    assert picker(client.get("/c/miku/guidelines").text) == [("en", True), ("ja", False)]


def test_moderators_set_the_guidelines_language(client, db, forum, bearer):
    log_in(client, forum.moderator.username)
    assert 'name="language"' in client.get("/c/miku/edit").text
    form = {"name": forum.community.name, "description": "", "language": "fr"}
    assert post_form(client, "/c/miku/edit", form).status_code == 303
    db.refresh(forum.community)
    assert forum.community.language == "fr"
    refused = post_form(client, "/c/miku/edit", {**form, "language": "xx"})
    assert refused.status_code == 422
    assert 'id="f-language-error"' in refused.text
    response = client.patch(
        "/api/v1/communities/miku", json={"language": "ja"}, headers=bearer(forum.moderator)
    )
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "ja"
    error(
        client.patch(
            "/api/v1/communities/miku", json={"language": "xx"}, headers=bearer(forum.moderator)
        ),
        422,
    )
    db.refresh(forum.community)
    assert forum.community.language == "ja"
