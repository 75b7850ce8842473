"""The monthly deduction basis (trekkgrunnlag): who each employer is to deduct, and what changed.

For a month M, every employer with a deduction agreement gets the members with
an employment there that is on deduction and, periodized, covers M, with their
components. Compared with M-1 each line says START, STOP or CHANGE.

The work stays in the database (issue 18): the employments are ranked by window functions (the main-employment
order), last month is paired with this one by a window over both, and every line of every employer is written by
one INSERT ... SELECT; Python handles only the employers (which to build, their KIDs) and the totals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from sqlalchemy import (
    BigInteger,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
    text,
    union,
    union_all,
    update,
)

from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionBasisLine, DuesRate, Employer, Employment, Member
from webapp.models.choices import BasisChange, MemberCategory
from webapp.services import dues, payment_matching
from webapp.services.kid import kid_for
from webapp.services.membership import (
    active_member_in_month_clause,
    employment_counted_in_month_clause,
    main_employment_order,
)
from webapp.services.periods import Month, covers_month

# Categories deducted through payroll; the others pay directly or nothing.
PAYROLL_CATEGORIES = (MemberCategory.ordinary, MemberCategory.apprentice)

# Change codes stored on a line; the screens show them by label.
APPRENTICE_TO_ORDINARY = "apprentice_to_ordinary"
ORDINARY_TO_APPRENTICE = "ordinary_to_apprentice"
TRAVEL_STARTED = "travel_insurance_started"
TRAVEL_STOPPED = "travel_insurance_stopped"
CONTENTS_STARTED = "contents_insurance_started"
CONTENTS_STOPPED = "contents_insurance_stopped"
INSURANCE_MOVED = "insurance_moved"


class BasisError(ValueError):
    pass


class DeductionEmployment(Protocol):
    """An employment as `on_payroll_deduction` reads it (a row or an Employment)."""

    start_date: dt.date
    end_date: dt.date | None
    on_deduction: bool


@dataclass(frozen=True)
class Components:
    """What one member is to be deducted at one employer in a month."""

    employment_id: int | None
    ordinary_dues: bool
    contents_insurance: bool
    travel_insurance: bool
    apprentice: bool
    fixed_amount_ore: int
    position_pct: Decimal | None

    def kind(self) -> tuple[bool, bool, bool, bool]:
        return (self.ordinary_dues, self.contents_insurance, self.travel_insurance, self.apprentice)


@dataclass
class GenerateResult:
    month: Month
    created: int = 0
    refreshed: int = 0
    already_there: int = 0
    refused_notified: int = 0
    members: int = 0
    changes: int = 0
    employers_refused: list[str] = field(default_factory=list)
    payments_matched: int = 0

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.refreshed)

    def summary(self) -> str:
        if not self.changed_anything:
            text = f"{self.month}: nothing to do, {self.already_there} employers already have a basis for the month"
            if self.refused_notified:
                text += f"; {self.refused_notified} not recomputed because their notices have gone out"
            elif self.already_there:
                text += " (--refresh recomputes those whose notices have not gone out)"
            return text
        text = (
            f"{self.month}: {self.created} bases created, {self.refreshed} recomputed, "
            f"{self.members} members on deduction, {self.changes} changes"
        )
        if self.already_there:
            text += f"; {self.already_there} left as they were"
        if self.refused_notified:
            text += f"; {self.refused_notified} not recomputed because their notices have gone out"
        if self.payments_matched:
            text += f"; {self.payments_matched} waiting payments matched to the new bases"
        return text


def rate_for(month: Month) -> DuesRate:
    rate = dues.rate_in_force(month)
    if rate is None:
        raise BasisError(f"period: no dues rate is valid in {month}; the office must register one")
    return rate


def payroll_deduction_clause(month: Month):
    """SQL over Employment, Employer and Member: this employment puts its member on payroll deduction in `month`.

    The one rule of who is deducted through payroll (the basis generator's), also read by
    webapp.services.payment_methods for months that have no basis yet: an employment on deduction at an employer
    with a deduction agreement, counted in the month, of an active member of a payroll category."""
    return and_(
        Employer.has_deduction_agreement.is_(True),
        Employment.on_deduction.is_(True),
        employment_counted_in_month_clause(month),
        active_member_in_month_clause(month),
        Member.category.in_(PAYROLL_CATEGORIES),
    )


def on_payroll_deduction(category: MemberCategory, joined_on: dt.date | None, left_on: dt.date | None,
                         employments: Iterable[DeductionEmployment], month: Month) -> bool:
    """Python twin of `payroll_deduction_clause` for one member: `employments` are the member's employments at
    employers with a deduction agreement (those are the only ones the clause can pass)."""
    if category not in PAYROLL_CATEGORIES or not covers_month(joined_on, left_on, month):
        return False
    return any(e.on_deduction and covers_month(e.start_date, e.end_date, month) for e in employments)


def compute_month(
    month: Month, rate: DuesRate, employer_ids: set[int] | None = None
) -> dict[int, dict[int, Components]]:
    """{employer_id: {member_id: components}} for the month, from the register as it is now."""
    only = sorted(employer_ids) if employer_ids is not None else None
    lines = components_query(month, rate, only).subquery()
    result: dict[int, dict[int, Components]] = {}
    for row in db.session.execute(select(lines)):
        result.setdefault(row.employer_id, {})[row.member_id] = Components(
            employment_id=row.employment_id,
            ordinary_dues=row.ordinary_dues,
            contents_insurance=row.contents_insurance,
            travel_insurance=row.travel_insurance,
            apprentice=row.apprentice,
            fixed_amount_ore=row.fixed_amount_ore,
            position_pct=row.position_pct,
        )
    return result


def components_query(month: Month, rate: DuesRate, only_employers=None) -> Select:
    """SQL: one row per member and employer on payroll deduction in `month`, with the line's components.

    Of a member's employments at one employer the largest counts (main-employment order); the member's main
    employment among all the rows selected carries the fixed amounts (`dues.fixed_components` in SQL).
    `only_employers` (ids or a subquery of them) narrows the rows before the ranking, as the old per-employer
    computation of a previous month did."""
    order = main_employment_order()
    ranked = (
        select(
            Employment.id.label("employment_id"),
            Employment.member_id,
            Employment.employer_id,
            Employment.position_pct,
            Member.category,
            Member.travel_insurance,
            Member.contents_insurance,
            func.row_number().over(partition_by=Employment.member_id, order_by=order).label("member_rank"),
            func.row_number()
            .over(partition_by=(Employment.member_id, Employment.employer_id), order_by=order)
            .label("employer_rank"),
        )
        .join(Member, Member.id == Employment.member_id)
        .join(Employer, Employer.id == Employment.employer_id)
        .where(payroll_deduction_clause(month))
    )
    if only_employers is not None:
        ranked = ranked.where(Employment.employer_id.in_(only_employers))
    ranked = ranked.subquery("ranked")
    apprentice = ranked.c.category == MemberCategory.apprentice
    main = ranked.c.member_rank == 1
    contents = and_(ranked.c.category != MemberCategory.apprentice, main, ranked.c.contents_insurance.is_(True))
    travel = and_(ranked.c.category != MemberCategory.apprentice, main, ranked.c.travel_insurance.is_(True))
    fixed = case(
        (apprentice, case((main, _ore(rate.apprentice_flat_ore)), else_=_ore(0))),
        else_=case((contents, _ore(rate.contents_insurance_ore)), else_=_ore(0))
        + case((travel, _ore(rate.travel_insurance_ore)), else_=_ore(0)),
    )
    return select(
        ranked.c.employer_id,
        ranked.c.member_id,
        ranked.c.employment_id,
        ranked.c.position_pct,
        (ranked.c.category != MemberCategory.apprentice).label("ordinary_dues"),
        contents.label("contents_insurance"),
        travel.label("travel_insurance"),
        apprentice.label("apprentice"),
        fixed.label("fixed_amount_ore"),
    ).where(ranked.c.employer_rank == 1)


def _ore(amount: int):
    return literal(int(amount), BigInteger)


def previous_month_query(month: Month, rate: DuesRate, current) -> Select:
    """SQL: last month's lines per employer (the `current` CTE's columns): as told then (STOP lines left out), or,
    for an employer with members now that was not told last month, as computed now."""
    previous = month.previous
    told = select(DeductionBasis.employer_id).where(DeductionBasis.period == str(previous))
    stored = (
        select(
            DeductionBasis.employer_id,
            DeductionBasisLine.member_id,
            DeductionBasisLine.employment_id,
            DeductionBasisLine.position_pct,
            DeductionBasisLine.ordinary_dues,
            DeductionBasisLine.contents_insurance,
            DeductionBasisLine.travel_insurance,
            DeductionBasisLine.apprentice,
            DeductionBasisLine.fixed_amount_ore,
        )
        .join(DeductionBasisLine, DeductionBasisLine.basis_id == DeductionBasis.id)
        .where(DeductionBasis.period == str(previous), DeductionBasisLine.on_deduction.is_(True))
    )
    not_told = select(current.c.employer_id).where(current.c.employer_id.not_in(told)).distinct()
    computed = components_query(previous, rate_for_or_none(previous) or rate, not_told)
    return union_all(stored, computed)


def lines_query(month: Month, rate: DuesRate, new_bases_after: int) -> Select:
    """SQL: every line of the month's new bases (those with an id above `new_bases_after`): everyone on deduction
    now, with START or CHANGE against last month, and a STOP line for everyone who left an employer's basis.

    Now and last month are paired without a join: both sets in one, each member's row at an employer ordered
    last month first, and a window reading the row before (last month's) and after (this month's). A join of two
    derived sets is where PostgreSQL's estimates fail (it guesses a handful of rows and loops over them)."""
    current = components_query(month, rate).cte("basis_current")
    previous = previous_month_query(month, rate, current).subquery("basis_previous")
    both = union_all(
        select(*[current.c[name] for name in PART_COLUMNS], literal(1).label("is_now")),
        select(*[previous.c[name] for name in PART_COLUMNS], literal(0).label("is_now")),
    ).subquery("basis_both")
    pair = {"partition_by": (both.c.employer_id, both.c.member_id), "order_by": both.c.is_now}
    paired = select(
        *both.c,
        func.lag(both.c.is_now).over(**pair).label("before_is_now"),
        func.lead(both.c.is_now).over(**pair).label("after_is_now"),
        *[func.lag(both.c[name]).over(**pair).label("before_" + name) for name in KIND_COLUMNS],
    ).subquery("basis_paired")
    row = paired.c
    before = {name: row["before_" + name] for name in KIND_COLUMNS}
    is_now = row.is_now == 1
    kind_differs = or_(*[before[name] != row[name] for name in KIND_COLUMNS if name != "fixed_amount_ore"])
    fixed_differs = before["fixed_amount_ore"] != row.fixed_amount_ore
    travel_differs = before["travel_insurance"] != row.travel_insurance
    contents_differs = before["contents_insurance"] != row.contents_insurance
    travel_code = case((row.travel_insurance, TRAVEL_STARTED), else_=TRAVEL_STOPPED)
    contents_code = case((row.contents_insurance, CONTENTS_STARTED), else_=CONTENTS_STOPPED)
    # describe_change in SQL: an apprenticeship change alone, else the insurances (travel first), else a move of
    # the insurances between employers (the fixed amount changed).
    detail = case(
        (and_(before["apprentice"], not_(row.apprentice)), APPRENTICE_TO_ORDINARY),
        (and_(row.apprentice, not_(before["apprentice"])), ORDINARY_TO_APPRENTICE),
        (and_(travel_differs, contents_differs), travel_code + "," + contents_code),
        (travel_differs, travel_code),
        (contents_differs, contents_code),
        (fixed_differs, INSURANCE_MOVED),
        else_="",
    )
    change_type = DeductionBasisLine.__table__.c.change.type
    started = row.before_is_now.is_(None)
    changed = or_(kind_differs, fixed_differs)
    basis = DeductionBasis.__table__.alias("basis_new")
    return (
        select(
            basis.c.id,
            row.member_id,
            row.employment_id,
            is_now,
            *[and_(is_now, row[name]) for name in ("ordinary_dues", "contents_insurance", "travel_insurance",
                                                   "apprentice")],
            case((is_now, row.fixed_amount_ore), else_=_ore(0)),
            row.position_pct,
            case((~is_now, literal(BasisChange.stop, change_type)),
                 (started, literal(BasisChange.start, change_type)),
                 (changed, literal(BasisChange.change, change_type)), else_=null()),
            case((and_(is_now, ~started, changed), detail), else_=null()),
        )
        .join(basis, and_(basis.c.employer_id == row.employer_id, basis.c.period == str(month),
                          basis.c.id > new_bases_after))
        # this month's rows, and last month's that have none this month (STOP)
        .where(or_(is_now, row.after_is_now.is_(None)))
    )


