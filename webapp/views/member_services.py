"""The office's screens behind the members' own pages: courses and attendance, recruitments,
prizes and orders, member documents and the employment changes members report.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import FileField

from reports.exports import CSV, PDF, _csv_bytes
from webapp.extensions import db
from webapp.models import (
    Course,
    CourseApplication,
    EmploymentChange,
    MemberDocument,
    OrgUnit,
    Prize,
    PrizeOrder,
    Recruitment,
)
from webapp.models.choices import RequestStatus
from webapp.models.labels import labels_for
from webapp.services import audit, course_lists, courses, documents, home_unit_moves, mypage, recruitment
from webapp.services.money import kroner
from webapp.views.deductions import as_list
from webapp.views.downloads import download
from webapp.views.form_fields import typeahead_field
from webapp.views.form_rules import FieldRuleValidator
from webapp.views.members import tell_home_unit_move
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView

READ_ONLY = ["can_list", "can_show"]


def _change_each(items, change, refusal: type[Exception], done) -> None:
    """Apply a state change to each chosen row: each is reported done, or refused with the service's reason.

    The services re-check the state inside their transaction, so a row another request changed
    meanwhile is refused here (nothing written) rather than changed twice."""
    for item in as_list(items):
        try:
            change(item)
        except refusal as exc:
            db.session.rollback()
            flash(str(exc), "warning")
        else:
            flash(str(done), "success")


def _audit(action_name: str, item, member_id: int | None, **details) -> None:
    """FAB has committed the row; its audit entry follows in a transaction of its own."""
    audit.record(action_name, item.__tablename__, item.id, member_id=member_id, **details)
    db.session.commit()


class CourseView(ScopedModelView):
    """The office's courses. A course's page lists who has a seat, with the special needs they gave (the office
    alone sees them), and hands out the participant lists (webapp/services/course_lists.py)."""

    datamodel = ScopedInterface(Course)
    list_title = show_title = _l("Courses")
    add_title = _l("New course")
    edit_title = _l("Edit course")
    show_template = "courses/course_show.html"
    # The participant lists: no other role has this screen, and none gets the lists.
    base_permissions = [*ScopedModelView.base_permissions, "can_participant_list"]
    label_columns = labels_for(Course)
    list_columns = ["title", "place", "starts_on", "ends_on", "application_deadline", "capacity"]
    show_columns = add_columns = edit_columns = list(label_columns)
    search_columns = ["title", "place", "starts_on", "application_deadline"]
    base_order = ("starts_on", "desc")

    def _course(self, pk) -> Course:
        course = self.datamodel.get(pk)
        if course is None:
            abort(404)
        return course

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        widgets = self._show(pk)
        course = self._course(pk)
        return self.render_template(self.show_template, pk=pk, title=self.show_title, widgets=widgets,
                                    related_views=self._related_views, course=course,
                                    participants=course_lists.full_list(course))

    @expose("/lists/<int:pk>/<kind>.<fmt>")
    @has_access
    def participant_list(self, pk: int, kind: str, fmt: str):
        """A participant list as PDF or CSV (semicolons, for a Norwegian Excel); every download is audited."""
        if kind not in course_lists.KINDS or fmt not in ("pdf", "csv"):
            abort(404)
        course = self._course(pk)
        listed = course_lists.course_list(course, kind)
        if fmt == "pdf":
            data, mimetype = course_lists.list_pdf(listed), PDF
        else:
            data, mimetype = _csv_bytes(listed.header, listed.rows), CSV
        return download(data, listed.file_name(fmt), mimetype, object_type="course", object_id=course.id,
                        kind=kind, count=len(listed.rows))


class CourseApplicationView(ScopedModelView):
    """Who applied for which course; the office marks attendance complete, which makes the certificate."""

    datamodel = ScopedInterface(CourseApplication, eager=("course", "member"))
    list_title = show_title = _l("Course applications")
    base_permissions = READ_ONLY
    # The office alone sees the special needs (no other role has this screen); the purge deletes them after the
    # course.
    label_columns = labels_for(CourseApplication)
    list_columns = ["course", "member", "status", "applied_at", "withdrawn_at", "completed_at"]
    show_columns = list(label_columns)
    search_columns = ["course", "status", "applied_at"]
    base_order = ("applied_at", "desc")

    @action("complete", _l("Mark attendance complete"),
            _l("Mark attendance complete? The members get a course certificate."), "fa-graduation-cap")
    def complete(self, items):
        count = courses.mark_completed([item.id for item in as_list(items)])
        flash(str(_l("%(count)s applications marked complete.", count=count)), "success")
        self.update_redirect()
        return redirect(self.get_redirect())


class RecruitmentView(ScopedModelView):
    datamodel = ScopedInterface(Recruitment, eager=("recruiter", "recruit"))
    list_title = show_title = _l("Recruitments")
    add_title = _l("New recruitment")
    edit_title = _l("Edit recruitment")
    label_columns = labels_for(Recruitment)
    list_columns = ["recruiter", "recruit", "recruited_on", "fixed_points", "note"]
    show_columns = list(label_columns)
    add_columns = edit_columns = ["recruiter", "recruit", "recruited_on", "fixed_points", "note"]
    search_columns = ["recruited_on"]
    base_order = ("recruited_on", "desc")
    description_columns = {
        "fixed_points": _l("Only for an entry that collects earlier recruitments without a recruit; "
                           "others earn points once the recruit has paid dues for the configured months."),
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "recruiter": typeahead_field(_l("Recruiter"), datamodel, "recruiter", "member"),
        "recruit": typeahead_field(_l("Recruit"), datamodel, "recruit", "member", required=False),
    }

    def pre_add(self, item):
        item.registered_at = dt.datetime.now()
        item.registered_by_id = current_user.id
        super().pre_add(item)

    def post_add(self, item):
        _audit("register_recruitment", item, item.recruiter_id, recruit=item.recruit_id, points=item.fixed_points)

    def post_update(self, item):
        _audit("update_recruitment", item, item.recruiter_id, recruit=item.recruit_id, points=item.fixed_points)


class PrizeView(ScopedModelView):
    datamodel = ScopedInterface(Prize)
    list_title = show_title = _l("Recruitment prizes")
    add_title = _l("New prize")
    edit_title = _l("Edit prize")
    label_columns = labels_for(Prize)
    list_columns = ["name", "points", "active"]
    show_columns = add_columns = edit_columns = list(label_columns)
    search_columns = ["name", "active"]
    base_order = ("points", "asc")


class PrizeOrderView(ScopedModelView):
    datamodel = ScopedInterface(PrizeOrder, eager=("member", "prize"))
    list_title = show_title = _l("Prize orders")
    base_permissions = READ_ONLY
    label_columns = {
        "member": _l("Member"), "prize": _l("Prize"), "quantity": _l("Quantity"), "points": _l("Points"),
        "ordered_at": _l("Ordered"), "status": _l("Status"),
    }
    list_columns = show_columns = list(label_columns)
    search_columns = ["status", "ordered_at"]
    base_order = ("ordered_at", "desc")

    def _each(self, items, change, done):
        _change_each(items, change, recruitment.ShopError, done)
        self.update_redirect()
        return redirect(self.get_redirect())

    @action("sent", _l("Mark as sent"), _l("Mark the orders as sent?"), "fa-truck")
    def sent(self, items):
        return self._each(items, recruitment.mark_sent, _l("The order is marked as sent."))

    @action("cancel", _l("Cancel and give the points back"), _l("Cancel the orders and give the points back?"),
            "fa-undo")
    def cancel(self, items):
        return self._each(items, recruitment.cancel_order, _l("The order is cancelled and the points are given back."))


class MemberDocumentView(ScopedModelView):
    """Letters and invoices for members' pages, written here or uploaded as a PDF.

    Certificates come from the courses."""

    datamodel = ScopedInterface(MemberDocument, eager=("member",))
    list_title = show_title = _l("Member documents")
    add_title = _l("New document")
    base_permissions = ["can_list", "can_show", "can_add", "can_delete", "can_pdf"]
    label_columns = labels_for(MemberDocument)
    list_columns = ["created_at", "member", "kind", "title"]
    show_columns = ["created_at", "member", "kind", "title", "body", "amount_ore", "due_date"]
    add_columns = ["member", "kind", "title", "body", "amount_ore", "due_date", "pdf"]
    search_columns = ["kind", "title", "created_at"]
    base_order = ("created_at", "desc")
    formatters_columns = {"amount_ore": kroner}
    description_columns = {
        "amount_ore": _l("For an invoice: the amount in kroner (e.g. 450)."),
        "pdf": _l("A scanned letter or another PDF (at most 10 MB). Without a file, the PDF is made from the text."),
    }
    add_form_extra_fields = {
        "member": typeahead_field(_l("Member"), datamodel, "member", "member"),
        "pdf": FileField(_l("PDF file"), validators=[FieldRuleValidator(documents.uploaded_pdf)]),
    }

    def pre_add(self, item):
        item.created_at = dt.datetime.now()
        super().pre_add(item)

    def post_add(self, item):
        _audit("add_member_document", item, item.member_id, kind=item.kind.name, title=item.title,
               uploaded=bool(item.pdf))

    @expose("/pdf/<int:pk>")
    @has_access
    def pdf(self, pk: int):
        row = self.datamodel.get(pk)
        if row is None:
            abort(404)
        return download(documents.document_pdf(row), documents.filename_for(row), "application/pdf",
                        object_type="member_document", object_id=row.id, member_id=row.member_id, inline=True)


class EmploymentChangeView(ScopedModelView):
    """Employment changes members report on their page, for the office to carry out."""

    datamodel = ScopedInterface(EmploymentChange, eager=("member", "employer", "workplace"))
    list_title = show_title = _l("Reported employment changes")
    # The approval page (with the home-unit choice) besides the list's actions.
    base_permissions = [*READ_ONLY, "can_approve_form"]
    label_columns = labels_for(EmploymentChange)
    list_columns = ["reported_at", "member", "employer", "workplace", "start_date", "position_pct", "status"]
    show_columns = list(label_columns)
    search_columns = ["status", "reported_at"]
    base_order = ("reported_at", "desc")

    def _each(self, items, change, done):
        _change_each(items, lambda item: change(item, current_user.id), mypage.ChangeError, done)
        self.update_redirect()
        return redirect(self.get_redirect())

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        """A change that is decided shows no decision buttons (the services would refuse them anyway)."""
        widgets = super()._get_show_widget(pk, item, widgets, actions, show_fieldsets)
        if item.status != RequestStatus.pending:
            widgets["show"].template_args["actions"] = {}
        return widgets

    @action("approve", _l("Register the change"),
            _l("Register the reported employment and end the one it replaces the day before?"), "fa-check")
    def approve(self, items):
        """From the list, each chosen change is registered and its member follows the mapping; from a change's
        own page, the office first sees where the member will belong and may choose another unit."""
        if not isinstance(items, list):
            return redirect(url_for(f"{self.__class__.__name__}.approve_form", pk=items.id))
        return self._each(items, mypage.approve_employment_change, _l("The employment change is registered."))

    @expose("/approve/<int:pk>", methods=["GET", "POST"])
    @has_access
    def approve_form(self, pk: int):
        change = self.datamodel.get(pk)
        if change is None:
            abort(404)
        show_url = url_for(f"{self.__class__.__name__}.show", pk=change.id)
        if change.status != RequestStatus.pending:
            flash(str(_l("Status: the change has already been dealt with.")), "warning")
            return redirect(show_url)
        member = change.member
        proposed = home_unit_moves.proposed_unit(member, change.workplace_id, change.employer_id)
        errors: dict[str, list[str]] = {}
        if request.method == "POST":
            choice = home_unit_moves.parse_choice(request.form.get("home_unit"))
            if choice is None:
                errors["home_unit"] = [str(_l("Home unit: choose a unit, or keep the current one."))]
            else:
                return self._approve_with(change, member, choice, show_url)
        selected = request.form.get("home_unit") or (
            str(proposed.org_unit_id) if proposed is not None else home_unit_moves.KEEP)
        units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.code)).all()
        return self.render_template("lifecycle/approve_change.html", change=change, member=member,
                                    proposed=proposed, units=units, selected=selected, errors=errors,
                                    show_url=show_url), (422 if errors else 200)

    def _approve_with(self, change, member, choice, show_url: str):
        before = member.home_unit_id
        try:
            mypage.approve_employment_change(change, current_user.id, home_unit=choice)
        except mypage.ChangeError as exc:
            db.session.rollback()
            flash(str(exc), "warning")
            return redirect(show_url)
        flash(str(_l("The employment change is registered.")), "success")
        db.session.refresh(member)
        if member.home_unit_id != before:
            tell_home_unit_move(home_unit_moves.MoveOutcome(from_unit_id=before, to_unit_id=member.home_unit_id))
        return redirect(show_url)

    @action("reject", _l("Reject"), _l("Reject the reported change?"), "fa-times")
    def reject(self, items):
        return self._each(items, mypage.reject_employment_change, _l("The employment change is rejected."))
