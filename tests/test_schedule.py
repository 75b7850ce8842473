"""The calendar (webapp/schedule.py): each periodic task starts its job once on its day (a frozen clock), nothing on
other days, before its hour or when turned off; Huey's crontab fires on every due day; the real jobs run in
immediate mode and do their work (next month's basis, the refund draft, mail sent, the purge's report, a backup
with rotation); two workers ticking at once start one job; the office sees the calendar on the Jobs page."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pytest
import time_machine
from flask_mail import Message
from sqlalchemy import func, select

from tests.concurrency import postgres_only
from tests.helpers import huey_consumer, login_as
from webapp import schedule
from webapp.extensions import db
from webapp.jobs import huey, retry_job
from webapp.models import DeductionBasis, DeductionNotice, DeductionReminder, RefundPolicy, RefundRun
from webapp.models.choices import JobStatus, RefundStatus
from webapp.models.outreach import Job
from webapp.services import backup, refunds
from webapp.services.periods import Quarter

D = dt.date
T = dt.datetime

# A moment on each entry's day, after its hour (CALENDAR_HOUR 6, CALENDAR_NIGHTLY_HOUR 2), and its job's key.
ON_ITS_DAY = {
    "deduction_run": (T(2026, 11, 15, 6, 5), "calendar:deduction_run:2026-12"),
    "employer_reminders": (T(2026, 11, 20, 9, 0), "calendar:employer_reminders:2026-11:20th"),
    "refund_draft": (T(2027, 1, 15, 6, 0), "calendar:refund_draft:2026-Q4"),
    "mail_retry": (T(2026, 11, 30, 2, 0), "calendar:mail_retry:2026-11-30"),
    "purge": (T(2026, 11, 30, 3, 0), "calendar:purge:2026-11-30"),
    "backup": (T(2026, 11, 30, 2, 10), "calendar:backup:2026-11-30"),
}


@pytest.fixture()
def calendar(app_ctx, monkeypatch, tmp_path):
    """The app with the calendar's default settings, its backups in a folder of the test's own."""
    for name, value in {"CALENDAR_DEDUCTION_RUN": True, "CALENDAR_EMPLOYER_REMINDERS": True,
                        "CALENDAR_REFUND_DRAFT": True, "CALENDAR_REFUND_WORKING_DAY": 10, "CALENDAR_HOUR": 6,
                        "CALENDAR_NIGHTLY_HOUR": 2, "CALENDAR_MAIL_RETRY": True, "CALENDAR_PURGE": True,
                        "CALENDAR_PURGE_ENABLED": False, "CALENDAR_BACKUP": True,
                        "BACKUP_DIR": str(tmp_path / "backups"), "BACKUP_KEEP": 14}.items():
        monkeypatch.setitem(app_ctx.config, name, value)
    return app_ctx


def tick(name: str, at: T) -> None:
    """What the worker does: Huey's periodic task of the entry, run (immediate mode) with the clock at `at`."""
    with time_machine.travel(at, tick=False):
        schedule.PERIODIC_TASKS[name]()


def jobs_of(key: str) -> list[Job]:
    db.session.expire_all()
    return list(db.session.scalars(select(Job).where(Job.key == key).order_by(Job.id)))


def calendar_jobs() -> int:
    return db.session.scalar(select(func.count(Job.id)).where(Job.key.like("calendar:%")))


# ------------------------------------------------------------------ when each entry is due


def due_days(name: str, first: D, last: D, config) -> list[D]:
    entry = schedule.BY_NAME[name]
    days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if entry.due(day, config) is not None]


def test_deduction_run_on_the_15th_for_next_month(calendar):
    config = calendar.config
    assert due_days("deduction_run", D(2026, 1, 1), D(2026, 12, 31), config) == [D(2026, m, 15) for m in range(1, 13)]
    due = schedule.BY_NAME["deduction_run"].due(D(2026, 12, 15), config)
    assert (due.period, str(due.value)) == ("2027-01", "2027-01")


def test_employer_reminders_on_the_20th_and_the_last_day_february_of_a_leap_year_too(calendar):
    config = calendar.config
    assert due_days("employer_reminders", D(2028, 2, 1), D(2028, 3, 31), config) == [
        D(2028, 2, 20), D(2028, 2, 29), D(2028, 3, 20), D(2028, 3, 31)]
    assert due_days("employer_reminders", D(2027, 2, 1), D(2027, 2, 28), config) == [D(2027, 2, 20), D(2027, 2, 28)]
    entry = schedule.BY_NAME["employer_reminders"]
    assert entry.due(D(2028, 2, 29), config).period == "2028-02:last_day"
    assert entry.due(D(2028, 2, 28), config) is None
    assert entry.due(D(2028, 2, 20), config).value[1] == "20th"


