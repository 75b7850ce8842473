"""The one place that says what an invoice owes and what a member has to their credit.

An invoice's outstanding amount is its amount less what is credited, written off and paid to it (the sum of
its payment allocations). Those sums are kept on the invoice row by `refresh` from the raw rows, in the
transaction that changed them, so that lists and filters read them without summing; an allocation of payments,
which knows the invoices' figures it locked and what it added, keeps them by `store_paid` without reading again.

A member's credit is what of the member's payments no invoice took: the sum of their payments (not returned)
less the sum of those payments' allocations.

The stored status is open, partly paid, paid, credited or written off; "overdue" is an open or partly paid
invoice past its due date, derived on reading (`display_status`, `overdue_clause`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import and_, func, select

from webapp.extensions import db
from webapp.models import Invoice, InvoiceAdjustment, Payment, PaymentAllocation
from webapp.models.choices import InvoiceAdjustmentKind, InvoiceStatus
from webapp.services import bulk

UNSETTLED = (InvoiceStatus.open, InvoiceStatus.partly_paid)
# The invoices a refresh holds at a time.
_REFRESH_CHUNK = 20_000


def outstanding_expression():
    """SQL: an invoice's outstanding amount, from its kept sums."""
    return Invoice.amount_ore - Invoice.credited_ore - Invoice.written_off_ore - Invoice.paid_ore


def stored_status(amount_ore: int, paid_ore: int, credited_ore: int, written_off_ore: int) -> InvoiceStatus:
    """The stored status of an invoice with these sums."""
    outstanding = amount_ore - credited_ore - written_off_ore - paid_ore
    if outstanding > 0:
        return InvoiceStatus.partly_paid if paid_ore > 0 else InvoiceStatus.open
    if credited_ore >= amount_ore:
        return InvoiceStatus.credited
    if written_off_ore > 0 and paid_ore + credited_ore < amount_ore:
        return InvoiceStatus.written_off
    return InvoiceStatus.paid


def display_status(invoice: Invoice, today: dt.date | None = None) -> InvoiceStatus:
    """The status a user sees: overdue when unsettled past its due date."""
    today = today or dt.date.today()
    if invoice.status in UNSETTLED and invoice.due_date < today:
        return InvoiceStatus.overdue
    return invoice.status


def overdue_clause(today: dt.date):
    """SQL: the invoice is unsettled and past its due date on `today`."""
    return and_(Invoice.status.in_(UNSETTLED), Invoice.due_date < today)


def refresh(invoice_ids: Iterable[int]) -> int:
    """Recompute the kept sums and the status of these invoices from their allocations and adjustments.

    Set-based: per 20,000 invoices, two grouped queries and a read of the invoices (900 values a query,
    bulk.select_in) and one write of the changed ones. Returns how many invoices were refreshed.
    """
    with bulk.fewer_collections():
        return _refresh(sorted({int(i) for i in invoice_ids if i is not None}))


def _refresh(ids: list[int]) -> int:
    updated = 0
    for start in range(0, len(ids), _REFRESH_CHUNK):
        chunk = ids[start : start + _REFRESH_CHUNK]
        paid = dict(bulk.select_in(
            select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_ore))
            .group_by(PaymentAllocation.invoice_id), PaymentAllocation.invoice_id, chunk))
        adjusted: dict[tuple[int, str], int] = {
            (invoice_id, kind): total
            for invoice_id, kind, total in bulk.select_in(
                select(InvoiceAdjustment.invoice_id, InvoiceAdjustment.kind, func.sum(InvoiceAdjustment.amount_ore))
                .group_by(InvoiceAdjustment.invoice_id, InvoiceAdjustment.kind), InvoiceAdjustment.invoice_id, chunk)
        }
        # Only rows whose sums or status change are written, by one statement per chunk (a bulk import pays
        # thousands of invoices, each to figures of its own): far faster than one UPDATE per row.
        changed = []
        kept_figures = _figures(chunk, lock=False)
        for invoice_id, kept in kept_figures.items():
            paid_ore = int(paid.get(invoice_id) or 0)
            credited = int(adjusted.get((invoice_id, InvoiceAdjustmentKind.credit_note.name)) or 0)
            written_off = int(adjusted.get((invoice_id, InvoiceAdjustmentKind.write_off.name)) or 0)
            figures = (paid_ore, credited, written_off, stored_status(kept.amount_ore, paid_ore, credited, written_off))
            if figures != kept[1:]:
                changed.append((invoice_id, *figures))
        _write_kept(changed)
        updated += len(kept_figures)
    return updated


