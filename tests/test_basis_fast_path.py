"""The deduction basis's set-based generation (issue 18) writes the same rows as the old one.

The old implementation (rows read in main-employment order and ranked in Python, the diff against last month in
Python, lines written through the ORM) is kept here as the reference. On a seeded register with last month's
bases for some employers and changes since (insurances, categories, ended and new employments, a larger
position elsewhere), both make the month, and --refresh over it: the bases, every line, the result and its
summary must be the same. `compute_month` is compared with the old one too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, select, update

from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionBasisLine, Employer, Employment, Member
from webapp.models.choices import BasisChange, MemberCategory
from webapp.services import deduction_basis, dues, payment_matching
from webapp.services.deduction_basis import (
    APPRENTICE_TO_ORDINARY,
    CONTENTS_STARTED,
    CONTENTS_STOPPED,
    INSURANCE_MOVED,
    ORDINARY_TO_APPRENTICE,
    TRAVEL_STARTED,
    TRAVEL_STOPPED,
    Components,
    GenerateResult,
    payroll_deduction_clause,
    rate_for,
    rate_for_or_none,
)
from webapp.services.kid import kid_for
from webapp.services.membership import main_employment_order
from webapp.services.periods import Month

MEMBERS = 300
DAY = dt.date(2026, 5, 20)
MONTH = Month(2026, 6)


# ------------------------------------------------------------------ the old implementation (reference)


def old_compute_month(month: Month, rate, employer_ids: set[int] | None = None) -> dict[int, dict[int, Components]]:
    query = (
        select(Employment.id, Employment.member_id, Employment.employer_id, Employment.position_pct,
               Employment.start_date, Member.category, Member.travel_insurance, Member.contents_insurance)
        .join(Member, Member.id == Employment.member_id)
        .join(Employer, Employer.id == Employment.employer_id)
        .where(payroll_deduction_clause(month))
    )
    if employer_ids is not None:
        query = query.where(Employment.employer_id.in_(sorted(employer_ids)))
    rows = db.session.execute(query.order_by(*main_employment_order())).all()
    main_employment: dict[int, int] = {}
    for row in rows:
        main_employment.setdefault(row.member_id, row.id)
    result: dict[int, dict[int, Components]] = {}
    for row in rows:
        per_employer = result.setdefault(row.employer_id, {})
        if row.member_id in per_employer:
            continue
        parts = dues.fixed_components(rate, apprentice=row.category == MemberCategory.apprentice,
                                      main_employment=main_employment[row.member_id] == row.id,
                                      contents_insurance=row.contents_insurance,
                                      travel_insurance=row.travel_insurance)
        per_employer[row.member_id] = Components(employment_id=row.id, position_pct=row.position_pct, **asdict(parts))
    return result


def old_stored_month(month: Month) -> dict[int, dict[int, Components]]:
    rows = db.session.execute(
        select(DeductionBasis.employer_id, DeductionBasisLine)
        .join(DeductionBasisLine, DeductionBasisLine.basis_id == DeductionBasis.id)
        .where(DeductionBasis.period == str(month), DeductionBasisLine.on_deduction.is_(True))
    ).all()
    result: dict[int, dict[int, Components]] = {}
    for employer_id, line in rows:
        result.setdefault(employer_id, {})[line.member_id] = Components(
            line.employment_id, line.ordinary_dues, line.contents_insurance, line.travel_insurance, line.apprentice,
            line.fixed_amount_ore, line.position_pct)
    return result


def old_describe_change(before: Components, after: Components) -> list[str]:
    codes = []
    if before.apprentice and not after.apprentice:
        codes.append(APPRENTICE_TO_ORDINARY)
    elif after.apprentice and not before.apprentice:
        codes.append(ORDINARY_TO_APPRENTICE)
    else:
        if before.travel_insurance != after.travel_insurance:
            codes.append(TRAVEL_STARTED if after.travel_insurance else TRAVEL_STOPPED)
        if before.contents_insurance != after.contents_insurance:
            codes.append(CONTENTS_STARTED if after.contents_insurance else CONTENTS_STOPPED)
    if not codes and before.fixed_amount_ore != after.fixed_amount_ore:
        codes.append(INSURANCE_MOVED)
    return codes


def old_line_row(member_id: int, c: Components, on_deduction: bool, change, detail) -> dict:
    return {"member_id": member_id, "employment_id": c.employment_id, "on_deduction": on_deduction,
            "ordinary_dues": c.ordinary_dues, "contents_insurance": c.contents_insurance,
            "travel_insurance": c.travel_insurance, "apprentice": c.apprentice,
            "fixed_amount_ore": c.fixed_amount_ore, "position_pct": c.position_pct, "change": change,
            "change_detail": detail}


def old_diff_lines(previous: dict[int, Components], current: dict[int, Components]) -> list[dict]:
    lines = []
    for member_id, now in current.items():
        before = previous.get(member_id)
        change, detail = None, None
        if before is None:
            change = BasisChange.start
        elif before.kind() != now.kind() or before.fixed_amount_ore != now.fixed_amount_ore:
            change, detail = BasisChange.change, ",".join(old_describe_change(before, now))
        lines.append(old_line_row(member_id, now, True, change, detail))
    for member_id, before in previous.items():
        if member_id not in current:
            stopped = Components(before.employment_id, False, False, False, False, 0, before.position_pct)
            lines.append(old_line_row(member_id, stopped, False, BasisChange.stop, None))
    return lines


def old_generate(month: Month, refresh: bool = False, now: dt.datetime | None = None) -> GenerateResult:
    now = now or dt.datetime.now()
    result = GenerateResult(month)
    rate = rate_for(month)
    current = old_compute_month(month, rate)
    previous = old_stored_month(month.previous)
    told = set(db.session.scalars(select(DeductionBasis.employer_id)
                                  .where(DeductionBasis.period == str(month.previous))))
    if set(current) - told:
        previous.update(old_compute_month(month.previous, rate_for_or_none(month.previous) or rate,
                                          set(current) - told))
    existing = {b.employer_id: b
                for b in db.session.scalars(select(DeductionBasis).where(DeductionBasis.period == str(month)))}
    customers = dict(db.session.execute(select(Employer.id, Employer.customer_no)
                                        .where(Employer.has_deduction_agreement.is_(True))).all())
    to_build = []
    for employer_id in sorted(e for e in set(current) | set(previous) if e in customers):
        basis = existing.get(employer_id)
        if basis is None:
            to_build.append(employer_id)
        elif not refresh:
            result.already_there += 1
        elif basis.notified_at is not None:
            result.refused_notified += 1
        else:
            to_build.append(employer_id)
            result.refreshed += 1
    stale = [existing[e].id for e in to_build if e in existing]
    if stale:
        db.session.execute(delete(DeductionBasisLine).where(DeductionBasisLine.basis_id.in_(stale)))
        db.session.execute(delete(DeductionBasis).where(DeductionBasis.id.in_(stale)))
    result.created = len(to_build) - result.refreshed
    for employer_id in to_build:
        lines = old_diff_lines(previous.get(employer_id, {}), current.get(employer_id, {}))
        members = sum(1 for line in lines if line["on_deduction"])
        changes = sum(1 for line in lines if line["change"] is not None)
        result.members += members
        result.changes += changes
        basis_id = db.session.execute(insert(DeductionBasis).returning(DeductionBasis.id), [{
            "employer_id": employer_id, "period": str(month), "kid": kid_for(customers[employer_id], month),
            "rate_id": rate.id, "generated_at": now, "member_count": members, "change_count": changes,
            "fixed_total_ore": sum(line["fixed_amount_ore"] for line in lines)}]).scalar_one()
        db.session.execute(insert(DeductionBasisLine), [{**line, "basis_id": basis_id} for line in lines])
    db.session.commit()
    if result.created:
        result.payments_matched = payment_matching.rematch_unmatched()
    return result


# ------------------------------------------------------------------ the register and the comparison


@pytest.fixture()
def register(app_ctx):
    """A seeded register with last month's bases for most employers, then changes since."""
    from seed.cycle import ensure_rate
    from seed.generator import generate

    generate(members=MEMBERS, employers=30, seed=5, reset=False, progress=False, today=DAY)
    ensure_rate()
    db.session.commit()
    deduction_basis.generate(MONTH.previous, now=dt.datetime(2026, 5, 15, 6))
    # Two employers were not told last month: their last month is computed now.
    untold = db.session.scalars(select(DeductionBasis.id).where(DeductionBasis.period == str(MONTH.previous))
                                .order_by(DeductionBasis.employer_id).limit(2)).all()
    db.session.execute(delete(DeductionBasisLine).where(DeductionBasisLine.basis_id.in_(untold)))
    db.session.execute(delete(DeductionBasis).where(DeductionBasis.id.in_(untold)))
    members = db.session.scalars(select(Member.id).order_by(Member.id)).all()
    db.session.execute(update(Member).where(Member.id.in_(members[0::7])).values(travel_insurance=False))
    db.session.execute(update(Member).where(Member.id.in_(members[1::9])).values(contents_insurance=False))
    db.session.execute(update(Member).where(Member.id.in_(members[2::11]))
                       .values(category=MemberCategory.apprentice))
    db.session.execute(update(Member).where(Member.id.in_(members[3::13])).values(left_on=dt.date(2026, 5, 10)))
    employments = db.session.scalars(select(Employment).order_by(Employment.id)).all()
    for employment in employments[0::10]:
        employment.end_date = dt.date(2026, 5, 3)
    for employment in employments[5::17]:
        employment.on_deduction = False
    employers = db.session.scalars(select(Employer.id).where(Employer.has_deduction_agreement.is_(True))
                                   .order_by(Employer.id)).all()
    for index, employment in enumerate(employments[1::12]):  # a larger position elsewhere moves the insurances
        db.session.add(Employment(member_id=employment.member_id, employer_id=employers[index % len(employers)],
                                  workplace_id=employment.workplace_id, start_date=dt.date(2026, 4, 1),
                                  position_pct=Decimal("100.00"), on_deduction=True))
    db.session.commit()


