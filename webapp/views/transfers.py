"""The office's screens for members leaving and moving: the transfers between LO unions (list, confirmation PDF,
the quarterly report to LO), and on a member's page the resignation from a letter, the transfer out and the
transfer in. Office only (roles.py grants these views to no other role)."""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_login import current_user

from reports import transfers as transfer_report
from reports.membership import ReportError
from webapp.extensions import db
from webapp.models import Member
from webapp.models.choices import RESIGNATION_REASONS, TransferDirection
from webapp.models.lifecycle import MembershipTransfer
from webapp.security.rowfilters import row_for_view, scoped_get
from webapp.security.scope import get_scope
from webapp.services import resignations, transfers
from webapp.services.bounds import FIRST_DATE, LAST_DATE, row_id, typed_date
from webapp.services.periods import Month, Quarter
from webapp.services.resignations import ResignationError
from webapp.services.transfers import TransferError
from webapp.views.downloads import download

SHOWN = 500


def form_date(text):
    """A date typed as YYYY-MM-DD (the date input) or dd.mm.yyyy; anything else is handed on as typed, for the
    service to refuse naming the field."""
    return typed_date(text) or str(text or "").strip() or None


def _filter_date(text: str, label, errors: dict, field: str) -> dt.date | None:
    if not text:
        return None
    day = form_date(text)
    if not isinstance(day, dt.date) or not FIRST_DATE <= day <= LAST_DATE:
        errors[field] = _("%(field)s: enter a date (dd.mm.yyyy) from %(first)s to %(last)s.", field=label,
                          first=FIRST_DATE.strftime("%d.%m.%Y"), last=LAST_DATE.strftime("%d.%m.%Y"))
        return None
    return day


def _filters(args) -> tuple[dict, dict]:
    errors, chosen = {}, {}
    direction = args.get("direction", "")
    if direction:
        chosen["direction"] = TransferDirection.__members__.get(direction)
        if chosen["direction"] is None:
            errors["direction"] = _("Direction: choose one of the directions in the list.")
    union = args.get("union", "")
    if union:
        chosen["lo_union_id"] = row_id(union)
        if chosen["lo_union_id"] is None:
            errors["union"] = _("LO union: choose a union from the list.")
    chosen["first"] = _filter_date(args.get("from", ""), _("From"), errors, "from")
    chosen["last"] = _filter_date(args.get("to", ""), _("To"), errors, "to")
    return chosen, errors


def default_quarter(today: dt.date) -> Quarter:
    """The last whole quarter: the one the report to LO is made for."""
    return Month.of(today).quarter.previous