class KeptFigures(NamedTuple):
    """An invoice's amount and its kept sums and status, as stored (a named tuple: made for up to a million
    invoices at a time, several times quicker than a frozen dataclass)."""

    amount_ore: int
    paid_ore: int
    credited_ore: int
    written_off_ore: int
    status: InvoiceStatus

    @property
    def outstanding_ore(self) -> int:
        return self.amount_ore - self.credited_ore - self.written_off_ore - self.paid_ore


def locked_figures(invoice_ids: Iterable[int]) -> dict[int, KeptFigures]:
    """The kept figures of these invoices, their rows locked for this transaction (in id order, a query per 900)."""
    return _figures(sorted({int(i) for i in invoice_ids if i is not None}), lock=True)


def _figures(ids: list[int], lock: bool) -> dict[int, KeptFigures]:
    query = select(Invoice.id, Invoice.amount_ore, Invoice.paid_ore, Invoice.credited_ore, Invoice.written_off_ore,
                   Invoice.status).order_by(Invoice.id)
    return {
        invoice_id: KeptFigures(amount, paid, credited, written_off, InvoiceStatus[status])
        for invoice_id, amount, paid, credited, written_off, status in bulk.select_in(
            query.with_for_update() if lock else query, Invoice.id, ids)
    }


def store_paid(locked: dict[int, KeptFigures], paid_ore: dict[int, int]) -> int:
    """Keep new paid sums, and the status they give, of invoices whose figures were read by `locked_figures` in this
    transaction, when only allocations changed since: what `refresh` computes from the rows, known without reading
    them again (a bank file pays up to a million invoices). Writes the changed ones; returns how many."""
    changed = []
    for invoice_id, paid in paid_ore.items():
        kept = locked[invoice_id]
        status = stored_status(kept.amount_ore, paid, kept.credited_ore, kept.written_off_ore)
        if (paid, status) != (kept.paid_ore, kept.status):
            changed.append((invoice_id, paid, kept.credited_ore, kept.written_off_ore, status))
    _write_kept(changed)
    return len(changed)


# The kept columns, written by `refresh` and `store_paid` through the table (not the ORM), so any loaded invoice is
# expired after.
_KEPT = ("paid_ore", "credited_ore", "written_off_ore", "status")


def _write_kept(rows: list[tuple]) -> None:
    """Write (invoice id, *the kept columns' values) to each invoice by one statement (bulk.update_rows), and expire
    what of them this session has loaded."""
    if not rows:
        return
    bulk.update_rows(Invoice.__table__, _KEPT, rows)
    loaded = [(key[1][0], invoice) for key, invoice in db.session.identity_map.items() if key[0] is Invoice]
    if loaded:  # seldom: a bank file's import has none loaded, and pays up to a million
        written = {row[0] for row in rows}
        for invoice_id, invoice in loaded:
            if invoice_id in written:
                db.session.expire(invoice, _KEPT)


def member_payments_clause():
    """SQL: a payment that belongs to a member (matched to them) and was not returned."""
    return and_(Payment.member_id.is_not(None), Payment.returned_at.is_(None))


def member_credit_ore(member_id: int) -> int:
    """What of the member's payments no invoice took (negative when a reversal took back more than was left)."""
    paid = db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_ore), 0)).where(member_payments_clause(),
                                                                      Payment.member_id == member_id)
    )
    allocated = db.session.scalar(
        select(func.coalesce(func.sum(PaymentAllocation.amount_ore), 0))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(member_payments_clause(), Payment.member_id == member_id)
    )
    return int(paid) - int(allocated)


def members_with_credit_query():
    """SQL: the ids of every member with credit (`member_credit_ore` > 0), grouped over the member payments."""
    allocated = (
        select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount_ore).label("total"))
        .group_by(PaymentAllocation.payment_id).subquery()
    )
    free = Payment.amount_ore - func.coalesce(allocated.c.total, 0)
    return (
        select(Payment.member_id).outerjoin(allocated, allocated.c.payment_id == Payment.id)
        .where(member_payments_clause()).group_by(Payment.member_id).having(func.sum(free) > 0)
    )


def members_with_credit() -> list[int]:
    """Every member with credit, in one query."""
    return list(db.session.scalars(members_with_credit_query()))


def payment_unallocated_ore(payment_id: int) -> int:
    """What of one member payment is still free (its part of the member's credit)."""
    amount = db.session.scalar(select(Payment.amount_ore).where(Payment.id == payment_id)) or 0
    allocated = db.session.scalar(
        select(func.coalesce(func.sum(PaymentAllocation.amount_ore), 0))
        .where(PaymentAllocation.payment_id == payment_id)
    )
    return int(amount) - int(allocated)