@pytest.mark.parametrize("n, expected", [
    # Q1 2026 ends on Tuesday 31 March; Maundy Thursday 2 April to Easter Monday 6 April are holidays.
    (10, [D(2026, 1, 15), D(2026, 4, 17), D(2026, 7, 14), D(2026, 10, 14)]),
    (1, [D(2026, 1, 2), D(2026, 4, 1), D(2026, 7, 1), D(2026, 10, 1)]),
    (2, [D(2026, 1, 5), D(2026, 4, 7), D(2026, 7, 2), D(2026, 10, 2)]),
])
def test_refund_draft_on_working_day_n_after_each_quarter(calendar, monkeypatch, n, expected):
    monkeypatch.setitem(calendar.config, "CALENDAR_REFUND_WORKING_DAY", n)
    assert due_days("refund_draft", D(2026, 1, 1), D(2026, 12, 31), calendar.config) == expected


def test_refund_draft_after_christmas_and_after_easter_in_the_quarter(calendar):
    config = calendar.config
    entry = schedule.BY_NAME["refund_draft"]
    # Q4 2026: 1 January 2027 (a Friday) is a holiday; the 10th working day is Friday 15 January.
    assert due_days("refund_draft", D(2027, 1, 1), D(2027, 1, 31), config) == [D(2027, 1, 15)]
    assert str(entry.due(D(2027, 1, 15), config).value) == "2026-Q4"
    # Q1 2027: Easter (28 March) lies inside the quarter, so April's working days run on: the 10th is 14 April.
    assert due_days("refund_draft", D(2027, 4, 1), D(2027, 4, 30), config) == [D(2027, 4, 14)]


def test_a_refund_working_day_outside_1_to_15_is_refused_naming_the_setting(calendar, monkeypatch):
    monkeypatch.setitem(calendar.config, "CALENDAR_REFUND_WORKING_DAY", 0)
    with pytest.raises(ValueError, match="CALENDAR_REFUND_WORKING_DAY"):
        schedule.BY_NAME["refund_draft"].due(D(2026, 4, 1), calendar.config)


@pytest.mark.parametrize("name", sorted(schedule.BY_NAME))
def test_hueys_crontab_fires_on_every_due_day_from_the_hour(calendar, name):
    """The Huey task's crontab is the coarse filter: it must fire on each day run_entry finds due (2026-2028,
    with a leap day), every five minutes, and (for the monthly ones) not on a day of no entry."""
    config = calendar.config
    entry = schedule.BY_NAME[name]
    validate = schedule.PERIODIC_TASKS[name].task_class().validate_datetime
    hour = entry.hour(config)
    days = due_days(name, D(2026, 1, 1), D(2028, 12, 31), config)
    assert days
    for day in days:
        for minute in (0, 5, 55):
            assert validate(T(day.year, day.month, day.day, hour, minute)), (day, minute)
        assert validate(T(day.year, day.month, day.day, 23, 55))  # catching up later that day
        assert not validate(T(day.year, day.month, day.day, hour, 3))
    if name in ("deduction_run", "employer_reminders", "refund_draft"):
        assert not validate(T(2026, 2, 16, hour, 0))


def test_the_periodic_tasks_are_registered_when_the_worker_builds_the_app(tmp_path):
    """A fresh process (the worker's `flask --app run worker` builds the app the same way): after create_app,
    Huey's scheduler finds the calendar's tasks due on the 15th."""
    code = ("import datetime as dt; from webapp import create_app; create_app('config.TestConfig'); "
            "from webapp.jobs import huey; "
            "print(sorted(t.name for t in huey.read_periodic(dt.datetime(2026, 11, 15, 6, 0))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == str(sorted(
        ["calendar_deduction_run", "calendar_mail_retry", "calendar_purge", "calendar_backup"]))


# ------------------------------------------------------------------ once on its day, with the real jobs


@pytest.mark.parametrize("name", sorted(ON_ITS_DAY))
def test_on_its_day_the_entry_starts_its_job_once(calendar, name):
    at, key = ON_ITS_DAY[name]
    tick(name, at)
    tick(name, at + dt.timedelta(minutes=5))
    tick(name, at.replace(hour=23, minute=55))
    started = jobs_of(key)
    assert len(started) == 1
    assert started[0].created_by_id is None
    assert calendar_jobs() == 1