class TransferView(BaseView):
    """Membership → Transfers: every transfer in and out, with filters; the confirmation for the receiving union;
    the quarterly report to LO. And the office's forms on a member: resignation by letter, transfer out and in."""

    route_base = "/transfers"
    default_view = "index"

    def _member(self, member_id: int) -> Member:
        return scoped_get(Member, member_id, grants=get_scope().grants_for_view(self.class_permission_name))

    @expose("/")
    @has_access
    def index(self):
        chosen, errors = _filters(request.args)
        rows, total = transfers.find_transfers(**chosen, limit=SHOWN) if not errors else ([], 0)
        today = dt.date.today()
        quarters = [default_quarter(today)]
        for _step in range(7):
            quarters.append(quarters[-1].previous)
        return self.render_template(
            "transfers/index.html", rows=rows, total=total, errors=errors, args=request.args,
            unions=transfers.active_unions(), directions=list(TransferDirection),
            quarters=[Month.of(today).quarter, *quarters], default_quarter=default_quarter(today),
        ), (422 if errors else 200)

    @expose("/<int:transfer_id>/confirmation.pdf")
    @has_access
    def confirmation(self, transfer_id: int):
        transfer = db.session.get(MembershipTransfer, transfer_id) if row_id(transfer_id) else None
        if transfer is None or transfer.direction != TransferDirection.outgoing:
            abort(404)
        self._member(transfer.member_id)
        return download(transfers.confirmation_pdf(transfer), transfers.confirmation_filename(transfer),
                        "application/pdf", object_type="membership_transfer", object_id=transfer.id,
                        member_id=transfer.member_id, inline=True)

    @expose("/report")
    @has_access
    def report(self):
        """The quarter's report: its figures on screen and the files to download."""
        text = request.args.get("quarter") or str(default_quarter(dt.date.today()))
        try:
            quarter = transfer_report.parse_quarter(text)
        except ReportError as exc:
            flash(str(exc), "danger")
            return redirect(url_for("TransferView.index"))
        report = transfer_report.transfer_report(quarter)
        names = [f"{transfer_report.base_name(quarter)}.{ext}" for ext in ("pdf", "csv", "xlsx")]
        names.append(f"{transfer_report.base_name(quarter)}-medlemmer.csv")
        return self.render_template("transfers/report.html", report=report, quarter=quarter, names=names)

    @expose("/report/<quarter_text>/<name>")
    @has_access
    def report_file(self, quarter_text: str, name: str):
        try:
            report_file = transfer_report.file_for(quarter_text, name)
        except ReportError:
            abort(404)
        return download(report_file.data, report_file.name, report_file.mimetype, object_type="transfer_report",
                        inline=report_file.extension == "pdf", quarter=quarter_text)

    # ------------------------------------------------------------ on a member

    def _form_page(self, template: str, member: Member, errors: dict, **extra):
        return self.render_template(template, member=member, errors=errors, form=request.form,
                                    unions=transfers.active_unions(), reasons=RESIGNATION_REASONS,
                                    today=dt.date.today(), **extra), (422 if errors else 200)

    @expose("/member/<int:member_id>/resign", methods=["GET", "POST"])
    @has_access
    def resign(self, member_id: int):
        member = self._member(member_id)
        errors = {}
        if request.method == "POST":
            form = request.form
            try:
                result = resignations.register_from_letter(member.id, form.get("reason"),
                                                           form_date(form.get("letter_date")), form.get("note"),
                                                           current_user.id)
            except ResignationError as exc:
                db.session.rollback()
                errors = {exc.field or "member": [exc.message]}
            else:
                flash(_("The resignation of %(name)s is registered: the membership ends on %(date)s.",
                        name=result.member.full_name, date=result.left_on.strftime("%d.%m.%Y")), "success")
                _flash_mail(result)
                return redirect(url_for("MemberView.show", pk=member.id))
        return self._form_page("transfers/resign_letter.html", member, errors)

    @expose("/member/<int:member_id>/out", methods=["GET", "POST"])
    @has_access
    def transfer_out(self, member_id: int):
        member = self._member(member_id)
        errors = {}
        if request.method == "POST":
            form = request.form
            try:
                transfer = transfers.transfer_out(member.id, form.get("lo_union"), form_date(form.get("on")),
                                                  form.get("reference"), current_user.id)
            except TransferError as exc:
                db.session.rollback()
                errors = {exc.field or "member": [exc.message]}
            else:
                flash(_("%(name)s is transferred to %(union)s: the membership ends on %(date)s. The confirmation for "
                        "the receiving union is ready.", name=transfer.member.full_name, union=transfer.lo_union.name,
                        date=transfer.transfer_on.strftime("%d.%m.%Y")), "success")
                return redirect(url_for("MemberView.show", pk=member.id))
        return self._form_page("transfers/transfer_out.html", member, errors)

    @expose("/member/<int:member_id>/in", methods=["GET", "POST"])
    @has_access
    def transfer_in(self, member_id: int):
        member = self._member(member_id)
        errors = {}
        if request.method == "POST":
            form = request.form
            try:
                transfer = transfers.register_incoming_for_member(member.id, form.get("lo_union"),
                                                                  form_date(form.get("since")), form.get("reference"),
                                                                  current_user.id)
            except TransferError as exc:
                db.session.rollback()
                errors = {exc.field or "member": [exc.message]}
            else:
                flash(_("The transfer of %(name)s from %(union)s is registered: seniority from %(date)s.",
                        name=transfer.member.full_name, union=transfer.lo_union.name,
                        date=transfer.other_union_since.strftime("%d.%m.%Y")), "success")
                return redirect(url_for("MemberView.show", pk=member.id))
        return self._form_page("transfers/transfer_in.html", member, errors)


def _flash_mail(result: resignations.Resignation) -> None:
    if result.address is None:
        flash(_("The member has no e-mail address: send the confirmation by post."), "warning")
    elif not result.mail_sent:
        flash(_("The confirmation e-mail to %(address)s will follow as soon as the mail service answers.",
                address=result.address), "warning")


def member_leaving(member_id) -> dict | None:
    """The member's leave and transfers with the office's actions, for the office's member page; None for every
    role whose grants do not reach the transfer screens."""
    member = row_for_view(Member, member_id, "TransferView")
    if member is None:
        return None
    return {
        "member": member,
        "transfers": transfers.transfers_of(member.id),
        "has_incoming": transfers.has_incoming(member),
    }