def snapshot(month: Month) -> tuple[list, list]:
    bases = db.session.execute(
        select(DeductionBasis.employer_id, DeductionBasis.kid, DeductionBasis.rate_id, DeductionBasis.generated_at,
               DeductionBasis.notified_at, DeductionBasis.member_count, DeductionBasis.change_count,
               DeductionBasis.fixed_total_ore).where(DeductionBasis.period == str(month))
        .order_by(DeductionBasis.employer_id)).all()
    lines = db.session.execute(
        select(DeductionBasis.employer_id, DeductionBasisLine.member_id, DeductionBasisLine.employment_id,
               DeductionBasisLine.on_deduction, DeductionBasisLine.ordinary_dues,
               DeductionBasisLine.contents_insurance, DeductionBasisLine.travel_insurance,
               DeductionBasisLine.apprentice, DeductionBasisLine.fixed_amount_ore, DeductionBasisLine.position_pct,
               DeductionBasisLine.change, DeductionBasisLine.change_detail)
        .join(DeductionBasis, DeductionBasis.id == DeductionBasisLine.basis_id)
        .where(DeductionBasis.period == str(month))
        .order_by(DeductionBasis.employer_id, DeductionBasisLine.member_id)).all()
    return [tuple(row) for row in bases], [tuple(row) for row in lines]