@pytest.mark.parametrize("name", sorted(ON_ITS_DAY))
def test_nothing_before_the_hour_on_other_days_or_when_turned_off(calendar, monkeypatch, name):
    at, key = ON_ITS_DAY[name]
    entry = schedule.BY_NAME[name]
    tick(name, at.replace(hour=entry.hour(calendar.config) - 1, minute=55))
    if name not in ("mail_retry", "purge", "backup"):
        tick(name, at - dt.timedelta(days=1))
        tick(name, at + dt.timedelta(days=1))
    monkeypatch.setitem(calendar.config, entry.setting, False)
    tick(name, at)
    assert calendar_jobs() == 0
    monkeypatch.setitem(calendar.config, entry.setting, True)
    tick(name, at)
    assert len(jobs_of(key)) == 1


def test_a_worker_down_at_the_hour_catches_up_later_that_day_but_not_the_next(calendar):
    tick("deduction_run", T(2026, 11, 15, 22, 40))
    assert len(jobs_of("calendar:deduction_run:2026-12")) == 1
    tick("deduction_run", T(2026, 12, 16, 6, 0))
    assert calendar_jobs() == 1


def test_a_failed_run_is_left_to_the_office_not_started_again_each_tick(calendar, monkeypatch):
    monkeypatch.setitem(calendar.config, "BACKUP_KEEP", 0)  # the backup job refuses: keep at least one
    tick("backup", T(2026, 11, 30, 2, 0))
    tick("backup", T(2026, 11, 30, 2, 5))
    [job] = jobs_of("calendar:backup:2026-11-30")
    assert job.status == JobStatus.failed and "BACKUP_KEEP" in job.error
    monkeypatch.setitem(calendar.config, "BACKUP_KEEP", 14)
    assert retry_job(job.id) is True
    [job] = jobs_of("calendar:backup:2026-11-30")
    assert job.status == JobStatus.done and job.attempts == 2


def test_the_15th_makes_next_months_deduction_basis_and_sends_the_notices(calendar, smtp_server):
    from tests.factories import add_initial_rate, build_world

    build_world()
    add_initial_rate()
    db.session.commit()
    tick("deduction_run", T(2026, 12, 15, 6, 0))  # the contacts took office in August
    [job] = jobs_of("calendar:deduction_run:2027-01")
    assert job.status == JobStatus.done, job.error
    bases = db.session.scalar(select(func.count(DeductionBasis.id)).where(DeductionBasis.period == "2027-01"))
    assert bases == 2  # both employers with a deduction agreement
    assert db.session.scalar(select(func.count(DeductionBasis.id)).where(DeductionBasis.period != "2027-01")) == 0
    notices = db.session.scalar(select(func.count(DeductionNotice.id)))
    assert notices >= 1 and len(smtp_server.messages) == notices, job.log  # each contact's notice, really sent
    tick("deduction_run", T(2026, 12, 15, 7, 0))
    assert len(smtp_server.messages) == notices and calendar_jobs() == 1


def test_the_20th_and_the_last_day_remind_employers_without_a_delivered_list_once_each(calendar, smtp_server):
    from tests.factories import add_initial_rate, build_world
    from webapp.services import deduction_basis
    from webapp.services.periods import Month

    build_world()
    add_initial_rate()
    deduction_basis.generate(Month(2026, 12))
    db.session.commit()
    tick("employer_reminders", T(2026, 12, 20, 6, 0))
    tick("employer_reminders", T(2026, 12, 20, 12, 0))
    [job] = jobs_of("calendar:employer_reminders:2026-12:20th")
    assert job.status == JobStatus.done, job.error
    first = db.session.scalar(select(func.count(DeductionReminder.id)).where(DeductionReminder.kind == "20th"))
    assert first == 2 and len(smtp_server.messages) == 2  # one contact at each of the two employers
    tick("employer_reminders", T(2026, 12, 31, 6, 0))
    [job] = jobs_of("calendar:employer_reminders:2026-12:last_day")
    assert job.status == JobStatus.done, job.error
    assert db.session.scalar(select(func.count(DeductionReminder.id))) == 4 and len(smtp_server.messages) == 4


# ------------------------------------------------------------------ the refund draft


