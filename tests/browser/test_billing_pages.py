"""Direct payment in the browser: the office matches a payment from the unmatched queue to an invoice and undoes
it; the member finds the invoice on Min side and downloads it. Every page is checked with axe-core."""

from __future__ import annotations

import datetime as dt

from tests.browser.accessibility import axe_context, axe_script, serious_violations
from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in


def _rows(clean_app, world) -> dict:
    from tests.billing_screen_helpers import add_invoice, add_payment
    from webapp.extensions import db
    from webapp.services import kid
    from webapp.services.periods import Month

    member = world.members["inside"]
    with clean_app.app_context():
        invoice = add_invoice(member.id, "2027-Q1", 90000, due_date=dt.date.today() - dt.timedelta(days=20))
        payment = add_payment(kid.member_kid_for(member.member_no, Month(2027, 2)), 90000)
        ids = {"invoice": invoice.id, "kid": invoice.kid, "payment": payment.id, "number": int(member.member_no)}
        db.session.remove()
    return ids


def test_office_matches_an_unmatched_payment_and_the_member_sees_the_invoice(browser, live_server, clean_app,
                                                                             world):
    axe_script()  # skip before anything when axe-core is missing
    rows = _rows(clean_app, world)
    context = axe_context(browser, live_server)
    page = context.new_page()
    log_in(page, world.logins["office"], "office")

    page.goto("/payments/unmatched/")
    row = page.locator(f"#unmatched tr[data-payment='{rows['payment']}']")
    assert f"Medlem {rows['number']}, februar 2027, ingen faktura" in row.inner_text()
    assert serious_violations(page) == []
    screenshot(page, "billing-unmatched-queue")

    row.locator("a.handle").click()
    page.wait_for_url(f"**/payments/{rows['payment']}")
    assert page.locator("#payment-state").inner_text().strip().startswith("Uavklart")
    assert serious_violations(page) == []
    screenshot(page, "billing-payment-unmatched")

    page.locator("#candidates button").first.click()
    page.wait_for_url(f"**/payments/{rows['payment']}")
    assert f"Innbetalingen er koblet til faktura {rows['kid']}." in page.inner_text("body")
    assert "Koblet til medlem" in page.inner_text("#payment-state")
    assert "900,00" in page.inner_text("#payment-allocations")
    assert serious_violations(page) == []
    screenshot(page, "billing-payment-matched")

    page.goto(f"/invoiceview/show/{rows['invoice']}")
    assert page.inner_text("#invoice-status") == "Betalt"
    assert serious_violations(page) == []
    screenshot(page, "billing-invoice-paid")
    context.close()

    context = axe_context(browser, live_server)
    member = context.new_page()
    log_in(member, world.logins["member"], "member")
    member.goto("/minside/invoices")
    invoice_row = member.locator(f"#invoices tr[data-invoice='{rows['invoice']}']")
    assert "Betalt" in invoice_row.locator(".invoice-status").inner_text()
    assert serious_violations(member) == []
    screenshot(member, "mypage-invoices")
    response = member.request.get(invoice_row.locator("a").get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"

    member.goto("/minside/")
    assert "Betalingsmåte" in member.inner_text("#payment")
    assert rows["kid"] in member.inner_text("#documents")
    # The sections of Min side this issue adds (the rest of the page is tests/browser/test_mypage.py's).
    assert serious_violations(member, {"include": [["#payment"], ["#documents"]]}) == []
    screenshot(member, "mypage-dues-payment")
    context.close()


def test_office_undoes_the_match(browser, live_server, clean_app, world):
    axe_script()
    rows = _rows(clean_app, world)
    context = axe_context(browser, live_server)
    page = context.new_page()
    log_in(page, world.logins["office"], "office")
    page.goto(f"/payments/{rows['payment']}")
    page.fill("#invoice", rows["kid"])
    page.click("#match-invoice-form button[type=submit]")
    page.wait_for_url(f"**/payments/{rows['payment']}")
    page.click("#undo")
    page.wait_for_url(f"**/payments/{rows['payment']}")
    assert "Angret: innbetalingen er tilbake blant de uavklarte." in page.inner_text("body")
    assert page.locator("#payment-state").inner_text().strip().startswith("Uavklart")
    page.goto("/arrears/")
    assert serious_violations(page) == []
    screenshot(page, "billing-arrears")
    context.close()
