"""Background jobs (webapp/jobs.py): a job's life (queued, running, done or failed), its progress written apart
from the work's session, the office's retry (one winner), and a real Huey consumer running a job outside the
request while its page shows the progress."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from tests.concurrency import browser_session, fire_together, postgres_only
from tests.helpers import huey_consumer, login_as
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


# ------------------------------------------------------------------ the pages


def _user_id(username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    return db.session.scalar(select(User.id).where(User.username == username))


@pytest.fixture()
def two_jobs(clean_app, world):
    """A finished job of the leader and a failed one of the member-data admin; their ids."""
    with clean_app.app_context():
        done = start_job("test_count", "Leader's count", count_work, {"n": 2}, _user_id(world.logins["leader"])).id
        CONTROL["fail_at"] = 1
        failed = start_job("test_count", "Admin's count", count_work, {"n": 2},
                           _user_id(world.logins["member_data_admin"])).id
        db.session.remove()
    return {"done": done, "failed": failed}


def test_a_user_sees_their_own_jobs_and_nobody_elses(client, world, two_jobs):
    login_as(client, world.logins["leader"], "leader")
    page = client.get("/jobs/").get_data(as_text=True)
    assert "Leader&#39;s count" in page and "Admin&#39;s count" not in page
    detail = client.get(f"/jobs/{two_jobs['done']}")
    assert detail.status_code == 200
    body = detail.get_data(as_text=True)
    assert 'role="progressbar"' in body and 'aria-valuenow="100"' in body and "/jobs/result/2" in body
    state = client.get(f"/jobs/{two_jobs['done']}.json").json
    assert (state["status"], state["percent"], state["finished"], state["result_url"]) == ("done", 100, True,
                                                                                           "/jobs/result/2")
    assert "/retry" not in body
    for url in (f"/jobs/{two_jobs['failed']}", f"/jobs/{two_jobs['failed']}.json"):
        assert client.get(url).status_code == 404, url
    # Retrying is the office's: refused by permission, and the failed job stays failed.
    assert client.post(f"/jobs/{two_jobs['failed']}/retry").status_code in (302, 403, 404)
    client.get("/logout/")
    login_as(client, world.logins["member"])
    assert "count" not in client.get("/jobs/").get_data(as_text=True)
    assert client.get(f"/jobs/{two_jobs['done']}.json").status_code == 404
    with client.application.app_context():
        assert db.session.get(Job, two_jobs["failed"]).status == JobStatus.failed


def test_the_office_sees_every_job_with_the_error_and_retries_a_failed_one(client, world, two_jobs):
    login_as(client, world.logins["office"])
    page = client.get("/jobs/").get_data(as_text=True)
    assert "Leader&#39;s count" in page and "Admin&#39;s count" in page
    state = client.get(f"/jobs/{two_jobs['failed']}.json").json
    assert state["status"] == "failed" and "broke at step 1" in state["error"]
    assert f"/jobs/{two_jobs['failed']}/retry" in client.get(f"/jobs/{two_jobs['failed']}").get_data(as_text=True)
    response = client.post(f"/jobs/{two_jobs['failed']}/retry")
    assert response.status_code == 302
    state = client.get(f"/jobs/{two_jobs['failed']}.json").json
    assert (state["status"], state["percent"], state["error"]) == ("done", 100, None)
    # A second retry of the finished job changes nothing.
    client.post(f"/jobs/{two_jobs['failed']}/retry")
    with client.application.app_context():
        assert db.session.get(Job, two_jobs["failed"]).attempts == 2


def test_the_member_sees_no_error_text_of_their_own_failed_job(client, world, clean_app):
    with clean_app.app_context():
        CONTROL["fail_at"] = 1
        job_id = start_job("test_count", "Mine", count_work, {"n": 1}, _user_id(world.logins["member"])).id
        db.session.remove()
    login_as(client, world.logins["member"])
    state = client.get(f"/jobs/{job_id}.json").json
    assert state["status"] == "failed" and state["error"] is None
    assert "broke at step" not in client.get(f"/jobs/{job_id}").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/jobs/0", "/jobs/0.json", "/jobs/99999", "/jobs/99999.json",
                                  "/jobs/" + "9" * 30, "/jobs/" + "9" * 30 + ".json", "/jobs/abc", "/jobs/-1",
                                  "/jobs/1.5.json", "/jobs/?page=x", "/jobs/?page=-3"])
def test_bad_ids_answer_404(client, world, path):
    login_as(client, world.logins["office"])
    assert client.get(path).status_code == 404
    assert client.post("/jobs/" + "9" * 30 + "/retry").status_code == 404


# ------------------------------------------------------------------ a real worker


@job_task("test_gated")
def gated_work(job_id: int, params: dict) -> None:
    """Half the work, then waits for the test to let it go on (so the test sees it running at 50 %)."""
    report_progress(job_id, 0, 4, "Started")
    report_progress(job_id, 2, line="Half way")
    CONTROL["halfway"].set()
    if not CONTROL["gate"].wait(timeout=20):
        raise TimeoutError("the test never opened the gate")
    report_progress(job_id, 4, line="All done")


@pytest.fixture()
def consumer(clean_app, tmp_path):
    with huey_consumer(clean_app, tmp_path / "huey.db") as running:
        yield running


def test_a_real_worker_runs_the_job_outside_the_request_and_its_page_shows_the_progress(client, world, consumer):
    CONTROL.update(gate=threading.Event(), halfway=threading.Event())
    with client.application.app_context():
        job = start_job("test_gated", "Gated", gated_work, {}, _user_id(world.logins["leader"]))
        # start_job returned at once: the job waits in the queue or has just begun.
        assert job.status in (JobStatus.queued, JobStatus.running)
        job_id = job.id
        db.session.remove()
    login_as(client, world.logins["leader"], "leader")
    assert CONTROL["halfway"].wait(timeout=20)
    state = client.get(f"/jobs/{job_id}.json").json
    assert state["status"] == "running" and 0 < state["percent"] < 100 and state["percent"] == 50
    assert any("Half way" in line for line in state["log"])
    assert 'aria-valuenow="50"' in client.get(f"/jobs/{job_id}").get_data(as_text=True)
    CONTROL["gate"].set()
    deadline = time.monotonic() + 20
    while state["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
        state = client.get(f"/jobs/{job_id}.json").json
    assert (state["status"], state["percent"]) == ("done", 100)


def test_a_worker_stopped_at_once_leaves_its_running_job_failed_for_a_retry(app_ctx):
    """What `flask --app run worker` does on SIGTERM (and run.py on its way out): a job still running is marked
    failed as interrupted, so the office can retry it instead of it showing 'running' for ever."""
    from huey.signals import SIGNAL_INTERRUPTED

    from webapp import jobs

    job = Job(kind="test_count", title="Cut off", status=JobStatus.running, done=3, total=10, attempts=1,
              params='{"n": 10}', created_at=jobs._now())
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    task = count_work.s(job_id)
    jobs.huey._emit(SIGNAL_INTERRUPTED, task)
    job = _job(job_id)
    assert job.status == JobStatus.failed and job.error == jobs.INTERRUPTED
    assert retry_job(job_id) is True
    assert _job(job_id).status == JobStatus.done


def test_the_worker_command_refuses_immediate_mode(app):
    result = app.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code == 2 and "HUEY_IMMEDIATE is on" in result.output


def test_huey_url_picks_the_storage_and_refuses_an_unknown_one():
    from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

    from webapp import jobs

    assert jobs.storage_for("sqlite:////tmp/q.db") == (SqliteStorage, {"filename": "/tmp/q.db"})
    assert jobs.storage_for("sqlite:///instance/q.db")[1]["filename"].endswith("/instance/q.db")
    assert jobs.storage_for("redis://:secret@redis:6379/0") == (RedisStorage, {"url": "redis://:secret@redis:6379/0"})
    assert jobs.storage_for("memory://") == (MemoryStorage, {})
    with pytest.raises(jobs.JobConfigError, match="HUEY_URL"):
        jobs.storage_for("postgresql://db/queue")
    assert "secret" not in jobs.queue_label("redis://:secret@redis:6379/0")


@postgres_only
def test_concurrent_retries_of_a_failed_job_run_it_once(live_server, clean_app, world):
    """Four office sessions press *Try again* on one failed job at the same instant: one wins and runs it."""
    with clean_app.app_context():
        CONTROL["fail_at"] = 1
        job_id = start_job("test_count", "Count", count_work, {"n": 3}, None).id
        db.session.remove()
    sessions = [browser_session(live_server, world.logins["office"]) for _ in range(4)]
    responses = fire_together([lambda s=s: s.post(f"{live_server}/jobs/{job_id}/retry") for s in sessions])
    assert [r.status_code for r in responses] == [200] * 4
    queued_again = [r for r in responses if "Jobben er satt i kø igjen." in r.text]
    assert len(queued_again) == 1
    with clean_app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.status, job.attempts, job.done) == (JobStatus.done, 2, 3)
        db.session.remove()


@job_task("test_bad_sql")
def bad_sql_work(job_id: int, params: dict) -> None:
    db.session.execute(text("SELECT no_such_column FROM job WHERE secret_value = 'Per Utenfor'"))


def test_a_database_error_reaches_the_office_without_its_text(app_ctx):
    job = start_job("test_bad_sql", "Bad SQL", bad_sql_work, {}, None)
    assert job.status == JobStatus.failed
    assert "the database refused the work" in job.error
    assert "no_such_column" not in job.error and "Per Utenfor" not in job.error


@job_task("test_file")
def file_work(job_id: int, params: dict) -> None:
    """Makes one result file from its input file."""
    from webapp.jobs import add_file, input_file

    add_file(job_id, "out.txt", "text/plain", input_file(job_id).data.upper())


def test_a_key_joins_the_active_job_and_a_finished_one_does_not_block(app_ctx):
    from webapp import jobs

    jobs.huey.immediate = False  # queued, never consumed: the job stays waiting
    try:
        jobs.configure("memory://")
        first = start_job("test_count", "Keyed", count_work, {"n": 1}, None, key="test:keyed")
        second = start_job("test_count", "Keyed again", count_work, {"n": 1}, None, key="test:keyed")
        assert second.id == first.id and first.status == JobStatus.queued
        assert db.session.scalar(select(text("count(*)")).select_from(Job).where(Job.key == "test:keyed")) == 1
    finally:
        jobs.configure("memory://", immediate=True)
    db.session.execute(Job.__table__.update().where(Job.id == first.id).values(status=JobStatus.done))
    db.session.commit()
    third = start_job("test_count", "Keyed, later", count_work, {"n": 1}, None, key="test:keyed")
    assert third.id != first.id and third.status == JobStatus.done
    assert jobs.last_done_job("test:keyed").id == third.id


def test_a_job_reads_its_input_file_and_its_result_file_is_served_to_whoever_sees_the_job(client, world, app_ctx):
    from webapp import jobs
    from webapp.models.outreach import JobFile

    job = Job(kind="test_file", title="Upper", status=JobStatus.queued, params="{}", done=0, attempts=0,
              created_at=jobs._now())
    db.session.add(job)
    db.session.flush()
    jobs.add_file(job.id, "in.txt", "text/plain", b"abc", purpose="input")
    db.session.commit()
    jobs.run_job(job.id, file_work.work)
    jobs.run_job(job.id, file_work.work)  # not waiting any more: not run twice
    db.session.expire_all()
    assert (db.session.get(Job, job.id).status, db.session.get(Job, job.id).error) == (JobStatus.done, None)
    [result] = jobs.result_files(job.id)
    assert (result.filename, result.size) == ("out.txt", 3)
    login_as(client, world.logins["member"])
    assert client.get(f"/jobs/{job.id}/files/{result.id}").status_code == 404  # not theirs
    client.get("/logout/")
    login_as(client, world.logins["office"])
    page = client.get(f"/jobs/{job.id}")
    assert "out.txt" in page.get_data(as_text=True)
    assert client.get(f"/jobs/{job.id}/files/{result.id}").data == b"ABC"
    input_id = db.session.scalar(select(JobFile.id).where(JobFile.purpose == "input"))
    assert client.get(f"/jobs/{job.id}/files/{input_id}").status_code == 404
    assert client.get(f"/jobs/{job.id + 1}/files/{result.id}").status_code == 404


def test_a_running_job_whose_worker_stopped_beating_is_marked_interrupted(app_ctx):
    import datetime as dt

    from webapp import jobs

    old = jobs._now() - dt.timedelta(minutes=10)
    jobs.beat("dead:1", old)
    db.session.execute(text("UPDATE worker_heartbeat SET seen_at = :old"), {"old": old})
    db.session.commit()
    jobs.beat("live:2", jobs._now())
    rows = [Job(kind="test_count", title=name, status=JobStatus.running, params="{}", done=0, attempts=1,
                created_at=old, started_at=old, worker=name) for name in ("dead:1", "live:2")]
    db.session.add_all(rows)
    db.session.commit()
    assert jobs.sweep_stale_jobs(120) == 1
    db.session.expire_all()
    assert [(r.worker, r.status) for r in rows] == [("dead:1", JobStatus.failed), ("live:2", JobStatus.running)]
    assert rows[0].error == jobs.INTERRUPTED
    assert jobs.worker_seen_at() > old


def test_an_app_error_is_shown_by_its_message_alone_and_a_purged_input_names_the_rule(app_ctx):
    from webapp import jobs

    job = Job(kind="test_file", title="Upper", status=JobStatus.queued, params="{}", done=0, attempts=0,
              created_at=jobs._now())
    db.session.add(job)
    db.session.commit()
    jobs.run_job(job.id, file_work.work)  # started with no input file: as if the purge had taken it
    failed = _job(job.id)
    assert failed.status == JobStatus.failed
    assert failed.error.startswith("Filen jobben ble startet med, er borte (filer slettes etter 7 dager)")
