"""A job's page in a browser while a real worker runs the job: static/js/jobs.js (under the site's CSP, no
inline script) moves the progress bar as the job reports, then loads the finished page with its result; and the
page has no serious accessibility violation."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.browser.accessibility import axe_context, serious_violations
from tests.browser.test_pages import log_in
from tests.helpers import huey_consumer
from webapp.extensions import db
from webapp.jobs import job_task, report_progress, set_result, start_job

GATES: dict[str, threading.Event] = {}


@job_task("test_browser_gated")
def gated_work(job_id: int, params: dict) -> None:
    """Starts, waits for the test; half done, waits again; then finishes with a result."""
    report_progress(job_id, 0, 4, "Started")
    if not GATES["half"].wait(timeout=30):
        raise TimeoutError("the test never let the job go on")
    report_progress(job_id, 2, line="Half way")
    if not GATES["end"].wait(timeout=30):
        raise TimeoutError("the test never let the job finish")
    report_progress(job_id, 4, line="All done")
    set_result(job_id, "/jobs/")


@pytest.fixture()
def consumer(clean_app, tmp_path):
    with huey_consumer(clean_app, tmp_path / "huey.db") as running:
        try:
            yield running
        finally:  # a job still held at a gate is let go before the consumer stops
            GATES.get("half", threading.Event()).set()
            GATES.get("end", threading.Event()).set()


def test_the_job_page_follows_a_running_job(browser, live_server, clean_app, world, consumer):
    from flask_appbuilder.security.sqla.models import User

    GATES.update(half=threading.Event(), end=threading.Event())
    with clean_app.app_context():
        leader = db.session.scalar(select(User.id).where(User.username == world.logins["leader"]))
        job_id = start_job("test_browser_gated", "Utsending til avdelingen", gated_work, {}, leader).id
        db.session.remove()
    context = axe_context(browser, live_server)
    page = context.new_page()
    try:
        log_in(page, world.logins["leader"], "leader")
        page.goto(f"/jobs/{job_id}")
        bar = page.locator("[role=progressbar]")
        assert bar.get_attribute("aria-valuenow") == "0"
        found = serious_violations(page)
        assert not found, "\n".join(found)
        GATES["half"].set()
        # The script asks /jobs/<id>.json and moves the bar without loading the page again.
        page.wait_for_function("document.querySelector('[role=progressbar]').getAttribute('aria-valuenow') === '50'",
                               timeout=15000)
        assert "Half way" in page.locator("#job-log").inner_text()
        assert page.locator("#job-count").inner_text() == "2 av 4"
        GATES["end"].set()
        page.wait_for_selector("#job-result:not([hidden]) a", timeout=15000)
        assert bar.get_attribute("aria-valuenow") == "100"
        assert page.locator("#job-status").inner_text() == "Ferdig"
    finally:
        context.close()