def clear(month: Month) -> None:
    stale = select(DeductionBasis.id).where(DeductionBasis.period == str(month)).scalar_subquery()
    db.session.execute(delete(DeductionBasisLine).where(DeductionBasisLine.basis_id.in_(stale)))
    db.session.execute(delete(DeductionBasis).where(DeductionBasis.period == str(month)))
    db.session.commit()


def test_compute_month_gives_the_old_components(register):
    rate = rate_for(MONTH)
    assert deduction_basis.compute_month(MONTH, rate) == old_compute_month(MONTH, rate)
    some = set(list(old_compute_month(MONTH, rate))[::3])
    assert deduction_basis.compute_month(MONTH.previous, rate, some) == old_compute_month(MONTH.previous, rate, some)


def test_generate_and_refresh_write_the_old_rows(register):
    now = dt.datetime(2026, 5, 15, 6)
    expected = old_generate(MONTH, now=now)
    old_rows = snapshot(MONTH)
    clear(MONTH)
    got = deduction_basis.generate(MONTH, now=now)
    assert snapshot(MONTH) == old_rows
    assert got == expected and got.summary() == expected.summary()
    changes = {line[10] for line in old_rows[1]}
    assert {BasisChange.start, BasisChange.stop, BasisChange.change, None} <= changes  # every kind was compared
    details = {line[11] for line in old_rows[1] if line[11]}
    assert len(details) >= 3

    again = deduction_basis.generate(MONTH, now=now)
    assert not again.changed_anything and again.already_there == expected.created

    # --refresh with one basis told already, after changes in the register: the others are remade from the
    # register and last month whatever they held, so the old and the new refresh run one after the other.
    told = db.session.scalar(select(DeductionBasis.id).where(DeductionBasis.period == str(MONTH))
                             .order_by(DeductionBasis.employer_id).limit(1))
    db.session.execute(update(DeductionBasis).where(DeductionBasis.id == told).values(notified_at=now))
    db.session.execute(update(Member).where(Member.id.in_(
        select(DeductionBasisLine.member_id).where(DeductionBasisLine.on_deduction.is_(True)).limit(20)))
        .values(travel_insurance=True, contents_insurance=False))
    db.session.commit()
    later = dt.datetime(2026, 5, 20, 6)
    expected = old_generate(MONTH, refresh=True, now=later)
    old_rows = snapshot(MONTH)
    got = deduction_basis.generate(MONTH, refresh=True, now=later)
    assert snapshot(MONTH) == old_rows
    assert got == expected and got.summary() == expected.summary()
    assert expected.refused_notified == 1 and expected.refreshed >= 1


def test_the_benchmark_sql_gives_the_lines_generate_writes(register):
    """bench_deduction_basis.py times its hand-written statement as the month's basis; so does bench_seed_floor.py
    for every month of the demo. It must compute the lines the service writes."""
    from bench.bench_deduction_basis import lines_sql

    deduction_basis.generate(MONTH, now=dt.datetime(2026, 5, 15, 6))
    _bases, written = snapshot(MONTH)

    def comparable(line) -> tuple:
        *ids, on_deduction, ordinary, contents, travel, apprentice, fixed, position, change, detail = line
        change = getattr(change, "value", change)
        return (*ids, *(bool(flag) for flag in (on_deduction, ordinary, contents, travel, apprentice)), int(fixed),
                None if position is None else Decimal(str(position)).quantize(Decimal("0.01")), change, detail)

    computed = sorted(comparable(line) for line in lines_sql(MONTH))
    assert computed == sorted(comparable(line) for line in written)
    assert {line[-2] for line in computed} >= {"start", "stop", "change", None}
