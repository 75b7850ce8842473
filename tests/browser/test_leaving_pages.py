"""Leaving in the browser: a member resigns on Min side, the office registers a transfer out to another LO union on
another member's page; the next month's deduction basis then shows STOP for both, with the leave at the end of
this month. The pages are checked with axe-core."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.browser.accessibility import axe_context, axe_script, serious_violations
from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in
from webapp.extensions import db


def _setup(app) -> dict:
    """The rates, two LO unions and this month's deduction basis (both members on it)."""
    from tests.factories import add_initial_rate
    from webapp.models.lifecycle import LoUnion
    from webapp.services import deduction_basis
    from webapp.services.periods import Month

    with app.app_context():
        add_initial_rate()
        unions = [LoUnion(code="FF", name="Fellesforbundet", active=True),
                  LoUnion(code="EL", name="EL og IT Forbundet", active=True)]
        db.session.add_all(unions)
        db.session.commit()
        ids = {"EL": unions[1].id}
        deduction_basis.generate(Month.of(dt.date.today()))
        db.session.remove()
    return ids


def _stop_lines(app, period: str) -> dict[int, tuple]:
    from webapp.models import DeductionBasis, DeductionBasisLine

    with app.app_context():
        rows = db.session.execute(
            select(DeductionBasisLine.member_id, DeductionBasisLine.change, DeductionBasisLine.on_deduction)
            .join(DeductionBasis, DeductionBasis.id == DeductionBasisLine.basis_id)
            .where(DeductionBasis.period == period)).all()
        db.session.remove()
    return {member_id: (change.name if change else None, on_deduction) for member_id, change, on_deduction in rows}


def test_a_resignation_and_a_transfer_out_end_on_the_month_end_and_stop_on_the_next_basis(browser, live_server,
                                                                                        clean_app, world,
                                                                                        smtp_server):
    axe_script()  # skip before anything when axe-core is missing
    unions = _setup(clean_app)
    from webapp.services.periods import Month

    this_month = Month.of(dt.date.today())
    month_end = this_month.last_day.strftime("%d.%m.%Y")
    kari, ola = world.members["inside"], world.members["club"]

    # The member resigns on Min side.
    context = axe_context(browser, live_server)
    member = context.new_page()
    log_in(member, world.logins["member"], "member")
    member.goto("/minside/")
    member.click("#resign-link")
    member.wait_for_url("**/minside/resign")
    assert f"til og med {month_end}" in member.inner_text("main, body")
    assert serious_violations(member) == []
    member.select_option("#reason", "new_job")
    member.fill("#comment", "Ny jobb i kommunen")
    member.check("#confirm")
    screenshot(member, "leaving-resign-form")
    member.click("#confirm-resign")
    member.wait_for_selector("#resigned")
    text = member.inner_text("body")
    assert f"Utmeldingen din er registrert. Du er medlem til og med {month_end}." in text
    assert f"Utmeldt fra {month_end}" in text and member.locator("#resign-form").count() == 0
    assert serious_violations(member) == []
    screenshot(member, "leaving-resigned")
    member.goto("/minside/")
    assert f"Utmeldt fra {month_end}" in member.inner_text("#resignation")
    context.close()
    assert [m["to"] for m in smtp_server.messages] == [[kari.email_private]]

    # The office transfers another member out to EL og IT Forbundet.
    context = axe_context(browser, live_server)
    office = context.new_page()
    log_in(office, world.logins["office"], "office")
    office.goto(f"/memberview/show/{ola.id}")
    office.click("#action-transfer-out")
    office.wait_for_url(f"**/transfers/member/{ola.id}/out")
    assert serious_violations(office) == []
    office.select_option("#lo_union", str(unions["EL"]))
    office.fill("#on", dt.date.today().isoformat())
    office.fill("#reference", "EL-2026-41")
    screenshot(office, "leaving-transfer-out-form")
    office.click("#register-transfer-out")
    office.wait_for_url(f"**/memberview/show/{ola.id}")
    assert f"Medlemskapet avsluttes {month_end}" in office.inner_text("#leave-status")
    assert "EL og IT Forbundet" in office.inner_text("#member-transfers")
    screenshot(office, "leaving-member-transferred")
    office.goto("/transfers/")
    row = office.locator("#transfers tr[data-direction='outgoing']")
    assert "EL-2026-41" in row.inner_text() and ola.member_no in row.inner_text()
    assert serious_violations(office) == []
    screenshot(office, "leaving-transfers")
    response = office.request.get(row.locator("a.confirmation-pdf").get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    context.close()

    # The next month's basis: STOP for both; the month after, neither.
    from webapp.models import Member
    from webapp.services import deduction_basis

    with clean_app.app_context():
        left = {m.id: (m.left_on, m.leave_reason.name) for m in db.session.scalars(
            select(Member).where(Member.id.in_([kari.id, ola.id])))}
        deduction_basis.generate(this_month.next)
        deduction_basis.generate(this_month.next.next)
        db.session.remove()
    assert left == {kari.id: (this_month.last_day, "new_job"), ola.id: (this_month.last_day, "transferred")}
    now, after = _stop_lines(clean_app, str(this_month)), _stop_lines(clean_app, str(this_month.next))
    assert now[kari.id][1] and now[ola.id][1]  # this month they are deducted
    assert after[kari.id] == ("stop", False) and after[ola.id] == ("stop", False)
    last = _stop_lines(clean_app, str(this_month.next.next))
    assert kari.id not in last and ola.id not in last
