"""The calendar: the monthly, quarterly and nightly work that runs itself, as Huey periodic tasks of the worker.

- `deduction_run`: the 15th, from CALENDAR_HOUR: next month's deduction basis, then its notices.
- `employer_reminders`: the 20th and the last day of the month, from CALENDAR_HOUR: the month's reminders to
  employers with a basis but no delivered list.
- `refund_draft`: working day CALENDAR_REFUND_WORKING_DAY after a quarter (webapp/services/working_days.py), from
  CALENDAR_HOUR: the quarter's refund draft, and a mail to the office (an approved quarter is left alone).
- `mail_retry`, `purge`, `backup`: every night from CALENDAR_NIGHTLY_HOUR: the mail waiting in the outbox; the
  privacy purge (a dry run reported to the office unless CALENDAR_PURGE_ENABLED); a backup into BACKUP_DIR, the
  newest BACKUP_KEEP kept.

Each entry is a setting (CALENDAR_<ENTRY>) that turns it off. Every run is a job (created by nobody: the office
sees it on the Jobs page) with a key naming the entry and its period (`calendar:deduction_run:2026-12`,
`calendar:backup:2026-11-30`). The Huey task fires every few minutes on its days (Huey's crontab, in UTC) and
`run_entry` decides, on the server's local clock (`now`): the entry is on, its day has come, its hour has passed,
and no job of that key exists yet (a failed one waits for the office's "Try again"). So a worker that was down at
the hour catches up later that day, and two workers (each runs Huey's scheduler) start one job: the check and the
job's insert are serialized by a database lock (`_calendar_lock`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_mail import Message
from huey import crontab
from sqlalchemy import func, select, text

from webapp.extensions import db
from webapp.jobs import app_context, huey, job_task, report_progress, start_job
from webapp.models.choices import JobStatus, RefundStatus
from webapp.models.outreach import Job
from webapp.models.refunds import RefundRun
from webapp.services.money import decimal_text
from webapp.services.periods import Month, Quarter
from webapp.services.working_days import nth_working_day_after

logger = logging.getLogger(__name__)

# How often a periodic task looks whether its entry is due (minutes); the work itself runs once a day at most.
EVERY = "*/5"
# Days ahead the Jobs page looks for an entry's next run.
LOOKAHEAD_DAYS = 400
REFUND_WORKING_DAYS = range(1, 16)
# PostgreSQL advisory lock taken while the calendar decides and inserts a job (any number, the same everywhere).
CALENDAR_LOCK_ID = 17_2026_11


def now() -> dt.datetime:
    """The calendar's clock: the server's local time (tests move it with time-machine)."""
    return dt.datetime.now()


@dataclass(frozen=True)
class Due:
    """An entry due on a day: `period` names the run in its key, `value` is what its starter is given."""

    period: str
    value: Any


@dataclass(frozen=True)
class Entry:
    name: str
    setting: str
    hour_setting: str
    label: Any
    due: Callable[[dt.date, Mapping], Due | None]
    start: Callable[[Due, str, Mapping], Job | None]
    when: Callable[[Mapping], str]

    def enabled(self, config: Mapping) -> bool:
        return bool(config.get(self.setting))

    def hour(self, config: Mapping) -> int:
        return int(config.get(self.hour_setting))

    def key(self, due: Due) -> str:
        return f"calendar:{self.name}:{due.period}"


# When each entry is due (a pure function of the day and the settings).

def _deduction_due(day: dt.date, config: Mapping) -> Due | None:
    if day.day != 15:
        return None
    month = Month.of(day).next
    return Due(str(month), month)


def _reminders_due(day: dt.date, config: Mapping) -> Due | None:
    month = Month.of(day)
    if day.day == 20:
        return Due(f"{month}:20th", (month, "20th"))
    if day == month.last_day:
        return Due(f"{month}:last_day", (month, "last_day"))
    return None


def refund_working_day(config: Mapping) -> int:
    n = int(config.get("CALENDAR_REFUND_WORKING_DAY"))
    if n not in REFUND_WORKING_DAYS:
        raise ValueError(f"CALENDAR_REFUND_WORKING_DAY: {n} is not a working day from 1 to 15 after a quarter")
    return n


def _refund_due(day: dt.date, config: Mapping) -> Due | None:
    if day.month not in (1, 4, 7, 10):
        return None
    quarter = Month.of(day).quarter.previous
    if day != nth_working_day_after(quarter.last_day, refund_working_day(config)):
        return None
    return Due(str(quarter), quarter)


def _nightly_due(day: dt.date, config: Mapping) -> Due:
    return Due(day.isoformat(), day)


# What each entry starts (the work's owners' start functions, imported when used).

def _start_deduction_run(due: Due, key: str, config: Mapping) -> Job:
    from webapp.services.runs import start_deduction_run

    return start_deduction_run(due.value, None, key=key)


def _start_employer_reminders(due: Due, key: str, config: Mapping) -> Job:
    from webapp.services.runs import start_employer_reminders

    month, which = due.value
    return start_employer_reminders(month, which, None, key=key)


def _start_refund_draft(due: Due, key: str, config: Mapping) -> Job | None:
    """The quarter's draft calculated and the office told; an approved quarter is left alone. A quarter that cannot
    be calculated (no pool or policy for it) is recorded as a failed job the office sees (and mailed about): once
    the pool is set, its "Try again" calculates the draft."""
    from webapp.services.document_jobs import start_refund_calculation
    from webapp.services.refunds import RefundError

    quarter: Quarter = due.value
    if db.session.scalar(select(RefundRun.status).where(RefundRun.quarter == str(quarter))) == RefundStatus.approved:
        logger.info("calendar: the refunds of %s are approved; no draft is calculated", quarter,
                    extra={"fields": {"event": "calendar_skipped", "entry": "refund_draft", "key": key}})
        return None
    try:
        return start_refund_calculation(quarter, None, key=key, notify_office=True)
    except RefundError as exc:
        db.session.rollback()
        return _refused_refund_draft(quarter, key, str(exc), config)


def _refused_refund_draft(quarter: Quarter, key: str, error: str, config: Mapping) -> Job | None:
    from webapp.services import mail
    from webapp.services.document_jobs import CALCULATION_KIND
    from webapp.services.periods import period_label

    _calendar_lock()  # start_refund_calculation's rollback ended the first one
    if _key_taken(key):
        return None
    at = now()
    with force_locale(config["BABEL_DEFAULT_LOCALE"]):
        label = period_label(str(quarter))
        # As start_refund_calculation would have queued it, so that the office's retry runs the calculation.
        job = Job(kind=CALCULATION_KIND, title=_("Refund calculation %(quarter)s", quarter=label)[:200],
                  status=JobStatus.failed, key=key, created_by_id=None, created_at=at, finished_at=at, attempts=0,
                  done=0, error=error[:4000], params=json.dumps({"quarter": str(quarter), "pool_ore": None,
                                                                "actor": "calendar", "notify_office": True},
                                                               sort_keys=True))
        db.session.add(job)
        db.session.flush()
        link = config["PORTAL_URL"].rstrip("/") + f"/jobs/{job.id}"
        message = Message(subject=_("Refund draft for %(quarter)s could not be calculated", quarter=label),
                          recipients=[config["OFFICE_EMAIL"]],
                          body="\n".join([
                              _("The calendar could not calculate the refund draft for %(quarter)s:", quarter=label),
                              error, "", _("Set this right, then press \"Try again\" on the job:"), link]))
    mail.queue_and_send(message)  # commits the job with the mail
    return job


def _start_mail_retry(due: Due, key: str, config: Mapping) -> Job:
    return start_job("mail_retry", _text(_l("Send the mail waiting in the outbox")), mail_retry_work, {}, None,
                     key=key)


def _start_purge(due: Due, key: str, config: Mapping) -> Job:
    from webapp.services.runs import start_purge

    return start_purge(dry_run=not config.get("CALENDAR_PURGE_ENABLED"), user_id=None, key=key,
                       report_to_office=True)


def _start_backup(due: Due, key: str, config: Mapping) -> Job:
    return start_job("backup", _text(_l("Backup of the database")), backup_work, {"day": due.value.isoformat()},
                     None, key=key)


def _text(message) -> str:
    """A job's title or log line, in the union's language (the calendar has no visitor)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(message)


