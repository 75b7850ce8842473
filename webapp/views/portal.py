"""The deduction portal for an employer's payroll contacts.

Everything here belongs to the employer of the acting option: a month, list or
contact of another employer answers 404.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.models import (
    DeductionBasis,
    DeductionBasisLine,
    DeductionContact,
    DeductionList,
    DeductionListLine,
    Employer,
    Member,
)
from webapp.models.choices import DeviationReason, ListStatus
from webapp.security import scope as sc
from webapp.security.privacy import national_id_on_screen
from webapp.security.rowfilters import scoped_get
from webapp.services import accounts, deduction_lists, portal
from webapp.services import mail as outbox
from webapp.services.deduction_lists import LineInput, ListError, stored_month
from webapp.services.money import account_number
from webapp.services.pdf import render_pdf
from webapp.services.periods import Month, PeriodError, current_ids
from webapp.views.deduction_labels import change_label
from webapp.views.downloads import download


def acting_employer() -> Employer:
    return scoped_get(Employer, sc.acting_target_id(sc.EMPLOYERS))


class PortalView(BaseView):
    """Trekkportal: company data, the months with their basis and lists, and the contacts."""

    route_base = "/portal"
    default_view = "index"

    def _list(self, list_id: int, with_members: bool = False) -> DeductionList:
        """The acting employer's list (else 404); `with_members` loads the lines' members in one go."""
        acting_employer()  # 403 unless acting for an employer
        options = [selectinload(DeductionList.lines).selectinload(DeductionListLine.member)] if with_members else []
        return scoped_get(DeductionList, list_id, options)

    def _period(self, period: str) -> Month:
        try:
            return Month.parse(period)
        except PeriodError:
            abort(404)

    @expose("/")
    @has_access
    def index(self):
        employer = acting_employer()
        contacts = portal.contacts_of(employer.id)
        return self.render_template("portal/index.html", employer=employer, months=portal.months_overview(employer.id),
                                    contacts=contacts, contacts_in_post=current_ids(contacts, dt.date.today()),
                                    account=union_account())

    @expose("/basis/<period>")
    @has_access
    def basis(self, period: str):
        employer = acting_employer()
        month = self._period(period)
        basis = db.session.scalars(
            select(DeductionBasis).where(DeductionBasis.employer_id == employer.id, DeductionBasis.period == str(month))
        ).first()
        if basis is None:
            abort(404)
        changes_only = request.args.get("changes") == "1"
        query = (
            select(DeductionBasisLine, Member)
            .join(Member, Member.id == DeductionBasisLine.member_id)
            .where(DeductionBasisLine.basis_id == basis.id)
            .order_by(Member.last_name, Member.first_name)
        )
        if changes_only:
            query = query.where(DeductionBasisLine.change.is_not(None))
        lines = db.session.execute(query).all()
        return self.render_template("portal/basis.html", employer=employer, basis=basis, month=month, lines=lines,
                                    changes_only=changes_only, mask=national_id_on_screen,
                                    change_label=change_label)

    @expose("/lists/new/<period>", methods=["POST"])
    @has_access
    def new_list(self, period: str):
        employer = acting_employer()
        month = self._period(period)
        try:
            deduction_list = deduction_lists.create_list(employer.id, str(month), current_user.id)
        except ListError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("PortalView.index"))
        return redirect(url_for("PortalView.edit_list", list_id=deduction_list.id))

    @expose("/lists/<int:list_id>", methods=["GET", "POST"])
    @has_access
    def edit_list(self, list_id: int):
        deduction_list = self._list(list_id, with_members=True)
        if deduction_list.status != ListStatus.draft:
            if request.method == "POST":  # delivered in another tab meanwhile: say so rather than drop the change
                flash(str(deduction_lists.delivered_and_locked()), "danger")
            return redirect(url_for("PortalView.show_list", list_id=list_id))
        line_errors: dict[int, str] = {}
        form = request.form
        if request.method == "POST":
            try:
                return self._carry_out(deduction_list, request.form.get("action", "save"))
            except IncompleteList as incomplete:  # saved as a draft, but not complete: say what each line lacks
                line_errors, form = incomplete.errors, {}
                flash(_("The draft is saved."), "success")
                flash(str(incomplete.error), "danger")
            except ListError as exc:
                db.session.rollback()
                line_errors = getattr(exc, "errors", {})
                flash(str(exc), "danger")
                # Another request may have delivered or deleted the list meanwhile: show where it went.
                if isinstance(exc, deduction_lists.ListGone):
                    return redirect(url_for("PortalView.index"))
            deduction_list = self._list(list_id, with_members=True)
            if deduction_list.status != ListStatus.draft:
                return redirect(url_for("PortalView.show_list", list_id=list_id))
        return self.render_template(
            "portal/list_edit.html", deduction_list=deduction_list, month=stored_month(deduction_list.period),
            total_ore=deduction_lists.lines_total_ore(deduction_list.id), reasons=list(DeviationReason),
            line_errors=line_errors, form=form, mask=national_id_on_screen,
            hints=deduction_lists.line_hints(deduction_list),
            payment=portal.payment_information(deduction_list.employer_id, deduction_list.period),
            account=union_account(),
        )

    def _carry_out(self, deduction_list: DeductionList, action: str):
        """Do what the edit form's button asks and answer where to go next; raises ListError."""
        list_id = deduction_list.id
        here = url_for("PortalView.edit_list", list_id=list_id)
        if action == "save":
            deduction_lists.update_entries(deduction_list, _entries_from_form(deduction_list))
            flash(_("The draft is saved."), "success")
        elif action == "approve":
            # What is typed is saved first, as a draft; delivering it is asked for on the confirmation page.
            deduction_lists.update_entries(deduction_list, _entries_from_form(deduction_list))
            problems = deduction_lists.incomplete_lines(deduction_list)
            if problems:
                raise IncompleteList(problems, deduction_lists.incomplete_error(deduction_list, problems))
            return redirect(url_for("PortalView.approve_list", list_id=list_id))
        elif action == "same_all" or action.startswith("same:"):
            line_id = _line_id(action) if action.startswith("same:") else None
            count = deduction_lists.same_as_last_month(deduction_list, _entries_from_form(deduction_list), line_id)
            flash(_("%(count)s lines have the amount of last month.", count=count), "success" if count else "info")
            return redirect(here + (f"#line-{line_id}" if line_id else "#list-lines"))
        elif action == "add":
            deduction_lists.add_line(deduction_list, _new_line_from_form())
            flash(_("The person is added to the list."), "success")
        elif action.startswith("remove:"):
            deduction_lists.remove_line(deduction_list, _line_id(action))
        elif action == "upload":
            _import_uploaded_file(deduction_list)
        elif action == "delete":
            deduction_lists.delete_draft(deduction_list)
            flash(_("The draft is deleted."), "success")
            return redirect(url_for("PortalView.index"))
        return redirect(here)

    @expose("/lists/<int:list_id>/approve", methods=["GET", "POST"])
    @has_access
    def approve_list(self, list_id: int):
        """The confirmation of a delivery: what is about to be delivered, then "Yes, approve and deliver"."""
        deduction_list = self._list(list_id, with_members=True)
        if deduction_list.status != ListStatus.draft:
            if request.method == "POST":
                flash(str(deduction_lists.delivered_and_locked()), "danger")
            return redirect(url_for("PortalView.show_list", list_id=list_id))
        if request.method == "POST":
            try:
                deduction_lists.approve(deduction_list, current_user.id,
                                        expected_total_ore=request.form.get("total_ore", type=int))
            except ListError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
                if isinstance(exc, deduction_lists.ListGone):
                    return redirect(url_for("PortalView.index"))
                return redirect(url_for("PortalView.edit_list", list_id=list_id))
            flash(_("The list is delivered."), "success")
            return redirect(url_for("PortalView.show_list", list_id=list_id))
        problems = deduction_lists.incomplete_lines(deduction_list)
        if problems:
            flash(str(deduction_lists.incomplete_error(deduction_list, problems)), "danger")
            return redirect(url_for("PortalView.edit_list", list_id=list_id))
        return self.render_template(
            "portal/list_approve.html", deduction_list=deduction_list, month=stored_month(deduction_list.period),
            total_ore=deduction_lists.lines_total_ore(deduction_list.id),
            deviations=[line for line in deduction_list.lines if line.deviation is not None],
        )

    @expose("/lists/<int:list_id>/show")
    @has_access
    def show_list(self, list_id: int):
        deduction_list = self._list(list_id)
        return self.render_template("portal/list_show.html", deduction_list=deduction_list,
                                    month=stored_month(deduction_list.period), mask=national_id_on_screen,
                                    payment=portal.payment_information(deduction_list.employer_id,
                                                                       deduction_list.period),
                                    account=union_account())

    @expose("/lists/<int:list_id>/pdf")
    @has_access
    def list_pdf(self, list_id: int):
        deduction_list = self._list(list_id)
        pdf = render_deduction_list_pdf(deduction_list)
        filename = f"trekkliste-{deduction_list.employer.customer_no}-{deduction_list.period}-{deduction_list.id}.pdf"
        return download(pdf, filename, "application/pdf", object_type="deduction_list", object_id=deduction_list.id,
                        inline=True)

    @expose("/lists/<int:list_id>/template.csv")
    @has_access
    def list_template(self, list_id: int):
        deduction_list = self._list(list_id, with_members=True)
        return download(deduction_lists.csv_template(deduction_list), f"trekkliste-{deduction_list.period}.csv",
                        "text/csv; charset=utf-8", object_type="deduction_list", object_id=deduction_list.id)

    @expose("/contacts/<int:contact_id>/remove")
    @has_access
    def remove_contact(self, contact_id: int):
        """The confirmation of a hand-over: who loses access (the contact themselves, said plainly)."""
        acting_employer()
        contact = scoped_get(DeductionContact, contact_id)
        if contact.id not in current_ids([contact], dt.date.today()):
            return redirect(url_for("PortalView.index") + "#contacts")
        return self.render_template("portal/contact_remove.html", contact=contact,
                                    yourself=contact.user_id == current_user.id)

    @expose("/contacts", methods=["POST"])
    @has_access
    def contacts(self):
        employer = acting_employer()
        try:
            if request.form.get("action") == "remove":
                contact = scoped_get(DeductionContact, request.form.get("contact_id", type=int))
                accounts.end_contact(contact, current_user.id)
                flash(_("The contact is removed. The history is kept."), "success")
                if contact.user_id == current_user.id:
                    return _left_the_portal(employer)
            else:
                user = accounts.create_contact(employer, request.form.get("name", ""), request.form.get("email", ""),
                                               request.form.get("phone", ""), current_user.id)
                if outbox.waiting_for(user.email):
                    flash(_("The new contact is registered. The e-mail with the link to choose a password will follow "
                            "as soon as the mail service answers."), "warning")
                else:
                    flash(_("The new contact is registered and has been sent a link to choose a password."), "success")
        except accounts.AccountError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        return redirect(url_for("PortalView.index") + "#contacts")


