"""The deduction contact's main path in a real browser (issue 14): a half-filled draft is saved, the contact logs
out, comes back and finds it, fills the rest with "same as last month" and approves after the confirmation.
The portal's pages (its months, the list, the confirmation) are checked with axe-core; the path ends with a
screenshot kept in test-artifacts/."""

from __future__ import annotations

from tests.browser.accessibility import axe_context, axe_script, serious_violations
from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in
from tests.portal_helpers import PERIOD, build_portal_months


def amount_box(page, name: str):
    return page.locator("#list-lines tbody tr", has_text=name).locator("input[name^=amount_]")


def test_contact_saves_a_draft_comes_back_and_delivers_it(browser, live_server, clean_app, world):
    axe_script()  # skip before anything when axe-core is missing
    months = build_portal_months(clean_app, world)
    context = axe_context(browser, live_server)
    page = context.new_page()

    log_in(page, months.contact)
    page.wait_for_url("**/portal/")
    march = page.locator(f"#months tr[data-period='{PERIOD}']")
    assert "Ingen mottatt ennå" in march.inner_text()
    assert "9001 07 41504" in page.inner_text("#payment-account")
    assert page.locator("#portal-help a[href='/guide/']").inner_text().strip() == "Brukerveiledning"
    assert serious_violations(page) == []
    screenshot(page, "portal-paths-months")
    march.locator("button:has-text('Registrer trekkliste')").click()
    page.wait_for_selector("#list-lines")

    # What the union knows is there: Kari's insurances (the percentage is hers to add), the apprentice's 42 kr.
    assert amount_box(page, "Kari Nordmann").input_value() == "176,00"
    assert amount_box(page, "Lars Lærling").input_value() == "42,00"
    assert amount_box(page, "Ola Æsøy").input_value() == ""
    assert serious_violations(page) == []
    screenshot(page, "portal-paths-draft-prefilled")

    # Half filled: Kari's amount typed, Ola's left empty; the draft is saved as it is.
    amount_box(page, "Kari Nordmann").fill("3 300,00")
    page.click("#save-draft")
    page.wait_for_selector(".alert-success")
    assert "Utkastet er lagret" in page.inner_text(".alert-success")
    assert amount_box(page, "Ola Æsøy").input_value() == ""

    # Log out and come back: the draft waits with what was typed.
    page.goto("/logout/")
    log_in(page, months.contact)
    page.wait_for_url("**/portal/")
    page.locator(f"#months tr[data-period='{PERIOD}']").locator("a:has-text('Fortsett')").click()
    page.wait_for_selector("#list-lines")
    assert amount_box(page, "Kari Nordmann").input_value() == "3\xa0300,00"
    assert amount_box(page, "Ola Æsøy").input_value() == ""
    assert serious_violations(page) == []
    screenshot(page, "portal-paths-draft-found")

    # The rest as last month: Ola gets February's 250 kr; what was typed stays.
    page.click("#same-all")
    page.wait_for_selector("#list-lines")
    assert amount_box(page, "Ola Æsøy").input_value() == "250,00"
    assert amount_box(page, "Kari Nordmann").input_value() == "3\xa0300,00"
    assert page.inner_text("#list-total").strip() == "3\xa0592,00"

    # Approve: asked first, in Norwegian, on a page of its own.
    page.click("#approve")
    page.wait_for_selector("#approve-summary")
    assert "/approve" in page.url
    assert "3 linjer, sum kr 3\xa0592,00" in page.inner_text("#approve-summary")
    assert page.inner_text("#cancel-approve").strip() == "Nei, tilbake til listen"
    assert serious_violations(page) == []
    screenshot(page, "portal-paths-confirm")
    page.click("#confirm-approve")
    page.wait_for_selector("#list-status")
    assert "Levert" in page.inner_text("#list-status")
    assert "Listen er levert" in page.inner_text(".alert-success")
    screenshot(page, "portal-paths-delivered")

    page.goto("/portal/")
    assert "Levert" in page.locator(f"#months tr[data-period='{PERIOD}']").inner_text()
    context.close()