def _refund_world(pool_ore: int | None = 1000_00) -> None:
    from tests.factories import build_world

    build_world()
    db.session.add(RefundPolicy(valid_from="2020-Q1", share_national_association=Decimal(40),
                                share_branch=Decimal(40), share_club=Decimal(20), weight_retired=Decimal(0)))
    if pool_ore is not None:
        refunds.set_pool(Quarter(2026, 1), pool_ore)
    db.session.commit()


def office_mails(smtp_server, subject_part: str = "") -> list[tuple[list[str], str, str]]:
    """(recipients, subject, body) of the mails the SMTP server received with `subject_part` in the subject."""
    return [(m["to"], m["message"]["Subject"], m["message"].get_body(preferencelist=("plain",)).get_content())
            for m in smtp_server.messages if subject_part in m["message"]["Subject"]]


def test_working_day_10_after_easter_calculates_the_draft_and_tells_the_office(calendar, smtp_server):
    _refund_world()
    tick("refund_draft", T(2026, 4, 14, 6, 0))  # the 10th working day if Easter were not counted
    assert calendar_jobs() == 0
    tick("refund_draft", T(2026, 4, 17, 6, 0))
    [job] = jobs_of("calendar:refund_draft:2026-Q1")
    assert job.status == JobStatus.done, job.error
    run = db.session.scalars(select(RefundRun).where(RefundRun.quarter == "2026-Q1")).one()
    assert run.status == RefundStatus.draft and run.pool_ore == 1000_00
    [(to, subject, body)] = office_mails(smtp_server)
    assert to == [calendar.config["OFFICE_EMAIL"]] and "1. kvartal 2026" in subject
    assert job.result_url in body


def test_an_approved_quarter_is_never_touched(calendar, smtp_server):
    _refund_world()
    refunds.calculate(Quarter(2026, 1), pool_ore=500_00)
    refunds.approve(Quarter(2026, 1))
    db.session.commit()
    before = db.session.scalars(select(RefundRun)).one()
    calculated_at = before.calculated_at
    tick("refund_draft", T(2026, 4, 17, 6, 0))
    assert calendar_jobs() == 0
    db.session.expire_all()
    run = db.session.scalars(select(RefundRun)).one()
    assert (run.status, run.pool_ore, run.calculated_at) == (RefundStatus.approved, 500_00, calculated_at)
    assert office_mails(smtp_server) == []


def test_a_quarter_without_a_pool_is_a_failed_job_the_office_is_told_of_and_can_retry(calendar, smtp_server):
    _refund_world(pool_ore=None)
    tick("refund_draft", T(2026, 4, 17, 6, 0))
    tick("refund_draft", T(2026, 4, 17, 6, 5))
    [job] = jobs_of("calendar:refund_draft:2026-Q1")
    assert job.status == JobStatus.failed and job.error.startswith("Pott: ")
    assert job.created_by_id is None
    [(to, subject, body)] = office_mails(smtp_server)
    assert to == [calendar.config["OFFICE_EMAIL"]] and "1. kvartal 2026" in subject
    assert job.error in body and f"/jobs/{job.id}" in body
    assert db.session.scalar(select(func.count(RefundRun.id))) == 0
    # The office sets the pool and presses "Try again": the draft is calculated and the office told.
    refunds.set_pool(Quarter(2026, 1), 2000_00)
    db.session.commit()
    assert retry_job(job.id) is True
    [job] = jobs_of("calendar:refund_draft:2026-Q1")
    assert job.status == JobStatus.done, job.error
    assert db.session.scalars(select(RefundRun)).one().pool_ore == 2000_00
    assert len(office_mails(smtp_server)) == 2


# ------------------------------------------------------------------ nightly: mail, purge, backup


def test_nightly_mail_retry_sends_what_waits_in_the_outbox(calendar, smtp_server):
    from webapp.services import mail

    mail.queue(Message(subject="Venter", recipients=["medlem@example.org"], body="Hei"))
    db.session.commit()
    tick("mail_retry", T(2026, 11, 30, 2, 0))
    [job] = jobs_of("calendar:mail_retry:2026-11-30")
    assert job.status == JobStatus.done, job.error
    assert [m["message"]["Subject"] for m in smtp_server.messages] == ["Venter"]
    assert mail.waiting_count() == 0
    assert "1 sendt, 0 avvist, 0 venter fortsatt" in job.log


