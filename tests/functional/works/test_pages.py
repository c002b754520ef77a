"""The HTML pages of works: list, form, work page with lineage and attribution, edit."""

from __future__ import annotations

from html import unescape
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from app.works.models import Work, WorkParent
from app.works.routes import TREE_LIMIT
from tests.conftest import csrf_token, log_in, post_form

GOOD = {
    "title": "Rin's Dance",
    "creator_name": "Len",
    "url": "https://example.org/rins-dance",
    "medium": "video",
    "license": "CC BY 4.0",
    "content_notes": "flashing lights",
    "description": "A **dance** cover.",
    "duration_seconds": "215.5",
}


def post_choices(client: TestClient, url: str, data: dict[str, str | list[str]]) -> Any:
    """POST a form with a multi-select (a list value), CSRF token included."""
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def count(db) -> int:
    return db.scalar(select(func.count(Work.id))) or 0


def test_the_list_shows_works_and_the_button_for_members(client, cast, work):
    work(title="Miku design", creator_name="Crypton", medium="image")
    response = client.get("/c/miku/works")
    assert response.status_code == 200
    assert "Miku design" in response.text
    assert "Crypton" in response.text
    assert "Register a work" not in response.text
    log_in(client, "fan_luka")
    assert "Register a work" in client.get("/c/miku/works").text
    assert "Miku design" not in client.get("/c/miku/works?medium=audio").text
    assert client.get("/c/miku/works?medium=painting").status_code == 422


def test_the_community_page_links_to_works(client, cast):
    assert 'href="/c/miku/works"' in client.get("/c/miku").text


def test_members_register_a_work_with_parents(client, db, cast, work):
    design = work(title="Miku design", creator_name="Crypton", medium="image")
    log_in(client, "member_len")
    form = client.get("/c/miku/works/new")
    assert form.status_code == 200
    assert 'name="csrf_token"' in form.text
    assert 'name="parents" multiple' in form.text
    assert f'<option value="{design.id}">' in form.text
    response = post_choices(client, "/c/miku/works/new", {**GOOD, "parents": [str(design.id)]})
    assert response.status_code == 303
    new = db.scalar(select(Work).where(Work.title == "Rin's Dance"))
    assert new is not None
    assert response.headers["location"] == f"/c/miku/works/{new.id}"
    assert new.duration_seconds == 215.5
    assert db.scalar(select(WorkParent.parent_id).where(WorkParent.child_id == new.id)) == design.id


def test_form_errors_keep_the_typed_values(client, db, cast, work):
    design = work(title="Miku design", medium="image")
    log_in(client, "member_len")
    bad: dict[str, str | list[str]] = {
        **GOOD,
        "url": "javascript:alert(1)",
        "medium": "image",
        "parents": [str(design.id)],
    }
    response = post_choices(client, "/c/miku/works/new", bad)
    assert response.status_code == 422
    html = response.text
    assert "Use an http:// or https:// address." in html
    assert "Only audio and video works have a duration." in html
    assert 'value="Rin&#39;s Dance"' in html or 'value="Rin&#x27;s Dance"' in html
    assert 'value="javascript:alert(1)"' in html
    assert f'<option value="{design.id}" selected>' in html
    assert '<option value="image" selected>' in html
    assert count(db) == 1


def test_free_text_license(client, db, cast):
    log_in(client, "member_len")
    data = {**GOOD, "license": "other", "license_other": "Piapro Character License"}
    assert post_form(client, "/c/miku/works/new", data).status_code == 303
    assert db.scalar(select(Work.license)) == "Piapro Character License"


def test_a_refused_free_text_license_is_marked_on_its_own_field(client, db, cast):
    log_in(client, "member_len")
    data = {**GOOD, "license": "other", "license_other": "Piapro " * 30}
    response = post_form(client, "/c/miku/works/new", data)
    assert response.status_code == 422
    assert 'id="f-license_other-error"' in response.text
    assert 'id="f-license-error"' not in response.text
    assert count(db) == 0


def test_non_members_may_not_register(client, db, cast):
    log_in(client, "outsider")
    assert client.get("/c/miku/works/new").status_code == 403
    assert post_form(client, "/c/miku/works/new", GOOD).status_code == 403
    assert count(db) == 0


def test_anonymous_visitors_are_sent_to_sign_in(client, cast):
    assert client.get("/c/miku/works/new").status_code == 303


