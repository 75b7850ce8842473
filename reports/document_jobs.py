"""Refund documents and membership reports as background jobs (webapp/jobs.py).

- `start_refund_document` / `start_member_list`: render and keep one unit's letter or member list of an approved
  quarter in the language that was asked (key `refund_<kind>:<refund unit id>:<locale>`: two downloads at once
  share one job). The list's job also makes the list as CSV and XLSX: its result files, on the job's page.
  Access is checked by the caller, in the request, through the scoped route; the job's result link is that same
  route (`/refunds/<id>/list.pdf`), which then answers the kept PDF to whoever the route lets in.
- `start_quarter_documents`: approving a quarter renders and keeps every unit's letter and list (the union's
  language). A document already kept is skipped, and the unique key of `refund_document` keeps one row per unit,
  kind and language, so a retry or a second run never doubles a row.
- `start_report_files` / `start_report_send`: a membership report's files (the job's result files) and its
  sending (once: see `report_send_task`).

A draft's documents are not kept and not rendered by a job: the office's preview of a draft is rendered in the
request, as a draft changes with every calculation (webapp/views/refunds.py). Calculating a draft is a job of the
services (webapp/services/document_jobs.py).
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import force_locale, format_number
from flask_babel import gettext as _
from sqlalchemy import select

from reports import mailing
from reports import refunds as documents
from reports.exports import FORMATS, ReportSpec, build
from webapp.extensions import db
from webapp.jobs import add_file, job_task, report_progress, set_result, start_job
from webapp.models import RefundUnit
from webapp.models.choices import RefundStatus
from webapp.models.outreach import Job
from webapp.services import refunds
from webapp.services.database import reports_reader
from webapp.services.document_jobs import run_url
from webapp.services.periods import Quarter, period_label
from webapp.services.refund_documents import KINDS, current_locale, is_kept, keep

DOCUMENT_KIND = "refund_document"
QUARTER_KIND = "refund_documents"

# Steps of one document's job: fetch the rows, render, keep.
STEPS = 3


def document_url(refund_unit_id: int, kind: str) -> str:
    """The scoped route that answers the document (RefundDocumentView)."""
    return f"/refunds/{refund_unit_id}/{'list' if kind == 'list' else 'letter'}.pdf"


def document_key(refund_unit_id: int, kind: str, locale: str) -> str:
    return f"refund_{kind}:{refund_unit_id}:{locale}"


# ------------------------------------------------------------------ one unit's document


def start_refund_document(refund_unit: RefundUnit, kind: str, user_id: int | None, locale: str | None = None) -> Job:
    """Render and keep the unit's letter or list (an approved quarter's) in `locale` (the current language by
    default), or join the job already doing it. The caller has checked that the user may have the document."""
    if kind not in KINDS:
        raise ValueError(f"refund document kind must be one of {KINDS}, not {kind!r}")
    if refund_unit.run.status != RefundStatus.approved:
        raise refunds.RefundError(_("Only an approved quarter's documents are kept; a draft's are rendered at once."))
    locale = locale or current_locale()
    quarter = period_label(refund_unit.run.quarter)
    title = (_("Refund list %(quarter)s for %(unit)s", quarter=quarter, unit=refund_unit.code) if kind == "list"
             else _("Refund letter %(quarter)s for %(unit)s", quarter=quarter, unit=refund_unit.code))
    return start_job(DOCUMENT_KIND, title, refund_document_task,
                     {"refund_unit_id": refund_unit.id, "kind": kind, "locale": locale}, user_id,
                     key=document_key(refund_unit.id, kind, locale))


def start_member_list(refund_unit: RefundUnit, user_id: int | None, locale: str | None = None) -> Job:
    """One unit's member list (key `refund_list:<unit id>:<locale>`)."""
    return start_refund_document(refund_unit, "list", user_id, locale)


