"""The office's queue of online enrollments (*Membership → Applications*): the list, one application's page with
the proposal, and the approve and reject forms.

The screens are the office's alone (webapp/security/roles.py grants them to no other role). The decisions are
webapp.services.applications': each claims the application's status, so of two tabs (or two people) one wins
and the other is told in plain words, never a 500.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.models import MembershipApplication, OrgUnit
from webapp.models.choices import EnrollmentStatus
from webapp.services import applications
from webapp.services.bounds import row_id, typed_date, whole_number_between

PAGE_SIZE = 50
MAX_PAGE = 100_000
SEARCH_MAX_LENGTH = 80
STATUS_FILTERS = ("pending", "approved", "rejected", "all")


class ApplicationView(BaseView):
    """Enrollment applications: the queue, one application with its proposal, approve and reject."""

    route_base = "/applications"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        status = request.args.get("status", "pending")
        page = whole_number_between(request.args.get("page", "0"), 0, MAX_PAGE)
        if status not in STATUS_FILTERS or page is None:
            abort(400)
        text = request.args.get("q", "").strip()[:SEARCH_MAX_LENGTH]
        count, rows = applications.queue_page(None if status == "all" else EnrollmentStatus[status], text, page,
                                              PAGE_SIZE)
        return self.render_template(
            "applications/list.html", rows=rows, count=count, status=status, statuses=STATUS_FILTERS, q=text,
            flags=applications.flags_of(rows), page=page, pages=max(1, -(-count // PAGE_SIZE)),
        )

    def _application(self, application_id: int) -> MembershipApplication:
        application = db.session.get(MembershipApplication, application_id, options=[
            joinedload(MembershipApplication.employer), joinedload(MembershipApplication.workplace),
            joinedload(MembershipApplication.from_lo_union), joinedload(MembershipApplication.terms),
            joinedload(MembershipApplication.privacy)])
        if application is None:
            abort(404)
        return application

    @expose("/<int:application_id>")
    @has_access
    def show(self, application_id: int):
        return self._render(self._application(application_id))

    def _render(self, application: MembershipApplication, errors: dict | None = None, status: int = 200):
        proposal = applications.proposal(application) if application.status == EnrollmentStatus.pending else None
        form = request.form if request.method == "POST" else {}
        chosen = row_id(form.get("home_unit_id", "")) if form else None
        chosen_unit = db.session.get(OrgUnit, chosen) if chosen else (proposal or {}).get("unit")
        return self.render_template(
            "applications/show.html", application=application, proposal=proposal, errors=errors or {}, form=form,
            chosen_unit=chosen_unit,
        ), status

    def _refused(self, application_id: int, error: applications.ApplicationError, form_name: str):
        db.session.rollback()
        return self._render(self._application(application_id), {error.field or form_name: [error.message]}, 422)

    @expose("/<int:application_id>/approve", methods=["POST"])
    @has_access
    @permission_name("decide")
    def approve(self, application_id: int):
        application = self._application(application_id)
        form = request.form
        member_from = typed_date(form.get("member_from"))
        try:
            member = applications.approve(application.id, current_user.id, member_from,
                                          row_id(form.get("home_unit_id", "")), form.get("reference", ""))
        except applications.ApplicationError as exc:
            return self._refused(application_id, exc, "approve")
        flash(_("Approved: %(name)s is member %(number)s from %(date)s. The welcome e-mail and letter are sent.",
                name=member.full_name, number=member.member_no, date=member.joined_on.strftime("%d.%m.%Y")),
              "success")
        return redirect(url_for("ApplicationView.show", application_id=application_id))

    @expose("/<int:application_id>/reject", methods=["POST"])
    @has_access
    @permission_name("decide")
    def reject(self, application_id: int):
        application = self._application(application_id)
        try:
            applications.reject(application.id, current_user.id, request.form.get("reason", ""))
        except applications.ApplicationError as exc:
            return self._refused(application_id, exc, "reject")
        flash(_("Rejected: the applicant is told the reason by e-mail."), "success")
        return redirect(url_for("ApplicationView.show", application_id=application_id))