ENTRIES: tuple[Entry, ...] = (
    Entry("deduction_run", "CALENDAR_DEDUCTION_RUN", "CALENDAR_HOUR",
          _l("Next month's deduction basis and notices"), _deduction_due, _start_deduction_run,
          lambda config: _l("The 15th of each month")),
    Entry("employer_reminders", "CALENDAR_EMPLOYER_REMINDERS", "CALENDAR_HOUR",
          _l("Reminders to employers without a delivered deduction list"), _reminders_due,
          _start_employer_reminders, lambda config: _l("The 20th and the last day of each month")),
    Entry("refund_draft", "CALENDAR_REFUND_DRAFT", "CALENDAR_HOUR",
          _l("Refund draft of the quarter just ended (the office is told)"), _refund_due, _start_refund_draft,
          lambda config: _l("Working day %(n)s after each quarter", n=refund_working_day(config))),
    Entry("mail_retry", "CALENDAR_MAIL_RETRY", "CALENDAR_NIGHTLY_HOUR",
          _l("Send the mail waiting in the outbox"), _nightly_due, _start_mail_retry,
          lambda config: _l("Every night")),
    Entry("purge", "CALENDAR_PURGE", "CALENDAR_NIGHTLY_HOUR", _l("Privacy purge"), _nightly_due, _start_purge,
          lambda config: (_l("Every night") if config.get("CALENDAR_PURGE_ENABLED")
                          else _l("Every night, as a dry run reported to the office"))),
    Entry("backup", "CALENDAR_BACKUP", "CALENDAR_NIGHTLY_HOUR", _l("Backup of the database"), _nightly_due,
          _start_backup, lambda config: _l("Every night, the newest %(keep)s kept",
                                           keep=int(config.get("BACKUP_KEEP")))),
)
BY_NAME = {entry.name: entry for entry in ENTRIES}