def test_the_work_page(client, cast, work):
    design = work(
        title="Miku design", creator_name="Crypton", medium="image", license="All rights reserved"
    )
    dance = work(
        parents=[design],
        content_notes="flashing lights",
        description="A **dance** <script>alert(1)</script>",
    )
    cover = work(title="Cover", creator_name="Kaito", parents=[dance])
    response = client.get(f"/c/miku/works/{dance.id}")
    assert response.status_code == 200
    html = response.text
    assert "<details" in html
    assert "flashing lights" in html
    assert "<strong>dance</strong>" in html
    assert "<script>alert(1)" not in html
    assert f'href="/c/miku/works/{design.id}"' in html
    assert f'href="/c/miku/works/{cover.id}"' in html
    assert "readonly" in html
    assert (
        '"Rin\'s Dance" by Len (CC BY 4.0), derived from "Miku design" by Crypton '
        "(All rights reserved)"
    ) in unescape(html)
    top = client.get(f"/c/miku/works/{cover.id}").text
    assert 'class="lineage-tree"' in top
    assert top.count("lineage-tree") >= 2
    assert "<details" not in client.get(f"/c/miku/works/{design.id}").text


def test_a_large_lineage_shows_the_nearest_works_and_offers_all(client, db, cast, work):
    original = work(title="Original", creator_name="Crypton")
    db.execute(
        insert(Work),
        [
            {
                "community_id": cast.community.id,
                "title": f"Cover {n:03}",
                "creator_name": "Fan",
                "url": "https://example.org/c",
                "medium": "audio",
                "hidden_reason": "",
            }
            for n in range(TREE_LIMIT + 5)
        ],
    )
    covers = db.scalars(select(Work.id).where(Work.title.like("Cover %"))).all()
    db.execute(insert(WorkParent), [{"child_id": c, "parent_id": original.id} for c in covers])
    html = client.get(f"/c/miku/works/{original.id}").text
    assert html.count("Cover ") == TREE_LIMIT
    assert f"The nearest {TREE_LIMIT} of {TREE_LIMIT + 5} works are shown." in html
    everything = client.get(f"/c/miku/works/{original.id}?lineage=all").text
    assert everything.count("Cover ") == TREE_LIMIT + 5
    assert "Show all" not in everything


def test_another_communitys_work_is_not_found(client, cast, work):
    foreign = work(actor=cast.outsider, community=cast.other)
    assert client.get(f"/c/miku/works/{foreign.id}").status_code == 404
    assert client.get("/c/miku/works/999999").status_code == 404
    log_in(client, "mod_rin")
    assert client.get(f"/c/miku/works/{foreign.id}/edit").status_code == 404


def test_editing(client, db, cast, work):
    dance = work(license="Piapro Character License")
    log_in(client, "member_len")
    form = client.get(f"/c/miku/works/{dance.id}/edit")
    assert form.status_code == 200
    assert '<option value="other" selected>' in form.text
    assert 'value="Piapro Character License"' in form.text
    response = post_form(client, f"/c/miku/works/{dance.id}/edit", {**GOOD, "title": "Renamed"})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Work, dance.id).title == "Renamed"


def test_edit_refuses_a_cycle_and_keeps_values(client, db, cast, work):
    a = work(title="Upstream")
    b = work(title="Downstream", parents=[a])
    log_in(client, "member_len")
    data: dict[str, str | list[str]] = {**GOOD, "title": "Typed title", "parents": [str(b.id)]}
    response = post_choices(client, f"/c/miku/works/{a.id}/edit", data)
    assert response.status_code == 422
    assert "cycle" in response.text
    assert 'value="Typed title"' in response.text
    db.expire_all()
    assert db.get(Work, a.id).title == "Upstream"


def test_only_the_registrant_or_a_moderator_edits(client, cast, work):
    dance = work()
    log_in(client, "fan_luka")
    assert client.get(f"/c/miku/works/{dance.id}/edit").status_code == 403
    assert post_form(client, f"/c/miku/works/{dance.id}/edit", GOOD).status_code == 403
    assert "/edit" not in client.get(f"/c/miku/works/{dance.id}").text
    log_in(client, "mod_rin")
    assert client.get(f"/c/miku/works/{dance.id}/edit").status_code == 200
    log_in(client, "outsider")
    assert client.get(f"/c/miku/works/{dance.id}/edit").status_code == 403