def test_nightly_purge_is_a_dry_run_reported_to_the_office_unless_enabled(calendar, monkeypatch, smtp_server):
    tick("purge", T(2026, 11, 30, 2, 0))
    [job] = jobs_of("calendar:purge:2026-11-30")
    assert job.status == JobStatus.done, job.error
    assert json.loads(job.params)["dry_run"] is True and json.loads(job.params)["report_to_office"] is True
    [(to, _subject, _body)] = office_mails(smtp_server)  # the report
    assert to == [calendar.config["OFFICE_EMAIL"]]
    monkeypatch.setitem(calendar.config, "CALENDAR_PURGE_ENABLED", True)
    tick("purge", T(2026, 12, 1, 2, 0))
    [job] = jobs_of("calendar:purge:2026-12-01")
    assert json.loads(job.params)["dry_run"] is False


def test_nightly_backup_writes_a_dated_restorable_file(calendar):
    from tests.factories import build_world

    build_world()
    db.session.commit()
    tick("backup", T(2026, 11, 30, 2, 0))
    [job] = jobs_of("calendar:backup:2026-11-30")
    assert job.status == JobStatus.done, job.error
    path = os.path.join(calendar.config["BACKUP_DIR"], "medlem-backup-2026-11-30.jsonl.gz")
    header = backup.read_header(path)
    assert header["counts"]["member"] > 0 and header["created_at"].startswith("2026-11-30T02:00")
    with gzip.open(path, "rt", encoding="utf-8") as source:
        assert sum(1 for _ in source) == 1 + sum(header["counts"].values())
    assert "medlem-backup-2026-11-30.jsonl.gz" in job.log
    assert sorted(os.listdir(calendar.config["BACKUP_DIR"])) == ["medlem-backup-2026-11-30.jsonl.gz"]


def test_backup_rotation_keeps_the_newest_n_of_ours_and_never_another_file(calendar, monkeypatch):
    folder = calendar.config["BACKUP_DIR"]
    os.makedirs(folder)
    ours = [backup.dated_name(D(2026, 11, 30) - dt.timedelta(days=n)) for n in range(1, 8)]  # 23-29 Nov
    others = ["notes.txt", "medlem-backup-by-hand.jsonl.gz", "medlem-backup-2026-11-01.jsonl.gz.bak",
              "medlem-backup-2026-13-01.jsonl", "other-2026-11-01.jsonl.gz"]
    for name in ours + others:
        with open(os.path.join(folder, name), "w") as handle:
            handle.write("x")
    monkeypatch.setitem(calendar.config, "BACKUP_KEEP", 3)
    tick("backup", T(2026, 11, 30, 2, 0))
    [job] = jobs_of("calendar:backup:2026-11-30")
    assert job.status == JobStatus.done, job.error
    assert sorted(os.listdir(folder)) == sorted(others + [
        "medlem-backup-2026-11-28.jsonl.gz", "medlem-backup-2026-11-29.jsonl.gz", "medlem-backup-2026-11-30.jsonl.gz"])
    assert "medlem-backup-2026-11-23.jsonl.gz" in job.log


def test_rotation_refuses_to_keep_none(tmp_path):
    with pytest.raises(ValueError, match="BACKUP_KEEP"):
        backup.rotate(str(tmp_path), 0)


# ------------------------------------------------------------------ two workers


@postgres_only
@pytest.mark.parametrize("name", ["mail_retry", "deduction_run"])
def test_two_workers_ticking_at_once_start_one_job(clean_app, monkeypatch, tmp_path, name):
    """Each worker process runs Huey's scheduler: both enqueue the periodic task at the same minute. Eight
    threads (each its own app context and database session) tick together: one job."""
    monkeypatch.setitem(clean_app.config, "BACKUP_DIR", str(tmp_path))
    at, key = ON_ITS_DAY[name]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            with clean_app.app_context():
                schedule.run_entry(name, at)
        except BaseException as exc:  # handed to the test below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    with time_machine.travel(at, tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert errors == []
    with clean_app.app_context():
        assert len(jobs_of(key)) == 1


def test_a_worker_that_looked_just_before_another_started_the_job_starts_none(calendar, monkeypatch):
    """Worker B finds no job of the key; before B takes the calendar's lock, worker A starts the job and it
    finishes (done: no longer active, so start_job's key would not join it). B looks again under the lock: none."""
    at, key = ON_ITS_DAY["mail_retry"]
    real_lock = schedule._calendar_lock

    def worker_a_gets_there_first() -> None:
        monkeypatch.setattr(schedule, "_calendar_lock", real_lock)
        with calendar.app_context():  # worker A: a context and database session of its own
            assert schedule.run_entry("mail_retry", at).status == JobStatus.done
        real_lock()

    monkeypatch.setattr(schedule, "_calendar_lock", worker_a_gets_there_first)
    with time_machine.travel(at, tick=False):
        assert schedule.run_entry("mail_retry", at) is None
    assert len(jobs_of(key)) == 1


