"""The analyst produces and sends a membership report through the real pages."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.test_pages import log_in


def test_analyst_shows_and_sends_an_employer_association_report(page, world, smtp_server):
    log_in(page, world.logins["analyst"], "analyst")
    page.goto("/reports/")
    assert page.inner_text("#report-total").strip() == "8"  # LO / LO Stat for today: the world's members
    page.select_option("#report", "spekter")
    page.click("#report-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "971524960" in page.inner_text("#enterprises") and "974760673" not in page.inner_text("#enterprises")
    assert page.get_attribute("#download-xlsx", "href").endswith(".xlsx")
    page.click("#send-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    # Sent by a job: the page answers with the job's page, its result the record of the sending.
    assert "/jobs/" in page.url and page.is_visible("#job-result")
    assert len(smtp_server.messages) == 1
    page.goto("/reports/?report=spekter")
    assert page.is_visible("#already-sent")
    screenshot(page, "reports-analyst-spekter")
    page.goto("/reportdispatchview/list/")
    assert "medlemstall@spekter.example" in page.content()
