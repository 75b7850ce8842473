"""Invoices to members who pay directly: made per billing period, credited and written off by the office.

Generation (`generate`, `flask --app run invoices generate 2027-Q1`):

- Who and how: the members paying directly in each month (webapp.services.payment_methods), by invoice or by
  AvtaleGiro. The billing period is DIRECT_BILLING_PERIOD for invoices ("quarter" by default) and
  AVTALEGIRO_BILLING_PERIOD for AvtaleGiro ("month"): an invoice payer gets one invoice covering the months of
  the quarter in which they pay directly, an AvtaleGiro payer one claim row per month.
- A member-month is billed at most once: months covered by an existing invoice (its first month and month
  count) are skipped, so a second run makes nothing new, and a member who joins or leaves deduction later is
  billed for the months still open. The months billed by one invoice are consecutive (a gap starts another).
- What: the member-month's direct dues by component (webapp.services.direct_dues); a month without a rate in
  force refuses the whole run, nothing written.
- KID: `902` + member number + YYMM of the invoice's first month (webapp.services.kid). Due date: INVOICE_DUE_DAYS
  after the later of the issue date and the first billed month's first day; an AvtaleGiro claim is due on
  AVTALEGIRO_DUE_DAY of its month (not before the day it is made).
- `refresh` recomputes the invoices of the period that are not sent and have no payment or adjustment.
- Set-based: a few grouped queries, the rows computed in Python and inserted in batches; then what the members
  already have to their credit is applied to the new invoices (payment_matching.apply_member_credit).

Credit notes and write-offs (`credit_note`, `write_off`) are the office's: the invoice row locked, the amount
bounded by what is left, a reason, audited, and the invoice's sums kept by invoice_ledger.refresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Invoice, InvoiceAdjustment, Member, PaymentAllocation
from webapp.models.choices import InvoiceAdjustmentKind, PaymentMethod
from webapp.services import audit, bulk, direct_dues, invoice_ledger, kid, payment_matching, transitions
from webapp.services.bounds import INT64_MAX, required_reason
from webapp.services.invoice_documents import invoice_pdf, remind, send  # the spec's names, here too
from webapp.services.payment_methods import (
    direct_payer_clause,
    first_mandate_registrations,
    mandate_cutoff,
    month_has_bases,
)
from webapp.services.periods import Month, Quarter

__all__ = [
    "GenerateResult", "InvoiceError", "credit_note", "generate", "generate_avtalegiro_month", "invoice_pdf",
    "remind", "send", "write_off",
]

BILLING_UNITS = ("quarter", "month")
_BATCH = 5000
_CHUNK = 900
# How far back an invoice can start and still cover a month of the period (a year's invoice at most).
_LOOKBACK_MONTHS = 11


class InvoiceError(ValueError):
    pass


@dataclass
class GenerateResult:
    period: str
    created: int = 0
    avtalegiro: int = 0
    refreshed: int = 0
    withdrawn: int = 0
    members: int = 0
    amount_ore: int = 0
    months_billed: int = 0
    months_already_billed: int = 0
    refused_refresh: int = 0
    without_kid: list[str] = field(default_factory=list)
    credit_applied_ore: int = 0
    # Queued payments that the new invoices now match (paid before their invoice was made).
    payments_matched: int = 0

    def summary(self) -> str:
        from webapp.services.money import kroner

        if not self.created:
            text = f"{self.period}: nothing to do"
            if self.months_already_billed:
                text += f", {self.months_already_billed} member-months are billed already"
        else:
            text = (f"{self.period}: {self.created} invoices made ({self.created - self.avtalegiro} invoices, "
                    f"{self.avtalegiro} AvtaleGiro claims) for {self.members} members, {self.months_billed} "
                    f"member-months, {kroner(self.amount_ore)} kr")
            if self.months_already_billed:
                text += f"; {self.months_already_billed} member-months were billed already"
        if self.refreshed or self.withdrawn:
            text += (f"; {self.refreshed} unsent invoices recomputed, {self.withdrawn} withdrawn "
                     "(no longer billed)")
        if self.refused_refresh:
            text += f"; {self.refused_refresh} not recomputed because they are sent, paid or adjusted"
        if self.credit_applied_ore:
            text += f"; {kroner(self.credit_applied_ore)} kr of the members' credit applied to them"
        if self.payments_matched:
            text += f"; {self.payments_matched} waiting payments matched to them"
        if self.without_kid:
            text += (f"; {len(self.without_kid)} members not billed: their member number cannot make a KID "
                     f"(first: {self.without_kid[0]})")
        return text


class _Payer(NamedTuple):
    member_id: int
    member_no: str
    category: object
    income_band_id: int | None
    contents_insurance: bool
    travel_insurance: bool
    # Indices into the run's months.
    direct_months: tuple[int, ...]
    mandate_registered_at: dt.datetime | None


# ------------------------------------------------------------------ billing periods


def billing_unit(method: PaymentMethod) -> str:
    """"quarter" or "month": the billing period of a direct method, from the settings."""
    name = "AVTALEGIRO_BILLING_PERIOD" if method == PaymentMethod.avtalegiro else "DIRECT_BILLING_PERIOD"
    unit = str(current_app.config[name]).strip().lower()
    if unit not in BILLING_UNITS:
        raise InvoiceError(f"{name}: '{unit}' is not one of {', '.join(BILLING_UNITS)}")
    return unit


def billing_period_of(month: Month, unit: str) -> str:
    return str(month.quarter) if unit == "quarter" else str(month)


def months_of(period: Quarter | Month) -> list[Month]:
    return list(period.months) if isinstance(period, Quarter) else [period]


def _expanded_months(months: Iterable[Month], unit: str) -> list[Month]:
    """The months of every billing period that holds one of `months`."""
    if unit == "month":
        return sorted(set(months))
    return sorted({m for month in months for m in month.quarter.months})


def covered_months(first_month: str, month_count: int) -> list[Month]:
    first = Month.parse(first_month) if isinstance(first_month, str) else first_month
    return [first.shift(i) for i in range(int(month_count))]


def due_date(method: PaymentMethod, first_month: Month, issued_on: dt.date) -> dt.date:
    """When an invoice (or an AvtaleGiro claim) is due."""
    config = current_app.config
    if method == PaymentMethod.avtalegiro:
        day = min(int(config["AVTALEGIRO_DUE_DAY"]), first_month.last_day.day)
        return max(dt.date(first_month.year, first_month.month, day), issued_on)
    return max(issued_on, first_month.first_day) + dt.timedelta(days=int(config["INVOICE_DUE_DAYS"]))


# ------------------------------------------------------------------ generation


def generate(period: Quarter | Month, refresh: bool = False, today: dt.date | None = None) -> GenerateResult:
    """Bill every direct payer for the billing periods that hold `period` (invoices and AvtaleGiro claims)."""
    return _generate(period, (PaymentMethod.invoice, PaymentMethod.avtalegiro), refresh, today)


def generate_avtalegiro_month(month: Month, today: dt.date | None = None) -> GenerateResult:
    """The AvtaleGiro claim rows of a month (those still missing), for the claims file."""
    return _generate(month, (PaymentMethod.avtalegiro,), False, today)


def _generate(period: Quarter | Month, methods: tuple[PaymentMethod, ...], refresh: bool,
              today: dt.date | None) -> GenerateResult:
    try:
        result = _generate_once(period, methods, refresh, today)
    except IntegrityError:
        # Another run inserted the same member-months meanwhile: run again, it skips what that run made.
        db.session.rollback()
        result = _generate_once(period, methods, refresh, today)
    if result.created:
        result.payments_matched = payment_matching.rematch_unmatched()
    return result


def _generate_once(period, methods, refresh, today) -> GenerateResult:
    today = today or dt.date.today()
    now = dt.datetime.now()
    result = GenerateResult(str(period))
    months_by_method = {method: _expanded_months(months_of(period), billing_unit(method)) for method in methods}
    months = _Months(sorted({m for method_months in months_by_method.values() for m in method_months}))
    try:
        withdrawn_keys = _delete_unsent(months_by_method, result) if refresh else set()
        billed = _billed_months(months)
        payers = _direct_payers(months)
        pricing = _Pricing(months, direct_dues.load(), today)
        new_members: set[int] = set()
        made_keys: set[tuple[int, str]] = set()
        for batch in _batches(_invoice_rows(payers, billed, months, months_by_method, pricing, now, result)):
            bulk.insert_rows(Invoice.__table__, batch)
            for row in batch:
                new_members.add(row["member_id"])
                made_keys.add((row["member_id"], row["first_month"]))
        result.members = len(new_members)
        result.refreshed = len(withdrawn_keys & made_keys)
        result.withdrawn = len(withdrawn_keys - made_keys)
        result.credit_applied_ore = _apply_member_credit(new_members)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


def _delete_unsent(months_by_method: dict[PaymentMethod, list[Month]], result: GenerateResult) -> set:
    """Delete the period's invoices that may be recomputed (not sent, nothing paid, allocated or adjusted);
    their (member, first month) keys."""
    keys: set[tuple[int, str]] = set()
    for method, months in months_by_method.items():
        in_period = (Invoice.method == method, Invoice.first_month.in_([str(m) for m in months]))
        untouched = (
            Invoice.sent_at.is_(None), Invoice.paid_ore == 0, Invoice.credited_ore == 0,
            Invoice.written_off_ore == 0,
            ~exists(select(PaymentAllocation.id).where(PaymentAllocation.invoice_id == Invoice.id)),
            ~exists(select(InvoiceAdjustment.id).where(InvoiceAdjustment.invoice_id == Invoice.id)),
        )
        rows = db.session.execute(select(Invoice.id, Invoice.member_id, Invoice.first_month)
                                  .where(*in_period, *untouched)).all()
        result.refused_refresh += db.session.scalar(
            select(func.count(Invoice.id)).where(*in_period)) - len(rows)
        ids = [row.id for row in rows]
        for start in range(0, len(ids), _CHUNK):
            # Sent meanwhile (another process holds it): the condition is checked again, it stays.
            db.session.execute(
                delete(Invoice).where(Invoice.id.in_(ids[start:start + _CHUNK]), Invoice.sent_at.is_(None))
                .execution_options(synchronize_session=False)
            )
        keys.update((row.member_id, row.first_month) for row in rows)
    return keys


class _Months:
    """The months of a run, by index: sets and runs of small ints are quick over 100,000 members."""

    def __init__(self, months: list[Month]):
        self.months = months
        self.index = {month: i for i, month in enumerate(months)}
        self.text = [str(month) for month in months]
        self.follows = [i > 0 and months[i] == months[i - 1].next for i in range(len(months))]
        self.mandate_cutoffs = [mandate_cutoff(month) for month in months]


def _billed_months(months: _Months) -> set[tuple[int, int]]:
    """(member, month index) of every month of the run an existing invoice covers."""
    first = str(months.months[0].shift(-_LOOKBACK_MONTHS))
    billed = set()
    # The few distinct (first month, count) pairs, each parsed once.
    in_run: dict[tuple[str, int], list[int]] = {}
    for member_id, first_month, count in db.session.execute(
        select(Invoice.member_id, Invoice.first_month, Invoice.month_count)
        .where(Invoice.first_month >= first, Invoice.first_month <= months.text[-1])
    ).all():
        covered = in_run.get((first_month, count))
        if covered is None:
            covered = in_run[(first_month, count)] = [
                months.index[month] for month in covered_months(first_month, count) if month in months.index]
        billed.update((member_id, i) for i in covered)
    return billed


def _direct_payers(months: _Months) -> list[_Payer]:
    """The members paying directly in any of the months, each with the months they do and a mandate's date.

    One query: a column per month says whether the member pays directly then (the one rule of
    payment_methods); the mandates are read once beside it."""
    clauses = [direct_payer_clause(month, month_has_bases(month)) for month in months.months]
    rows = db.session.execute(
        select(Member.id, Member.member_no, Member.category, Member.income_band_id, Member.contents_insurance,
               Member.travel_insurance, *[clause.label(f"direct_{i}") for i, clause in enumerate(clauses)])
        .where(or_(*clauses))
        .order_by(Member.id)
    ).all()
    mandates = first_mandate_registrations()
    count = len(clauses)
    return [
        _Payer(row[0], row[1], row[2], row[3], row[4], row[5], tuple(i for i in range(count) if row[6 + i]),
               mandates.get(row[0]))
        for row in rows
    ]


class _Pricing:
    """The amounts of runs of member-months, priced once per kind of member (category, band, insurances)."""

    def __init__(self, months: _Months, table: direct_dues.DuesTable, today: dt.date):
        self.months, self.table, self.today = months, table, today
        self._amounts: dict[tuple, tuple[int, int, int]] = {}
        self._due: dict[tuple, dt.date] = {}

    def amounts(self, payer: _Payer, run: tuple[int, ...]) -> tuple[int, int, int]:
        key = (run, payer.category, payer.income_band_id, payer.contents_insurance, payer.travel_insurance)
        found = self._amounts.get(key)
        if found is None:
            priced = [self.table.month_dues(self.months.months[i], *key[1:]) for i in run]
            found = self._amounts[key] = (sum(p.dues_ore for p in priced),
                                          sum(p.contents_insurance_ore for p in priced),
                                          sum(p.travel_insurance_ore for p in priced))
        return found

    def due(self, method: PaymentMethod, first: int) -> dt.date:
        key = (method, first)
        if key not in self._due:
            self._due[key] = due_date(method, self.months.months[first], self.today)
        return self._due[key]


def _invoice_rows(payers: list[_Payer], billed: set, months: _Months,
                  months_by_method: dict[PaymentMethod, list[Month]], pricing: _Pricing, now: dt.datetime,
                  result: GenerateResult) -> Iterator[dict]:
    """The new invoice rows, member by member; counts them in `result`."""
    periods = {method: {months.index[m]: billing_period_of(m, billing_unit(method)) for m in method_months}
               for method, method_months in months_by_method.items()}
    for payer in payers:
        by_method: dict[PaymentMethod, list[int]] = {}
        for i in payer.direct_months:
            # payment_methods.mandate_counts_in, with the month's cutoff computed once
            registered = payer.mandate_registered_at
            method = PaymentMethod.avtalegiro if registered is not None and registered < months.mandate_cutoffs[i] \
                else PaymentMethod.invoice
            if i not in periods.get(method, ()):
                continue
            if (payer.member_id, i) in billed:
                result.months_already_billed += 1
            else:
                by_method.setdefault(method, []).append(i)
        for method, indices in by_method.items():
            for run in _runs(indices, months, periods[method]):
                row = _invoice_row(payer, method, run, periods[method][run[0]], months, pricing, now, result)
                if row is not None:
                    yield row


def _runs(indices: list[int], months: _Months, periods: dict[int, str]) -> Iterator[tuple[int, ...]]:
    """Month indices (sorted) split into runs of consecutive months within one billing period."""
    run: list[int] = []
    for i in indices:
        if run and (i != run[-1] + 1 or not months.follows[i] or periods[i] != periods[run[0]]):
            yield tuple(run)
            run = []
        run.append(i)
    if run:
        yield tuple(run)


def _invoice_row(payer: _Payer, method: PaymentMethod, run: tuple[int, ...], period: str, months: _Months,
                 pricing: _Pricing, now: dt.datetime, result: GenerateResult) -> dict | None:
    dues_ore, contents, travel = pricing.amounts(payer, run)
    amount = dues_ore + contents + travel
    if amount <= 0:
        return None
    try:
        member_kid = kid.member_kid_for(payer.member_no, months.months[run[0]])
    except ValueError:
        if payer.member_no not in result.without_kid:
            result.without_kid.append(payer.member_no)
        return None
    result.created += 1
    result.avtalegiro += method == PaymentMethod.avtalegiro
    result.months_billed += len(run)
    result.amount_ore += amount
    return {
        "member_id": payer.member_id, "period": period, "first_month": months.text[run[0]],
        "month_count": len(run), "kid": member_kid, "method": method, "issued_on": pricing.today,
        "due_date": pricing.due(method, run[0]), "dues_ore": dues_ore, "contents_insurance_ore": contents,
        "travel_insurance_ore": travel, "amount_ore": amount, "paid_ore": 0, "credited_ore": 0,
        "written_off_ore": 0, "status": invoice_ledger.stored_status(amount, 0, 0, 0), "created_at": now,
    }


def _batches(rows: Iterable[dict], size: int = _BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _apply_member_credit(member_ids: set[int]) -> int:
    """What the members already have to their credit goes to their new invoices (in this transaction); the øre."""
    if not member_ids:
        return 0
    db.session.flush()
    return payment_matching.apply_member_credit(member_ids)


# ------------------------------------------------------------------ credit notes and write-offs


AMOUNT_LABEL = _l("Amount")


def credit_note(invoice_id: int, amount_ore: int, reason: str, user_id: int | None) -> InvoiceAdjustment:
    """The office credits part or all of what is left of an invoice."""
    return _adjust(invoice_id, InvoiceAdjustmentKind.credit_note, amount_ore, reason, user_id)


def write_off(invoice_id: int, amount_ore: int | None, reason: str, user_id: int | None) -> InvoiceAdjustment:
    """The office writes off part of what is left of an invoice, or all of it (`amount_ore` None)."""
    return _adjust(invoice_id, InvoiceAdjustmentKind.write_off, amount_ore, reason, user_id)


def _adjust(invoice_id: int, kind: InvoiceAdjustmentKind, amount_ore: int | None, reason: str,
            user_id: int | None) -> InvoiceAdjustment:
    try:
        reason_text = required_reason(reason, InvoiceError)
        invoice = transitions.lock(Invoice, invoice_id)
        if invoice is None:
            raise InvoiceError(_("Invoice: no such invoice."))
        left = invoice.outstanding_ore
        if left <= 0:
            raise InvoiceError(_("Invoice %(kid)s: nothing is left to pay, so nothing can be credited or written "
                                 "off.", kid=invoice.kid))
        amount = left if amount_ore is None else _bounded_amount(amount_ore, left)
        adjustment = InvoiceAdjustment(invoice_id=invoice.id, kind=kind, amount_ore=amount, reason=reason_text,
                                       created_at=dt.datetime.now(), created_by_id=user_id)
        db.session.add(adjustment)
        db.session.flush()
        invoice_ledger.refresh([invoice.id])
        audit.record(f"invoice_{kind.name}", "invoice", invoice.id, member_id=invoice.member_id,
                     amount_ore=amount, reason=reason_text, kid=invoice.kid, by_user_id=user_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return adjustment


def _bounded_amount(amount_ore, left: int) -> int:
    if isinstance(amount_ore, bool) or not isinstance(amount_ore, int) or abs(amount_ore) > INT64_MAX:
        raise InvoiceError(_("%(field)s: must be a whole number of øre.", field=AMOUNT_LABEL))
    if amount_ore <= 0:
        raise InvoiceError(_("%(field)s: must be more than 0.", field=AMOUNT_LABEL))
    if amount_ore > left:
        from webapp.services.money import kroner

        raise InvoiceError(_("%(field)s: at most what is left of the invoice, %(left)s kr.", field=AMOUNT_LABEL,
                             left=kroner(left)))
    return amount_ore
