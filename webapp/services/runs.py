"""The office's monthly and nightly runs as background jobs (webapp/jobs.py): started from the Runs page
(webapp/views/operations.py) or by the calendar (webapp/schedule.py), each a Job with progress and a log.

- `start_deduction_run(month)`: make the month's deduction basis (deduction_basis.generate: one transaction,
  employers that have a basis are left as they are), then send the notices (notices.notify: in batches of
  NOTICE_BATCH employers, each batch recorded and committed before it is sent). A retry after a crash half-way
  makes no basis twice and sends no notice twice.
- `start_employer_reminders(month, which)`: remind the deduction contacts of employers without a delivered list
  (webapp/services/deduction_reminders.py: once per employer, month and reminder, by a unique constraint).
- `start_purge(dry_run)`: the privacy purge (webapp/services/retention.py); its counts by kind in the job's log,
  and with `report_to_office` e-mailed to OFFICE_EMAIL (counts only: no names, no national ids).

The log lines are in the union's language (BABEL_DEFAULT_LOCALE), numbers grouped as people read them.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import force_locale, format_number
from flask_babel import gettext as _
from flask_mail import Message

from webapp.jobs import job_task, report_progress, set_result, start_job
from webapp.models.outreach import Job
from webapp.services.periods import Month

DEDUCTION_RUN = "deduction_run"
EMPLOYER_REMINDERS = "employer_reminders"
PURGE = "privacy_purge"
REMINDER_KINDS = ("20th", "last_day")


def _n(value: int) -> str:
    """A count as the union reads it (1 234)."""
    return format_number(value)


def _locale():
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


# ------------------------------------------------------------------ the deduction run


def start_deduction_run(month: Month, user_id: int | None, key: str | None = None) -> Job:
    """Generate `month`'s deduction basis, then send its notices, as a job."""
    title = _("Deduction basis and notices for %(month)s", month=month.label)
    return start_job(DEDUCTION_RUN, title, deduction_run_task, {"month": str(month)}, user_id, key=key)


@job_task(DEDUCTION_RUN)
def deduction_run_task(job_id: int, params: dict) -> None:
    """Generate the month's basis (skipping employers that have one) and send the notices not sent yet."""
    from webapp.services import deduction_basis, notices

    month = Month.parse(params["month"])
    with _locale():
        report_progress(job_id, 0, None, _("Making the deduction basis for %(month)s", month=month.label))
        made = deduction_basis.generate(month)
        line = _("Basis made for %(count)s employers", count=_n(made.created))
        if made.already_there:
            line += "; " + _("%(count)s had one already", count=_n(made.already_there))
        report_progress(job_id, 0, None, line)

        def progress(done: int, total: int) -> None:
            report_progress(job_id, done, total)

        sent = notices.notify(month, progress=progress)
        report_progress(job_id, sent.employers + sent.already_notified + len(sent.without_contacts), None,
                        _("Notice sent to %(contacts)s contacts at %(employers)s employers",
                          contacts=_n(sent.emails), employers=_n(sent.employers)))
        if sent.already_notified:
            report_progress(job_id, sent.employers + sent.already_notified + len(sent.without_contacts), None,
                            _("%(count)s employers had their notice already", count=_n(sent.already_notified)))
        if sent.without_contacts:
            report_progress(job_id, sent.employers + sent.already_notified + len(sent.without_contacts), None,
                            _("No deduction contact at %(count)s employers",
                              count=_n(len(sent.without_contacts))))
        if sent.waiting:
            report_progress(job_id, sent.employers + sent.already_notified + len(sent.without_contacts), None,
                            _("%(count)s e-mails wait in the outbox for the mail server", count=_n(sent.waiting)))
    set_result(job_id, "/deductionmonthview/list/")


# ------------------------------------------------------------------ reminders to employers without a list


def start_employer_reminders(month: Month, which: str, user_id: int | None, key: str | None = None) -> Job:
    """Remind the deduction contacts of employers with a basis for `month` but no delivered list, as a job.
    `which` is "20th" or "last_day" (ValueError otherwise): each employer gets each reminder once."""
    if which not in REMINDER_KINDS:
        raise ValueError(f"which: {which!r} is not one of {REMINDER_KINDS}")
    title = (_("Reminders to employers without a list for %(month)s (the 20th)", month=month.label)
             if which == "20th" else
             _("Reminders to employers without a list for %(month)s (last day)", month=month.label))
    return start_job(EMPLOYER_REMINDERS, title, employer_reminders_task, {"month": str(month), "which": which},
                     user_id, key=key)


