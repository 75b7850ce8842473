"""The whole way in, in a real browser: a person enrolls on the public page /innmelding, the union office approves
the application in *Medlemskap → Innmeldinger*, the welcome e-mail arrives at a real SMTP server, the new member
opens the set-password link from it, chooses a password, logs in with the membership number and sees Min side."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in
from tests.factories import add_policy_texts, national_id
from webapp.extensions import db
from webapp.models import Member, MembershipApplication, Postcode
from webapp.models.choices import EnrollmentStatus

LINK = re.compile(r"http\S+/password/set/\S+")
NEW_PASSWORD = "Mitt-Nye-Passord-2027!"
APPLICANT = {"first_name": "Ingrid", "last_name": "Innmeldt", "email": "ingrid.innmeldt@example.no"}


@pytest.fixture()
def enrollment_open(clean_app, world, monkeypatch):
    """The published terms and privacy statement, the applicant's postcode, and a form that may be sent at once."""
    with clean_app.app_context():
        add_policy_texts()
        db.session.add(Postcode(code="0150", place="Oslo", municipality="Oslo", county="Oslo"))
        db.session.commit()
        db.session.remove()
    monkeypatch.setitem(clean_app.config, "ENROLLMENT_MIN_FILL_SECONDS", 1)
    return world


def wait_for_mail(smtp_server, recipient: str, count: int, page) -> str:
    """The body of the `count`th mail to `recipient`, waiting for it (the app sends it right after the commit)."""
    for _ in range(100):
        bodies = [body for message, body in zip(smtp_server.messages, smtp_server.bodies())
                  if message["to"] == [recipient]]
        if len(bodies) >= count:
            return bodies[count - 1]
        page.wait_for_timeout(100)
    raise AssertionError(f"no mail number {count} to {recipient}: {[m['to'] for m in smtp_server.messages]}")


def enroll(page, world) -> None:
    page.goto("/innmelding")
    page.fill("#f-first_name", APPLICANT["first_name"])
    page.fill("#f-last_name", APPLICANT["last_name"])
    page.fill("#f-national_id", national_id(dt.date(1991, 4, 12), 234))
    page.fill("#f-address", "Storgata 12")
    page.fill("#f-postcode", "0150")
    expect(page.locator("#f-place")).to_have_value("Oslo")  # wait_for_function would need eval, which CSP forbids
    page.fill("#f-email", APPLICANT["email"])
    page.fill("#f-mobile", "912 34 567")
    page.check("#f-work_situation-employed")
    page.fill("#f-employer_query", "Virksomhet E1")
    page.click("#employer-suggestions li:has-text('Virksomhet E1')")
    workplace_id = str(world.workplaces["W1"].id)
    page.wait_for_selector(f"#f-workplace_id option[value='{workplace_id}']", state="attached")
    page.select_option("#f-workplace_id", workplace_id)
    page.fill("#f-position_pct", "100")
    page.check("#f-consent")
    screenshot(page, "enrollment-filled")
    page.wait_for_timeout(1100)  # the minimum fill time (set to 1 second for the test)
    page.click("#enrollment-submit")
    page.wait_for_url("**/innmelding/takk")


def test_enroll_approve_set_password_and_see_min_side(page, clean_app, enrollment_open, smtp_server):
    world = enrollment_open
    enroll(page, world)
    screenshot(page, "enrollment-thanks")
    wait_for_mail(smtp_server, APPLICANT["email"], 1, page)  # the receipt

    with clean_app.app_context():
        application = db.session.scalars(select(MembershipApplication)).one()
        application_id, status = application.id, application.status
        db.session.remove()
    assert status == EnrollmentStatus.pending

    # The office finds the application in its queue and approves it with the proposed home unit.
    log_in(page, world.logins["office"])
    page.goto("/applications/")
    row = page.locator(f"tr[data-application='{application_id}']")
    assert "Ingrid Innmeldt" in row.inner_text() and "Virksomhet E1" in row.inner_text()
    screenshot(page, "applications-queue")
    row.locator("a").click()
    page.wait_for_url(f"**/applications/{application_id}")
    assert "Arbeidsstedet Arbeidssted W1 hører til Avdeling Øst." in page.inner_text("#proposal-explanation")
    assert page.input_value("#home_unit_id") == str(world.units["AV1"].id)
    screenshot(page, "application-approve")
    page.click("#approve-button")
    page.wait_for_selector("#new-member")
    member_no = page.inner_text("#new-member").split()[0]
    assert re.fullmatch(r"75\d{1,6}", member_no)
    assert f"er medlem {member_no} fra" in page.inner_text("body")
    screenshot(page, "application-approved")
    page.goto("/logout/")

    # The welcome e-mail with the member number and the link to choose a password.
    body = wait_for_mail(smtp_server, APPLICANT["email"], 2, page)
    assert f"Medlemsnummeret ditt er {member_no}" in body
    path = LINK.search(body).group(0).split("127.0.0.1:5000", 1)[-1]
    page.goto(path)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=password_again]", NEW_PASSWORD)
    screenshot(page, "welcome-set-password")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/login/**")

    # The new member logs in with the membership number and lands on Min side.
    page.fill("input[name=username]", member_no)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url("**/minside/")
    text = page.inner_text("body")
    assert "Min side" in text and "Ingrid Innmeldt" in text and member_no in text
    assert "Velkommen som medlem" in text  # the welcome letter among the documents
    screenshot(page, "welcome-min-side")

    with clean_app.app_context():
        member = db.session.scalars(select(Member).where(Member.member_no == member_no)).one()
        assert (member.first_name, member.email_private, member.home_unit.code) == ("Ingrid", APPLICANT["email"],
                                                                                    "AV1")
        db.session.remove()


def test_the_office_queue_and_an_application_page_have_no_serious_accessibility_violation(
        browser, live_server, clean_app, world):
    from tests.browser.accessibility import axe_context, serious_violations
    from tests.factories import add_lo_union, make_application

    with clean_app.app_context():
        union_id = add_lo_union().id
        application_id = make_application(from_lo_union_id=union_id, from_union_since=dt.date(2015, 1, 1)).id
        db.session.commit()
        db.session.remove()
    context = axe_context(browser, live_server)
    page = context.new_page()
    try:
        log_in(page, world.logins["office"])
        for path in ("/applications/", f"/applications/{application_id}"):
            page.goto(path)
            page.wait_for_load_state("networkidle")
            assert serious_violations(page) == [], path
        # A rejection without a reason (past the browser's own check): the page with the field's problem too.
        page.evaluate("document.getElementById('reason').removeAttribute('required')")
        page.click("#reject-button")
        page.wait_for_selector(".field-error[data-field=reason]")
        assert serious_violations(page) == []
    finally:
        context.close()
