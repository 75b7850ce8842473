"""The office calculates and approves a quarter on its screen; the treasurer finds the documents on the unit page."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in


def test_office_approves_and_treasurer_downloads(page, world, clean_app, browser, live_server):
    from webapp.extensions import db
    from webapp.models import RefundPolicy

    with clean_app.app_context():
        db.session.add(RefundPolicy(valid_from="2020-Q1", share_national_association=40, share_branch=40,
                                    share_club=20))
        db.session.commit()
        db.session.remove()

    log_in(page, world.logins["office"], "office")
    page.goto("/refundruns/")
    page.fill("#quarter", "2026-Q1")
    page.fill("#pool", "12 345,67")
    page.click("#calculate-form button[type=submit]")
    page.wait_for_url("**/jobs/*")  # calculated by a job: its page links the draft when done
    page.click("#job-result a")
    page.wait_for_url("**/refundruns/2026-Q1")
    assert "12\u00a0345,67" in page.inner_text("#pool")
    assert page.locator("#units tr[data-code=KL1] .amount").inner_text().strip() != ""
    screenshot(page, "refund-run-draft")
    page.click("#approve")
    page.wait_for_url("**/refundruns/2026-Q1")
    assert page.locator("#approve").count() == 0
    screenshot(page, "refund-run-approved")

    context = browser.new_context(base_url=live_server, locale="nb-NO")
    officer = context.new_page()
    log_in(officer, world.logins["treasurer"], "treasurer")
    officer.goto("/unit/")
    documents = officer.locator("#refund-documents")
    assert "1. kvartal 2026" in documents.inner_text()
    screenshot(officer, "unit-page-refund-documents")
    for link in (".refund-letter", ".refund-list"):  # kept by the job the approval started: answered at once
        href = documents.locator(link).first.get_attribute("href")
        response = officer.request.get(href, max_redirects=0)
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    context.close()
