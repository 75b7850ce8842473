"""Calculating a quarter's refund draft as a background job (webapp/jobs.py).

`start_refund_calculation`: calculate (again) a quarter's draft. An approved quarter is refused before anything is
queued (RefundError, as are a missing policy and a missing or negative pool); should it be approved while the job
waits, the job fails with the calculation's own error. With `notify_office`, the office is e-mailed when done.

The refund documents' and membership reports' jobs render with `reports/` and so live there
(reports/document_jobs.py: services never import reports).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, format_number
from flask_babel import gettext as _
from flask_mail import Message

from webapp.extensions import db
from webapp.jobs import job_task, report_progress, set_result, start_job
from webapp.models.choices import RefundStatus
from webapp.models.outreach import Job
from webapp.services import mail as outbox
from webapp.services import refunds
from webapp.services.money import kroner
from webapp.services.periods import Quarter, period_label

CALCULATION_KIND = "refund_calculation"


def run_url(quarter: str) -> str:
    """The office's page of the quarter's run."""
    return f"/refundruns/{quarter}"


# ------------------------------------------------------------------ calculating a draft


def start_refund_calculation(quarter: Quarter, user_id: int | None, key: str | None = None,
                             notify_office: bool = False, pool_ore: int | None = None,
                             actor: str | None = None) -> Job:
    """Calculate (again) the quarter's draft in a job (key `refund_calc:<quarter>` unless given: two clicks at once
    make one job). RefundError before queuing: the quarter is approved, no policy is in force, or there is no pool
    (or a negative one)."""
    run = refunds.get_run(quarter)
    if run is not None and run.status == RefundStatus.approved:
        raise refunds.RefundError(_("Quarter: %(quarter)s is approved and frozen; it cannot be calculated again.",
                                    quarter=period_label(str(quarter))))
    refunds.resolve_pool(quarter, refunds.policy_for(quarter), pool_ore)  # no policy, no pool or a negative one
    db.session.rollback()  # nothing was written; end the read before start_job commits the job
    title = _("Refund calculation %(quarter)s", quarter=period_label(str(quarter)))
    params = {"quarter": str(quarter), "pool_ore": pool_ore, "actor": actor or ("job" if user_id else "calendar"),
              "notify_office": notify_office}
    return start_job(CALCULATION_KIND, title, refund_calculation_task, params, user_id,
                     key=key or f"refund_calc:{quarter}")


@job_task(CALCULATION_KIND)
def refund_calculation_task(job_id: int, params: dict) -> None:
    """Calculate the draft (all or nothing, as `refunds.calculate`), then tell the office when asked. A retry
    calculates again: the same figures, one draft."""
    quarter = Quarter.parse(params["quarter"])
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        report_progress(job_id, 0, 1, _("Calculating %(quarter)s", quarter=period_label(str(quarter))))
        run = refunds.calculate(quarter, params.get("pool_ore"), actor=params.get("actor") or "job")
        line = _("%(quarter)s is calculated: %(members)s members, pool %(pool)s kr",
                 quarter=period_label(run.quarter), members=format_number(run.member_count or 0),
                 pool=kroner(run.pool_ore, decimals=False))
        if params.get("notify_office"):
            _notify_office(run.quarter)
        report_progress(job_id, 1, 1, line)
        set_result(job_id, run_url(run.quarter))


def _notify_office(quarter: str) -> None:
    config = current_app.config
    link = config["PORTAL_URL"].rstrip("/") + run_url(quarter)
    subject = _("Refund draft for %(quarter)s is calculated", quarter=period_label(quarter))
    body = _("The refund draft for %(quarter)s is calculated and waits for approval:",
             quarter=period_label(quarter)) + "\n" + link + "\n"
    outbox.queue_and_send(Message(subject=subject, recipients=[config["OFFICE_EMAIL"]], body=body))
