"""A payroll contact registers and delivers a deduction list in a real browser."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in


def test_contact_registers_and_delivers_a_list(page, portal):
    world = portal
    log_in(page, world.logins["deduction_contact"])
    page.wait_for_url("**/portal/")
    assert "2026/03" in page.inner_text("#months")
    screenshot(page, "portal-months")

    page.click("#months a:has-text('Vis hele trekkgrunnlaget')")
    assert "Nordmann" in page.inner_text("#basis-lines")
    screenshot(page, "portal-basis")

    page.goto("/portal/")
    page.click("#months button:has-text('Registrer trekkliste')")
    page.wait_for_selector("#list-lines")
    for box in page.query_selector_all("#list-lines input[name^=amount_]"):
        box.fill("312,50")
    screenshot(page, "portal-list-edit")
    page.click("button[value=approve]")
    page.click("#confirm-approve")  # "Godkjenn og lever" asks first
    page.wait_for_selector("#list-status")
    assert "Levert" in page.inner_text("#list-status")
    screenshot(page, "portal-list-delivered")

    page.goto("/portal/")
    assert "Levert" in page.inner_text("#months")
    assert "Registrer tilleggsliste" in page.inner_text("#months")
