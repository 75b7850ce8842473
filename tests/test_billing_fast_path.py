"""The set-based invoice generation (one INSERT ... SELECT, webapp.services.invoices._Run) makes the same rows
as the code it replaced, kept here as the reference: the payers read with their months in Python, runs split
and priced member by member.

The module seeds one database (a SQLite file, or the PostgreSQL database in TEST_DATABASE_URL): the register,
a few months of the deduction cycle (so some members pay through payroll, some directly, some months have
bases), the direct dues rates, AvtaleGiro mandates registered on different days, and some invoices made
already. Each case runs both ways in a transaction rolled back after, and compares the rows (all columns but
the id) and the counts of GenerateResult.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from sqlalchemy import or_, select, update

from seed.cycle import play_cycle
from seed.generator import generate
from seed.phases.direct_billing import ensure_direct_rates
from tests.helpers import fresh_app
from webapp.extensions import db
from webapp.models import AvtaleGiroMandate, Invoice, Member
from webapp.models.choices import PaymentMethod
from webapp.services import direct_dues, invoice_ledger, kid
from webapp.services.invoices import (
    _LOOKBACK_MONTHS,
    GenerateResult,
    _expanded_months,
    _Run,
    billing_period_of,
    billing_unit,
    covered_months,
    due_date,
    months_of,
)
from webapp.services.payment_methods import (
    direct_payer_clause,
    first_mandate_registrations,
    mandate_cutoff,
    month_has_bases,
)
from webapp.services.periods import Month

MEMBERS, EMPLOYERS, SEED, MONTHS = 800, 60, 7, 3
TODAY = dt.date.today()
NOW = dt.datetime.combine(TODAY, dt.time(12, 0))


# ------------------------------------------------------------------ the reference: the code before the fast path


class _Payer(NamedTuple):
    member_id: int
    member_no: str
    category: object
    income_band_id: int | None
    contents_insurance: bool
    travel_insurance: bool
    direct_months: tuple[int, ...]
    mandate_registered_at: dt.datetime | None


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




def reference_rows(period, methods, today: dt.date, now: dt.datetime) -> tuple[list[tuple], GenerateResult]:
    rows, result = _reference_dicts(period, methods, today, now)
    result.members = len({row["member_id"] for row in rows})
    return sorted(_row_key(row) for row in rows), result


def fast_rows(period, methods, today: dt.date, now: dt.datetime) -> tuple[list[tuple], GenerateResult]:
    """The fast path's rows, in a savepoint rolled back after."""
    result = GenerateResult(str(period))
    months_by_method = {method: _expanded_months(months_of(period), billing_unit(method)) for method in methods}
    months = sorted({m for method_months in months_by_method.values() for m in method_months})
    before = db.session.scalar(select(db.func.max(Invoice.id))) or 0
    savepoint = db.session.begin_nested()
    conditions = _Run(months, months_by_method, direct_dues.load(), today, now).insert(result)
    made = db.session.execute(select(Invoice.__table__).where(Invoice.id > before)).mappings().all()
    # The conditions the run returns select exactly the rows it made (the service reads its members by them).
    assert sorted(db.session.scalars(select(Invoice.id).where(*conditions))) == sorted(row["id"] for row in made)
    result.members = len({row["member_id"] for row in made})
    savepoint.rollback()
    return sorted(_row_key(row) for row in made), result


_COLUMNS = ("member_id", "period", "first_month", "month_count", "kid", "method", "issued_on", "due_date", "dues_ore",
            "contents_insurance_ore", "travel_insurance_ore", "amount_ore", "paid_ore", "credited_ore",
            "written_off_ore", "status")


def _row_key(row) -> tuple:
    return tuple(row[name] for name in _COLUMNS)


