"""A job killed half-way and retried leaves no doubled rows (the issue's must-show).

A real worker process (`flask --app run worker`) runs the deduction run on a SQLite queue file and the tests'
database file (or PostgreSQL when TEST_DATABASE_URL names one). The notices go out in batches of two employers
(NOTICE_BATCH) to a real SMTP server that takes its time over each message, so the test can kill the worker
with SIGKILL after some batches were committed. The dead worker's job is then marked interrupted (the sweep
a live worker's heartbeat does), retried as the office does, and a second worker finishes it. Every basis
line, notice and outbox mail then exists once, the same rows as a run that was never killed makes, and no
contact got a mail twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete, func, select

from tests.conftest import CapturedMail, free_loopback_port, mail_to_loopback
from tests.factories import add_initial_rate
from tests.helpers import huey_consumer
from tests.run_data import add_employers
from webapp import jobs
from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionBasisLine, DeductionNotice, OutboxMail
from webapp.models.choices import JobStatus
from webapp.models.outreach import Job, WorkerHeartbeat
from webapp.services import runs
from webapp.services.periods import Month

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MONTH = Month(2026, 3)
EMPLOYERS = 24  # and the world's two: 26 employers, one contact each, 13 batches
SMTP_DELAY = 0.12  # seconds the SMTP server takes over each message


class SlowMail(CapturedMail):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(SMTP_DELAY)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture()
def slow_smtp():
    port = free_loopback_port()
    handler = SlowMail()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


@pytest.fixture()
def queue(app, tmp_path):
    """This process queues onto a SQLite queue file the workers read; immediate mode again after."""
    queue_file = tmp_path / "queue.db"
    jobs.configure("sqlite:///" + str(queue_file), immediate=False)
    try:
        yield queue_file
    finally:
        jobs.configure("memory://", immediate=True)


def start_worker(app, queue_file, smtp_port: int) -> subprocess.Popen:
    calendar_off = {name: "0" for name in ("CALENDAR_DEDUCTION_RUN", "CALENDAR_EMPLOYER_REMINDERS",
                                           "CALENDAR_REFUND_DRAFT", "CALENDAR_MAIL_RETRY", "CALENDAR_PURGE",
                                           "CALENDAR_BACKUP")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "HUEY_", "APP_", "DATABASE_URL"))}
    env.update(calendar_off, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               HUEY_URL="sqlite:///" + str(queue_file), MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_port),
               NOTICE_BATCH="2", WORKER_HEARTBEAT_SECONDS="1", SECRET_KEY=secrets.token_hex(32))
    with open(queue_file.with_suffix(".log"), "ab") as log:  # the worker's output, read when it fails
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "run", "worker", "--workers", "1"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def job_row(job_id: int) -> Job:
    db.session.expire_all()
    row = db.session.get(Job, job_id)
    db.session.commit()  # no transaction held open while the worker writes (SQLite)
    return row


def wait_for(predicate, timeout: float, what: str, worker: subprocess.Popen | None = None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"the worker exited ({worker.returncode}) before {what}: "
                                 + log.read_text(errors="replace")[-3000:])
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


def rows_made() -> dict:
    """What the run made, as comparable sets and counts."""
    basis_lines = db.session.execute(
        select(DeductionBasis.employer_id, DeductionBasisLine.member_id)
        .join(DeductionBasisLine, DeductionBasisLine.basis_id == DeductionBasis.id)
        .where(DeductionBasis.period == str(MONTH))).all()
    notices = db.session.execute(
        select(DeductionBasis.employer_id, DeductionNotice.email)
        .join(DeductionNotice, DeductionNotice.basis_id == DeductionBasis.id)).all()
    # The notices' mails (a mail of another kind in the outbox is not the run's: the assertions below name it).
    outbox = db.session.scalars(select(OutboxMail.recipients).where(
        OutboxMail.subject.in_(select(DeductionNotice.subject)))).all()
    bases = db.session.scalars(select(DeductionBasis.employer_id).where(DeductionBasis.period == str(MONTH))).all()
    return {"bases": Counter(bases), "basis_lines": Counter(basis_lines), "notices": Counter(notices),
            "outbox": Counter(outbox)}


def test_a_deduction_run_killed_half_way_and_retried_leaves_no_doubled_rows(app_ctx, world, queue, slow_smtp):
    smtp_port, smtp = slow_smtp
    worker = start_worker(app_ctx, queue, smtp_port)  # it starts up while the register is made
    try:
        add_initial_rate()
        add_employers(EMPLOYERS)
        office_id = app_ctx.appbuilder.sm.find_user(username=world.logins["office"]).id
        db.session.commit()
        job_id = runs.start_deduction_run(MONTH, office_id).id
        total_employers = EMPLOYERS + 2
        # Some batches are committed (each two employers' notices), the run is far from done: kill the worker.
        wait_for(lambda: (job_row(job_id).done or 0) >= 6, 60, "the first batches", worker,
                 queue.with_suffix(".log"))
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        stop(worker)
    killed_at = job_row(job_id)
    assert killed_at.status == JobStatus.running and killed_at.total == total_employers
    notified_before = db.session.scalar(select(func.count(DeductionNotice.id)))
    db.session.commit()
    assert 6 <= notified_before < total_employers, notified_before

    # The sweep a live worker's heartbeat does marks the dead worker's job interrupted; the office retries it.
    dead = db.session.scalar(select(func.max(WorkerHeartbeat.seen_at)))
    db.session.commit()
    wait_for(lambda: dt.datetime.now() - dead > dt.timedelta(seconds=1.5), 5, "the heartbeat to age")
    assert jobs.sweep_stale_jobs(1.0) == 1
    interrupted = job_row(job_id)
    assert interrupted.status == JobStatus.failed and interrupted.error == jobs.INTERRUPTED
    assert jobs.retry_job(job_id)

    # A worker again (in threads of this process: a second process would only add its start-up time).
    with mail_to_loopback(app_ctx, smtp_port), huey_consumer(app_ctx, queue):
        wait_for(lambda: job_row(job_id).status == JobStatus.done, 60, "the retried job to finish")
    done = job_row(job_id)
    assert done.attempts == 2 and done.done == done.total == total_employers
    assert "Varsel sendt til" in done.log

    retried = rows_made()
    db.session.commit()
    # Nothing twice: one basis per employer, one line per member, one notice and one outbox mail per contact.
    assert len(retried["bases"]) == total_employers and set(retried["bases"].values()) == {1}
    assert set(retried["basis_lines"].values()) == {1}
    assert len(retried["notices"]) == total_employers and set(retried["notices"].values()) == {1}
    every_mail = db.session.execute(select(OutboxMail.recipients, OutboxMail.subject)).all()
    db.session.commit()
    assert len(retried["outbox"]) == total_employers and set(retried["outbox"].values()) == {1}, every_mail
    # No contact got a mail twice. (The mails of the batch the kill cut short were recorded with their notices:
    # they wait in the outbox for `mail retry` rather than being made again.)
    received = Counter(tuple(message["to"]) for message in smtp.messages)
    assert received and set(received.values()) == {1}
    assert len(received) >= total_employers - 2

    # The same rows as a run that was never killed.
    db.session.execute(delete(DeductionNotice))
    db.session.execute(delete(OutboxMail))
    db.session.execute(delete(DeductionBasisLine))
    db.session.execute(delete(DeductionBasis))
    db.session.commit()
    clean_run = runs.start_deduction_run(MONTH, office_id)
    assert clean_run.status == JobStatus.done
    assert rows_made() == retried