@job_task(DOCUMENT_KIND)
def refund_document_task(job_id: int, params: dict) -> None:
    """Render and keep one document; a document kept already (by another job) is not rendered again."""
    refund_unit_id, kind, locale = int(params["refund_unit_id"]), params["kind"], params["locale"]
    with force_locale(locale):
        refund_unit = db.session.get(RefundUnit, refund_unit_id)
        if refund_unit is None or refund_unit.run.status != RefundStatus.approved:
            raise LookupError(f"refund unit {refund_unit_id} is gone or its quarter is not approved")
        if not is_kept(refund_unit_id, kind, locale):
            render_and_keep(job_id, refund_unit, kind, locale, done=0, total=STEPS)
        if kind == "list":
            files = documents.member_list_files(refund_unit)
            db.session.commit()
            for filename, content_type, data in files:
                add_file(job_id, filename, content_type, data)
        report_progress(job_id, STEPS, STEPS, _("The document is ready."))
        set_result(job_id, document_url(refund_unit_id, kind))


def render_and_keep(job_id: int, refund_unit: RefundUnit, kind: str, locale: str, done: int, total: int,
                    stages: bool = True) -> bool:
    """Render the document in the current (forced) language and keep it; with `stages`, progress is reported
    per stage (rows fetched, rendered). False when another job kept it first."""
    refund_unit_id = refund_unit.id
    if kind == "list":
        groups = documents.member_groups(refund_unit)
        if stages:
            count = sum(group["count"] for group in groups)
            report_progress(job_id, done + 1, total,
                            _("Fetched %(count)s members", count=format_number(count)))
        pdf = documents.render_member_list(refund_unit, groups)
    else:
        pdf = documents.render_letter(refund_unit)
    db.session.commit()  # end the read transaction before the progress write (SQLite: one writer)
    if stages:
        report_progress(job_id, done + 2, total, _("Rendered (%(size)s kB)", size=format_number(len(pdf) // 1024)))
    return keep(refund_unit_id, kind, locale, pdf)


# ------------------------------------------------------------------ all documents of an approved quarter


def start_quarter_documents(quarter: Quarter, user_id: int | None, locale: str | None = None) -> Job:
    """Render and keep every receiving unit's letter and list of the approved quarter (the union's language by
    default); one job per quarter and language at a time."""
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    title = _("Refund documents %(quarter)s", quarter=period_label(str(quarter)))
    return start_job(QUARTER_KIND, title, quarter_documents_task, {"quarter": str(quarter), "locale": locale},
                     user_id, key=f"refund_documents:{quarter}:{locale}")


@job_task(QUARTER_KIND)
def quarter_documents_task(job_id: int, params: dict) -> None:
    quarter, locale = Quarter.parse(params["quarter"]), params["locale"]
    with force_locale(locale):
        run = refunds.get_run(quarter)
        if run is None or run.status != RefundStatus.approved:
            raise refunds.RefundError(_("Quarter: %(quarter)s is not approved; its documents are not kept.",
                                        quarter=period_label(str(quarter))))
        unit_ids = list(db.session.scalars(
            select(RefundUnit.id).where(RefundUnit.run_id == run.id, RefundUnit.receives_refunds.is_(True))
            .order_by(RefundUnit.code)))
        total = len(unit_ids) * len(KINDS)
        db.session.commit()
        report_progress(job_id, 0, total, _("%(count)s units receive refunds", count=format_number(len(unit_ids))))
        done = rendered = 0
        for unit_id in unit_ids:
            for kind in KINDS:
                if not is_kept(unit_id, kind, locale):
                    rendered += render_and_keep(job_id, db.session.get(RefundUnit, unit_id), kind, locale,
                                                done, total, stages=False)
                done += 1
            db.session.commit()
            report_progress(job_id, done, total)
        report_progress(job_id, total, total, _("Done: %(rendered)s rendered, %(kept)s were kept already",
                                                rendered=format_number(rendered),
                                                kept=format_number(total - rendered)))
        set_result(job_id, run_url(str(quarter)))


# ------------------------------------------------------------------ membership reports: files and sending


REPORT_FILES_KIND = "report_files"
REPORT_SEND_KIND = "report_send"


def _report_title(spec: ReportSpec, day: dt.date) -> str:
    return _("%(report)s for %(date)s", report=spec.label, date=day.strftime("%d.%m.%Y"))


def start_report_files(spec: ReportSpec, day: dt.date, fmt: str, user_id: int | None) -> Job:
    """Build the report's PDF, CSV and XLSX for `day` as the job's result files (the result link: the file of
    `fmt`). One job per user, report and date at a time (the files are the user's: only they see the job)."""
    if fmt not in FORMATS:
        raise ValueError(f"report format must be one of {tuple(FORMATS)}, not {fmt!r}")
    title = _("Report files: %(title)s", title=_report_title(spec, day))
    return start_job(REPORT_FILES_KIND, title, report_files_task,
                     {"report": spec.code, "date": day.isoformat(), "format": fmt}, user_id,
                     key=f"report_files:{spec.code}:{day.isoformat()}:{user_id}")


def _keep_report_files(job_id: int, files: list) -> dict[str, int]:
    """The files as the job's results (a retry replaces them: same names); their ids by extension."""
    return {report_file.extension: add_file(job_id, report_file.name, report_file.mimetype, report_file.data)
            for report_file in files}


@job_task(REPORT_FILES_KIND)
def report_files_task(job_id: int, params: dict) -> None:
    spec, day = ReportSpec.parse(params["report"]), dt.date.fromisoformat(params["date"])
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        report_progress(job_id, 0, 2, _("Counting the members"))
        with reports_reader():  # a read replica when REPORTS_DATABASE_URL is set
            report, files = build(spec, day)
        db.session.commit()
        report_progress(job_id, 1, 2, _("%(count)s members counted; files made", count=format_number(report.total)))
        ids = _keep_report_files(job_id, files)
        report_progress(job_id, 2, 2, _("The files are ready."))
        set_result(job_id, f"/jobs/{job_id}/files/{ids[params['format']]}")


def start_report_send(spec: ReportSpec, day: dt.date, force: bool, actor: str, user_id: int | None) -> Job:
    """E-mail the report to its recipients in a job (key `report_send:<report>:<date>`: two clicks send once).
    Raises, before queuing, mailing.AlreadySent (sent for this date, not forced) and ReportError (no recipients)."""
    mailing.check_not_sent(spec, day, force)
    mailing.recipients_for(spec)
    db.session.rollback()
    title = _("Sending %(title)s", title=_report_title(spec, day))
    return start_job(REPORT_SEND_KIND, title, report_send_task,
                     {"report": spec.code, "date": day.isoformat(), "force": force, "actor": actor}, user_id,
                     key=f"report_send:{spec.code}:{day.isoformat()}")


@job_task(REPORT_SEND_KIND)
def report_send_task(job_id: int, params: dict) -> None:
    """Send once: a sending recorded for this report and date since the job was started is this job's (a retry
    after it was handed to the outbox) or a concurrent one's: nothing is sent again. The record and the outbox's
    mail are written in one transaction (mailing.send), so a record means the mail was handed over."""
    spec, day = ReportSpec.parse(params["report"]), dt.date.fromisoformat(params["date"])
    started = db.session.scalar(select(Job.created_at).where(Job.id == job_id))
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        previous = mailing.previous_dispatch(spec, day)
        if previous is not None and (previous.sent_at >= started or not params.get("force")):
            db.session.commit()
            report_progress(job_id, 2, 2, _("Not sent again: it was sent on %(sent_at)s to %(recipients)s.",
                                            sent_at=previous.sent_at.strftime("%d.%m.%Y %H:%M"),
                                            recipients=previous.recipients))
            set_result(job_id, f"/reportdispatchview/show/{previous.id}")
            return
        report_progress(job_id, 0, 2, _("Counting the members"))
        with reports_reader():  # a read replica when REPORTS_DATABASE_URL is set
            report, files = build(spec, day)
        db.session.commit()
        _keep_report_files(job_id, files)
        report_progress(job_id, 1, 2, _("%(count)s members counted; files made", count=format_number(report.total)))
        result = mailing.send(spec, day, actor=params.get("actor") or "job", user_id=_user_of(job_id),
                              force=bool(params.get("force")), files=files, report=report)
        line = (_("Sent to %(recipients)s.", recipients=result.dispatch.recipients) if result.delivered
                else _("Recorded for %(recipients)s. The mail service does not answer: the e-mail will follow as "
                       "soon as it does.", recipients=result.dispatch.recipients))
        dispatch_id = result.dispatch.id
        db.session.commit()
        report_progress(job_id, 2, 2, line)
        set_result(job_id, f"/reportdispatchview/show/{dispatch_id}")


def _user_of(job_id: int) -> int | None:
    return db.session.scalar(select(Job.created_by_id).where(Job.id == job_id))
