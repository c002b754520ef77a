"""A passed proposal is ratified by a moderator; a creator opens the guidelines, sees the new
clause, follows it to its provenance and compares it with the previous version.

The proposal is the demo's amendment of clause 3.1, "Name the training data too", which passed
its poll and waits in the ratification queue. No other journey reads it or the guidelines, and
the version it makes is read from the page rather than assumed, so the journeys may run in any
order.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_polls import PHONE, fits_width
from tests.e2e.test_proposals import sign_in

pytestmark = pytest.mark.e2e

PROPOSAL = "Name the training data too"
INSERTED = "for a fine-tuned model, the works or collections it was trained on"


def test_ratify_read_the_clause_its_provenance_and_the_change(page: Page) -> None:
    sign_in(page, "mod_rin")
    page.goto("/c/miku/guidelines")
    page.get_by_role("link", name="Ratification queue").click()
    item = page.locator(".queue-item").filter(has=page.get_by_role("heading", name=PROPOSAL))
    expect(item).to_contain_text("Amend clause 3.1")
    expect(item.locator(".diff ins").first).to_be_visible()
    item.get_by_label("Note (optional, public)").fill("Creators asked for this at the meetup.")
    item.get_by_role("button", name="Ratify").click()
    ratified = page.get_by_text(re.compile(r"Ratified: published as version \d+"))
    expect(ratified).to_be_visible()
    found = re.search(r"version (\d+)", ratified.inner_text())
    assert found is not None
    version = int(found.group(1))
    expect(page.locator(".queue-item").filter(has_text=PROPOSAL)).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()

    # A creator reads the guidelines: clause 3.1 has its new text.
    sign_in(page, "creator_len")
    page.goto("/c/miku/guidelines")
    expect(page.locator(".page-header")).to_contain_text(f"Version {version}")
    clause = page.locator(".clause").filter(
        has=page.get_by_role("heading", name=re.compile(r"^3\.1 "))
    )
    expect(clause.locator(".prose")).to_contain_text(INSERTED)

    # Its provenance: the citation, the credits, the poll, and the change from before.
    clause.get_by_role("link", name="provenance and citation").click()
    expect(page.get_by_role("heading", name=re.compile(r"^3\.1 "), level=1)).to_be_visible()
    expect(page.get_by_label("Citation")).to_have_value(
        re.compile(rf"^Guideline 3\.1, version {version}, in force since \d{{4}}-\d\d-\d\d — http")
    )
    credits = page.locator(".credits")
    expect(credits).to_contain_text(re.compile(r"Proposed by\s*Len the Producer"))
    expect(credits).to_contain_text(re.compile(r"Ratified by\s*Rin \(moderator\)"))
    provenance = page.locator("section", has=page.get_by_role("heading", name="Provenance"))
    expect(provenance.get_by_role("link", name=f"“{PROPOSAL}”")).to_be_visible()
    expect(provenance).to_contain_text("Creators asked for this at the meetup.")
    poll_link = provenance.get_by_role("link", name="The poll and its results")
    expect(poll_link).to_have_attribute("href", re.compile(r"^/c/miku/polls/\d+$"))
    expect(page.locator(".diff ins").first).to_be_visible()

    poll_link.click()
    expect(page.locator("#results .state-badge")).to_have_text("Passed")

    # Versions and changes: the previous version against this one shows the inserted words.
    page.goto("/c/miku/guidelines")
    page.get_by_role("link", name="Versions and changes").click()
    expect(page.get_by_role("heading", name="Versions and changes")).to_be_visible()
    expect(page.get_by_label("Compare version")).to_have_value(str(version - 1))
    expect(page.get_by_label("with version")).to_have_value(str(version))
    page.get_by_role("button", name="Compare").click()
    comparison = page.locator("#comparison")
    change = comparison.locator(".diff-field").filter(has_text="3.1")
    expect(change).to_contain_text("amended")
    inserted = " ".join(change.locator("ins").all_inner_texts())
    assert "fine-tuned model" in inserted, inserted
    assert "trained on" in inserted, inserted
    expect(comparison.locator(".diff-field")).to_have_count(1)


def test_guidelines_fit_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)
    phone = page
    phone.goto("/c/miku/guidelines")
    expect(phone.get_by_role("heading", name="Community guidelines")).to_be_visible()
    fits_width(phone)
    phone.get_by_role("link", name="provenance and citation").first.click()
    expect(phone.get_by_role("heading", name="Cite it")).to_be_visible()
    fits_width(phone)
    phone.goto("/c/miku/guidelines/diff")
    expect(phone.locator("#comparison .diff").first).to_be_visible()
    fits_width(phone)
