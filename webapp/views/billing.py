"""The office's screens of direct payment: invoices (with credit notes and write-offs), AvtaleGiro mandates,
arrears (with "end membership for non-payment"), direct dues rates and income bands; and `/api/v1/invoice/`.

Every screen here is the office's alone (webapp/security/roles.py); the API also answers a member, for their
own invoices only (webapp/security/rowfilters.py). Changes of state are made by the services, which decide
between concurrent attempts (one winner); their refusals are shown as they word them, never as a 500.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.api import protect, safe
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import false, func, select
from wtforms import StringField
from wtforms import validators as wtf_validators

from webapp.extensions import db
from webapp.models import (
    AvtaleGiroMandate,
    DirectDuesRate,
    IncomeBand,
    Invoice,
    InvoiceAdjustment,
    Member,
    PaymentAllocation,
)
from webapp.models.choices import InvoiceStatus, MemberCategory, PaymentMethod
from webapp.models.labels import labels_for
from webapp.security.rowfilters import row_for_view, scoped_get, scoped_row
from webapp.security.scope import get_scope
from webapp.services import arrears, invoice_documents, invoice_ledger, invoices, kid, payment_methods
from webapp.services.bounds import INT64_MAX
from webapp.services.money import kroner, parse_kroner
from webapp.services.periods import period_label
from webapp.views.computed_interface import ComputedInterface
from webapp.views.deductions import ore_formatters
from webapp.views.downloads import download
from webapp.views.form_fields import LabelledEnumField
from webapp.views.scoped_api import ScopedModelRestApi
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView

READ_ONLY = ["can_list", "can_show"]
AMOUNT_LABEL = _l("Amount")
REASON_LABEL = _l("Reason")


# ------------------------------------------------------------------ filters of the invoice list


class FilterShownStatus(BaseFilter):
    """The status as the user sees it: "overdue" is an open or partly paid invoice past its due date, and an
    open or partly paid one is only that while it is not overdue."""

    name = _l("Is")
    arg_name = "shown_status"

    def apply(self, query, value):
        text = str(value or "").strip()
        if not text:
            return query
        status = InvoiceStatus.__members__.get(text)
        today = dt.date.today()
        if status is None:
            return query.filter(false())
        if status is InvoiceStatus.overdue:
            return query.filter(invoice_ledger.overdue_clause(today))
        if status in invoice_ledger.UNSETTLED:
            return query.filter(Invoice.status == status, Invoice.due_date >= today)
        return query.filter(Invoice.status == status)


class FilterMemberNumber(BaseFilter):
    """The rows of the member with this membership number (as typed, or as a number)."""

    name = _l("Membership number is")
    arg_name = "member_no"

    def apply(self, query, value):
        text = str(value or "").strip()
        if not text:
            return query
        members = select(Member.id).where(Member.member_no.in_(kid.member_number_forms([text])))
        return query.filter(self.model.member_id.in_(members))


def shown_status(invoice: Invoice) -> InvoiceStatus:
    return invoice_ledger.display_status(invoice, dt.date.today())


def outstanding(invoice: Invoice) -> int:
    return invoice.outstanding_ore


INVOICE_LABELS = {
    **labels_for(Invoice),
    "shown_status": _l("Status"),
    "outstanding": _l("Outstanding"),
    "member_id": _l("Membership number"),
}
INVOICE_MONEY = ("dues_ore", "contents_insurance_ore", "travel_insurance_ore", "amount_ore", "paid_ore",
                 "credited_ore", "written_off_ore", "outstanding")


def _status_label(status) -> str:
    return status.label if isinstance(status, InvoiceStatus) else ""


class InvoiceView(ScopedModelView):
    """Every invoice and AvtaleGiro claim: status as shown (overdue derived), outstanding, filters; the detail
    page holds the components, what was paid, credited and written off, and the office's credit note and
    write-off forms."""

    datamodel = ComputedInterface(
        Invoice, eager=("member",),
        computed={"shown_status": shown_status, "outstanding": outstanding},
        own_filters={"status": [FilterShownStatus], "member_id": [FilterMemberNumber]},
    )
    list_title = _l("Invoices")
    show_title = _l("Invoice")
    show_template = "billing/invoice_show.html"
    base_permissions = READ_ONLY + ["can_adjust"]
    label_columns = INVOICE_LABELS
    list_columns = ["member", "period", "kid", "method", "due_date", "amount_ore", "outstanding", "shown_status"]
    show_columns = ["member", "period", "kid", "method", "issued_on", "due_date", "dues_ore",
                    "contents_insurance_ore", "travel_insurance_ore", "amount_ore", "paid_ore", "credited_ore",
                    "written_off_ore", "outstanding", "shown_status", "sent_at", "delivery", "sent_to",
                    "first_reminder_on", "second_reminder_on"]
    search_columns = ["period", "status", "member_id", "kid", "method", "due_date"]
    order_columns = ["period", "due_date", "kid", "amount_ore"]
    base_order = ("due_date", "desc")
    search_form_extra_fields = {
        "status": LabelledEnumField(_l("Status"), enum_class=InvoiceStatus, nullable=True),
        "method": LabelledEnumField(_l("Payment method"), enum_class=PaymentMethod, nullable=True),
        "member_id": StringField(_l("Membership number"), validators=[wtf_validators.Optional()],
                                 render_kw={"class": "form-control"}),
    }
    formatters_columns = {**ore_formatters(*INVOICE_MONEY), "shown_status": _status_label, "period": period_label}

    def _invoice(self, pk) -> Invoice:
        return scoped_get(Invoice, pk, grants=get_scope().grants_for_view(self.class_permission_name))

    def _render_show(self, pk: int, errors: dict | None = None, form=None, status: int = 200):
        widgets = self._show(pk)
        invoice = self._invoice(pk)
        return self.render_template(
            self.show_template, pk=pk, title=self.show_title, widgets=widgets, related_views=self._related_views,
            invoice=invoice, status=shown_status(invoice), adjustments=_adjustments_of(invoice.id),
            allocations=_allocations_of(invoice.id), errors=errors or {}, form=form or {},
        ), status

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return self._render_show(int(pk))

    @expose("/pdf/<int:pk>")
    @has_access
    @permission_name("show")
    def pdf(self, pk: int):
        """The invoice as the member got it (PDF)."""
        return invoice_download(self._invoice(pk))

    @expose("/adjust/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("adjust")
    def adjust(self, pk: int):
        """A credit note or a write-off, with the amount in kroner (empty: all that is left) and a reason."""
        invoice = self._invoice(pk)
        kind = request.form.get("kind", "")
        if kind not in ("credit_note", "write_off"):
            abort(400)
        amount_text = request.form.get("amount", "").strip()
        try:
            amount = _amount_in_ore(amount_text, required=kind == "credit_note")
            action = invoices.credit_note if kind == "credit_note" else invoices.write_off
            action(invoice.id, amount, request.form.get("reason", ""), current_user.id)
        except ValueError as exc:
            db.session.rollback()
            return self._render_show(pk, {kind: [str(exc)]}, {**request.form.to_dict(), "open": kind}, 422)
        done = _("The credit note is registered.") if kind == "credit_note" else _("The write-off is registered.")
        flash(done, "success")
        return redirect(url_for("InvoiceView.show", pk=pk))


def invoice_download(invoice: Invoice):
    return download(invoice_documents.invoice_pdf(invoice), invoice_documents.invoice_file_name(invoice),
                    "application/pdf", object_type="invoice", object_id=invoice.id, member_id=invoice.member_id,
                    inline=True)


def _amount_in_ore(text: str, required: bool) -> int | None:
    """An amount in kroner as typed ('1 234,50'), in øre; None when empty and allowed."""
    if not text:
        if required:
            raise ValueError(_("%(field)s: is required.", field=AMOUNT_LABEL))
        return None
    try:
        amount = parse_kroner(text)
    except (ValueError, ArithmeticError):
        raise ValueError(_("%(field)s: '%(text)s' is not an amount in kroner.", field=AMOUNT_LABEL,
                           text=text[:40])) from None
    if not 0 < amount <= INT64_MAX:
        raise ValueError(_("%(field)s: must be more than 0.", field=AMOUNT_LABEL))
    return amount


def _adjustments_of(invoice_id: int) -> list[InvoiceAdjustment]:
    return list(db.session.scalars(
        select(InvoiceAdjustment).where(InvoiceAdjustment.invoice_id == invoice_id).order_by(InvoiceAdjustment.id)))


def _allocations_of(invoice_id: int) -> list[PaymentAllocation]:
    return list(db.session.scalars(
        select(PaymentAllocation).where(PaymentAllocation.invoice_id == invoice_id).order_by(PaymentAllocation.id)))


class InvoiceApi(ScopedModelRestApi):
    """Invoices as stored, plus the status as shown (`shown_status`, overdue derived) and `outstanding_ore`.
    The office reads all; a member their own (the row filter); every other role nothing."""

    resource_name = "invoice"
    datamodel = ScopedInterface(Invoice)
    base_permissions = ["can_get", "can_info"]
    list_columns = show_columns = [
        "id", "member_id", "period", "first_month", "month_count", "kid", "method", "issued_on", "due_date",
        "dues_ore", "contents_insurance_ore", "travel_insurance_ore", "amount_ore", "paid_ore", "credited_ore",
        "written_off_ore", "status", "sent_at", "delivery", "first_reminder_on", "second_reminder_on",
    ]
    search_columns = ["period", "status", "member", "kid", "method", "due_date"]
    order_columns = ["period", "due_date", "amount_ore"]

    @staticmethod
    def _add_computed(rows: list[dict]) -> None:
        ids = [row["id"] for row in rows if isinstance(row.get("id"), int)]
        if not ids:
            return
        by_id = {invoice.id: invoice for invoice in db.session.scalars(select(Invoice).where(Invoice.id.in_(ids)))}
        for row in rows:
            invoice = by_id.get(row.get("id"))
            if invoice is not None:
                row["shown_status"] = shown_status(invoice).name
                row["outstanding_ore"] = invoice.outstanding_ore

    @expose("/<int:pk>/pdf", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def pdf(self, pk: int):
        """The invoice as PDF (the member's own only; the office any)."""
        invoice = scoped_row(Invoice, pk, get_scope().grants_for_view(self.class_permission_name))
        if invoice is None:
            return self.response_404()
        return invoice_download(invoice)

    def pre_get_list(self, data):
        result = data.get("result") or []
        ids = data.get("ids") or []
        for row, row_id in zip(result, ids):
            row.setdefault("id", row_id)
        self._add_computed(result)

    def pre_get(self, data):
        result = data.get("result") or {}
        result.setdefault("id", data.get("id"))
        self._add_computed([result])


# ------------------------------------------------------------------ AvtaleGiro mandates


class MandateView(ScopedModelView):
    """The members' AvtaleGiro mandates as the bank reported them (agreement files)."""

    datamodel = ScopedInterface(AvtaleGiroMandate, eager=("member",))
    list_title = _l("AvtaleGiro mandates")
    show_title = _l("AvtaleGiro mandate")
    base_permissions = READ_ONLY
    label_columns = labels_for(AvtaleGiroMandate)
    list_columns = ["member", "kid", "active", "notify", "registered_at", "changed_at", "deleted_at"]
    show_columns = list(label_columns)
    search_columns = ["kid", "active", "notify", "registered_at"]
    order_columns = ["kid", "registered_at", "changed_at"]
    base_order = ("registered_at", "desc")


# ------------------------------------------------------------------ direct dues as data


class IncomeBandView(ScopedModelView):
    """The income bands an ordinary member paying directly declares; one of them is the default."""

    datamodel = ScopedInterface(IncomeBand)
    list_title = show_title = _l("Income bands")
    add_title = _l("New income band")
    edit_title = _l("Edit income band")
    label_columns = labels_for(IncomeBand)
    list_columns = show_columns = add_columns = edit_columns = ["code", "lower_ore", "upper_ore", "is_default"]
    search_columns = ["code", "is_default"]
    order_columns = ["code", "lower_ore"]
    base_order = ("lower_ore", "asc")
    formatters_columns = ore_formatters("lower_ore", "upper_ore")

    def _one_default(self, item) -> None:
        if not item.is_default:
            return
        others = db.session.scalar(select(func.count(IncomeBand.id)).where(
            IncomeBand.is_default.is_(True), IncomeBand.id != (item.id or 0)))
        if others:
            db.session.rollback()
            raise ValueError(_("%(field)s: another band is the default already; untick it there first.",
                               field=self.label_columns["is_default"]))

    def pre_add(self, item):
        self._one_default(item)
        super().pre_add(item)

    def pre_update(self, item):
        self._one_default(item)
        super().pre_update(item)

    def pre_delete(self, item):
        used = db.session.scalar(select(func.count(DirectDuesRate.id)).where(DirectDuesRate.income_band_id == item.id))
        used = used or db.session.scalar(select(func.count(Member.id)).where(Member.income_band_id == item.id))
        if used:
            raise ValueError(_("The income band is in use (by rates or by members' declarations) and cannot be "
                               "deleted."))
        super().pre_delete(item)


class DirectDuesRateView(ScopedModelView):
    """The monthly direct dues per category (ordinary members per income band), each from a date."""

    datamodel = ScopedInterface(DirectDuesRate, eager=("income_band",))
    list_title = show_title = _l("Direct dues rates")
    add_title = _l("New direct dues rate")
    edit_title = _l("Edit direct dues rate")
    label_columns = labels_for(DirectDuesRate)
    list_columns = show_columns = add_columns = edit_columns = [
        "valid_from", "category", "income_band", "monthly_ore", "note"]
    search_columns = ["valid_from", "category"]
    search_form_extra_fields = {"category": LabelledEnumField(_l("Category"), enum_class=MemberCategory,
                                                              nullable=True)}
    order_columns = ["valid_from", "monthly_ore"]
    base_order = ("valid_from", "desc")
    description_columns = {
        "valid_from": _l("The rate applies from this date until the next rate of the same category and band."),
        "income_band": _l("Only for ordinary members; leave empty for the other categories."),
        "monthly_ore": _l("The monthly dues in kroner, without the insurances (they follow the dues rates)."),
    }
    formatters_columns = ore_formatters("monthly_ore")


# ------------------------------------------------------------------ arrears


# The arrears list shows the members longest in arrears first; a page of all of them would be tens of thousands.
ARREARS_SHOWN = 500


class ArrearsView(BaseView):
    """Members with overdue invoices, by months unpaid; the office (never the system) ends a membership for
    non-payment, after a confirmation with a reason."""

    route_base = "/arrears"
    default_view = "index"
    extra_args = {"kroner": kroner}

    def _member(self, member_id: int) -> Member:
        return scoped_get(Member, member_id, grants=get_scope().grants_for_view(self.class_permission_name))

    @expose("/")
    @has_access
    def index(self):
        today = dt.date.today()
        total = db.session.scalar(select(func.count(func.distinct(Invoice.member_id)))
                                  .where(invoice_ledger.overdue_clause(today)))
        return self.render_template("billing/arrears.html", rows=arrears.arrears_rows(today, limit=ARREARS_SHOWN),
                                    total=total or 0)

    @expose("/<int:member_id>/end", methods=["GET", "POST"])
    @has_access
    def end_membership(self, member_id: int):
        member = self._member(member_id)
        errors = {}
        if request.method == "POST":
            try:
                result = arrears.end_membership_for_non_payment(member.id, current_user.id, dt.date.today(),
                                                                reason=request.form.get("reason", ""))
            except ValueError as exc:
                db.session.rollback()
                errors = {"reason": [str(exc)]}
            else:
                flash(_("The membership of %(name)s ends for non-payment on %(date)s.", name=result.full_name,
                        date=result.left_on.strftime("%d.%m.%Y")), "success")
                return redirect(url_for("ArrearsView.index"))
        return self.render_template("billing/end_membership.html", member=member, errors=errors,
                                    form=request.form), (422 if errors else 200)


# ------------------------------------------------------------------ the member's page of the office


MEMBER_PAGE_INVOICES = 12


def member_billing(member_id) -> dict | None:
    """How the member pays and since when, their credit and latest invoices, for the office's member page;
    None for every role whose grants do not reach the member's invoices (they see none of it)."""
    member = row_for_view(Member, member_id, "InvoiceView")
    if member is None:
        return None
    today = dt.date.today()
    rows = list(db.session.scalars(
        select(Invoice).where(Invoice.member_id == member.id).order_by(Invoice.first_month.desc(), Invoice.id.desc())
        .limit(MEMBER_PAGE_INVOICES)))
    count = db.session.scalar(select(func.count(Invoice.id)).where(Invoice.member_id == member.id))
    return {
        "member": member,
        "method": payment_methods.payment_method(member, today),
        "credit_ore": invoice_ledger.member_credit_ore(member.id),
        "invoices": [(invoice, invoice_ledger.display_status(invoice, today)) for invoice in rows],
        "invoice_count": count,
        "mandate": db.session.scalar(select(AvtaleGiroMandate).where(
            AvtaleGiroMandate.member_id == member.id, AvtaleGiroMandate.active.is_(True))),
    }
