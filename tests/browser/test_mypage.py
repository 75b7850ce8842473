"""The member's own page in a real browser: sections, editing in place, the employment change dialog."""

from __future__ import annotations

import datetime as dt

from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in
from tests.mypage_helpers import add_course
from webapp.extensions import db
from webapp.services import courses, messaging


def _fill_page(app, world):
    member = world.members["inside"]
    with app.app_context():
        course_id = add_course()
        courses.apply(member.id, course_id)
        messaging.start_thread(subject="Spørsmål om reiseforsikring", body="Gjelder den i utlandet?", author_id=None,
                               from_party=True, member_id=member.id, notify=False,
                               now=dt.datetime.now() - dt.timedelta(hours=2))
        db.session.remove()


def test_member_page_edit_in_place(page, clean_app, world):
    _fill_page(clean_app, world)
    log_in(page, world.logins["member"])
    page.wait_for_url("**/minside/")
    text = page.inner_text("body")
    assert "Kari Nordmann" in text and "Lønnsforhandlinger på Ås" in text and "Spørsmål om reiseforsikring" in text
    assert "Utenfor" not in text
    screenshot(page, "mypage-member")

    # The pencil opens the form in place; pointing "send e-mail to" at the empty work address is refused.
    assert not page.is_visible("#f-email_to")
    page.click("#personal .edit-toggle")
    page.wait_for_selector("#f-email_to", state="visible")
    page.select_option("#f-email_to", "work")
    page.click("#personal form button[type=submit]")
    page.wait_for_selector(".field-error[data-field=email_to]")
    assert page.is_visible("#f-email_to")  # the form stays open with the error
    screenshot(page, "mypage-email-to-refused")

    page.select_option("#f-email_to", "private")
    page.fill("#f-city", "Ås")
    page.click("#personal form button[type=submit]")
    page.wait_for_selector("#personal-show")
    assert "Ås" in page.inner_text("#personal-show")


def test_employment_change_dialog_offers_the_employers_workplaces(page, world):
    log_in(page, world.logins["member"])
    page.goto("/minside/employment")
    page.click("#employer_id + .select2 .select2-selection")
    page.fill(".select2-search__field", "Virksomhet E2")
    page.click("li.select2-results__option:has-text('Virksomhet E2')")
    page.wait_for_selector("#workplace_id:not([disabled])")
    assert page.inner_text("#workplace_id").strip() == "Arbeidssted W2"
    page.fill("#start_date", dt.date.today().isoformat())
    screenshot(page, "mypage-employment-change")
    page.click("#employment-form button[type=submit]")
    page.wait_for_url("**/minside/#employments")
    assert "Arbeidssted W2" in page.inner_text("#employment-changes")


def test_member_downloads_their_data_from_min_side(page, clean_app, world):
    """The member's main path to their own data: Min side, "Last ned mine data", a PDF of what the union holds."""
    import io

    from pypdf import PdfReader

    _fill_page(clean_app, world)
    log_in(page, world.logins["member"])
    page.wait_for_url("**/minside/")
    with page.expect_download() as download_info:
        page.click("#download-my-data")
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf") and "subject" not in download.suggested_filename
    with open(download.path(), "rb") as handle:
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages)
    member = world.members["inside"]
    assert member.first_name in text and member.last_name in text and member.member_no in text
    assert "Lønnsforhandlinger på Ås" in text and "Spørsmål om reiseforsikring" in text
    screenshot(page, "mypage-downloaded-my-data")
