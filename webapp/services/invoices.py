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
- Set-based: ONE INSERT ... SELECT makes the rows in the database (`_Run`: the rates and dates of the run's few
  months as constants, runs of months by a window function, the KID's check digit in SQL); then what the
  members already have to their credit is applied to the new invoices (payment_matching.apply_member_credit).

Credit notes and write-offs (`credit_note`, `write_off`) are the office's: the invoice row locked, the amount
bounded by what is left, a reason, audited, and the invoice's sums kept by invoice_ledger.refresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import AvtaleGiroMandate, Invoice, InvoiceAdjustment, Member, PaymentAllocation
from webapp.models.choices import InvoiceAdjustmentKind, InvoiceStatus, MemberCategory, PaymentMethod
from webapp.services import audit, direct_dues, invoice_ledger, kid, payment_matching, transitions
from webapp.services.bounds import INT64_MAX, required_reason
from webapp.services.invoice_documents import invoice_pdf, remind, send  # the spec's names, here too
from webapp.services.payment_methods import direct_payer_clause, mandate_cutoff, month_has_bases
from webapp.services.periods import Month, Quarter

__all__ = [
    "GenerateResult", "InvoiceError", "credit_note", "generate", "generate_avtalegiro_month", "invoice_pdf",
    "remind", "send", "write_off",
]

BILLING_UNITS = ("quarter", "month")
_CHUNK = 900
# How far back an invoice can start and still cover a month of the period: an invoice covers the months of one
# billing period at most (BILLING_UNITS: a quarter).
_LOOKBACK_MONTHS = 2
# A run's candidate member-months (_Run._store_candidates), in a temporary table of the run's connection.
_RUN_CANDIDATE = Table(
    "invoice_run_candidate", MetaData(),
    Column("member_id", Integer), Column("i", Integer), Column("month_no", Integer), Column("method", String(16)),
    Column("period", String(16)), Column("billed", Boolean),
    prefixes=["TEMPORARY"],
)


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
    months = sorted({m for method_months in months_by_method.values() for m in method_months})
    try:
        withdrawn_keys = _delete_unsent(months_by_method, result) if refresh else set()
        run = _Run(months, months_by_method, direct_dues.load(), today, now)
        made = run.insert(result)
        new_members = set(db.session.scalars(select(Invoice.member_id).where(*made).distinct()))
        result.members = len(new_members)
        if withdrawn_keys:
            made_keys = set(map(tuple, db.session.execute(select(Invoice.member_id, Invoice.first_month).where(*made))))
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


class _Run:
    """One run's invoice rows as ONE INSERT ... SELECT: the member-months paying directly (the one rule of
    payment_methods, a SELECT per month), the method by the earliest active mandate, the months already billed
    left out, runs of consecutive months per billing period by a window function, priced by the small tables of
    rates given as constants, and the KID's MOD10 check digit computed in SQL. The rates and dates of the run's
    few months are computed here, in Python, once."""

    def __init__(self, months: list[Month], months_by_method: dict[PaymentMethod, list[Month]],
                 table: direct_dues.DuesTable, today: dt.date, now: dt.datetime):
        self.months, self.table, self.today, self.now = months, table, today, now
        self.has_bases = [month_has_bases(month) for month in months]
        self.periods = {method: {month: billing_period_of(month, billing_unit(method)) for month in method_months}
                        for method, method_months in months_by_method.items()}
        # {month index: the categories with a member-month that has no rate in force}
        self.unpriced: dict[int, set[str]] = {}
        self.months_cte = self._months_cte()
        self.prices_cte = self._prices_cte()

    # ---- the constants: the run's months and their rates

    def _months_cte(self):
        rows = []
        for i, month in enumerate(self.months):
            rate = self.table.deduction_rate(month)
            if rate is None:
                self.unpriced.setdefault(i, set()).add(MemberCategory.ordinary.name)
            yymm = f"{month.year % 100:02d}{month.month:02d}"
            rows.append(select(
                literal(i, Integer).label("i"), literal(str(month), String).label("ym"),
                literal(_month_number(month), Integer).label("month_no"),
                literal(mandate_cutoff(month), DateTime).label("cutoff"),
                literal(self.periods.get(PaymentMethod.invoice, {}).get(month, ""), String).label("invoice_period"),
                literal(self.periods.get(PaymentMethod.avtalegiro, {}).get(month, ""), String).label("ag_period"),
                literal(due_date(PaymentMethod.invoice, month, self.today), Date).label("invoice_due"),
                literal(due_date(PaymentMethod.avtalegiro, month, self.today), Date).label("ag_due"),
                literal(rate.contents_insurance_ore if rate is not None else -1, BigInteger).label("contents_ore"),
                literal(rate.travel_insurance_ore if rate is not None else -1, BigInteger).label("travel_ore"),
                literal(yymm, String).label("kid_yymm"),
                literal(_fixed_kid_digits_sum(yymm), Integer).label("kid_sum"),
            ))
        return union_all(*rows).cte("run_month") if len(rows) > 1 else rows[0].cte("run_month")

    def _prices_cte(self):
        """(month, category, band or -1, monthly øre) of every direct rate in force, the band fallback applied."""
        rows = []
        # An ordinary member without a band of their own has the default band; without a default, none.
        bands = [*([None] if self.table.default_band_id is None else []), *self.table.band_codes]
        for i, month in enumerate(self.months):
            for category in MemberCategory:
                for band in bands if category == MemberCategory.ordinary else [None]:
                    monthly = self.table.direct_rate_ore(month, category, band)
                    if monthly is None:
                        self.unpriced.setdefault(i, set()).add(category.name)
                        continue
                    rows.append(select(literal(i, Integer).label("i"), literal(category.name, String).label("category"),
                                       literal(-1 if band is None else band, Integer).label("band"),
                                       literal(monthly, BigInteger).label("monthly_ore")))
        if not rows:  # no rate at all: a row that matches nothing keeps the join valid
            rows.append(select(literal(-1, Integer).label("i"), literal("", String).label("category"),
                               literal(-1, Integer).label("band"), literal(0, BigInteger).label("monthly_ore")))
        return union_all(*rows).cte("run_price") if len(rows) > 1 else rows[0].cte("run_price")

    # ---- the member-months

    def _candidates(self):
        """The member-months paying directly (billed or not) with their method and billing period."""
        per_month = [
            select(Member.id.label("member_id"), literal(i, Integer).label("i"))
            .where(direct_payer_clause(month, self.has_bases[i]))
            for i, month in enumerate(self.months)
        ]
        member_months = (union_all(*per_month) if len(per_month) > 1 else per_month[0]).subquery("member_month")
        mandates = (
            select(AvtaleGiroMandate.member_id, func.min(AvtaleGiroMandate.registered_at).label("registered_at"))
            .where(AvtaleGiroMandate.active.is_(True), AvtaleGiroMandate.member_id.is_not(None))
            .group_by(AvtaleGiroMandate.member_id).cte("first_mandate").prefix_with("MATERIALIZED")
        )
        mo = self.months_cte
        is_ag = and_(mandates.c.registered_at.is_not(None), mandates.c.registered_at < mo.c.cutoff)
        return (
            select(
                member_months.c.member_id, member_months.c.i, mo.c.month_no,
                case((is_ag, PaymentMethod.avtalegiro.name), else_=PaymentMethod.invoice.name).label("method"),
                case((is_ag, mo.c.ag_period), else_=mo.c.invoice_period).label("period"),
            )
            .select_from(member_months)
            .join(mo, mo.c.i == member_months.c.i)
            .outerjoin(mandates, mandates.c.member_id == member_months.c.member_id)
        )

    def _priced(self, candidates: Table, to_bill: list):
        """The candidates to bill with their dues by component: the member's category, band and insurances
        priced by the run's rates. Only these rows are read with their member: a run that finds its months billed
        already (most runs after the period's first) reads no member twice."""
        mo, price = self.months_cte, self.prices_cte
        ordinary = Member.category == MemberCategory.ordinary
        default_band = self.table.default_band_id
        band = case((ordinary, func.coalesce(Member.income_band_id, default_band if default_band is not None else -1)),
                    else_=-1)
        return (
            select(
                candidates.c.member_id, candidates.c.i, candidates.c.month_no, candidates.c.method,
                candidates.c.period, price.c.monthly_ore.label("dues_ore"),
                case((and_(ordinary, Member.contents_insurance.is_(True)), mo.c.contents_ore), else_=0)
                .label("contents_ore"),
                case((and_(ordinary, Member.travel_insurance.is_(True)), mo.c.travel_ore), else_=0)
                .label("travel_ore"),
                (ordinary & (mo.c.contents_ore < 0)).label("no_insurance_rate"),
            )
            .select_from(candidates)
            .join(mo, mo.c.i == candidates.c.i)
            .join(Member, Member.id == candidates.c.member_id)
            .outerjoin(price, and_(price.c.i == candidates.c.i, price.c.category == Member.category,
                                   price.c.band == band))
            .where(*to_bill)
        )

    def _store_candidates(self) -> Table:
        """The run's candidates (`_candidates`), each marked whether an invoice covers it already, in the
        connection's temporary table `_RUN_CANDIDATE` (emptied first: one left by a failed run on the same
        connection is replaced)."""
        connection = db.session.connection()
        _RUN_CANDIDATE.drop(connection, checkfirst=True)
        _RUN_CANDIDATE.create(connection)
        candidates = self._candidates().cte("candidate")
        billed = self._billed_clause(candidates) if self._any_billed() else literal(False)
        db.session.execute(insert(_RUN_CANDIDATE).from_select(
            [column.name for column in _RUN_CANDIDATE.columns], select(candidates, billed.label("billed"))))
        return _RUN_CANDIDATE

    def _billed_clause(self, candidates):
        """SQL: an existing invoice covers the candidate's member-month.

        The member-months the existing invoices cover are expanded once (each invoice of the look-back window
        joined to the run's months it covers) and the candidates looked up in that set: a probe per candidate of
        the invoices' own index, parsing their months each time, was twice as slow on SQLite."""
        start = _month_number_sql(Invoice.first_month)
        mo = self.months_cte
        covered = (
            select(Invoice.member_id, mo.c.i)
            .join(mo, and_(start <= mo.c.month_no, mo.c.month_no < start + Invoice.month_count))
            .where(*self._may_cover_the_run())
            .cte("billed_month").prefix_with("MATERIALIZED")
        )
        return exists(select(literal(1)).where(covered.c.member_id == candidates.c.member_id,
                                               covered.c.i == candidates.c.i))

    def _may_cover_the_run(self) -> tuple:
        """SQL: the invoice starts in the look-back window, so it may cover a month of the run."""
        first = str(self.months[0].shift(-_LOOKBACK_MONTHS))
        return Invoice.first_month >= first, Invoice.first_month <= str(self.months[-1])

    def _any_billed(self) -> bool:
        return db.session.scalar(select(Invoice.id).where(*self._may_cover_the_run()).limit(1)) is not None

    # ---- the statement

    def insert(self, result: GenerateResult) -> tuple:
        """Insert the run's invoices and count them in `result`; returns the conditions that select them.

        The candidates are evaluated once, into a temporary table (`_store_candidates`), and both the count of the
        months billed already and the insert read that: evaluating the one rule of payment_methods for every member
        and month was most of a run, and the count and the insert did it each. The new rows are counted in SQL
        rather than returned: at a million direct payers, RETURNING every invoice into Python was the run's peak
        memory (600 MiB)."""
        candidates = self._store_candidates()
        in_period = candidates.c.period != ""
        result.months_already_billed = int(db.session.scalar(
            select(func.count()).select_from(candidates).where(in_period, candidates.c.billed.is_(True))))
        to_bill = [in_period, candidates.c.billed.is_(False)]
        priced = self._priced(candidates, to_bill).subquery("priced")
        if self.unpriced:
            self._refuse_unpriced(priced)
        ranked = select(
            priced,
            (priced.c.month_no - func.row_number().over(
                partition_by=(priced.c.member_id, priced.c.method, priced.c.period),
                order_by=priced.c.month_no)).label("run"),
        ).cte("ranked")
        runs = select(
            ranked.c.member_id, ranked.c.method, ranked.c.period, func.min(ranked.c.i).label("first_i"),
            func.count().label("month_count"), func.sum(ranked.c.dues_ore).label("dues_ore"),
            func.sum(ranked.c.contents_ore).label("contents_ore"), func.sum(ranked.c.travel_ore).label("travel_ore"),
        ).group_by(ranked.c.member_id, ranked.c.method, ranked.c.period, ranked.c.run).cte("run_invoice")
        amount = runs.c.dues_ore + runs.c.contents_ore + runs.c.travel_ore
        number = func.trim(Member.member_no)
        valid_number = _digits_clause(number)
        a_number_without_kid = (select(candidates.c.member_id).join(Member, Member.id == candidates.c.member_id)
                                .where(*to_bill, ~valid_number).limit(1))
        if db.session.scalar(a_number_without_kid) is not None:
            result.without_kid = self._without_kid(runs, amount, valid_number)
        mo = self.months_cte
        padded = func.substr(literal("00000000", String) + number, func.length(number) + 1)
        rows = (
            select(
                runs.c.member_id, runs.c.period, mo.c.ym, runs.c.month_count,
                (literal(kid.MEMBER_PREFIX, String) + padded + mo.c.kid_yymm
                 + cast(_check_digit_sql(mo.c.kid_sum, padded), String)),
                runs.c.method, literal(self.today, Date),
                case((runs.c.method == PaymentMethod.avtalegiro.name, mo.c.ag_due), else_=mo.c.invoice_due),
                runs.c.dues_ore, runs.c.contents_ore, runs.c.travel_ore, amount, literal(0, BigInteger),
                literal(0, BigInteger), literal(0, BigInteger), literal(InvoiceStatus.open.name, String),
                literal(self.now, DateTime),
            )
            .select_from(runs).join(mo, mo.c.i == runs.c.first_i).join(Member, Member.id == runs.c.member_id)
            .where(amount > 0, valid_number)
            .order_by(runs.c.member_id, runs.c.first_i)
        )
        columns = ["member_id", "period", "first_month", "month_count", "kid", "method", "issued_on", "due_date",
                   "dues_ore", "contents_insurance_ore", "travel_insurance_ore", "amount_ore", "paid_ore",
                   "credited_ore", "written_off_ore", "status", "created_at"]
        newest_before = db.session.scalar(select(func.coalesce(func.max(Invoice.id), 0)))
        db.session.execute(insert(Invoice).from_select(columns, rows))
        _RUN_CANDIDATE.drop(db.session.connection())
        # This run's rows: newer than any before it, and stamped with its moment (a concurrent run has its own).
        made = (Invoice.id > newest_before, Invoice.created_at == self.now)
        created, avtalegiro, months_billed, amount_ore = db.session.execute(
            select(func.count(), func.coalesce(func.sum(case((Invoice.method == PaymentMethod.avtalegiro, 1),
                                                             else_=0)), 0),
                   func.coalesce(func.sum(Invoice.month_count), 0), func.coalesce(func.sum(Invoice.amount_ore), 0))
            .where(*made)
        ).one()
        result.created += created
        result.avtalegiro += int(avtalegiro)
        result.months_billed += int(months_billed)
        result.amount_ore += int(amount_ore)
        return made

    def _refuse_unpriced(self, priced) -> None:
        """A member-month to bill without a rate in force refuses the run, with the rate table's own message."""
        missing = db.session.execute(
            select(priced.c.i, Member.category, Member.income_band_id, Member.contents_insurance,
                   Member.travel_insurance)
            .join(Member, Member.id == priced.c.member_id)
            .where(or_(priced.c.dues_ore.is_(None), priced.c.no_insurance_rate))
            .order_by(priced.c.member_id, priced.c.i).limit(1)
        ).first()
        if missing is not None:
            i, *kind = missing
            self.table.month_dues(self.months[i], *kind)  # raises DirectDuesError naming the month and rate

    def _without_kid(self, runs, amount, valid_number) -> list[str]:
        numbers = db.session.scalars(
            select(Member.member_no).select_from(runs).join(Member, Member.id == runs.c.member_id)
            .where(amount > 0, ~valid_number).group_by(Member.id, Member.member_no).order_by(Member.id)
        ).all()
        return list(dict.fromkeys(numbers))


def _month_number(month: Month) -> int:
    return month.year * 12 + month.month


def _month_number_sql(column):
    """SQL: a 'YYYY-MM' column as year * 12 + month (consecutive months are consecutive numbers)."""
    return cast(func.substr(column, 1, 4), Integer) * 12 + cast(func.substr(column, 6, 2), Integer)


def _fixed_kid_digits_sum(yymm: str) -> int:
    """The MOD10 sum of a member KID's fixed digits: the prefix (positions 0-2) and the month (11-14)."""
    body = kid.MEMBER_PREFIX + "0" * 8 + yymm
    return sum(_luhn_term(int(body[position]), position, len(body)) for position in (0, 1, 2, 11, 12, 13, 14))


def _luhn_term(digit: int, position: int, length: int) -> int:
    doubled = (length - 1 - position) % 2 == 0
    return (2 * digit - 9 * (digit // 5)) if doubled else digit


def _check_digit_sql(fixed_sum, padded):
    """SQL: the MOD10 check digit (webapp.services.kid.mod10_check_digit) of prefix + 8-digit number + YYMM, the
    fixed digits' sum given; the number's digits at KID positions 3-10, those at 4, 6, 8 and 10 doubled."""
    total = fixed_sum
    for j in range(8):
        digit = cast(func.substr(padded, j + 1, 1), Integer)
        total = total + ((2 * digit - 9 * (digit // 5)) if j % 2 == 1 else digit)
    return (10 - total % 10) % 10


def _digits_clause(text_expression):
    """SQL: the text is 1 to 8 ASCII digits (a member number a KID can carry)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return text_expression.op("~")("^[0-9]{1,8}$")
    return and_(func.length(text_expression).between(1, 8), ~text_expression.op("GLOB")("*[^0-9]*"))


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
