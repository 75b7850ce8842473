"""The office's forms that start invoice runs and file imports as background jobs (webapp/services/billing_jobs.py,
webapp/services/import_jobs.py); each answers with the job's page, where its progress, log and result are.

Bad input is refused at once, naming the field, and nothing is started or stored: a period or day that is not
one, an upload that is empty or not the kind of file the form takes (its first line), or larger than
MAX_CONTENT_LENGTH (413, before the view reads it). Only the office reaches these views (roles.py grants them to
no other role).
"""

from __future__ import annotations

import datetime as dt

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_login import current_user

from webapp import jobs
from webapp.extensions import db
from webapp.services import billing_jobs, import_jobs
from webapp.services.bounds import typed_date
from webapp.services.periods import PeriodError
from webapp.views.jobs import latest_jobs, to_job_page


class InvoiceRunView(BaseView):
    """Make and send a period's invoices; send the reminders due on a day."""

    route_base = "/invoiceruns"
    default_view = "index"

    def _page(self, errors: dict | None = None, status: int = 200):
        return self.render_template(
            "imports/invoice_runs.html", errors=errors or {}, form=request.form, today=dt.date.today(),
            recent=latest_jobs((billing_jobs.INVOICE_RUN, billing_jobs.REMINDER_RUN)), percent=jobs.percent,
        ), status

    @expose("/")
    @has_access
    def index(self):
        return self._page()

    @expose("/invoices", methods=["POST"])
    @has_access
    def invoices(self):
        text = request.form.get("period", "").strip()
        try:
            period = billing_jobs.parse_period(text)
        except PeriodError:
            return self._page({"period": [_("Period: '%(text)s' is not a quarter (YYYY-Qn) or a month (YYYY-MM) "
                                            "within the register's years.", text=text[:20])]}, 422)
        return to_job_page(billing_jobs.start_invoice_run(period, current_user.id,
                                                      key=f"{billing_jobs.INVOICE_RUN}:{period}"))

    @expose("/reminders", methods=["POST"])
    @has_access
    def reminders(self):
        day = typed_date(request.form.get("day", ""))
        if day is None or not dt.date(2000, 1, 1) <= day <= dt.date.today():
            return self._page({"day": [_("Day: enter a date (dd.mm.yyyy) no later than today.")]}, 422)
        return to_job_page(billing_jobs.start_reminder_run(day, current_user.id,
                                                       key=f"{billing_jobs.REMINDER_RUN}:{day.isoformat()}"))


class FileImportView(BaseView):
    """Upload a Nets bank file or Posten's postcode register; the import runs as a job."""

    route_base = "/imports"
    default_view = "index"

    def _page(self, errors: dict | None = None, status: int = 200):
        return self.render_template(
            "imports/uploads.html", errors=errors or {}, form=request.form,
            recent=latest_jobs((import_jobs.PAYMENT_IMPORT, import_jobs.POSTCODE_IMPORT)), percent=jobs.percent,
        ), status

    @expose("/")
    @has_access
    def index(self):
        return self._page()

    def _upload(self, field: str) -> tuple[str, bytes] | None:
        upload = request.files.get(field)
        if upload is None or not upload.filename:
            return None
        return upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:200], upload.read()

    def _start(self, field: str, start):
        upload = self._upload(field)
        if upload is None:
            return self._page({field: [_("File: choose the file to upload.")]}, 422)
        try:
            job = start(*upload)
        except import_jobs.UploadError as exc:
            db.session.rollback()
            return self._page({field: [exc.message]}, 422)
        return to_job_page(job)

    @expose("/payments", methods=["POST"])
    @has_access
    def payments(self):
        return self._start("bank_file", lambda name, data: import_jobs.start_payment_import(name, data,
                                                                                            current_user.id))

    @expose("/postcodes", methods=["POST"])
    @has_access
    def postcodes(self):
        prune = request.form.get("prune") == "y"
        return self._start("postcode_file", lambda name, data: import_jobs.start_postcode_import(
            name, data, current_user.id, prune=prune))