def test_a_real_worker_runs_the_periodic_task_in_its_own_thread_once(clean_app, monkeypatch, tmp_path):
    """The periodic task as Huey's scheduler enqueues it (twice: two workers' schedulers in the same minute), run
    by a real consumer's worker thread, which has no app context of its own: one backup job, one file."""
    folder = tmp_path / "backups"
    monkeypatch.setitem(clean_app.config, "BACKUP_DIR", str(folder))
    monkeypatch.setitem(clean_app.config, "CALENDAR_NIGHTLY_HOUR", 0)
    key = f"calendar:backup:{schedule.now().date().isoformat()}"
    with huey_consumer(clean_app, tmp_path / "huey.db"):
        schedule.PERIODIC_TASKS["backup"]()
        schedule.PERIODIC_TASKS["backup"]()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (huey.pending_count() or not _done(clean_app, key)):
            time.sleep(0.05)
        time.sleep(0.3)  # the second tick, taken from the queue, has looked and gone
    with clean_app.app_context():
        [job] = jobs_of(key)
        assert job.status == JobStatus.done, job.error
    assert os.listdir(folder) == [backup.dated_name(schedule.now().date())]


def _done(app, key: str) -> bool:
    with app.app_context():
        return any(job.status == JobStatus.done for job in jobs_of(key))


# ------------------------------------------------------------------ the Jobs page


def test_the_office_sees_the_calendar_with_each_entrys_next_run(client, world, monkeypatch, tmp_path):
    app = client.application
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "CALENDAR_PURGE", False)
    with time_machine.travel(T(2026, 11, 30, 10, 0), tick=False):
        login_as(client, world.logins["office"])
        with app.app_context():
            schedule.run_entry("backup", schedule.now())  # tonight's backup is done
        page = client.get("/jobs/").get_data(as_text=True)
    assert 'id="calendar-entries"' in page
    rows = {name: page.split(f'data-entry="{name}"')[1].split("</tr>")[0] for name in schedule.BY_NAME}
    assert "15.12.2026 06:00" in rows["deduction_run"]
    assert "30.11.2026 10:00" in rows["employer_reminders"]  # the last day, not run yet: now
    assert "15.01.2027 06:00" in rows["refund_draft"]
    assert "30.11.2026 10:00" in rows["mail_retry"]
    assert "01.12.2026 02:00" in rows["backup"]  # done tonight: the next night
    assert ">Av<" in rows["purge"] and "&ndash;" in rows["purge"]
    assert ">På<" in rows["backup"] and "Hver natt; de 14 nyeste beholdes" in rows["backup"]
    assert "Virkedag 10 etter hvert kvartal" in rows["refund_draft"]
    assert "<td>Kalenderen</td>" in page  # the backup job's "started by"  # the backup job's "started by"


def test_a_refund_working_day_out_of_range_shows_in_its_row_and_the_page_still_answers(client, world, monkeypatch):
    monkeypatch.setitem(client.application.config, "CALENDAR_REFUND_WORKING_DAY", 40)
    login_as(client, world.logins["office"])
    response = client.get("/jobs/")
    assert response.status_code == 200
    row = response.get_data(as_text=True).split('data-entry="refund_draft"')[1].split("</tr>")[0]
    assert "CALENDAR_REFUND_WORKING_DAY: 40" in row and "&ndash;" in row


@pytest.mark.parametrize("role", ["leader", "member"])
def test_others_do_not_see_the_calendar(client, world, role):
    login_as(client, world.logins[role])
    response = client.get("/jobs/")
    if response.status_code == 200:
        assert 'id="calendar-entries"' not in response.get_data(as_text=True)
    else:
        assert response.status_code in (302, 403, 404)


def test_the_huey_registry_holds_one_periodic_task_per_entry():
    names = {task.name for task in huey.read_periodic(T(2026, 11, 15, 6, 0))}
    assert {f"calendar_{name}" for name in ("deduction_run", "mail_retry", "purge", "backup")} <= names
    assert "calendar_employer_reminders" not in names and "calendar_refund_draft" not in names
