"""Figures for the direct-payments part of the reconciliation dashboard: per billing period what was billed,
paid and is outstanding, and per month what came in from the bank and what became of it.

Aggregates only (no member rows): everything is read from webapp.services.direct_reconciliation, which sums
the raw rows with grouped queries; this module only shapes the figures for tables and charts.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from webapp.services import direct_reconciliation
from webapp.services.direct_reconciliation import PaymentFigures, PeriodFigures


def _kroner(ore: int) -> float:
    return round((ore or 0) / 100, 2)


PERIOD_AMOUNTS = ("billed", "paid", "credited", "written_off", "outstanding", "overdue")
PAYMENT_AMOUNTS = ("total", "employer", "allocated", "credit", "unmatched", "returned")


def _period_row(row: PeriodFigures) -> dict:
    item = {"period": row.period, "monthly": row.is_monthly, "invoices": row.invoices,
            "overdue_count": row.overdue_count, "ledger_differences": row.ledger_differences}
    for key in PERIOD_AMOUNTS:
        ore = getattr(row, f"{key}_ore")
        item[f"{key}_ore"], item[f"{key}_kr"] = ore, _kroner(ore)
    return item


def period_figures(today: dt.date | None = None) -> list[dict]:
    """Per billing period, oldest first: invoices, billed, paid, credited, written off, outstanding, overdue."""
    return [_period_row(row) for row in direct_reconciliation.by_period(today)]


def period_amounts_long(rows: list[dict]) -> list[dict]:
    """Billed, paid and outstanding per period, one row per period and measure (labels in the app's language)."""
    measures = (("billed", _l("Billed")), ("paid", _l("Paid")), ("outstanding", _l("Outstanding")))
    return [{"period": row["period"], "measure": str(label), "kroner": row[f"{key}_kr"]}
            for row in rows for key, label in measures]


def _payment_row(figures: PaymentFigures, **extra) -> dict:
    item = {**extra, "payments": figures.total_count, "unmatched_count": figures.unmatched_count,
            "returned_count": figures.returned_count, "reversal_count": figures.reversal_count,
            "unexplained_ore": figures.unexplained_ore}
    for key in PAYMENT_AMOUNTS:
        ore = getattr(figures, f"{key}_ore")
        item[f"{key}_ore"], item[f"{key}_kr"] = ore, _kroner(ore)
    return item


def payment_months() -> list[dict]:
    """Per month the bank booked the payments: what came in and what became of it."""
    return [_payment_row(month.figures, month=month.month)
            for month in direct_reconciliation.payments_by_month() if month.month]


def payment_amounts_long(months: list[dict]) -> list[dict]:
    """Member credit, unmatched and returned per month, one row per month and measure."""
    measures = (("credit", _l("Member credit")), ("unmatched", _l("Unmatched")), ("returned", _l("Returned")))
    return [{"month": row["month"], "measure": str(label), "kroner": row[f"{key}_kr"]}
            for row in months for key, label in measures]


def payment_totals() -> dict:
    """All payments, split by what became of them, with the unexplained rest and how many members have credit."""
    return _payment_row(direct_reconciliation.payment_figures(),
                        members_with_credit=direct_reconciliation.members_with_credit())


def status_figures(today: dt.date | None = None) -> list[dict]:
    """Per billing period and status as shown (overdue derived): how many invoices and their amount."""
    return [{"period": row["period"], "status": row["status"].label, "status_code": row["status"].name,
             "invoices": row["invoices"], "amount_kr": _kroner(row["amount_ore"])}
            for row in direct_reconciliation.status_counts(today)]
