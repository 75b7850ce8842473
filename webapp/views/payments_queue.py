"""The office's queue of unmatched payments, and the page of one payment with its actions.

A payment no KID rule matched waits here, with what its KID says ("Member 12345, January 2027, no invoice").
The office matches it by hand to an employer-month or to an invoice, or returns it with a reason; a payment
matched by hand can be undone. The changes are webapp.services.payment_matching's: each locks the payment and
re-checks its state, so of two tabs (or two people) one wins and the other is told in plain words.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import gettext as _
from flask_login import current_user

from webapp.extensions import db
from webapp.models import Employer, Payment
from webapp.security.rowfilters import scoped_row
from webapp.security.scope import get_scope
from webapp.services import payment_matching, payment_queue
from webapp.services.bounds import row_id
from webapp.services.money import kroner
from webapp.services.periods import period_label
from webapp.views.transaction_types import transaction_type_label

PAGE_SIZE = 50
MAX_PAGE = 100_000


class PaymentQueueView(BaseView):
    """Unmatched payments (the queue) and one payment's page with match, return and undo."""

    route_base = "/payments"
    default_view = "unmatched"
    extra_args = {"kroner": kroner}

    def _payment(self, payment_id: int) -> Payment:
        payment = scoped_row(Payment, payment_id, get_scope().grants_for_view(self.class_permission_name))
        if payment is None:
            abort(404)
        return payment

    @expose("/unmatched/")
    @has_access
    def unmatched(self):
        page_text = request.args.get("page", "0")
        if not page_text.isdigit() or int(page_text) > MAX_PAGE:
            abort(400)
        page = int(page_text)
        count, rows = payment_queue.unmatched_page(page, PAGE_SIZE)
        return self.render_template(
            "billing/unmatched.html", count=count, payments=rows, readings=payment_queue.read_kids(rows),
            page=page, pages=max(1, -(-count // PAGE_SIZE)),
        )

    @expose("/<int:payment_id>")
    @has_access
    def payment(self, payment_id: int):
        return self._render_payment(self._payment(payment_id))

    def _render_payment(self, payment: Payment, errors: dict | None = None, status: int = 200):
        reading = payment_queue.read_kids([payment])[payment.id]
        candidates = payment_queue.open_invoices_of(reading.member.id) if reading.member is not None else []
        return self.render_template(
            "billing/payment.html", payment=payment, reading=reading, state=payment_queue.state_of(payment),
            state_label=payment_queue.state_label(payment), candidates=candidates,
            allocations=payment_queue.allocations_of(payment.id) if payment.member_id else [],
            errors=errors or {}, form=request.form if request.method == "POST" else {},
            transaction_type=transaction_type_label(payment.transaction_type),
        ), status

    def _refused(self, payment: Payment, field: str, message: str):
        db.session.rollback()
        return self._render_payment(self._payment(payment.id), {field: [message]}, 422)

    def _done(self, payment_id: int, message: str):
        flash(message, "success")
        return redirect(url_for("PaymentQueueView.payment", payment_id=payment_id))

    @expose("/<int:payment_id>/employer-month", methods=["POST"])
    @has_access
    @permission_name("match")
    def match_employer_month(self, payment_id: int):
        payment = self._payment(payment_id)
        employer_id = row_id(request.form.get("employer_id", ""))
        employer = db.session.get(Employer, employer_id) if employer_id else None
        if employer is None:
            return self._refused(payment, "employer_month", _("Employer: choose the employer the payment is for."))
        period = request.form.get("period", "").strip()[:20]
        try:
            payment_matching.match_to_employer_month(payment.id, employer.id, period, current_user.id)
        except ValueError as exc:
            return self._refused(payment, "employer_month", str(exc))
        return self._done(payment_id, _("The payment is matched to %(employer)s, %(month)s.",
                                        employer=employer.name, month=period_label(period)))

    @expose("/<int:payment_id>/invoice", methods=["POST"])
    @has_access
    @permission_name("match")
    def match_invoice(self, payment_id: int):
        payment = self._payment(payment_id)
        invoice = payment_queue.invoice_by_reference(request.form.get("invoice", ""))
        if invoice is None:
            return self._refused(payment, "invoice", _("Invoice: give the invoice's KID or number."))
        try:
            payment_matching.match_to_invoice(payment.id, invoice.id, current_user.id)
        except ValueError as exc:
            return self._refused(payment, "invoice", str(exc))
        return self._done(payment_id, _("The payment is matched to invoice %(kid)s.", kid=invoice.kid))

    @expose("/<int:payment_id>/return", methods=["POST"])
    @has_access
    @permission_name("match")
    def return_payment(self, payment_id: int):
        payment = self._payment(payment_id)
        try:
            payment_matching.return_payment(payment.id, request.form.get("reason", ""), current_user.id)
        except ValueError as exc:
            return self._refused(payment, "return", str(exc))
        return self._done(payment_id, _("The payment is marked as returned to the payer."))

    @expose("/<int:payment_id>/undo", methods=["POST"])
    @has_access
    @permission_name("match")
    def undo(self, payment_id: int):
        payment = self._payment(payment_id)
        try:
            payment_matching.undo_manual_match(payment.id, current_user.id)
        except ValueError as exc:
            return self._refused(payment, "undo", str(exc))
        return self._done(payment_id, _("Undone: the payment is back among the unmatched payments."))
