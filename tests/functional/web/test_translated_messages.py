"""What the services say comes out in the reader's language: a form's field error and a flash
message (the API's errors: tests/functional/notifications/test_languages.py)."""

from __future__ import annotations

import re
from html import unescape

from tests.conftest import post_form
from tests.factories import PASSWORD, make_user

JAPANESE = {"Accept-Language": "ja-JP,ja;q=0.9"}
FORM = {
    "username": "mikufan",
    "display_name": "Miku Fan",
    "email": "miku@example.org",
    "password": "short",
}


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert match, f"no error for {field_id}"
    return unescape(match.group(1))


def test_a_form_error_is_in_the_readers_language(client):
    english = post_form(client, "/register", FORM)
    assert english.status_code == 422
    assert field_error(english.text, "f-password") == "Use at least 10 characters."
    japanese = post_form(client, "/register", FORM, headers=JAPANESE)
    assert japanese.status_code == 422
    assert field_error(japanese.text, "f-password") == "10文字以上で入力してください。"


def test_the_footers_choice_translates_form_errors_too(client):
    client.cookies.set("nf_lang", "ja")
    response = post_form(client, "/register", FORM)
    assert response.status_code == 422
    assert field_error(response.text, "f-password") == "10文字以上で入力してください。"


def test_a_flash_message_is_in_the_readers_language(client, db):
    make_user(db, "miku")
    client.cookies.set("nf_lang", "ja")
    signed_in = post_form(
        client, "/login", {"login": "miku", "password": PASSWORD}, follow_redirects=True
    )
    assert "User miku としてログインしました。" in signed_in.text
