"""The office's screens and the REST APIs of the deduction cycle."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder.actions import action
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from webapp.extensions import db
from webapp.models import (
    AccessRequest,
    DeductionBasis,
    DeductionList,
    DeductionNotice,
    DuesRate,
    Payment,
    PaymentImport,
)
from webapp.models.choices import PaymentFileKind, ReconciliationStatus, RequestStatus
from webapp.models.labels import labels_for
from webapp.services import accounts, deduction_lists, payment_queue
from webapp.services import mail as outbox
from webapp.services.money import kroner
from webapp.services.periods import period_label
from webapp.views.computed_interface import ComputedInterface
from webapp.views.display import enum_display
from webapp.views.form_fields import LabelledEnumField
from webapp.views.scoped_api import ScopedModelRestApi
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView
from webapp.views.transaction_types import transaction_type_label

READ_ONLY = ["can_list", "can_show"]


def as_list(items) -> list:
    """FAB hands an action one row from a detail page and a list from the list page."""
    return items if isinstance(items, list) else [items]


def ore_formatters(*columns: str) -> dict:
    return {column: (lambda value: kroner(value)) for column in columns}


def reconciliation_flags(codes) -> str:
    """The stored flags ('no_list,no_payment') by their labels: 'Ingen trekkliste, Ingen innbetaling'."""
    labels = ReconciliationStatus.labels()
    return ", ".join(str(labels.get(code, code)) for code in (codes or "").split(",") if code)


class DuesRateView(ScopedModelView):
    datamodel = ScopedInterface(DuesRate)
    list_title = show_title = _l("Dues rates")
    add_title = _l("New dues rate")
    edit_title = _l("Edit dues rate")
    label_columns = labels_for(DuesRate)
    list_columns = show_columns = add_columns = edit_columns = list(label_columns)
    search_columns = ["valid_from"]
    base_order = ("valid_from", "desc")
    formatters_columns = ore_formatters(
        "monthly_min_ore", "monthly_max_ore", "contents_insurance_ore", "travel_insurance_ore", "apprentice_flat_ore"
    )


MONTH_LABELS = {
    "employer": _l("Employer"),
    "period": _l("Month"),
    "kid": _l("KID"),
    "member_count": _l("Members"),
    "change_count": _l("Changes"),
    "notified_at": _l("Notice sent"),
    "delivered": _l("Delivered"),
    "list_count": _l("Lists"),
    "fixed_total_ore": _l("Fixed amounts"),
    "reported_total_ore": _l("Reported"),
    "paid_total_ore": _l("Paid"),
    "not_reported_count": _l("Not reported"),
    "unknown_reported_count": _l("Unknown to the employer's basis"),
    "deviation_count": _l("Deviations"),
    "reconciliation_status": _l("Reconciliation"),
    "reconciliation_flags": _l("All flags"),
}


class DeductionMonthView(ScopedModelView):
    """Reconciliation per employer and month: basis, lists and payments side by side."""

    datamodel = ScopedInterface(DeductionBasis, eager=("employer",))
    list_title = show_title = _l("Reconciliation per employer and month")
    base_permissions = READ_ONLY
    label_columns = MONTH_LABELS
    list_columns = ["employer", "period", "kid", "member_count", "change_count", "delivered", "reported_total_ore",
                    "paid_total_ore", "reconciliation_status"]
    show_columns = list(MONTH_LABELS)
    search_columns = ["period", "reconciliation_status", "delivered", "kid"]
    order_columns = ["period", "kid", "member_count", "reported_total_ore", "paid_total_ore", "reconciliation_status"]
    base_order = ("period", "desc")
    formatters_columns = {**ore_formatters("fixed_total_ore", "reported_total_ore", "paid_total_ore"),
                          "reconciliation_flags": reconciliation_flags, "period": period_label}


class DeductionListView(ScopedModelView):
    """Every delivered and draft list; the office reopens a delivered one."""

    datamodel = ScopedInterface(DeductionList, eager=("employer",))
    list_title = show_title = _l("Deduction lists")
    base_permissions = READ_ONLY
    label_columns = {
        "employer": _l("Employer"), "period": _l("Month"), "kind": _l("Kind"), "status": _l("Status"),
        "delivered_at": _l("Delivered"), "total_ore": _l("Total"), "reopened_at": _l("Reopened"),
        "created_at": _l("Created"),
        # Lines of people not on the employer's basis, as typed: the office resolves them.
        "outside_basis_lines": _l("Unknown to the employer's basis"),
    }
    list_columns = ["employer", "period", "kind", "status", "delivered_at", "total_ore", "reopened_at"]
    show_columns = list(label_columns)
    search_columns = ["period", "status", "kind"]
    base_order = ("period", "desc")
    formatters_columns = {**ore_formatters("total_ore"), "period": period_label}

    @action("reopen", _l("Reopen"), _l("Open the delivered list for changes again? This is logged."), "fa-unlock",
            multiple=False)
    def reopen(self, items):
        reopened = None
        for item in as_list(items):
            # The service re-checks the status under a row lock: of concurrent reopenings one wins.
            try:
                reopened = item.id
                deduction_lists.reopen(item, current_user.id, reason=request.form.get("reason", ""))
                flash(str(_l("The list is open for changes again.")), "success")
            except deduction_lists.ListError as exc:
                db.session.rollback()
                flash(str(exc), "warning")
        # The office reopens a list to look at it: it lands on the list, not on the overview.
        return redirect(url_for(".show", pk=reopened) if reopened is not None else self.get_redirect())


def _payment_state(payment: Payment) -> str:
    return payment_queue.state_label(payment)


def _payment_direction(payment: Payment) -> str:
    return str(_l("Reversal") if payment_queue.is_reversal(payment) else _l("Payment"))


PAYMENT_LABELS = {
    "kid": _l("KID"), "amount_ore": _l("Amount"), "paid_on": _l("Paid"), "employer": _l("Employer"),
    "period": _l("Month"), "payer_account": _l("From account"), "bank_reference": _l("Bank reference"),
    "member": _l("Member"), "transaction_type": _l("Transaction type"), "direction": _l("Kind"),
    "state": _l("Matched to"), "matched_manually": _l("Matched by hand"), "matched_at": _l("Matched"),
    "matched_by": _l("Matched by"), "returned_at": _l("Returned"), "returned_by": _l("Returned by"),
    "return_reason": _l("Reason for the return"), "file": _l("Payment file"),
}


class PaymentView(ScopedModelView):
    """Every bank transaction: signed amount (reversals subtract), to whom it is matched, by hand or returned."""

    datamodel = ComputedInterface(Payment, eager=("employer", "member"),
                                  computed={"state": _payment_state, "direction": _payment_direction,
                                            "file": lambda payment: payment.payment_import.filename})
    list_title = show_title = _l("Payments")
    show_template = "billing/payment_show.html"
    base_permissions = READ_ONLY
    label_columns = PAYMENT_LABELS
    list_columns = ["paid_on", "kid", "amount_ore", "direction", "state", "employer", "period", "member",
                    "matched_manually", "returned_at"]
    show_columns = ["paid_on", "kid", "amount_ore", "direction", "transaction_type", "state", "employer", "period",
                    "member", "matched_manually", "matched_at", "matched_by", "returned_at", "returned_by",
                    "return_reason", "payer_account", "bank_reference", "file"]
    search_columns = ["kid", "period", "paid_on", "employer", "transaction_type", "matched_manually"]
    order_columns = ["paid_on", "kid", "amount_ore", "period"]
    base_order = ("paid_on", "desc")
    formatters_columns = {**ore_formatters("amount_ore"), "transaction_type": transaction_type_label,
                          "period": period_label}


class PaymentImportView(ScopedModelView):
    datamodel = ScopedInterface(PaymentImport)
    list_title = show_title = _l("Payment files")
    base_permissions = READ_ONLY
    label_columns = {
        "filename": _l("File"), "kind": _l("Kind"), "imported_at": _l("Imported"), "imported_by": _l("By"),
        "transaction_count": _l("Transactions"), "matched_count": _l("Matched"), "total_ore": _l("Total"),
        "mandate_count": _l("Mandates"), "sha256": _l("Checksum"),
    }
    list_columns = ["filename", "kind", "imported_at", "transaction_count", "matched_count", "total_ore",
                    "mandate_count"]
    show_columns = list(label_columns)
    search_columns = ["filename", "kind", "imported_at"]
    search_form_extra_fields = {"kind": LabelledEnumField(_l("Kind"), enum_class=PaymentFileKind, nullable=True)}
    order_columns = ["imported_at", "filename", "transaction_count", "total_ore"]
    base_order = ("imported_at", "desc")
    formatters_columns = ore_formatters("total_ore")


class DeductionNoticeView(ScopedModelView):
    """What was sent to whom, and when."""

    datamodel = ScopedInterface(DeductionNotice, eager=("basis", "user"))
    list_title = show_title = _l("Notices sent")
    base_permissions = READ_ONLY
    label_columns = {"basis": _l("Employer and month"), "user": _l("Contact"), "email": _l("E-mail"),
                     "subject": _l("Subject"), "sent_at": _l("Sent")}
    list_columns = show_columns = ["sent_at", "basis", "user", "email", "subject"]
    search_columns = ["email", "sent_at"]
    base_order = ("sent_at", "desc")


class AccessRequestView(ScopedModelView):
    datamodel = ScopedInterface(AccessRequest, eager=("employer",))
    list_title = show_title = _l("Access requests")
    base_permissions = READ_ONLY
    label_columns = {"name": _l("Name"), "email": _l("E-mail"), "phone": _l("Mobile"),
                     "org_number": _l("Organisation number"),
                     "employer": _l("Employer"), "requested_at": _l("Requested"), "status": _l("Status"),
                     "decided_at": _l("Decided")}
    list_columns = show_columns = list(label_columns)
    search_columns = ["status", "org_number", "email"]
    base_order = ("requested_at", "desc")
    # The status is stored as the code of a RequestStatus (pending, approved, rejected): shown and searched by label.
    formatters_columns = {"status": enum_display(RequestStatus)}
    search_form_extra_fields = {"status": LabelledEnumField(_l("Status"), enum_class=RequestStatus, nullable=True)}

    def _decide(self, items, approve: bool):
        for item in as_list(items):
            try:
                accounts.decide_access(item, approve, current_user.id)
                if approve and outbox.waiting_for(item.email):
                    flash(str(_l("Approved: the login is created. The e-mail with the link to set the password will "
                                 "follow as soon as the mail service answers.")), "warning")
                else:
                    flash(str(_l("Approved: the login is created and a link to set the password is sent.") if approve
                              else _l("The request is rejected.")), "success")
            except accounts.AccountError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
        return redirect(self.get_redirect())

    @action("approve", _l("Approve"), _l("Create the login and send it?"), "fa-check", multiple=False)
    def approve(self, item):
        return self._decide(item, True)

    @action("reject", _l("Reject"), _l("Reject the request?"), "fa-times", multiple=False)
    def reject(self, item):
        return self._decide(item, False)


# ------------------------------------------------------------------ REST APIs (read only; writes go through the portal)


class DeductionMonthApi(ScopedModelRestApi):
    """One row per employer and month: KID, status, counts, totals and reconciliation."""

    resource_name = "deduction_month"
    datamodel = ScopedInterface(DeductionBasis)
    base_permissions = ["can_get", "can_info"]
    list_columns = show_columns = [
        "id", "employer_id", "employer.name", "period", "kid", "notified_at", "delivered", "member_count",
        "change_count", "list_count", "fixed_total_ore", "reported_total_ore", "paid_total_ore", "not_reported_count",
        "unknown_reported_count", "deviation_count", "reconciliation_status", "reconciliation_flags",
    ]
    search_columns = ["period", "kid", "employer", "reconciliation_status", "delivered"]
    order_columns = ["period", "kid", "reported_total_ore", "paid_total_ore"]


class DeductionListApi(ScopedModelRestApi):
    resource_name = "deduction_list"
    datamodel = ScopedInterface(DeductionList)
    base_permissions = ["can_get", "can_info"]
    list_columns = ["id", "employer_id", "period", "kind", "status", "delivered_at", "total_ore"]
    # A line of someone not on the employer's basis shows what the contact typed: no member, flagged.
    show_columns = list_columns + ["reopened_at", "lines.id", "lines.member_id", "lines.name", "lines.amount_ore",
                                   "lines.deviation", "lines.comment", "lines.outside_basis"]
    search_columns = ["period", "status", "kind", "employer"]
    order_columns = ["period", "delivered_at"]


class PaymentApi(ScopedModelRestApi):
    """Every bank transaction (the office); a deduction contact reads the payments matched to its employers.
    `amount_ore` is signed: a reversal (transaction type 18 or 20) or a minus-signed transaction is negative."""

    resource_name = "payment"
    datamodel = ScopedInterface(Payment)
    base_permissions = ["can_get", "can_info"]
    list_columns = show_columns = ["id", "kid", "amount_ore", "paid_on", "employer_id", "period", "transaction_type",
                                   "member_id", "matched_manually", "matched_at", "returned_at", "return_reason",
                                   "import_id"]
    search_columns = ["kid", "period", "employer", "paid_on", "member", "matched_manually", "transaction_type"]
    order_columns = ["paid_on", "amount_ore"]
