"""Quarterly refunds: the office's policy, pools and runs; the units' refund documents; the REST API.

The documents of a unit and quarter are served by one view and one API, both
through the scoped row filter of RefundUnit: an officer reaches the approved
quarters of the units in their subtree, nothing else (404); drafts are the
office's alone.

An approved quarter's document is kept once rendered (per language). When it is
kept, the route answers the PDF at once; when it is not, the route starts the job
that renders and keeps it (or joins the one already at it: reports/document_jobs) and
answers with the job (the page: a redirect to /jobs/<id>; the API: 202). The job's
result link is the same scoped route, so only whoever the route lets in gets the
file. A draft's documents (the office's preview) are rendered in the request, on
every call: they change with every calculation, so there is nothing to keep.
Calculating a quarter is a job too; approving one starts the job that renders and
keeps all its documents.
"""

from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import protect, safe
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reports import document_jobs
from reports import refunds as documents
from webapp.models import RefundPolicy, RefundPool, RefundUnit
from webapp.models.labels import labels_for
from webapp.models.outreach import Job
from webapp.security.rowfilters import scoped_row
from webapp.security.scope import get_scope
from webapp.services import refunds
from webapp.services.document_jobs import start_refund_calculation
from webapp.services.money import parse_kroner
from webapp.services.periods import PeriodError, Quarter, period_label
from webapp.services.refund_documents import current_locale, is_approved, kept_document
from webapp.views.deductions import ore_formatters
from webapp.views.downloads import download
from webapp.views.jobs import sees_all_jobs, to_job_page
from webapp.views.scoped_api import ScopedModelRestApi
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView

POLICY_LABELS = labels_for(RefundPolicy)


class RefundPolicyView(ScopedModelView):
    """The refund policy: how the pool is found, split by level and weighted by member category."""

    datamodel = ScopedInterface(RefundPolicy)
    list_title = show_title = _l("Refund policy")
    add_title = _l("New refund policy")
    edit_title = _l("Edit refund policy")
    label_columns = POLICY_LABELS
    description_columns = {
        "valid_from": _l("The policy applies from this quarter until the next policy starts."),
        "pool_ore": _l("Used when no pool is set for the quarter. Leave empty to use a share of the dues paid."),
        "pool_percent": _l("The pool as a share of what was paid for the quarter's months."),
        "share_club": _l("The shares of the three levels must add up to 100."),
        "weight_retired": _l("A category with weight 0 is not counted."),
    }
    list_columns = ["valid_from", "pool_ore", "pool_percent", "share_national_association", "share_branch",
                    "share_club", "weight_ordinary", "weight_retired"]
    show_columns = add_columns = edit_columns = list(POLICY_LABELS)
    search_columns = ["valid_from"]
    base_order = ("valid_from", "desc")
    formatters_columns = {**ore_formatters("pool_ore"), "valid_from": period_label}


class RefundPoolView(ScopedModelView):
    """The pool of a quarter, when the office sets it (it takes precedence over the policy)."""

    datamodel = ScopedInterface(RefundPool)
    list_title = show_title = _l("Refund pools")
    add_title = _l("New refund pool")
    edit_title = _l("Edit refund pool")
    label_columns = labels_for(RefundPool)
    list_columns = show_columns = add_columns = edit_columns = ["quarter", "pool_ore", "note"]
    search_columns = ["quarter"]
    base_order = ("quarter", "desc")
    formatters_columns = {**ore_formatters("pool_ore"), "quarter": period_label}


