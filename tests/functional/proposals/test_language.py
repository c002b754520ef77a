"""The language of a proposal in the browser and the API: the form's choice, `lang` on what
its authors wrote, the "written in" label, and the list filtered by language."""

from __future__ import annotations

import re

from app.proposals.models import Proposal
from tests.conftest import log_in, post_form
from tests.functional.api.helpers import assert_error
from tests.functional.proposals.conftest import field_error, input_value, textarea_value

FORM = {
    "title": "Credit the original creator",
    "summary": "Derivative works name what they derive from.",
    "rationale": "Remix culture runs on acknowledgment.",
    "norm_text": "Every shared work credits its sources.",
    "category": "depiction-rules",
    "tags": "credits",
    "kind": "new",
}
JAPANESE = {"Accept-Language": "ja"}
LIST = "/api/v1/communities/miku/proposals"


def selected(html: str, name: str = "language") -> str:
    """The value of the chosen option of the select called `name`."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    assert chosen, f"nothing chosen in {name}"
    return chosen.group(1)


def test_the_form_offers_the_readers_language_first_and_chosen(client, cast):
    log_in(client, "fan_luka")
    html = client.get("/c/miku/proposals/new").text
    assert "Written in" in html
    assert selected(html) == "en"
    html = client.get("/c/miku/proposals/new", headers=JAPANESE).text
    assert selected(html) == "ja"
    options = re.findall(r'<option value="([^"]*)"', html.split('name="language"')[1])
    assert options[0] == "ja"
    assert "zh-Hans" in options


def test_editing_a_proposal_without_a_language_offers_not_recorded(client, db, cast):
    log_in(client, "fan_luka")
    response = post_form(client, "/c/miku/proposals/new", FORM)
    proposal = db.query(Proposal).one()
    proposal.language = None  # written before languages were recorded
    db.flush()
    edit_url = response.headers["location"] + "/edit"
    html = client.get(edit_url, headers=JAPANESE).text
    assert selected(html) == ""
    assert '<option value="" selected>記録なし</option>' in html
    values = {**FORM, "norm_text": "Every shared work credits all its sources.", "language": ""}
    saved = post_form(client, edit_url, {**values, "base_revision": "1"}, headers=JAPANESE)
    assert saved.status_code == 303, saved.text
    db.refresh(proposal)
    assert (proposal.language, proposal.revision_number) == (None, 2)
    # Once recorded, the form offers no way back to "not recorded".
    proposal.language = "en"
    db.flush()
    assert 'value="" selected' not in client.get(edit_url).text.split('name="language"')[1]


def test_a_proposal_saved_in_japanese_says_so_to_other_readers(client, db, cast):
    log_in(client, "fan_luka")
    response = post_form(client, "/c/miku/proposals/new", {**FORM, "language": "ja"})
    assert response.status_code == 303, response.text
    proposal = db.query(Proposal).one()
    assert proposal.language == "ja"

    html = client.get(response.headers["location"]).text
    assert '<h1 lang="ja">Credit the original creator</h1>' in html
    assert '<p class="lead" lang="ja">' in html
    assert html.count('<div class="prose" lang="ja">') == 2  # norm text and rationale
    assert '<span class="written-in">Written in Japanese</span>' in html
    # A reader of the Japanese interface needs no label.
    html = client.get(response.headers["location"], headers=JAPANESE).text
    assert '<h1 lang="ja">' in html
    assert 'class="written-in"' not in html


def test_without_a_choice_the_writers_interface_language_is_recorded(client, db, cast):
    log_in(client, "fan_luka")
    response = post_form(client, "/c/miku/proposals/new", FORM, headers=JAPANESE)
    assert response.status_code == 303, response.text
    assert db.query(Proposal).one().language == "ja"


def test_an_unknown_language_is_shown_by_the_field_with_the_text_kept(client, db, cast):
    log_in(client, "fan_luka")
    response = post_form(client, "/c/miku/proposals/new", {**FORM, "language": "xx"})
    assert response.status_code == 422
    html = response.text
    assert "Choose one of the languages offered" in field_error(html, "f-language")
    assert input_value(html, "title") == FORM["title"]
    assert textarea_value(html, "norm_text") == FORM["norm_text"]
    assert db.query(Proposal).count() == 0


def test_a_field_error_elsewhere_keeps_the_language_chosen(client, cast):
    log_in(client, "fan_luka")
    response = post_form(client, "/c/miku/proposals/new", {**FORM, "title": "", "language": "ko"})
    assert response.status_code == 422
    assert selected(response.text) == "ko"


def test_the_edit_form_shows_the_language_and_an_edit_changes_it(client, db, cast, draft):
    proposal = draft(cast.author)
    log_in(client, cast.author.username)
    url = f"/c/miku/proposals/{proposal.id}/edit"
    assert selected(client.get(url).text) == "en"
    response = post_form(
        client,
        url,
        {**FORM, "base_revision": str(proposal.revision_number), "language": "fr"},
    )
    assert response.status_code == 303, response.text
    db.refresh(proposal)
    assert proposal.language == "fr"
    assert selected(client.get(url).text) == "fr"


def test_the_list_filters_by_language_and_marks_the_titles(client, db, cast, draft):
    english = draft(title="An English proposal", publish=True)
    japanese = draft(title="日本語の提案です", publish=True)
    japanese.language = "ja"
    db.flush()
    html = client.get("/c/miku/proposals?language=ja").text
    assert "日本語の提案です" in html
    assert "An English proposal" not in html
    assert f'<h2 lang="ja"><a href="/c/miku/proposals/{japanese.id}">' in html
    assert '<span class="written-in">Written in Japanese</span>' in html
    assert selected(html) == "ja"
    html = client.get("/c/miku/proposals").text
    assert f'<h2 lang="en"><a href="/c/miku/proposals/{english.id}">' in html
    response = client.get("/c/miku/proposals?language=xx")
    assert response.status_code == 422
    assert "Choose one of the languages offered" in response.text


def test_the_api_reads_and_writes_the_language(client, db, cast, bearer, draft):
    headers = bearer(cast.fan)
    response = client.post(LIST, json={**FORM, "tags": [], "language": "zh-hant"}, headers=headers)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["language"] == "zh-Hant"
    # Left out, an edit keeps it; given, it changes it.
    url = f"/api/v1/proposals/{made['id']}"
    response = client.patch(url, json={"base_revision": 1, "summary": "New."}, headers=headers)
    assert response.json()["language"] == "zh-Hant"
    response = client.patch(url, json={"base_revision": 2, "language": "ja"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["language"] == "ja"
    # Not recorded: null.
    old = draft(publish=True)
    old.language = None
    db.flush()
    assert client.get(f"/api/v1/proposals/{old.id}").json()["language"] is None
    # Without a language the writer's interface language is recorded.
    response = client.post(
        LIST, json={**FORM, "tags": [], "title": "Another one"}, headers={**headers, **JAPANESE}
    )
    assert response.json()["language"] == "ja"


def test_the_api_refuses_an_unknown_language_with_a_field_error(client, db, cast, bearer, draft):
    headers = bearer(cast.fan)
    response = client.post(LIST, json={**FORM, "tags": [], "language": "xx"}, headers=headers)
    error = assert_error(response, 422, "validation_failed")
    assert set(error["fields"]) == {"language"}
    assert "ja" in error["fields"]["language"]
    assert db.query(Proposal).count() == 0
    proposal = draft(cast.fan)
    response = client.patch(
        f"/api/v1/proposals/{proposal.id}",
        json={"base_revision": 1, "language": "english"},
        headers=headers,
    )
    assert "language" in assert_error(response, 422, "validation_failed")["fields"]


def test_the_api_list_filters_by_language(client, db, cast, draft):
    draft(title="An English proposal", publish=True)
    japanese = draft(title="日本語の提案です", publish=True)
    japanese.language = "ja"
    db.flush()
    items = client.get(LIST, params={"language": "ja"}).json()["items"]
    assert [(i["id"], i["language"]) for i in items] == [(japanese.id, "ja")]
    assert len(client.get(LIST).json()["items"]) == 2
    error = assert_error(client.get(LIST, params={"language": "xx"}), 422, "validation_failed")
    assert set(error["fields"]) == {"language"}