# The columns of a line's components, as components_query gives them; those compared with last month.
PART_COLUMNS = ("employer_id", "member_id", "employment_id", "position_pct", "ordinary_dues", "contents_insurance",
                "travel_insurance", "apprentice", "fixed_amount_ore")
KIND_COLUMNS = ("ordinary_dues", "contents_insurance", "travel_insurance", "apprentice", "fixed_amount_ore")

LINE_COLUMNS = ("basis_id", "member_id", "employment_id", "on_deduction", "ordinary_dues", "contents_insurance",
                "travel_insurance", "apprentice", "fixed_amount_ore", "position_pct", "change", "change_detail")


def generate(month: Month, refresh: bool = False, now: dt.datetime | None = None) -> GenerateResult:
    """Make (or with `refresh`, remake) the month's bases in one transaction.

    Set-based: the employers come from one query, their bases from one multi-row insert, and every line from one
    INSERT ... SELECT that ranks the employments and compares with last month in the database."""
    now = now or dt.datetime.now()
    result = GenerateResult(month)
    try:
        rate = rate_for(month)
        existing = {row.employer_id: row for row in db.session.execute(
            select(DeductionBasis.employer_id, DeductionBasis.id, DeductionBasis.notified_at)
            .where(DeductionBasis.period == str(month))
        )}
        customers = dict(
            db.session.execute(
                select(Employer.id, Employer.customer_no).where(Employer.has_deduction_agreement.is_(True))
            ).all()
        )
        employers = sorted(employer_id for employer_id in _employers_with_lines(month) if employer_id in customers)
        to_build = _employers_to_build(employers, existing, refresh, result)
        _delete_bases([existing[e].id for e in to_build if e in existing])
        result.created = len(to_build) - result.refreshed
        if to_build:
            _insert_bases(month, rate, now, [(e, customers[e]) for e in to_build], result)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if result.created:
        # Payments that came before their month's basis existed wait in the queue: they match now.
        result.payments_matched = payment_matching.rematch_unmatched()
    return result