class IncompleteList(Exception):
    """An approval asked for while lines are not complete: the draft was saved; `errors` by line id."""

    def __init__(self, errors: dict[int, str], error: ListError):
        super().__init__(str(error))
        self.errors, self.error = errors, error


def _left_the_portal(employer: Employer):
    """A contact who removed themselves acts for the employer no more, from this moment: the acting role is
    dropped from the session and the scope resolved again, so the home page offers what is left (if anything)."""
    session.pop(sc.SESSION_KEY, None)
    g.pop("scope", None)
    flash(_("You are no longer a deduction contact of %(employer)s.", employer=employer.name), "info")
    return redirect(url_for("HomeView.index"))


def union_account() -> str:
    """The union's account number for payments, as people write it (9001 07 41504)."""
    return account_number(current_app.config["UNION_ACCOUNT_NUMBER"])


def _line_id(action: str) -> int:
    """The line id of a per-line button's value (`remove:12`, `same:12`); 0 (no line) when it is not a number."""
    line_id = action.partition(":")[2]
    return int(line_id) if line_id.isdigit() else 0


# Lines per paragraph of the PDF. xhtml2pdf lays out one long table in quadratic time (a 2,000-line list took
# 35 s, 20,000 lines far longer) and a table row in about 4 ms even in short tables; lines of short paragraphs
# cost well under 1 ms each (20,000 lines in 12-17 s on a busy 2-core machine, bench/bench_deduction_list_pdf.py).
PDF_LINES_PER_PARAGRAPH = 50