# ------------------------------------------------------------------ the seeded database


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    app = fresh_app(tmp_path_factory, "fast")
    with app.app_context():
        generate(members=MEMBERS, employers=EMPLOYERS, seed=SEED, reset=False, progress=False)
        play_cycle(MONTHS, SEED)
        ensure_direct_rates(TODAY)
        rng = random.Random(SEED)
        members = db.session.execute(select(Member.id, Member.member_no).order_by(Member.id)).all()
        this_month = Month.of(TODAY)
        for member_id, member_no in members:
            if rng.random() < 0.4:  # mandates registered from four months back to three months ahead
                registered = this_month.shift(rng.randint(-4, 3)).first_day + dt.timedelta(days=rng.randint(0, 27))
                db.session.add(AvtaleGiroMandate(
                    kid=kid.member_kid_for(member_no, Month.of(registered)), member_id=member_id,
                    notify=rng.random() < 0.3, active=rng.random() < 0.9,
                    registered_at=dt.datetime.combine(registered, dt.time(9))))
        # Members whose number cannot make a KID (direct payers of the quarter, whatever today's date makes of the
        # demo), and members who left during the quarter.
        quarter_months = list(months_of(this_month.quarter))
        quarter_payers = _direct_payers(_Months(quarter_months))
        for member_id in [payer.member_id for payer in quarter_payers[:3]]:
            db.session.execute(update(Member).where(Member.id == member_id).values(member_no=f"X{member_id}"))
        for member_id, _no in members[3:40]:
            db.session.execute(update(Member).where(Member.id == member_id)
                               .values(left_on=quarter_months[1].first_day + dt.timedelta(days=3)))
        db.session.commit()
        # Some member-months billed already: this quarter's invoices made the old way for a third of the members.
        rows, _result = _reference_dicts(Month.of(TODAY).quarter)
        billed = [row for row in rows if row["member_id"] % 3 == 0]
        db.session.execute(Invoice.__table__.insert(), billed)
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _reference_dicts(period, methods=(PaymentMethod.invoice, PaymentMethod.avtalegiro), today: dt.date = TODAY,
                     now: dt.datetime = NOW) -> tuple[list[dict], GenerateResult]:
    """The old code's invoice rows of the period (not inserted) and its counts."""
    result = GenerateResult(str(period))
    months_by_method = {method: _expanded_months(months_of(period), billing_unit(method)) for method in methods}
    months = _Months(sorted({m for method_months in months_by_method.values() for m in method_months}))
    pricing = _Pricing(months, direct_dues.load(), today)
    return list(_invoice_rows(_direct_payers(months), _billed_months(months), months, months_by_method, pricing,
                              now, result)), result


PERIODS = [
    Month.of(TODAY).quarter,  # part billed already, months with bases
    Month.of(TODAY).shift(-3).quarter,
    Month.of(TODAY).shift(3).quarter,  # no bases yet: the payroll rule
    Month.of(TODAY),
    Month.of(TODAY).shift(2),
]


@pytest.mark.parametrize("period", PERIODS, ids=str)
@pytest.mark.parametrize("methods", [(PaymentMethod.invoice, PaymentMethod.avtalegiro), (PaymentMethod.avtalegiro,)],
                         ids=["both", "avtalegiro"])
def test_the_fast_path_makes_the_same_invoices_as_the_reference(seeded, period, methods):
    with seeded.app_context():
        try:
            expected, expected_result = reference_rows(period, methods, TODAY, NOW)
            made, result = fast_rows(period, methods, TODAY, NOW)
        finally:
            db.session.rollback()
            db.session.remove()
    assert expected, "the case bills somebody"
    assert made == expected
    assert result == expected_result


def test_the_seeded_case_has_every_kind_of_row(seeded):
    """The comparison covers both methods, runs shorter than a quarter, months billed already and KID refusals."""
    with seeded.app_context():
        expected, result = reference_rows(Month.of(TODAY).quarter, (PaymentMethod.invoice, PaymentMethod.avtalegiro),
                                          TODAY, NOW)
        db.session.remove()
    methods = {row[5] for row in expected}
    assert methods == {PaymentMethod.invoice, PaymentMethod.avtalegiro}
    assert {row[3] for row in expected} >= {1, 3}
    assert result.months_already_billed > 0
    assert result.without_kid