def _employers_with_lines(month: Month) -> set[int]:
    """The employers with members on deduction now or last month (as told: the lines on deduction)."""
    now = select(Employment.employer_id).join(Member, Member.id == Employment.member_id).join(
        Employer, Employer.id == Employment.employer_id).where(payroll_deduction_clause(month))
    before = select(DeductionBasis.employer_id).join(
        DeductionBasisLine, DeductionBasisLine.basis_id == DeductionBasis.id).where(
        DeductionBasis.period == str(month.previous), DeductionBasisLine.on_deduction.is_(True))
    return set(db.session.scalars(union(now, before)))


def _employers_to_build(employers: list[int], existing: dict, refresh: bool, result: GenerateResult) -> list[int]:
    """The employers whose basis is made now; counts the ones left alone in `result`."""
    to_build: list[int] = []
    for employer_id in employers:
        if employer_id not in existing:
            to_build.append(employer_id)
        elif not refresh:
            result.already_there += 1
        elif existing[employer_id].notified_at is not None:
            result.refused_notified += 1
        else:
            to_build.append(employer_id)
            result.refreshed += 1
    return to_build


def _delete_bases(basis_ids: list[int]) -> None:
    for start in range(0, len(basis_ids), 5000):
        chunk = basis_ids[start : start + 5000]
        db.session.execute(delete(DeductionBasisLine).where(DeductionBasisLine.basis_id.in_(chunk)))
        db.session.execute(delete(DeductionBasis).where(DeductionBasis.id.in_(chunk)))


