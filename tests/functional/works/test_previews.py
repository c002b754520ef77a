"""Preview images through HTTP: the page form, serving the bytes, the API, and the reveal."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import event, func, select

from app.web.caching import IMMUTABLE
from app.works import images, service
from app.works.models import WorkImage
from tests.conftest import csrf_token, log_in, post_form
from tests.support.images import image_bytes, jpeg_with_exif, opened

PNG = image_bytes("PNG", (640, 320))


def count(db) -> int:
    return db.scalar(select(func.count()).select_from(WorkImage)) or 0


def upload(client, url: str, data: bytes, *, name: str = "picture.png", token: bool = True):
    fields = {"csrf_token": csrf_token(client)} if token else {}
    return client.post(url, data=fields, files={"file": (name, data, "image/png")})


def page_of(work) -> str:
    return f"/c/miku/works/{work.id}"


@pytest.fixture
def picture(work):
    return work(title="Miku design", creator_name="Crypton", medium="image")


def stored(db, work) -> WorkImage:
    db.expire_all()
    preview = service.preview_of(db, work)
    assert preview is not None
    return preview


# The work page: upload, errors, removal.


def test_the_editor_uploads_a_preview_through_the_page(client, db, cast, picture):
    log_in(client, "member_len")
    page = client.get(page_of(picture)).text
    assert 'enctype="multipart/form-data"' in page
    assert 'name="file" type="file"' in page
    form = page[page.index('class="preview-form"') :]
    assert 'name="csrf_token"' in form[: form.index("</form>")]

    response = upload(client, page_of(picture) + "/preview", jpeg_with_exif((900, 450)))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == page_of(picture)
    preview = stored(db, picture)
    assert preview.content_type == "image/jpeg"
    assert preview.uploaded_by_id == cast.member.id

    html = client.get(page_of(picture)).text
    assert "Preview image saved." in html
    thumb = f"/c/miku/works/{picture.id}/preview/thumb?v={preview.digest}"
    full = f"/c/miku/works/{picture.id}/preview?v={preview.digest}"
    assert f'<a href="{full}"><img src="{thumb}" width="480" height="240"' in html
    assert "Replace the preview image" in html
    assert "Remove the preview image" in html


def test_the_upload_needs_the_csrf_token(client, db, cast, picture):
    log_in(client, "member_len")
    response = upload(client, page_of(picture) + "/preview", PNG, token=False)
    assert response.status_code == 403
    assert count(db) == 0


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"%PDF-1.7 definitely not a picture", images.WRONG_FORMAT),
        (image_bytes("GIF"), images.WRONG_FORMAT),
        (PNG[: len(PNG) // 2], images.DAMAGED),
        (PNG + b"\x00" * images.MAX_BYTES, images.TOO_LARGE),
        (b"", images.EMPTY),
    ],
)
def test_a_bad_file_shows_its_error_next_to_the_field(client, db, cast, picture, data, problem):
    log_in(client, "member_len")
    response = upload(client, page_of(picture) + "/preview", data)
    assert response.status_code == 422
    html = response.text
    assert f'<p class="field-error" id="f-file-error" role="alert">{problem}</p>' in html
    assert 'aria-invalid="true"' in html[html.index('id="f-file"') :][:400]
    assert '<h1 lang="en">Miku design</h1>' in html
    assert count(db) == 0


def test_a_form_sent_without_choosing_a_file(client, db, cast, picture):
    log_in(client, "member_len")
    response = post_form(client, page_of(picture) + "/preview")
    assert response.status_code == 422
    assert images.EMPTY in response.text
    assert count(db) == 0


def test_a_non_image_work_has_no_form_and_refuses_uploads(client, db, cast, work):
    video = work(medium="video")
    log_in(client, "member_len")
    assert 'name="file"' not in client.get(page_of(video)).text
    response = upload(client, page_of(video) + "/preview", PNG)
    assert response.status_code == 422
    assert service.ONLY_IMAGES in response.text
    assert count(db) == 0


def test_others_see_no_form_and_may_not_upload_or_remove(client, db, cast, picture):
    assert upload(client, page_of(picture) + "/preview", PNG).status_code == 401
    log_in(client, "fan_luka")
    assert 'name="file"' not in client.get(page_of(picture)).text
    assert upload(client, page_of(picture) + "/preview", PNG).status_code == 403
    assert count(db) == 0
    service.set_preview(db, actor=cast.member, work=picture, data=PNG, now=picture.created_at)
    assert post_form(client, page_of(picture) + "/preview/remove").status_code == 403
    assert count(db) == 1


def test_a_moderator_replaces_and_then_removes_it(client, db, cast, picture):
    service.set_preview(db, actor=cast.member, work=picture, data=PNG, now=picture.created_at)
    old = stored(db, picture).digest
    log_in(client, "mod_rin")
    replaced = upload(client, page_of(picture) + "/preview", image_bytes("WEBP"), name="x.webp")
    assert replaced.status_code == 303
    assert stored(db, picture).digest != old
    assert count(db) == 1
    removed = post_form(client, page_of(picture) + "/preview/remove")
    assert removed.status_code == 303
    assert count(db) == 0
    html = client.get(page_of(picture)).text
    assert "Preview image removed." in html
    assert "/preview/thumb" not in html
    assert "Upload a preview image" in html


def test_a_work_of_another_community_is_not_found(client, db, cast, work):
    foreign = work(actor=cast.outsider, community=cast.other, medium="image")
    log_in(client, "outsider")
    assert upload(client, f"/c/miku/works/{foreign.id}/preview", PNG).status_code == 404
    assert client.get(f"/c/miku/works/{foreign.id}/preview").status_code == 404


# Serving the bytes.


def test_the_preview_and_thumbnail_are_served_with_caching_headers(client, db, cast, picture):
    service.set_preview(db, actor=cast.member, work=picture, data=PNG, now=picture.created_at)
    preview = stored(db, picture)
    url = page_of(picture) + "/preview"

    full = client.get(url, params={"v": preview.digest})
    assert full.status_code == 200
    assert full.headers["content-type"] == "image/png"
    assert full.headers["content-disposition"].startswith("inline")
    assert full.headers["x-content-type-options"] == "nosniff"
    assert full.headers["cache-control"] == IMMUTABLE
    assert full.headers["etag"] == f'"{preview.digest}"'
    assert hashlib.sha256(full.content).hexdigest() == preview.digest
    assert opened(full.content).size == (640, 320)

    thumb = client.get(url + "/thumb", params={"v": preview.digest})
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/webp"
    assert thumb.headers["cache-control"] == IMMUTABLE
    assert thumb.headers["etag"] != full.headers["etag"]
    assert opened(thumb.content).size == (480, 240)

    for params in ({}, {"v": "0" * 64}):
        unversioned = client.get(url, params=params)
        assert unversioned.status_code == 200
        assert unversioned.headers["cache-control"] == "no-cache"

    again = client.get(url, headers={"If-None-Match": full.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == full.headers["etag"]
    listed = client.get(url + "/thumb", headers={"If-None-Match": f'"x", {thumb.headers["etag"]}'})
    assert listed.status_code == 304
    stale = client.get(url, headers={"If-None-Match": '"an-old-digest"'})
    assert stale.status_code == 200


def test_no_preview_is_not_found(client, cast, picture, work):
    assert client.get(page_of(picture) + "/preview").status_code == 404
    assert client.get(page_of(picture) + "/preview/thumb").status_code == 404
    assert client.get("/c/miku/works/999999/preview").status_code == 404


# Content notes: the whole work behind a click.


def reveal_of(html: str) -> str:
    match = re.search(r'<details class="reveal">(.*?)</details>', html, re.S)
    assert match, "no reveal on the page"
    return match.group(1)


def test_content_notes_put_the_whole_work_behind_a_reveal(client, db, cast, work):
    racy = work(
        title="Racy pinup",
        medium="image",
        url="https://example.org/racy",
        content_notes="suggestive, spoilers",
        description="The **description**.",
    )
    service.set_preview(db, actor=cast.member, work=racy, data=PNG, now=racy.created_at)
    html = client.get(page_of(racy)).text
    inside = reveal_of(html)
    assert re.search(
        r"<summary>\s*Content notes: suggestive, spoilers — show the work\s*</summary>", inside
    )
    for part in ('href="https://example.org/racy"', "/preview/thumb?v=", "<strong>description"):
        assert part in inside
        assert html.count(part) == 1, part  # nowhere outside the reveal
    assert "<details open" not in html
    assert 'class="reveal" open' not in html


def test_a_text_works_excerpt_is_behind_the_reveal_too(client, cast, work):
    story = work(medium="text", content_notes="violence", excerpt="The secret passage.")
    html = client.get(page_of(story)).text
    assert "The secret passage." in reveal_of(html)
    assert html.count("The secret passage.") == 1


def test_a_work_without_notes_shows_its_content_directly(client, db, cast, picture):
    service.set_preview(db, actor=cast.member, work=picture, data=PNG, now=picture.created_at)
    html = client.get(page_of(picture)).text
    assert 'class="reveal"' not in html
    assert "/preview/thumb?v=" in html


# The list.


def test_the_list_shows_thumbnails_but_not_for_works_with_notes(client, db, cast, picture, work):
    racy = work(title="Racy pinup", medium="image", content_notes="suggestive")
    for w in (picture, racy):
        service.set_preview(db, actor=cast.member, work=w, data=PNG, now=w.created_at)
    html = client.get("/c/miku/works").text
    assert f"/c/miku/works/{picture.id}/preview/thumb?v=" in html
    assert f"/c/miku/works/{racy.id}/preview" not in html
    assert "Content notes: suggestive" in html


def test_lists_never_read_the_image_bytes(client, db, cast, work, connection):
    made = [work(title=f"Picture {i}", medium="image") for i in range(4)]
    for w in made:
        service.set_preview(db, actor=cast.member, work=w, data=PNG, now=w.created_at)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        assert client.get("/c/miku/works").status_code == 200
        page_statements = list(statements)
        statements.clear()
        body = client.get("/api/v1/communities/miku/works").json()
    finally:
        event.remove(connection, "before_cursor_execute", record)
    for found in (page_statements, statements):
        on_images = [s for s in found if "work_images" in s]
        assert len(on_images) == 1, on_images
        assert "thumb_data" not in on_images[0]
        assert "work_images.data" not in on_images[0]
    assert all(item["thumbnail_url"] for item in body["items"])


# The API.


def api_put(client, work_id: int, data: bytes, headers: dict[str, str] | None = None):
    return client.put(
        f"/api/v1/works/{work_id}/preview",
        files={"file": ("p.png", data, "image/png")},
        headers=headers or {},
    )


def test_api_put_and_delete(client, db, cast, picture, bearer):
    before = client.get(f"/api/v1/works/{picture.id}").json()
    assert before["preview_url"] is None
    assert before["thumbnail_url"] is None

    response = api_put(client, picture.id, PNG, bearer(cast.member))
    assert response.status_code == 200, response.text
    body = response.json()
    digest = stored(db, picture).digest
    assert body["preview_url"] == f"http://testserver/c/miku/works/{picture.id}/preview?v={digest}"
    assert body["thumbnail_url"] == (
        f"http://testserver/c/miku/works/{picture.id}/preview/thumb?v={digest}"
    )
    assert client.get(f"/api/v1/works/{picture.id}").json()["preview_url"] == body["preview_url"]
    listed = client.get("/api/v1/communities/miku/works").json()["items"]
    assert listed[0]["thumbnail_url"] == body["thumbnail_url"]
    served = client.get(body["thumbnail_url"].removeprefix("http://testserver"))
    assert served.headers["cache-control"] == IMMUTABLE

    deleted = client.delete(f"/api/v1/works/{picture.id}/preview", headers=bearer(cast.moderator))
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert count(db) == 0
    assert client.get(f"/api/v1/works/{picture.id}").json()["preview_url"] is None
    again = client.delete(f"/api/v1/works/{picture.id}/preview", headers=bearer(cast.member))
    assert again.status_code == 204


def test_api_errors(client, db, cast, picture, work, bearer):
    assert api_put(client, picture.id, PNG).status_code == 401
    assert api_put(client, picture.id, PNG, bearer(cast.fan)).status_code == 403
    assert api_put(client, picture.id, PNG, bearer(cast.member, scope="read")).status_code == 403
    assert api_put(client, 999999, PNG, bearer(cast.member)).status_code == 404

    bad = api_put(client, picture.id, b"GIF89a not really", bearer(cast.member))
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"] == {"file": images.WRONG_FORMAT}
    big = api_put(client, picture.id, PNG + b"\x00" * images.MAX_BYTES, bearer(cast.member))
    assert big.json()["error"]["fields"] == {"file": images.TOO_LARGE}
    video = work(medium="video")
    wrong = api_put(client, video.id, PNG, bearer(cast.member))
    assert wrong.status_code == 422
    assert wrong.json()["error"]["fields"] == {"file": service.ONLY_IMAGES}
    missing = client.put(
        f"/api/v1/works/{picture.id}/preview",
        data={"other": "x"},
        files={"note": ("n.txt", b"x", "text/plain")},
        headers=bearer(cast.member),
    )
    assert missing.status_code == 422
    assert "file" in missing.json()["error"]["fields"]
    assert count(db) == 0

    service.set_preview(db, actor=cast.member, work=picture, data=PNG, now=picture.created_at)
    url = f"/api/v1/works/{picture.id}/preview"
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=bearer(cast.fan)).status_code == 403
    assert client.delete(url, headers=bearer(cast.outsider)).status_code == 403
    assert (
        client.delete("/api/v1/works/999999/preview", headers=bearer(cast.member)).status_code
        == 404
    )
    assert count(db) == 1


def test_api_with_the_browser_session_needs_the_csrf_header(client, db, cast, picture):
    log_in(client, "member_len")
    assert api_put(client, picture.id, PNG).status_code == 403
    assert count(db) == 0
    ok = api_put(client, picture.id, PNG, {"X-CSRF-Token": csrf_token(client)})
    assert ok.status_code == 200, ok.text
    assert count(db) == 1


def test_the_openapi_schema_documents_previews(client):
    schema = client.get("/openapi.json").json()
    operations = schema["paths"]["/api/v1/works/{work_id}/preview"]
    assert set(operations) == {"put", "delete"}
    for operation in operations.values():
        assert {"401", "403", "404", "422"} <= set(operation["responses"])
    assert "multipart/form-data" in operations["put"]["requestBody"]["content"]
    work_out = schema["components"]["schemas"]["WorkOut"]["properties"]
    assert {"preview_url", "thumbnail_url"} <= set(work_out)