def _entries_from_form(deduction_list: DeductionList) -> dict[int, LineInput]:
    """What the contact typed on each line of the list."""
    return {
        line.id: LineInput(
            amount=request.form.get(f"amount_{line.id}", ""),
            deviation=request.form.get(f"deviation_{line.id}", ""),
            comment=request.form.get(f"comment_{line.id}", ""),
        )
        for line in deduction_list.lines
    }


def _new_line_from_form() -> LineInput:
    return LineInput(
        national_id=request.form.get("new_national_id", ""), name=request.form.get("new_name", ""),
        amount=request.form.get("new_amount", ""), deviation=request.form.get("new_deviation", ""),
        comment=request.form.get("new_comment", ""),
    )


def _import_uploaded_file(deduction_list: DeductionList) -> None:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ListError(_("File: choose a CSV file to upload."))
    count = deduction_lists.import_csv(deduction_list, upload.read())
    flash(_("%(count)s lines read from the file.", count=count), "success")


def render_deduction_list_pdf(deduction_list: DeductionList) -> bytes:
    lines = deduction_list.lines
    chunks = [lines[start : start + PDF_LINES_PER_PARAGRAPH] for start in range(0, len(lines), PDF_LINES_PER_PARAGRAPH)]
    return render_pdf(
        "pdf/deduction_list.html", deduction_list=deduction_list, chunks=chunks,
        month=stored_month(deduction_list.period),
        mask=national_id_on_screen, union_name=current_app.config["UNION_NAME"],
    )
