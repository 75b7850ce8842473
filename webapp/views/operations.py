"""Runs (Kjøringer): the office's page that starts the monthly and nightly runs by hand, each as a background job
(webapp/services/runs.py); a started run answers with its job's page (progress, log, result).

The page is a list of run forms (`RUN_FORMS`: a template each, posting to its own route): to add a run, write
its form template and a route that checks the input and starts the job, and add the template to the list.
Bad input answers the page again (422) with the error under the field it names; nothing is started.
The calendar (webapp/schedule.py) starts the same runs on its days. Only the office reaches this page: every
other role is refused by permission (roles.py grants OperationsView to no other role).
"""

from __future__ import annotations

import datetime as dt

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_login import current_user

from webapp import jobs
from webapp.services import billing_jobs, import_jobs, runs
from webapp.services.periods import Month, PeriodError
from webapp.views.jobs import latest_jobs, to_job_page

RECENT = 10
# The forms of the page, in order: each a template under templates/ (it reads `errors` and `form`).
RUN_FORMS = [
    "operations/_deduction_run.html",
    "operations/_employer_reminders.html",
    "operations/_purge.html",
    # The invoice runs and file imports: their routes are webapp/views/imports.py's.
    "imports/_invoice_run_forms.html",
    "imports/_upload_forms.html",
]
RUN_KINDS = [runs.DEDUCTION_RUN, runs.EMPLOYER_REMINDERS, runs.PURGE, billing_jobs.INVOICE_RUN,
             billing_jobs.REMINDER_RUN, import_jobs.PAYMENT_IMPORT, import_jobs.POSTCODE_IMPORT]
# The confirmation the real purge needs, typed into its field.
PURGE_CONFIRMATION = "SLETT"


def _month(field: str) -> Month | dict:
    """The month typed into `field`, or the page's errors naming the field."""
    text = request.form.get(field, "").strip()
    try:
        return Month.parse(text)
    except PeriodError:
        return {field: [_("Month: '%(text)s' is not a month of the form YYYY-MM (for example 2027-01).",
                          text=text[:20])]}


class OperationsView(BaseView):
    route_base = "/operations"
    default_view = "index"

    def _page(self, errors: dict | None = None, status: int = 200):
        recent = latest_jobs(RUN_KINDS, RECENT)
        return self.render_template(
            "operations/index.html", forms=RUN_FORMS, errors=errors or {}, form=request.form,
            next_month=Month.of(dt.date.today()).next, this_month=Month.of(dt.date.today()),
            confirmation=PURGE_CONFIRMATION, recent=recent, percent=jobs.percent,
        ), status

    @expose("/")
    @has_access
    def index(self):
        return self._page()

    @expose("/deductions", methods=["POST"])
    @has_access
    def deductions(self):
        month = _month("deduction_month")
        if isinstance(month, dict):
            return self._page(month, 422)
        return to_job_page(runs.start_deduction_run(month, current_user.id, key=f"{runs.DEDUCTION_RUN}:{month}"))

    @expose("/reminders", methods=["POST"])
    @has_access
    def reminders(self):
        month = _month("reminder_month")
        which = request.form.get("which", "")
        errors = month if isinstance(month, dict) else {}
        if which not in runs.REMINDER_KINDS:
            errors["which"] = [_("Reminder: choose the reminder of the 20th or of the last day of the month.")]
        if errors:
            return self._page(errors, 422)
        return to_job_page(runs.start_employer_reminders(month, which, current_user.id,
                                                          key=f"{runs.EMPLOYER_REMINDERS}:{month}:{which}"))

    @expose("/purge", methods=["POST"])
    @has_access
    def purge(self):
        mode = request.form.get("mode", "dry_run")
        if mode not in ("dry_run", "real"):
            return self._page({"mode": [_("Kind of run: choose a dry run or the real purge.")]}, 422)
        dry_run = mode == "dry_run"
        if not dry_run and request.form.get("confirm", "").strip() != PURGE_CONFIRMATION:
            return self._page({"confirm": [_("Confirmation: type %(word)s to delete for real; nothing was deleted.",
                                             word=PURGE_CONFIRMATION)]}, 422)
        report = request.form.get("report_to_office") == "on"
        return to_job_page(runs.start_purge(dry_run, current_user.id, key=f"{runs.PURGE}:{mode}",
                                             report_to_office=report))
