"""The member's own page ("Min side"): each section shown, and edited in place where the member may.

Everything here belongs to the member of the acting option. No route takes a
member id: rows are looked up by their own id through the row filters
(`scoped_get`), which admit the member's own rows alone; anyone else's is 404.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from webapp.extensions import db
from webapp.models import Course, CourseApplication, Employment, Invoice, Member, MemberDocument
from webapp.models.choices import RESIGNATION_REASONS, ApplicationStatus, ContactChoice
from webapp.security import scope as sc
from webapp.security.privacy import national_id_on_screen
from webapp.security.rowfilters import scoped_get
from webapp.security.scope import get_scope
from webapp.services import (
    ballots,
    courses,
    documents,
    invoice_documents,
    invoice_ledger,
    messaging,
    mypage,
    payment_methods,
    recruitment,
    resignations,
    transfers,
)
from webapp.services.bounds import row_id
from webapp.services.courses import CourseError
from webapp.services.money import account_number, kroner
from webapp.services.periods import Month, current_ids
from webapp.services.recruitment import ShopError
from webapp.services.resignations import ResignationError
from webapp.services.validation import RecordInvalid
from webapp.views.downloads import download

SECTIONS = {"personal": mypage.PERSONAL_FIELDS, "membership": mypage.MEMBERSHIP_FIELDS,
            "information": mypage.CHANNEL_FIELDS}


def acting_member() -> Member:
    return scoped_get(Member, sc.acting_target_id(sc.MEMBERS))


class MyPageView(BaseView):
    """Min side: personal and membership data, messages, employments, positions, courses,
    recruitments and documents."""

    route_base = "/minside"
    default_view = "index"
    extra_args = {"kroner": kroner}

    def _render_page(self, member: Member, errors: dict | None = None, open_section: str | None = None, form=None):
        today = dt.date.today()
        rows = recruitment.recruitments_of(member.id)
        employments = mypage.employments_of(member.id)
        return self.render_template(
            "home/mypage.html",
            member=member,
            **self._payment_facts(member, today),
            national_id=national_id_on_screen(member.national_id),
            representatives=mypage.representatives(member, today),
            threads=messaging.threads(messaging.thread_grants(get_scope()), limit=5),
            as_party=True,
            employments=employments,
            current_employments=current_ids(employments, today),
            changes=mypage.employment_changes_of(member.id),
            positions=mypage.current_positions(member.id, today),
            applications=courses.applications_of(member.id),
            recruitments=rows,
            points=recruitment.points_of(member.id, rows),
            documents=documents.documents_of(member.id),
            certificates=courses.certificates_of(member.id),
            transfers=transfers.transfers_of(member.id),
            insurance_change=mypage.last_insurance_change(member.id),
            next_basis=mypage.next_basis_month(today),
            periodized=mypage.periodized,
            contact_choices=list(ContactChoice),
            errors=errors or {},
            open_section=open_section,
            form=form or {},
            today=today,
            statuses=ApplicationStatus,
            votes=ballots.open_votes(member.id, today),
        )

    @staticmethod
    def _payment_facts(member: Member, today: dt.date) -> dict:
        """How the member pays and since when, their invoices with the status as shown, the income bands."""
        return {
            "payment": payment_methods.payment_method(member, today),
            "mandate": mypage.active_mandate(member.id),
            "invoices": [(invoice, invoice_ledger.display_status(invoice, today))
                         for invoice in mypage.invoices_of(member.id)],
            "credit_ore": invoice_ledger.member_credit_ore(member.id),
            "income_bands": mypage.income_bands(),
        }

    @expose("/")
    @has_access
    def index(self):
        return self._render_page(acting_member())

    @expose("/edit/<section>", methods=["POST"])
    @has_access
    def edit(self, section: str):
        member = acting_member()
        fields = SECTIONS.get(section)
        if fields is None:
            abort(404)
        try:
            changes = mypage.update_member(member, request.form, fields)
        except RecordInvalid as exc:
            db.session.rollback()
            flash(_("Nothing was saved: %(problems)s",
                    problems=" ".join(m for msgs in exc.errors.values() for m in msgs)),
                  "danger")
            return self._render_page(acting_member(), exc.errors, section, request.form), 422
        if not changes:
            flash(_("No changes."), "info")
        else:
            flash(_("Your changes are saved."), "success")
            if "travel_insurance" in changes:
                flash(_("The change of travel insurance takes effect from the deduction for %(month)s.",
                        month=mypage.next_basis_month(dt.date.today()).label), "info")
        return redirect(url_for("MyPageView.index") + f"#{section}")

    # ------------------------------------------------------------ employments

    @expose("/employment", methods=["GET", "POST"])
    @has_access
    def employment(self):
        member = acting_member()
        replaced_id = request.values.get("employment_id", type=int)
        replaced = scoped_get(Employment, replaced_id) if replaced_id else None
        errors = {}
        if request.method == "POST":
            try:
                mypage.report_employment_change(member, request.form)
            except RecordInvalid as exc:
                db.session.rollback()
                errors = exc.errors
            else:
                flash(_("Thank you. The union office will register the change."), "success")
                return redirect(url_for("MyPageView.index") + "#employments")
        return self.render_template("mypage/employment.html", member=member, replaced=replaced, errors=errors,
                                    form=request.form), (422 if errors else 200)

    # ------------------------------------------------------------ courses

    @expose("/courses")
    @has_access
    def all_courses(self):
        member = acting_member()
        today = dt.date.today()
        rows = courses.upcoming_courses(today)
        mine = {a.course_id: a for a in courses.applications_of(member.id)}
        return self.render_template("mypage/courses.html", courses=rows,
                                    taken=courses.seats_taken([c.id for c in rows]),
                                    mine=mine, today=today, statuses=ApplicationStatus)

    def _needs_form(self, course, application=None, errors: dict | None = None, form=None, status: int = 200):
        """The application form, or the form changing an application's special needs (same field, same note)."""
        return self.render_template(
            "mypage/course_apply.html", course=course, application=application, errors=errors or {},
            form=form or {}, max_length=courses.SPECIAL_NEEDS_MAX_LENGTH,
            keep_days=int(current_app.config["COURSE_SPECIAL_NEEDS_KEEP_DAYS"]),
        ), status

    @expose("/courses/<int:course_id>/apply", methods=["GET", "POST"])
    @has_access
    def apply(self, course_id: int):
        """Apply for a course, optionally giving special needs. Any course is open to every member; an id nobody
        has is told so like the other refusals."""
        member = acting_member()
        course = db.session.get(Course, course_id) if row_id(course_id) else None
        if course is None:
            flash(_("Course: no such course."), "danger")
            return redirect(url_for("MyPageView.all_courses"))
        if request.method == "GET":
            return self._needs_form(course)
        try:
            application = courses.apply(member.id, course_id, special_needs=request.form.get("special_needs"))
        except RecordInvalid as exc:
            db.session.rollback()
            flash(_("Nothing was saved: %(problems)s",
                    problems=" ".join(m for msgs in exc.errors.values() for m in msgs)), "danger")
            return self._needs_form(course, errors=exc.errors, form=request.form, status=422)
        except CourseError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("MyPageView.all_courses"))
        flash(_("You have applied for %(course)s.", course=application.course.title), "success")
        return redirect(url_for("MyPageView.index") + "#courses")

    @expose("/applications/<int:application_id>/needs", methods=["GET", "POST"])
    @has_access
    def special_needs(self, application_id: int):
        """Give, change or remove the special needs of one's own open application, until the deadline."""
        acting_member()  # 403 unless acting as a member
        application = scoped_get(CourseApplication, application_id)
        if request.method == "GET":
            return self._needs_form(application.course, application)
        try:
            changed = courses.set_special_needs(application, request.form.get("special_needs"))
        except RecordInvalid as exc:
            db.session.rollback()
            flash(_("Nothing was saved: %(problems)s",
                    problems=" ".join(m for msgs in exc.errors.values() for m in msgs)), "danger")
            return self._needs_form(application.course, application, exc.errors, request.form, 422)
        except CourseError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            if not changed:
                flash(_("No changes."), "info")
            elif application.special_needs:
                flash(_("Your special needs are saved. Only the union office sees them."), "success")
            else:
                flash(_("Your special needs are removed."), "success")
        return redirect(url_for("MyPageView.index") + "#courses")

    @expose("/applications/<int:application_id>/withdraw", methods=["POST"])
    @has_access
    def withdraw(self, application_id: int):
        acting_member()  # 403 unless acting as a member
        application = scoped_get(CourseApplication, application_id)
        try:
            courses.withdraw(application)
        except CourseError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("MyPageView.index") + "#courses")
        flash(_("Your application is withdrawn."), "success")
        return redirect(url_for("MyPageView.index") + "#courses")

    # ------------------------------------------------------------ prize shop

    @expose("/shop")
    @has_access
    def shop(self):
        member = acting_member()
        return self.render_template("mypage/shop.html", prizes=recruitment.prizes(),
                                    balance=recruitment.balance(member.id),
                                    orders=recruitment.orders_of(member.id))

    @expose("/shop/order", methods=["POST"])
    @has_access
    def order(self):
        member = acting_member()
        try:
            placed = recruitment.order_prize(member.id, request.form.get("prize_id", type=int),
                                             request.form.get("quantity", ""))
        except ShopError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Ordered: %(quantity)s × %(prize)s for %(points)s points.", quantity=placed.quantity,
                    prize=placed.prize.name, points=placed.points), "success")
        return redirect(url_for("MyPageView.shop"))

    # ------------------------------------------------------------ documents

    @expose("/documents/<int:document_id>")
    @has_access
    def document(self, document_id: int):
        member = acting_member()
        row = scoped_get(MemberDocument, document_id)
        try:
            pdf = documents.document_pdf(row)
        except CourseError:
            abort(404)
        return download(pdf, documents.filename_for(row), "application/pdf", object_type="member_document",
                        object_id=row.id, member_id=member.id, inline=True)


    # ------------------------------------------------------------ resignation

    @expose("/resign", methods=["GET", "POST"])
    @has_access
    def resign(self):
        """Meld deg ut: the member's own resignation, effective at the end of the current month. Only the acting
        member resigns: the form carries no member id."""
        member = acting_member()
        today = dt.date.today()
        errors = {}
        if request.method == "POST" and member.left_on is None:
            if request.form.get("confirm") != "1":
                errors["confirm"] = [_("Confirmation: tick the box to confirm that you resign.")]
            else:
                try:
                    result = resignations.resign(member, request.form.get("reason"), request.form.get("comment"),
                                                 today)
                except ResignationError as exc:
                    db.session.rollback()
                    errors[exc.field or "reason"] = [exc.message]
                else:
                    flash(_("Your resignation is registered. You are a member through %(date)s.",
                            date=result.left_on.strftime("%d.%m.%Y")), "success")
                    if result.address and not result.mail_sent:
                        flash(_("The confirmation e-mail to %(address)s will follow shortly.",
                                address=result.address), "info")
                    return redirect(url_for("MyPageView.resign"))
            member = acting_member()
        return self.render_template("transfers/resign.html", member=member, errors=errors, form=request.form,
                                    reasons=RESIGNATION_REASONS, ends_on=Month.of(today).last_day,
                                    retention_months=int(current_app.config["PRIVACY_RETENTION_MONTHS"])), (
            422 if errors else 200)

    # ------------------------------------------------------------ direct payment

    @expose("/income-band", methods=["POST"])
    @has_access
    def income_band(self):
        member = acting_member()
        try:
            changed = mypage.declare_income_band(member, request.form.get("income_band"))
        except RecordInvalid as exc:
            db.session.rollback()
            flash(_("Nothing was saved: %(problems)s",
                    problems=" ".join(m for msgs in exc.errors.values() for m in msgs)), "danger")
            return self._render_page(acting_member(), exc.errors, "payment", request.form), 422
        if changed:
            flash(_("Your income band is saved. It applies to the invoices made from now on."), "success")
        else:
            flash(_("No changes."), "info")
        return redirect(url_for("MyPageView.index") + "#payment")

    @expose("/invoices")
    @has_access
    def invoices(self):
        member = acting_member()
        today = dt.date.today()
        return self.render_template("mypage/invoices.html", member=member, **self._payment_facts(member, today),
                                    account=account_number(current_app.config["UNION_ACCOUNT_NUMBER"]))

    @expose("/invoices/<int:invoice_id>.pdf")
    @has_access
    def invoice_pdf(self, invoice_id: int):
        member = acting_member()
        invoice = scoped_get(Invoice, invoice_id)
        return download(invoice_documents.invoice_pdf(invoice), invoice_documents.invoice_file_name(invoice),
                        "application/pdf", object_type="invoice", object_id=invoice.id, member_id=member.id,
                        inline=True)
