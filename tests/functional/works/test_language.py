"""The language of a work's title, description and excerpt: the form, the pages, the API."""

from __future__ import annotations

import re

from app.works.models import Work
from tests.conftest import log_in, post_form
from tests.functional.api.helpers import assert_error

FORM = {
    "title": "Rin's Dance",
    "creator_name": "Len",
    "url": "https://example.org/rins-dance",
    "medium": "video",
    "license": "CC BY 4.0",
    "description": "A **dance** cover.",
}
LIST = "/api/v1/communities/miku/works"


def selected(html: str) -> str:
    select = re.search(r'<select[^>]*name="language"[^>]*>(.*?)</select>', html, re.S)
    assert select, "no language select"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    assert chosen, "no language chosen"
    return chosen.group(1)


def test_a_work_registered_in_the_form_records_its_language(client, db, cast):
    log_in(client, "member_len")
    assert selected(client.get("/c/miku/works/new").text) == "en"
    response = post_form(client, "/c/miku/works/new", {**FORM, "language": "ja"})
    assert response.status_code == 303, response.text
    work = db.query(Work).one()
    assert work.language == "ja"
    html = client.get(response.headers["location"]).text
    assert '<h1 lang="ja">Rin&#39;s Dance</h1>' in html
    assert '<div class="prose" lang="ja">' in html
    assert '<span class="written-in">Written in Japanese</span>' in html
    html = client.get("/c/miku/works").text
    assert '<h2 lang="ja">' in html
    edit = client.get(f"/c/miku/works/{work.id}/edit").text
    assert selected(edit) == "ja"


def test_an_unknown_language_keeps_what_was_typed(client, db, cast):
    log_in(client, "member_len")
    response = post_form(client, "/c/miku/works/new", {**FORM, "language": "xx"})
    assert response.status_code == 422
    assert "Choose one of the languages offered" in response.text
    assert 'value="Rin&#39;s Dance"' in response.text
    assert db.query(Work).count() == 0
    response = post_form(client, "/c/miku/works/new", {**FORM, "title": "", "language": "it"})
    assert response.status_code == 422
    assert selected(response.text) == "it"


def test_the_api_reads_and_writes_the_language(client, db, cast, bearer, work):
    headers = bearer(cast.member)
    response = client.post(LIST, json={**FORM, "language": "es"}, headers=headers)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["language"] == "es"
    url = f"/api/v1/works/{made['id']}"
    assert client.patch(url, json={"title": "Baile"}, headers=headers).json()["language"] == "es"
    assert client.patch(url, json={"language": "pt"}, headers=headers).json()["language"] == "pt"
    error = assert_error(
        client.patch(url, json={"language": "xx"}, headers=headers), 422, "validation_failed"
    )
    assert set(error["fields"]) == {"language"}
    error = assert_error(
        client.post(LIST, json={**FORM, "language": "español"}, headers=headers),
        422,
        "validation_failed",
    )
    assert set(error["fields"]) == {"language"}
    old = work()
    old.language = None
    db.flush()
    assert client.get(f"/api/v1/works/{old.id}").json()["language"] is None
