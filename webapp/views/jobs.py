"""Jobs: the background work a user started (a send-out, say), its progress, log and result.

Everyone sees the jobs they started themselves; the office sees every job, the error of a failed one, and may
retry it. Another's job answers 404, as one nobody has. The detail page polls /jobs/<id>.json
(static/js/jobs.js) while the job waits or runs.
"""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import joinedload

from webapp import jobs, schedule
from webapp.extensions import db
from webapp.models.choices import JobStatus
from webapp.models.outreach import Job, JobFile
from webapp.security import roles
from webapp.security.scope import get_scope
from webapp.services.bounds import INT64_MAX, whole_number_between
from webapp.views.downloads import download

PAGE_SIZE = 50
FINISHED = (JobStatus.done, JobStatus.failed)


def sees_all_jobs() -> bool:
    return get_scope().has_role(roles.OFFICE)


def visible_jobs_clause() -> ColumnElement:
    """The jobs the acting scope sees: all for the office, else the user's own (none without a user)."""
    if sees_all_jobs():
        return true()
    return Job.created_by_id == get_scope().user_id


def visible_job(job_id: int) -> Job:
    """The job when the acting scope sees it; 404 otherwise, as for an id nobody has (also beyond 64 bits)."""
    if not 0 < job_id <= INT64_MAX:
        abort(404)
    job = db.session.scalars(select(Job).where(Job.id == job_id, visible_jobs_clause())).first()
    if job is None:
        abort(404)
    return job


def latest_jobs(kinds: tuple[str, ...], limit: int = 10) -> list[Job]:
    """The latest jobs of these kinds, newest first (the pages that start them list them: jobs/_macros.html)."""
    return list(db.session.scalars(select(Job).where(Job.kind.in_(kinds))
                                   .order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)))


def to_job_page(job: Job, code: int = 302):
    """The answer of a request that handed its work to a job: a redirect to the job's page (303 See Other where
    a download's address answers with the job instead of the file)."""
    return redirect(url_for("JobView.show", job_id=job.id), code)


def job_state(job: Job, with_error: bool) -> dict:
    """What the page shows of a job, for the JSON the page polls."""
    status = job.status
    return {
        "id": job.id,
        "status": status.value,
        "status_label": str(status.label),
        "done": job.done or 0,
        "total": job.total,
        "count_text": (_("%(done)s of %(total)s", done=job.done or 0, total=job.total) if job.total is not None
                       else str(job.done or 0)),
        "percent": jobs.percent(job),
        "finished": status in FINISHED,
        "log": jobs.log_lines(job),
        "result_url": job.result_url,
        "error": job.error if with_error and status == JobStatus.failed else None,
    }


class JobView(BaseView):
    route_base = "/jobs"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        page = whole_number_between(request.args.get("page", "0"), 0, 1_000_000)
        if page is None:
            abort(404)
        clause = visible_jobs_clause()
        count = db.session.scalar(select(func.count(Job.id)).where(clause))
        rows = db.session.scalars(
            select(Job).where(clause).options(joinedload(Job.created_by))
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(PAGE_SIZE).offset(page * PAGE_SIZE)
        ).all()
        office = sees_all_jobs()
        calendar = schedule.overview(schedule.now(), current_app.config) if office else None
        return self.render_template("jobs/index.html", rows=rows, page=page, count=count,
                                    pages=max(1, -(-count // PAGE_SIZE)), all_jobs=office,
                                    percent=jobs.percent, calendar=calendar)

    @expose("/<int:job_id>")
    @has_access
    def show(self, job_id: int):
        job = visible_job(job_id)
        office = sees_all_jobs()
        return self.render_template("jobs/show.html", job=job, state=job_state(job, office), office=office,
                                    files=jobs.result_files(job.id))

    @expose("/<int:job_id>/files/<int:file_id>")
    @has_access
    def file(self, job_id: int, file_id: int):
        """A file the job made, for whoever sees the job (audited as a download)."""
        job = visible_job(job_id)
        row = db.session.scalars(select(JobFile).where(JobFile.id == file_id, JobFile.job_id == job.id,
                                                       JobFile.purpose == "result")).first()
        if row is None:
            abort(404)
        return download(row.data, row.filename, row.content_type, object_type="job", object_id=job.id,
                        inline=row.content_type == "application/pdf")

    @expose("/<int:job_id>.json")
    @has_access
    def progress(self, job_id: int):
        job = visible_job(job_id)
        response = jsonify(job_state(job, sees_all_jobs()))
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<int:job_id>/retry", methods=["POST"])
    @has_access
    def retry(self, job_id: int):
        if not sees_all_jobs():
            abort(403)
        job = visible_job(job_id)
        try:
            won = jobs.retry_job(job.id)
        except LookupError:
            db.session.rollback()
            flash(_("This kind of job cannot be started again here."), "danger")
            return redirect(url_for("JobView.show", job_id=job_id))
        if won:
            flash(_("The job is queued again."), "success")
        else:
            flash(_("Only a failed job can be retried; this one is %(status)s.",
                    status=str(db.session.get(Job, job_id).status.label).lower()), "warning")
        return redirect(url_for("JobView.show", job_id=job_id))