def _key_taken(key: str) -> bool:
    """A job of this key exists (waiting, running, done, or failed and left to the office's retry)."""
    return db.session.scalar(select(func.count(Job.id)).where(Job.key == key)) > 0


def _calendar_lock() -> None:
    """Serialize the calendar's check-then-start across workers until the caller's transaction ends (start_job's
    commit): PostgreSQL's advisory lock; SQLite's write lock, taken by an update of no rows."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": CALENDAR_LOCK_ID})
    else:
        db.session.execute(text("UPDATE job SET id = id WHERE 1 = 0"))


def run_entry(name: str, at: dt.datetime) -> Job | None:
    """Start the entry's job when it is on, due on `at`'s day, past its hour and not started yet; the job, or
    None when there was nothing to start."""
    entry = BY_NAME[name]
    config = current_app.config
    if not entry.enabled(config) or at.hour < entry.hour(config):
        return None
    due = entry.due(at.date(), config)
    if due is None:
        return None
    key = entry.key(due)
    if _key_taken(key):
        return None
    try:
        _calendar_lock()
        if _key_taken(key):
            db.session.rollback()
            return None
        job = entry.start(due, key, config)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()  # releases the lock when the entry started nothing (an approved quarter)
    if job is not None:
        logger.info("calendar: %s started job %s", key, job.id,
                    extra={"fields": {"event": "calendar", "entry": name, "key": key, "job_id": job.id}})
    return job


def run_due(at: dt.datetime) -> list[Job]:
    """Every entry due at `at` started (the jobs started)."""
    return [job for entry in ENTRIES if (job := run_entry(entry.name, at)) is not None]


def next_run(entry: Entry, at: dt.datetime, config: Mapping) -> dt.datetime | None:
    """When the entry runs next as seen at `at`: today at its hour (or now, when the hour has passed and today's
    run has not been started: a worker catches up), else the next day it is due. None when it is off."""
    if not entry.enabled(config):
        return None
    hour = entry.hour(config)
    today = at.date()
    due = entry.due(today, config)
    if due is not None and not _key_taken(entry.key(due)):
        return max(dt.datetime.combine(today, dt.time(hour)), at.replace(second=0, microsecond=0))
    for offset in range(1, LOOKAHEAD_DAYS):
        day = today + dt.timedelta(days=offset)
        if entry.due(day, config) is not None:
            return dt.datetime.combine(day, dt.time(hour))
    return None


def overview(at: dt.datetime, config: Mapping) -> list[dict]:
    """The calendar as the Jobs page shows it to the office (a setting out of range shown in the entry's row)."""
    rows = []
    for entry in ENTRIES:
        try:
            when, upcoming = entry.when(config), next_run(entry, at, config)
        except ValueError as exc:
            when, upcoming = str(exc), None
        rows.append({"name": entry.name, "label": entry.label, "when": when, "on": entry.enabled(config),
                     "next_run": upcoming})
    return rows


# The nightly jobs of their own.

@job_task("mail_retry")
def mail_retry_work(job_id: int, params: dict) -> None:
    """Send what waits in the outbox (mail that could not be sent when it was written)."""
    from webapp.services import mail

    report = mail.retry_queued()
    handled = report.sent + report.failed
    report_progress(job_id, handled, handled, _text(_l(
        "%(sent)s sent, %(failed)s refused, %(waiting)s still waiting", sent=decimal_text(report.sent),
        failed=decimal_text(report.failed), waiting=decimal_text(report.waiting))))


@job_task("backup")
def backup_work(job_id: int, params: dict) -> None:
    """Back up the database into BACKUP_DIR under the day's name, then delete the oldest of the calendar's
    backups beyond BACKUP_KEEP (a run again the same day replaces that day's file)."""
    from webapp.services.backup import dated_backup, rotate

    directory = current_app.config["BACKUP_DIR"]
    keep = int(current_app.config["BACKUP_KEEP"])
    if keep < 1:
        raise ValueError(f"BACKUP_KEEP: keep at least 1 backup, not {keep}")
    report_progress(job_id, 0, 2)
    result = dated_backup(directory, dt.date.fromisoformat(params["day"]))
    rows = sum(result.counts.values())
    report_progress(job_id, 1, 2, _text(_l("Backup written: %(file)s (%(rows)s rows)", file=result.path,
                                            rows=decimal_text(rows))))
    removed = rotate(directory, keep)
    report_progress(job_id, 2, 2, _text(
        _l("Old backups deleted: %(files)s", files=", ".join(removed)) if removed
        else _l("No old backup to delete (%(keep)s are kept).", keep=keep)))


# The periodic tasks: Huey's scheduler (in each worker with periodic=True) enqueues each every few minutes on the
# days of its crontab (in UTC: the server's local day from 02:00 in Norway; `run_entry` decides on local time).
CRONTABS = {
    "deduction_run": crontab(minute=EVERY, day="15"),
    "employer_reminders": crontab(minute=EVERY, day="20,28-31"),
    "refund_draft": crontab(minute=EVERY, month="1,4,7,10"),
    "mail_retry": crontab(minute=EVERY),
    "purge": crontab(minute=EVERY),
    "backup": crontab(minute=EVERY),
}


def _periodic(name: str):
    def tick() -> None:
        with app_context():
            try:
                run_entry(name, now())
            finally:
                db.session.remove()

    tick.__name__ = f"calendar_{name}"
    return huey.periodic_task(CRONTABS[name], name=f"calendar_{name}")(tick)


PERIODIC_TASKS = {entry.name: _periodic(entry.name) for entry in ENTRIES}
