"""The public enrollment page (/innmelding) in Chromium at a phone's size: filled with the employer type-ahead and
the postcode lookup under the app's content security policy, and without JavaScript; axe-core finds no critical or
serious violation on the form, the form with its errors, and the thank-you page."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.accessibility import WHOLE_PAGE, axe_script, serious_violations
from tests.browser.conftest import screenshot
from tests.factories import national_id
from tests.test_enrollment_form import enrol  # noqa: F401 (the fixture: postcodes, policy texts, LO unions)
from webapp.extensions import db
from webapp.models import MembershipApplication

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.fixture()
def quick_form(clean_app, monkeypatch):
    """The minimum fill time would only make the test wait."""
    monkeypatch.setitem(clean_app.config, "ENROLLMENT_MIN_FILL_SECONDS", 0)


@pytest.fixture()
def phone(browser, live_server, quick_form):
    """A phone-sized page under the app's own content security policy; script errors and CSP violations collected."""
    context = browser.new_context(base_url=live_server, locale="nb-NO", **PHONE)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    yield page
    context.close()


@pytest.fixture()
def axe_phone(browser, live_server, quick_form):
    axe_script()  # skips when axe-core is not installed
    context = browser.new_context(base_url=live_server, locale="nb-NO", bypass_csp=True, **PHONE)
    page = context.new_page()
    yield page
    context.close()


def _fill_person(page, number: str) -> None:
    page.fill("#f-first_name", "Åse")
    page.fill("#f-last_name", "Søknad")
    page.fill("#f-national_id", number)
    page.fill("#f-address", "Storgata 1")
    page.fill("#f-email", "ase@example.no")
    page.fill("#f-mobile", "912 34 567")


def _saved(app) -> list[MembershipApplication]:
    with app.app_context():
        rows = db.session.scalars(select(MembershipApplication)).all()
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
    return rows


def test_enroll_on_a_phone_with_type_ahead_and_postcode_lookup(phone, enrol, clean_app):  # noqa: F811
    page = phone
    page.goto("/innmelding")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # one column, nothing wider than the phone
    assert page.is_hidden("#f-nettsted") or page.locator("#f-nettsted").bounding_box()["x"] < 0
    _fill_person(page, national_id(dt.date(1990, 3, 1), 123))
    page.locator("#f-postcode").press_sequentially("0150")
    expect(page.locator("#f-place")).to_have_value("OSLO")  # (wait_for_function would need eval, which CSP forbids)

    assert page.is_hidden("#employment")  # asked only of the employed
    page.check("#f-work_situation-student")
    assert "Student" in page.inner_text("#f-category option[value='']")
    page.check("#f-work_situation-employed")
    page.wait_for_selector("#employment", state="visible")
    assert page.is_hidden("#workplace-group")  # no employer chosen yet

    page.locator("#f-employer_query").press_sequentially("virks", delay=30)
    page.wait_for_selector("#employer-suggestions [role=option]")
    assert page.get_attribute("#f-employer_query", "aria-expanded") == "true"
    options = page.locator("#employer-suggestions [role=option]").all_inner_texts()
    assert options[0].startswith("Virksomhet E1 (974760673") and len(options) == 2
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#f-employer_query") == "Virksomhet E1"
    assert page.input_value("#f-employer_id") == str(enrol.e1)
    page.wait_for_selector("#workplace-group", state="visible")
    assert page.locator("#f-workplace_id option").all_inner_texts() == [
        "Velg arbeidssted", "Arbeidssted W1 (Oslo)", "Arbeidssted W1b (Oslo)"]
    page.select_option("#f-workplace_id", str(enrol.w1b))
    page.fill("#f-position_pct", "60")
    page.locator("details.policy summary").first.click()
    assert page.is_visible("details.policy .policy-body")
    page.check("#f-consent")
    screenshot(page, "enrollment-phone-filled")
    page.click("#enrollment-submit")
    page.wait_for_url("**/innmelding/takk")
    assert "Takk for innmeldingen" in page.inner_text("h1")
    screenshot(page, "enrollment-phone-thanks")
    assert page.problems == []

    [application] = _saved(clean_app)
    assert (application.employer_id, application.workplace_id, application.city) == (enrol.e1, enrol.w1b, "OSLO")
    assert str(application.position_pct) in ("60", "60.00")


def test_enroll_without_javascript(browser, live_server, quick_form, enrol, clean_app):  # noqa: F811
    context = browser.new_context(base_url=live_server, locale="nb-NO", java_script_enabled=False, **PHONE)
    page = context.new_page()
    try:
        page.goto("/innmelding")
        _fill_person(page, national_id(dt.date(1985, 7, 2), 321))
        page.fill("#f-postcode", "0150")
        page.check("#f-work_situation-employed")
        page.fill("#f-employer_query", "Virksomhet")
        page.fill("#f-position_pct", "100")
        page.check("#f-consent")
        page.click("#enrollment-submit")
        # The server offers the employers matching the name; choosing one then offers its workplaces.
        page.check(f"#f-employer-{enrol.e1}")
        page.click("#enrollment-submit")
        assert page.input_value("#f-place") == "OSLO"
        page.select_option("#f-workplace_id", str(enrol.w1))
        page.check("#f-consent")
        page.click("#enrollment-submit")
        page.wait_for_url("**/innmelding/takk")
    finally:
        context.close()
    [application] = _saved(clean_app)
    assert (application.employer_id, application.workplace_id) == (enrol.e1, enrol.w1)


def test_no_serious_accessibility_violation_on_the_enrollment_pages(axe_phone, enrol):  # noqa: F811
    page = axe_phone
    page.goto("/innmelding")
    found = serious_violations(page, WHOLE_PAGE)
    assert not found, "\n".join(found)

    page.check("#f-work_situation-employed")
    page.fill("#f-email", "ikke-en-adresse")
    page.fill("#f-employer_query", "Virksomhet")
    page.click("#enrollment-submit")
    # The page's script moves the focus to the error summary once loaded: wait for it (under load the summary is in
    # the page a moment before the script has run).
    page.wait_for_function("document.activeElement && document.activeElement.id === 'error-summary'", timeout=10_000)
    screenshot(page, "enrollment-phone-errors")
    found = serious_violations(page, WHOLE_PAGE)
    assert not found, "\n".join(found)

    for path in ("/innmelding/takk", "/innmelding/vilkar"):
        page.goto(path)
        found = serious_violations(page, WHOLE_PAGE)
        assert not found, f"{path}: " + "\n".join(found)