class RefundRunView(BaseView):
    """The office's screen: calculate a quarter (again), see the per-unit amounts, approve."""

    route_base = "/refundruns"
    default_view = "index"

    def _quarter(self, text: str) -> Quarter:
        try:
            return Quarter.parse(text)
        except PeriodError:
            abort(404)

    @expose("/")
    @has_access
    def index(self):
        return self.render_template("refunds/runs.html", runs=refunds.runs(),
                                    sources=refunds.POOL_SOURCES)

    @expose("/calculate", methods=["POST"])
    @has_access
    def calculate(self):
        quarter_text, pool_text = request.form.get("quarter", ""), request.form.get("pool", "").strip()
        try:
            quarter = refunds.parse_quarter(quarter_text)
            pool_ore = None
            if pool_text:
                try:
                    pool_ore = parse_kroner(pool_text)
                except (ValueError, ArithmeticError):
                    raise refunds.RefundError(_("Pool: '%(text)s' is not an amount in kroner.",
                                                text=pool_text)) from None
            job = start_refund_calculation(quarter, current_user.id, pool_ore=pool_ore, actor=current_user.username)
        except refunds.RefundError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("RefundRunView.index"))
        flash(_("%(quarter)s is being calculated; the draft is on the result link when the job is done.",
                quarter=period_label(str(quarter))), "info")
        return to_job_page(job, 303)

    @expose("/<quarter>")
    @has_access
    def show(self, quarter: str):
        run = refunds.get_run(self._quarter(quarter))
        if run is None:
            abort(404)
        return self.render_template(
            "refunds/run.html", run=run, units=refunds.unit_rows(run.id), levels=refunds.level_summary(run.id),
            source=refunds.POOL_SOURCES.get(run.pool_source, run.pool_source),
        )

    @expose("/<quarter>/approve", methods=["POST"])
    @has_access
    def approve(self, quarter: str):
        try:
            run, changed = refunds.approve(self._quarter(quarter), actor=current_user.username)
        except refunds.RefundError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("RefundRunView.index"))
        if changed:
            document_jobs.start_quarter_documents(self._quarter(quarter), current_user.id)
            flash(_("%(quarter)s is approved. The documents are on the units' pages; a job renders them now.",
                    quarter=period_label(run.quarter)), "success")
        else:
            flash(_("%(quarter)s was already approved; nothing changed.", quarter=period_label(run.quarter)), "info")
        return redirect(url_for("RefundRunView.show", quarter=run.quarter))


def unit_with_documents(refund_unit_id: int, view_name: str) -> RefundUnit | None:
    """The unit's refund row when the acting scope reaches it through `view_name` and it has documents."""
    refund_unit = scoped_row(RefundUnit, refund_unit_id, get_scope().grants_for_view(view_name))
    return refund_unit if refund_unit is not None and refund_unit.receives_refunds else None


def pdf_response(data: bytes, filename: str, refund_unit: RefundUnit) -> Response:
    return download(data, filename, "application/pdf", object_type="refund_unit", object_id=refund_unit.id, inline=True)


# The document kinds: the renderer (a draft's, in the request) and the file name.
KINDS = {"letter": (documents.letter_pdf, documents.letter_filename),
         "list": (documents.member_list_pdf, documents.list_filename)}


def kept_or_job(refund_unit: RefundUnit, kind: str) -> Response | Job:
    """The document's PDF response when it can be answered now (kept, or a draft's rendered now); else the job
    that renders and keeps it (started, or joined: one per unit, kind and language)."""
    render, filename = KINDS[kind]
    if not is_approved(refund_unit):
        return pdf_response(render(refund_unit), filename(refund_unit), refund_unit)
    locale = current_locale()
    pdf = kept_document(refund_unit.id, kind, locale)
    if pdf is not None:
        return pdf_response(pdf, filename(refund_unit), refund_unit)
    return document_jobs.start_refund_document(refund_unit, kind, get_scope().user_id, locale)


def own_job(job: Job) -> bool:
    """Whether the acting user sees this job (theirs, or the office's): a download joined to another's job does
    not get that job's page (the acting user of a page or of an API token)."""
    return job.created_by_id == get_scope().user_id or sees_all_jobs()


