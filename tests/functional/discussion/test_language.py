"""The language of comments: the compact choice on the comment, reply and edit forms, `lang`
on each comment's body with a label when it is not the reader's, and the API."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import ratelimit
from app.discussion.models import Comment
from tests.conftest import log_in, post_form
from tests.functional.api.helpers import assert_error
from tests.functional.discussion.conftest import Cast
from tests.unit.discussion.conftest import post

HTMX = {"HX-Request": "true"}
JAPANESE = {"Accept-Language": "ja"}


def page_url(cast: Cast, suffix: str = "") -> str:
    return f"/c/miku/proposals/{cast.proposal.id}{suffix}"


def selected(html: str, select_id: str) -> str:
    select = re.search(rf'<select id="{select_id}" name="language"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {select_id}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(1))
    assert chosen, f"nothing chosen in {select_id}"
    return chosen.group(1)


def newest(db: Session) -> Comment:
    comment = db.scalars(select(Comment).order_by(Comment.id.desc()).limit(1)).one()
    db.refresh(comment)
    return comment


def test_the_comment_and_reply_forms_offer_the_readers_language(client, db, cast: Cast):
    parent = post(db, cast.proposal, cast.author, "A first thought.")
    log_in(client, "fan_luka")
    html = client.get(page_url(cast)).text
    assert selected(html, "language-new") == "en"
    reply_form = page_url(cast, f"/comments/{parent.id}/reply")
    html = client.get(reply_form, headers={"HX-Request": "true"}).text
    assert selected(html, f"language-{parent.id}") == "en"
    html = client.get(page_url(cast), headers=JAPANESE).text
    assert selected(html, "language-new") == "ja"
    html = client.get(reply_form, headers={**JAPANESE, "HX-Request": "true"}).text
    assert selected(html, f"language-{parent.id}") == "ja"


def test_a_comment_in_japanese_is_marked_for_readers_of_english(client, db, cast: Cast):
    log_in(client, "fan_luka")
    response = post_form(
        client, page_url(cast, "/comments"), {"body": "賛成です。", "language": "ja"}
    )
    assert response.status_code == 303, response.text
    comment = newest(db)
    assert comment.language == "ja"
    html = client.get(page_url(cast)).text
    assert '<div class="prose comment-body" lang="ja">' in html
    assert '<span class="written-in">Written in Japanese</span>' in html
    html = client.get(page_url(cast), headers=JAPANESE).text
    assert '<div class="prose comment-body" lang="ja">' in html
    # Only the proposal, written in English, is labelled for a reader of Japanese.
    assert html.count('class="written-in"') == 1


def test_a_reply_by_htmx_records_its_language(client, db, cast: Cast):
    parent = post(db, cast.proposal, cast.author, "A first thought.")
    log_in(client, "fan_luka")
    response = post_form(
        client,
        page_url(cast, "/comments?level=1"),
        {"body": "Ein Gedanke.", "parent": str(parent.id), "language": "de"},
        headers=HTMX,
    )
    assert response.status_code == 201, response.text
    assert newest(db).language == "de"
    assert 'lang="de"' in response.text


def test_an_unknown_language_keeps_the_text_and_says_why(client, db, cast: Cast):
    log_in(client, "fan_luka")
    before = db.query(Comment).count()
    response = post_form(
        client,
        page_url(cast, "/comments"),
        {"body": "Kept text.", "language": "xx"},
        headers={**HTMX, "HX-Trigger": "comment-form-new"},
    )
    assert response.status_code == 422
    assert "Choose one of the languages offered" in response.text
    assert "Kept text." in response.text
    assert db.query(Comment).count() == before
    ratelimit.clear(db, bucket="comment", key=str(cast.fan.id))
    # A problem elsewhere keeps the language chosen.
    response = post_form(client, page_url(cast, "/comments"), {"body": "", "language": "ko"})
    assert response.status_code == 422
    assert selected(response.text, "language-new") == "ko"


def test_the_edit_page_changes_the_language(client, db, cast: Cast):
    comment = post(db, cast.proposal, cast.fan, "Hello.")
    log_in(client, "fan_luka")
    url = page_url(cast, f"/comments/{comment.id}/edit")
    assert selected(client.get(url).text, "f-language") == "en"
    response = post_form(client, url, {"body": "Bonjour.", "language": "fr"})
    assert response.status_code == 303, response.text
    db.refresh(comment)
    assert (comment.body, comment.language) == ("Bonjour.", "fr")
    response = post_form(client, url, {"body": "Bonjour.", "language": "zz"})
    assert response.status_code == 422
    assert "Choose one of the languages offered" in response.text


def test_the_api_reads_and_writes_the_language(client, db, cast: Cast, bearer):
    headers = bearer(cast.fan)
    url = f"/api/v1/proposals/{cast.proposal.id}/comments"
    response = client.post(url, json={"body": "賛成です。", "language": "ja"}, headers=headers)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["language"] == "ja"
    comment_url = f"/api/v1/comments/{made['id']}"
    response = client.patch(comment_url, json={"body": "とても賛成です。"}, headers=headers)
    assert response.json()["language"] == "ja"
    response = client.patch(comment_url, json={"language": "ko"}, headers=headers)
    assert response.json()["language"] == "ko"
    ratelimit.clear(db, bucket="comment", key=str(cast.fan.id))
    response = client.post(url, json={"body": "Plain."}, headers={**headers, **JAPANESE})
    assert response.json()["language"] == "ja"

    error = assert_error(
        client.post(url, json={"body": "Hi.", "language": "xx"}, headers=headers),
        422,
        "validation_failed",
    )
    assert set(error["fields"]) == {"language"}
    error = assert_error(
        client.patch(comment_url, json={"language": "english"}, headers=headers),
        422,
        "validation_failed",
    )
    assert set(error["fields"]) == {"language"}