def _insert_bases(month: Month, rate: DuesRate, now: dt.datetime, employers: list[tuple[int, str]],
                  result: GenerateResult) -> None:
    """The bases (in employer order), then all their lines in one INSERT ... SELECT, then each basis's counts
    from its lines; adds the members and changes to `result`."""
    new_after = db.session.scalar(select(func.coalesce(func.max(DeductionBasis.id), 0)))
    db.session.execute(insert(DeductionBasis.__table__), [
        {"employer_id": employer_id, "period": str(month), "kid": kid_for(customer_no, month), "rate_id": rate.id,
         "generated_at": now, "member_count": 0, "change_count": 0, "fixed_total_ore": 0}
        for employer_id, customer_no in employers
    ])
    on_postgresql = db.session.get_bind().dialect.name == "postgresql"
    if on_postgresql:
        # The lines' statement joins the bases just written: planned for an empty table (the first month of a new
        # register) it looped over them for each of a million lines (317 s instead of 40 s at 1M members).
        db.session.execute(text("ANALYZE deduction_basis"))
    db.session.execute(insert(DeductionBasisLine.__table__).from_select(LINE_COLUMNS, lines_query(month, rate,
                                                                                                  new_after)))
    if on_postgresql:
        # Statistics for the lines just written, so the next statements over them (and next month's generation)
        # are planned for their real size.
        db.session.execute(text("ANALYZE deduction_basis_line"))
    # The new bases' lines are those with a basis id above the others': totals without a join to the bases.
    line = DeductionBasisLine.__table__.c
    totals = db.session.execute(
        select(
            line.basis_id,
            func.sum(case((line.on_deduction.is_(True), 1), else_=0)),
            func.count(line.change),
            func.sum(line.fixed_amount_ore),
        )
        .where(line.basis_id > new_after)
        .group_by(line.basis_id)
    ).all()
    db.session.execute(
        update(DeductionBasis.__table__).where(DeductionBasis.__table__.c.id == bindparam("basis_id")).values(
            member_count=bindparam("members"), change_count=bindparam("changes"), fixed_total_ore=bindparam("fixed")),
        [{"basis_id": basis_id, "members": members, "changes": changes, "fixed": fixed}
         for basis_id, members, changes, fixed in totals],
    )
    result.members += sum(int(row[1]) for row in totals)
    result.changes += sum(int(row[2]) for row in totals)


def rate_for_or_none(month: Month) -> DuesRate | None:
    try:
        return rate_for(month)
    except BasisError:
        return None