class RefundDocumentView(BaseView):
    """The letter ("Refusjon [termin]") and member list ("Refusjon liste [termin]") of a unit and quarter."""

    route_base = "/refunds"

    def _document(self, refund_unit_id: int, kind: str):
        refund_unit = unit_with_documents(refund_unit_id, "RefundDocumentView") or abort(404)
        answer = kept_or_job(refund_unit, kind)
        if isinstance(answer, Response):
            return answer
        return self._to_job(answer)

    def _to_job(self, job: Job):
        if own_job(job):
            return to_job_page(job, 303)
        # Another user's job renders the same document: wait for it here (this page reloads the document's link).
        page = self.render_template("refunds/preparing.html", url=request.path)
        return Response(page, status=202, headers={"Refresh": f"3; url={request.path}", "Retry-After": "3"})

    @expose("/<int:refund_unit_id>/letter.pdf")
    @has_access
    def letter(self, refund_unit_id: int):
        return self._document(refund_unit_id, "letter")

    @expose("/<int:refund_unit_id>/list.pdf")
    @has_access
    def member_list(self, refund_unit_id: int):
        return self._document(refund_unit_id, "list")

    @expose("/<int:refund_unit_id>/list-files")
    @has_access
    @permission_name("member_list")
    def member_list_files(self, refund_unit_id: int):
        """The member list as PDF, CSV and XLSX: an approved quarter's on the page of the job that makes them (the
        PDF is kept, the CSV and XLSX are the job's files); a draft's (the office's) as CSV at once."""
        refund_unit = unit_with_documents(refund_unit_id, "RefundDocumentView") or abort(404)
        if not is_approved(refund_unit):
            return download(documents.member_list_csv(refund_unit), documents.list_filename(refund_unit, "csv"),
                            "text/csv; charset=utf-8", object_type="refund_unit", object_id=refund_unit.id)
        return self._to_job(document_jobs.start_member_list(refund_unit, get_scope().user_id, current_locale()))


class RefundApi(ScopedModelRestApi):
    """One row per unit and quarter: the frozen figures; `/<id>/letter` and `/<id>/list` give the PDFs."""

    resource_name = "refund"
    datamodel = ScopedInterface(RefundUnit)
    base_permissions = ["can_get", "can_info"]
    list_columns = show_columns = [
        "id", "run.quarter", "run.status", "org_unit_id", "code", "name", "level", "bank_account", "receives_refunds",
        "member_count", "member_months", "weighted_months", "level_share_percent", "level_pool_ore",
        "level_weighted_months", "amount_ore", "run.approved_at",
    ]
    search_columns = ["code", "level", "receives_refunds", "org_unit"]
    order_columns = ["code", "amount_ore", "member_months"]

    def _document(self, pk: int, kind: str):
        refund_unit = unit_with_documents(pk, self.class_permission_name)
        if refund_unit is None:
            return self.response_404()
        answer = kept_or_job(refund_unit, kind)
        if isinstance(answer, Response):
            return answer
        status_url = url_for("JobView.progress", job_id=answer.id) if own_job(answer) else None
        body = {"job_id": answer.id if status_url else None, "status": answer.status.value,
                "status_url": status_url, "result_url": request.path}
        response = jsonify(body)
        response.status_code = 202
        response.headers["Location"] = status_url or request.path
        response.headers["Retry-After"] = "3"
        return response

    @expose("/<int:pk>/letter", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def letter(self, pk: int):
        """The refund letter of a unit and quarter (PDF).
        ---
        get:
          description: >-
            The PDF when it is ready: a draft's (the office's) is rendered at once; an approved quarter's is kept
            once rendered. When an approved quarter's letter is not kept yet, a job renders it and the answer is
            202 Accepted with {job_id, status, status_url, result_url} and a Location header: poll status_url
            (/jobs/<id>.json, the job's progress) or simply GET result_url (this address) again until it answers
            the PDF. When the job is another user's, job_id and status_url are null and Location is result_url.
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The PDF
              content:
                application/pdf: {}
            202:
              description: Being rendered by a job; poll status_url or result_url
            404:
              $ref: '#/components/responses/404'
        """
        return self._document(pk, "letter")

    @expose("/<int:pk>/list", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def member_list(self, pk: int):
        """The members counted for a unit and quarter (PDF).
        ---
        get:
          description: >-
            The PDF when it is ready: a draft's (the office's) is rendered at once; an approved quarter's is kept
            once rendered. When an approved quarter's list is not kept yet (a large unit's takes many seconds), a
            job renders it and the answer is 202 Accepted with {job_id, status, status_url, result_url} and a
            Location header: poll status_url (/jobs/<id>.json, the job's progress) or simply GET result_url (this
            address) again until it answers the PDF. When the job is another user's (two downloads at once share
            one job), job_id and status_url are null and Location is result_url.
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: The PDF
              content:
                application/pdf: {}
            202:
              description: Being rendered by a job; poll status_url or result_url
            404:
              $ref: '#/components/responses/404'
        """
        return self._document(pk, "list")
