"""What the browser builds speaks Bokmål too: Select2's messages and placeholders, the date picker, the
confirmation dialog. English is one switch away."""

from __future__ import annotations

import re

from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in

MONTHS = ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november",
          "desember")


def test_typeahead_asks_for_characters_in_bokmal(page, world):
    log_in(page, world.logins["member_data_admin"], "member_data_admin")
    page.goto("/employmentview/add")
    page.click("#member + .select2 .select2-selection")
    page.wait_for_selector(".select2-results__message")
    assert page.inner_text(".select2-results__message").strip() == "Vennligst skriv inn 2 tegn til"
    page.fill(".select2-search__field", "N")
    page.wait_for_selector(".select2-results__message:has-text('1 tegn til')")
    screenshot(page, "select2-bokmal")
    body = page.inner_text("body")
    assert "Please enter" not in body and "Select a State" not in body


def test_date_picker_and_confirmation_dialog_speak_bokmal(page, world):
    log_in(page, world.logins["office"], "office")
    page.goto("/memberview/add")
    page.click("#joined_on")
    page.wait_for_selector(".datepicker-days", state="visible")
    title = page.inner_text(".datepicker-days .datepicker-switch").lower()
    assert any(month in title for month in MONTHS), title
    assert page.inner_text(".datepicker-days thead tr:last-child th:first-child").strip().lower() == "ma"

    page.goto("/positionview/list/")
    page.click("a.confirm >> nth=0")
    page.wait_for_selector("#modal-confirm", state="visible")
    footer = page.inner_text("#modal-confirm .modal-footer")
    assert "Avbryt" in footer and "Cancel" not in footer
    screenshot(page, "confirm-dialog-bokmal")
    page.click("#modal-confirm button[data-dismiss=modal]")


def test_english_is_one_switch_away_in_the_widgets(page, world):
    # The switch on the login page, before logging in: the language stays for the session that follows.
    page.goto("/login/")
    page.wait_for_load_state("networkidle")
    page.goto("/lang/en")
    page.wait_for_load_state("networkidle")
    log_in(page, world.logins["member_data_admin"], "member_data_admin")
    page.wait_for_url(lambda url: "/acting/choose" not in url and "/login" not in url)  # the role chosen
    page.wait_for_load_state("networkidle")
    page.goto("/employmentview/add")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("#member + .select2 .select2-selection")
    page.wait_for_selector(".select2-results__message")
    assert re.search(r"Please enter 2 or more characters", page.inner_text(".select2-results__message"))
