"""Background jobs (webapp/jobs.py): a job's life (queued, running, done or failed), its progress written apart
from the work's session, the office's retry (one winner), and a real Huey consumer running a job outside the
request while its page shows the progress."""

from __future__ import annotations

import threading

import pytest

from webapp.extensions import db
from webapp.jobs import job_task, report_progress, retry_job, set_result, start_job
from webapp.models.choices import JobStatus
from webapp.models.outreach import Job

# What the test work functions do, per test: a failure to raise once, and the events of the consumer test.
CONTROL: dict = {}


@job_task("test_count")
def count_work(job_id: int, params: dict) -> None:
    """Counts to params["n"], reporting each step; fails once when told to (then, retried, goes on)."""
    n = params["n"]
    report_progress(job_id, 0, n, "Started")
    for i in range(1, n + 1):
        if CONTROL.get("fail_at") == i:
            del CONTROL["fail_at"]
            raise RuntimeError(f"broke at step {i}")
        report_progress(job_id, i)
    report_progress(job_id, n, line=f"Counted to {n}")
    set_result(job_id, f"/jobs/result/{n}")


def _job(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_start_job_runs_at_once_in_immediate_mode_and_records_progress(app_ctx):
    job = start_job("test_count", "Count to three", count_work, {"n": 3}, None)
    assert job.status == JobStatus.done
    assert (job.done, job.total, job.attempts) == (3, 3, 1)
    assert job.started_at is not None and job.finished_at is not None
    assert job.result_url == "/jobs/result/3"
    assert "Started" in job.log and "Counted to 3" in job.log
    assert job.error is None


def test_failure_is_stored_and_the_office_retry_runs_it_again_once(app_ctx):
    CONTROL["fail_at"] = 2
    job = start_job("test_count", "Count to four", count_work, {"n": 4}, None)
    assert job.status == JobStatus.failed
    assert "RuntimeError: broke at step 2" in job.error
    assert job.done == 1 and job.attempts == 1

    assert retry_job(job.id) is True
    job = _job(job.id)
    assert job.status == JobStatus.done and job.attempts == 2 and job.done == 4
    assert job.error is None
    # Done now: a second retry (a double click, a stale page) wins nothing and runs nothing.
    assert retry_job(job.id) is False
    assert _job(job.id).attempts == 2


def test_only_one_of_two_concurrent_retries_wins(app_ctx):
    CONTROL["fail_at"] = 1
    job_id = start_job("test_count", "Count", count_work, {"n": 2}, None).id
    from webapp.services.transitions import claim

    # The first claim holds the row (failed → queued); the second finds it no longer failed.
    assert claim(Job, job_id, JobStatus.failed, status=JobStatus.queued) is True
    assert claim(Job, job_id, JobStatus.failed, status=JobStatus.queued) is False
    db.session.rollback()
    assert _job(job_id).status == JobStatus.failed


def test_progress_and_result_are_checked(app_ctx):
    job_id = start_job("test_count", "Count", count_work, {"n": 1}, None).id
    with pytest.raises(ValueError, match="must not be negative"):
        report_progress(job_id, -1)
    for url in ("https://evil.example/x", "//evil.example", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="must be a path of this app"):
            set_result(job_id, url)


def test_progress_is_written_apart_from_the_work_session(app_ctx):
    """A progress report is committed on its own connection: a second session sees it while the first holds an
    open transaction of its own."""
    job_id = start_job("test_count", "Count", count_work, {"n": 1}, None).id
    seen = {}

    def look():
        with app_ctx.app_context():
            seen["done"] = db.session.get(Job, job_id).done
            db.session.remove()

    db.session.get(Job, job_id)
    report_progress(job_id, 7, 10)
    reader = threading.Thread(target=look)
    reader.start()
    reader.join()
    assert seen["done"] == 7
