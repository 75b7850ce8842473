"""Membership reports on screen: produce, preview, download and send the LO and employer-association reports,
and the record of what was sent. For the office and analysts: aggregated figures only, no member rows.

The figures are shown at once; the files (a PDF takes seconds) and the sending are jobs
(reports/document_jobs.py): download and send answer with the job's page."""

from __future__ import annotations

import datetime as dt
import json

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import true

from reports import document_jobs, exports, mailing
from reports.membership import BREAKDOWNS, ReportError, parse_date
from webapp.models import ReportDispatch
from webapp.security import scope as sc
from webapp.security.rowfilters import register_rule
from webapp.services.bounds import FIRST_DATE
from webapp.views.jobs import to_job_page
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView

# The record of sendings holds no member data: the analyst, who may send reports, sees it too.
register_rule(ReportDispatch, {sc.AGGREGATE: lambda ids: true()})


def _spec_or_none(code: str) -> exports.ReportSpec | None:
    try:
        return exports.ReportSpec.parse(code)
    except ReportError:
        return None


def _date_or_none(text: str) -> dt.date | None:
    try:
        return parse_date(text)
    except ReportError:
        return None


class MembershipReportView(BaseView):
    """Choose a report and a date; see the figures; download the PDF, CSV or XLSX; send them to the recipients."""

    route_base = "/reports"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        code = request.args.get("report", "lo")
        date_text = request.args.get("date") or dt.date.today().isoformat()
        spec, day = _spec_or_none(code), _date_or_none(date_text)
        errors = {}
        if spec is None:
            errors["report"] = _("Report: choose one of the reports in the list.")
        if day is None:
            errors["date"] = _("Date: must be a date of the form YYYY-MM-DD from %(first)s to today.",
                               first=FIRST_DATE.strftime("%d.%m.%Y"))
        report = exports.build_report(spec, day) if not errors else None
        return self.render_template(
            "reports/index.html",
            specs=exports.all_specs(),
            spec=spec,
            code=code,
            date_text=date_text,
            today=dt.date.today().isoformat(),
            day=day,
            errors=errors,
            report=report,
            breakdowns=[(name, str(label)) for name, label in BREAKDOWNS],
            formats=list(exports.FORMATS),
            previous=mailing.previous_dispatch(spec, day) if report is not None else None,
            recipients=", ".join(exports_recipients(spec)) if spec else "",
            sent=mailing.dispatches(limit=10, spec=spec) if spec else [],
        )

    @expose("/download/<code>/<date_text>.<fmt>")
    @has_access
    def download(self, code: str, date_text: str, fmt: str):
        """The files are made by a job (a report's PDF takes seconds): the job page lists them, and its result
        link is the file asked for."""
        spec, day = _spec_or_none(code), _date_or_none(date_text)
        if spec is None or day is None or fmt not in exports.FORMATS:
            abort(404)
        job = document_jobs.start_report_files(spec, day, fmt, current_user.id)
        return to_job_page(job, 303)

    @expose("/send", methods=["POST"])
    @has_access
    def send(self):
        """Checked here (a report and date; not sent before unless “Send again”; recipients configured), then sent
        by a job: the page answers at once with the job's page."""
        code, date_text = request.form.get("report", ""), request.form.get("date", "")
        force = request.form.get("force") == "y"
        spec, day = _spec_or_none(code), _date_or_none(date_text)
        back = redirect(url_for("MembershipReportView.index", report=code, date=date_text))
        if spec is None or day is None:
            flash(_("Choose a report and a date (YYYY-MM-DD, today or earlier) before sending."), "danger")
            return back
        try:
            job = document_jobs.start_report_send(spec, day, force, actor=current_user.username,
                                                  user_id=current_user.id)
        except mailing.AlreadySent as exc:
            previous = exc.dispatch
            flash(_("%(report)s for %(date)s was already sent on %(sent_at)s to %(recipients)s. Tick “Send again” "
                    "to send it once more.", report=spec.label, date=day.strftime("%d.%m.%Y"),
                    sent_at=previous.sent_at.strftime("%d.%m.%Y %H:%M"), recipients=previous.recipients), "warning")
            return back
        except ReportError:
            flash(_("No recipients are configured for %(report)s.", report=spec.label), "danger")
            return back
        flash(_("%(report)s for %(date)s is being sent; the job page shows when it has gone.", report=spec.label,
                date=day.strftime("%d.%m.%Y")), "info")
        return to_job_page(job, 303)


def exports_recipients(spec: exports.ReportSpec) -> list[str]:
    try:
        return mailing.recipients_for(spec)
    except ReportError:
        return []


def _files_display(value) -> Markup:
    try:
        files = json.loads(value or "[]")
    except ValueError:
        return Markup("")
    items = "".join(
        f"<li>{escape(f['name'])} "
        f"<small class='text-muted'>SHA-256 {escape(f['sha256'])}, {int(f['bytes'])} B</small></li>"
        for f in files
    )
    return Markup(f"<ul class='list-unstyled'>{items}</ul>")


class ReportDispatchView(ScopedModelView):
    """Every sending of a membership report: what, to whom, when, by whom, and the files' checksums."""

    datamodel = ScopedInterface(ReportDispatch)
    list_title = show_title = _l("Membership reports sent")
    base_permissions = ["can_list", "can_show"]
    label_columns = {
        "sent_at": _l("Sent"),
        "kind": _l("Report"),
        "association": _l("Employer association"),
        "report_date": _l("Report date"),
        "member_total": _l("Members"),
        "recipients": _l("Recipients"),
        "subject": _l("Subject"),
        "sent_by": _l("Sent by"),
        "forced": _l("Sent again"),
        "files": _l("Files"),
    }
    list_columns = ["sent_at", "kind", "association", "report_date", "member_total", "recipients", "sent_by", "forced"]
    show_columns = ["sent_at", "kind", "association", "report_date", "member_total", "recipients", "subject", "sent_by",
                    "forced", "files"]
    search_columns = ["kind", "association", "report_date", "sent_at"]
    base_order = ("sent_at", "desc")
    formatters_columns = {
        "files": _files_display,
        "sent_at": lambda value: value.strftime("%d.%m.%Y %H:%M") if value else "",
    }