@job_task(EMPLOYER_REMINDERS)
def employer_reminders_task(job_id: int, params: dict) -> None:
    from webapp.services import deduction_reminders

    month = Month.parse(params["month"])
    with _locale():
        def progress(done: int, total: int) -> None:
            report_progress(job_id, done, total)

        result = deduction_reminders.remind(month, params["which"], progress=progress)
        done = result.employers + result.already_reminded + result.without_contacts
        report_progress(job_id, done, None, _("Reminder sent to %(contacts)s contacts at %(employers)s employers",
                                              contacts=_n(result.emails), employers=_n(result.employers)))
        if result.already_reminded:
            report_progress(job_id, done, None, _("%(count)s employers were reminded already",
                                                  count=_n(result.already_reminded)))
        if result.without_contacts:
            report_progress(job_id, done, None, _("No deduction contact at %(count)s employers",
                                                  count=_n(result.without_contacts)))
        if result.waiting:
            report_progress(job_id, done, None, _("%(count)s e-mails wait in the outbox for the mail server",
                                                  count=_n(result.waiting)))
    set_result(job_id, "/deductionmonthview/list/")


# ------------------------------------------------------------------ the privacy purge


def start_purge(dry_run: bool, user_id: int | None, key: str | None = None, report_to_office: bool = False) -> Job:
    """The privacy purge (a dry run only counts) as a job; with `report_to_office` its counts are e-mailed to
    OFFICE_EMAIL through the outbox."""
    title = _("Privacy purge (dry run)") if dry_run else _("Privacy purge")
    return start_job(PURGE, title, purge_task, {"dry_run": bool(dry_run), "report_to_office": bool(report_to_office)},
                     user_id, key=key)


@job_task(PURGE)
def purge_task(job_id: int, params: dict) -> None:
    """Run the purge (one transaction: done or not) and log its counts; a retry finds nothing left to purge."""
    from webapp.services import mail as outbox
    from webapp.services import retention

    dry_run = bool(params.get("dry_run"))
    with _locale():
        report_progress(job_id, 0, 1, _("Privacy purge (dry run): counting what would be deleted") if dry_run
                        else _("Privacy purge: deleting"))
        result = retention.purge(dry_run=dry_run, today=dt.date.today())
        lines = purge_count_lines(result)
        for line in lines:
            report_progress(job_id, 0, None, line)
        if params.get("report_to_office"):
            subject = (_("Privacy purge (dry run): %(count)s members", count=_n(len(result.members))) if dry_run
                       else _("Privacy purge: %(count)s members", count=_n(len(result.members))))
            body = "\n".join([subject, "", *lines, ""])
            outbox.queue_and_send(Message(subject=subject, recipients=[current_app.config["OFFICE_EMAIL"]],
                                          body=body))
            report_progress(job_id, 0, None, _("Summary e-mailed to the office"))
    report_progress(job_id, 1, 1)


def purge_count_lines(result) -> list[str]:
    """The purge's counts by kind, one line each, in the union's language (counts and dates only)."""
    dry = result.dry_run

    def day(value: dt.date | None) -> str:
        return f"{value:%d.%m.%Y}" if value else "-"

    lines = [
        (_("Members who left before %(date)s: would anonymise %(count)s", date=day(result.cutoff),
           count=_n(len(result.members))) if dry else
         _("Members who left before %(date)s: anonymised %(count)s", date=day(result.cutoff),
           count=_n(len(result.members)))),
        (_("Applications rejected before %(date)s: would delete %(count)s", date=day(result.rejected_before),
           count=_n(result.rejected_applications)) if dry else
         _("Applications rejected before %(date)s: deleted %(count)s", date=day(result.rejected_before),
           count=_n(result.rejected_applications))),
        (_("Voter lists of ballots closed before %(date)s: would delete %(lists)s (%(voters)s voters)",
           date=day(result.ballot_voters_before), lists=_n(result.ballot_voter_lists),
           voters=_n(result.ballot_voters)) if dry else
         _("Voter lists of ballots closed before %(date)s: deleted %(lists)s (%(voters)s voters)",
           date=day(result.ballot_voters_before), lists=_n(result.ballot_voter_lists),
           voters=_n(result.ballot_voters))),
        (_("Special needs for courses that ended before %(date)s: would blank %(count)s",
           date=day(result.special_needs_before), count=_n(result.special_needs_forgotten)) if dry else
         _("Special needs for courses that ended before %(date)s: blanked %(count)s",
           date=day(result.special_needs_before), count=_n(result.special_needs_forgotten))),
        (_("Job files older than %(date)s: would delete %(count)s", date=day(result.job_files_before),
           count=_n(result.job_files)) if dry else
         _("Job files older than %(date)s: deleted %(count)s", date=day(result.job_files_before),
           count=_n(result.job_files))),
    ]
    if not dry:
        lines.append(_("Records of sent e-mails deleted: %(count)s", count=_n(result.sent_mails_forgotten)))
    return lines
