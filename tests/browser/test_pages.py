"""Each role logs in through the real login page and sees its home, its role in the top bar, and its scope."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.factories import PASSWORD

HOME_TEXT = {
    "office": "Forbundskontoret",
    "leader": "AV1 Avdeling Øst",
    "treasurer": "AV1 Avdeling Øst",
    "member_data_admin": "LF1 Landsforening én",
    "workplace_trustee": "Taushetsplikt",
    "deduction_contact": "Trekkportal",
    "member": "Min side",
    "analyst": "Medlemsstatistikk",
}


def log_in(page, username: str, role: str | None = None):
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    # The login's redirect, before the URL is read: on a busy machine it was still the login page's.
    page.wait_for_url(lambda url: "/login" not in url)
    if "/acting/choose" in page.url:
        page.click(f"button[data-role={role}]")
        page.wait_for_url(lambda url: "/acting/choose" not in url)


@pytest.mark.parametrize("role", sorted(HOME_TEXT))
def test_role_home_in_browser(page, world, role):
    log_in(page, world.logins[role], role)
    page.wait_for_load_state("networkidle")
    assert HOME_TEXT[role] in page.content()
    label = page.inner_text("#acting-role-label")
    assert label.strip(), "the top bar shows the acting role"
    screenshot(page, f"home-{role}")


def test_member_list_shows_only_the_scope(page, world):
    log_in(page, world.logins["treasurer"], "treasurer")
    page.goto("/memberview/list/")
    text = page.inner_text("body")
    assert "Nordmann" in text and "Æsøy" in text
    assert "Utenfor" not in text
    assert "Taushetsplikt" in text
    screenshot(page, "member-list-treasurer")


def test_role_switch_in_top_bar(page, world):
    log_in(page, world.logins["leader"], "leader")
    page.click("#acting-role > a")
    page.click("form.role-switch button:has-text('Medlem')")
    page.wait_for_url("**/minside/")
    assert "Min side" in page.content()
    screenshot(page, "switched-to-member")


def test_typeahead_finds_member_in_form(page, world):
    log_in(page, world.logins["member_data_admin"], "member_data_admin")
    page.goto("/employmentview/add")
    page.click("#member + .select2 .select2-selection")
    page.fill(".select2-search__field", "Nord")
    page.wait_for_selector("li.select2-results__option:has-text('Nordmann')")
    options = page.inner_text(".select2-results")
    assert "Utenfor" not in options
    screenshot(page, "employment-typeahead")


def test_api_docs_run_under_the_strict_content_security_policy(page, world):
    refused = []
    page.on("console",
            lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    log_in(page, world.logins["office"])
    response = page.goto("/swagger/v1")
    assert "unsafe-inline" not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    page.wait_for_selector("#swagger-ui .opblock", timeout=15000)  # rendered by the page's nonce'd script
    assert refused == []
    screenshot(page, "api-docs-office")
