"""The quarterly refund of dues to org units.

Each quarter a pool is returned to the units. The policy in force splits it by
level (national associations, branches, clubs); each level's share is divided
among the level's units in proportion to the weighted member-months under each
unit. A member counts for a month when the periodized membership covers it
(see services.periods) and their category has a weight above 0; a member
counts for their home unit and for every unit above it, so a club member
counts for the club, its branch and its national association. Units that do
not receive refunds get nothing: their level's share goes to the other units
of the level, and a level without any unit to receive it leaves its share to
the other levels. Amounts are whole øre by largest remainder (ties by unit
code), so the parts add up to the pool exactly and the same input always
gives the same result.

`calculate` writes a draft run: per unit, the figures of the calculation; a
draft can be recalculated, and its member lists are read from the register as
it is now (`counted_member_select`, the one rule of who is counted). `approve`
freezes it: it stores the counted members (the snapshot, `refund_member`) and
refuses when they no longer give the draft's figures (the register changed
since the calculation). An approved quarter's documents are rendered from the
stored figures and the snapshot only, so later changes to the register or the
policy do not alter them.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, insert, literal, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import (
    Member,
    OrgUnit,
    Payment,
    RefundMember,
    RefundPolicy,
    RefundPool,
    RefundRun,
    RefundUnit,
    RefundUnitCategory,
)
from webapp.models.choices import MemberCategory, OrgLevel, RefundStatus
from webapp.models.refunds import REFUND_LEVELS
from webapp.services import audit, transitions
from webapp.services.membership import active_member_between_clause, active_member_in_month_clause
from webapp.services.periods import PeriodError, Quarter, period_label


class RefundError(ValueError):
    """A refund cannot be calculated or approved; the message names the field and the rule."""


POOL_GIVEN, POOL_QUARTER, POOL_FIXED, POOL_PAID_SHARE = "given", "quarter", "fixed", "paid_share"
POOL_SOURCES = {
    POOL_GIVEN: _l("Given when calculating"),
    POOL_QUARTER: _l("Set for the quarter"),
    POOL_FIXED: _l("Fixed amount in the policy"),
    POOL_PAID_SHARE: _l("Share of the dues paid in the quarter"),
}


def parse_quarter(text: str) -> Quarter:
    try:
        return Quarter.parse(text)
    except PeriodError as exc:
        raise RefundError(str(exc)) from None


# ------------------------------------------------------------------ policy and pool


def policy_for(quarter: Quarter) -> RefundPolicy:
    """The policy in force in the quarter: the one with the latest start not after it."""
    policy = db.session.scalars(
        select(RefundPolicy).where(RefundPolicy.valid_from <= str(quarter)).order_by(RefundPolicy.valid_from.desc())
    ).first()
    if policy is None:
        raise RefundError(_("Policy: no refund policy is in force in %(quarter)s; "
                            "add one valid from %(quarter)s or earlier.", quarter=period_label(quarter)))
    return policy


def dues_paid(quarter: Quarter) -> int:
    """What was paid (matched payments) for the quarter's months, in øre."""
    periods = [str(month) for month in quarter.months]
    paid = select(func.coalesce(func.sum(Payment.amount_ore), 0)).where(Payment.period.in_(periods))
    return int(db.session.scalar(paid))


@dataclass(frozen=True)
class PoolChoice:
    pool_ore: int
    source: str
    paid_ore: int | None = None

    @property
    def source_label(self) -> str:
        return str(POOL_SOURCES[self.source])


def resolve_pool(quarter: Quarter, policy: RefundPolicy, given_ore: int | None = None) -> PoolChoice:
    """The quarter's pool: given > set for the quarter > the policy's fixed amount > its share of the dues paid."""
    if given_ore is not None:
        choice = PoolChoice(int(given_ore), POOL_GIVEN)
    else:
        pool = db.session.scalars(select(RefundPool).where(RefundPool.quarter == str(quarter))).first()
        if pool is not None:
            choice = PoolChoice(pool.pool_ore, POOL_QUARTER)
        elif policy.pool_ore is not None:
            choice = PoolChoice(policy.pool_ore, POOL_FIXED)
        elif policy.pool_percent is not None:
            paid = dues_paid(quarter)
            # Whole øre, rounded down: the pool never exceeds the share.
            choice = PoolChoice(paid * _hundredths(policy.pool_percent) // 10_000, POOL_PAID_SHARE, paid)
        else:
            raise RefundError(_(
                "Pool: there is no pool for %(quarter)s: set an amount for the quarter, or a fixed amount or a share "
                "of the dues paid in the policy, or give one.", quarter=period_label(quarter)))
    if choice.pool_ore < 0:
        raise RefundError(_("Pool: must be 0 or more."))
    return choice


def set_pool(quarter: Quarter, pool_ore: int, note: str | None = None) -> RefundPool:
    """Set (or change) the pool of a quarter. The caller commits."""
    if pool_ore < 0:
        raise RefundError(_("Pool: must be 0 or more."))
    pool = db.session.scalars(select(RefundPool).where(RefundPool.quarter == str(quarter))).first()
    if pool is None:
        pool = RefundPool(quarter=str(quarter))
        db.session.add(pool)
    pool.pool_ore, pool.note = int(pool_ore), note
    return pool


# ------------------------------------------------------------------ the calculation (pure)


def _hundredths(value: Decimal | float | str) -> int:
    """A percentage or weight with two decimals as a whole number of hundredths."""
    return int((Decimal(str(value)) * 100).to_integral_value())


@dataclass(frozen=True)
class Terms:
    """The policy's split by level (percent) and weights per member category."""

    shares: Mapping[OrgLevel, Decimal]
    weights: Mapping[MemberCategory, Decimal]

    @classmethod
    def from_policy(cls, policy: RefundPolicy) -> Terms:
        return cls(
            shares={level: policy.share_for(level) for level in REFUND_LEVELS},
            weights={category: policy.weight_for(category) for category in MemberCategory},
        )

    @property
    def counted_categories(self) -> list[MemberCategory]:
        return [category for category in MemberCategory if self.weights.get(category, 0) > 0]


@dataclass(frozen=True)
class TreeUnit:
    id: int
    parent_id: int | None
    code: str
    name: str
    level: OrgLevel
    receives_refunds: bool = True
    bank_account: str | None = None


@dataclass(frozen=True)
class MonthCount:
    """Counted members of one category with one home unit, and their member-months."""

    unit_id: int
    category: MemberCategory
    members: int
    member_months: int


@dataclass
class UnitRefund:
    unit: TreeUnit
    months: dict[MemberCategory, int] = field(default_factory=dict)
    member_count: int = 0
    weighted_hundredths: int = 0
    level_share_percent: Decimal = Decimal(0)
    level_pool_ore: int = 0
    level_weighted_hundredths: int = 0
    amount_ore: int = 0

    @property
    def member_months(self) -> int:
        return sum(self.months.values())

    @property
    def weighted_months(self) -> Decimal:
        return Decimal(self.weighted_hundredths) / 100

    @property
    def level_weighted_months(self) -> Decimal:
        return Decimal(self.level_weighted_hundredths) / 100


@dataclass
class Distribution:
    pool_ore: int
    units: dict[int, UnitRefund]
    level_amounts: dict[OrgLevel, int]

    @property
    def total_ore(self) -> int:
        return sum(unit.amount_ore for unit in self.units.values())


def largest_remainder(total: int, weights: Mapping[Hashable, int], tiebreak: Callable[[Any], Any]) -> dict:
    """Split `total` whole units in proportion to integer `weights`; the parts add up to `total` exactly.

    Each key gets the whole part of its quota; the units left over go one each
    to the largest remainders, equal remainders in `tiebreak` order.
    """
    parts = {key: 0 for key in weights}
    whole = sum(weight for weight in weights.values() if weight > 0)
    if total <= 0 or whole == 0:
        return parts
    remainders = []
    for key, weight in weights.items():
        if weight <= 0:
            continue
        parts[key], remainder = divmod(total * weight, whole)
        remainders.append((-remainder, tiebreak(key), key))
    left = total - sum(parts.values())
    for _remainder, _order, key in sorted(remainders, key=lambda item: (item[0], item[1]))[:left]:
        parts[key] += 1
    return parts


def distribute(pool_ore: int, units: Iterable[TreeUnit], counts: Iterable[MonthCount], terms: Terms) -> Distribution:
    """The pool split over the units: by level, then by weighted member-months under each unit."""
    if pool_ore < 0:
        raise RefundError(_("Pool: must be 0 or more."))
    by_id = {unit.id: unit for unit in units}
    result = {unit.id: UnitRefund(unit) for unit in by_id.values() if unit.level in REFUND_LEVELS}
    _add_member_months(result, by_id, counts, terms)

    eligible: dict[OrgLevel, dict[int, int]] = {level: {} for level in REFUND_LEVELS}
    for unit_id, refund in result.items():
        if refund.unit.receives_refunds and refund.weighted_hundredths > 0:
            eligible[refund.unit.level][unit_id] = refund.weighted_hundredths
    level_weights = {
        level: _hundredths(terms.shares.get(level, 0))
        for level in REFUND_LEVELS
        if _hundredths(terms.shares.get(level, 0)) > 0 and eligible[level]
    }
    if pool_ore > 0 and not level_weights:
        raise RefundError(_("Members: no member-months are counted for any unit that receives refunds; "
                            "there is nothing to share the pool with."))
    level_amounts = largest_remainder(pool_ore, level_weights, REFUND_LEVELS.index)
    for level in REFUND_LEVELS:
        _split_level(level, level_amounts.get(level, 0), eligible[level], result, by_id, terms)
    return Distribution(pool_ore, result, {level: level_amounts.get(level, 0) for level in REFUND_LEVELS})


def _sharing_chain(unit_id: int, by_id: Mapping[int, TreeUnit], sharing: Mapping[int, UnitRefund]) -> list[int]:
    """The unit and the units above it that share the pool (guarded against a cycle)."""
    found, seen, node = [], set(), by_id.get(unit_id)
    while node is not None and node.id not in seen:
        seen.add(node.id)
        if node.id in sharing:
            found.append(node.id)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    return found


def _add_member_months(result: dict[int, UnitRefund], by_id: Mapping[int, TreeUnit], counts: Iterable[MonthCount],
                       terms: Terms) -> None:
    """Each count's member-months, weighted by category, to its home unit and every sharing unit above it."""
    chains: dict[int, list[int]] = {}
    weights = {category: _hundredths(weight) for category, weight in terms.weights.items()}
    for count in counts:
        weight = weights.get(count.category, 0)
        if weight <= 0 or count.member_months <= 0:
            continue
        if count.unit_id not in chains:
            chains[count.unit_id] = _sharing_chain(count.unit_id, by_id, result)
        for unit_id in chains[count.unit_id]:
            refund = result[unit_id]
            refund.months[count.category] = refund.months.get(count.category, 0) + count.member_months
            refund.member_count += count.members
            refund.weighted_hundredths += count.member_months * weight


def _split_level(level: OrgLevel, amount: int, eligible: dict[int, int], result: dict[int, UnitRefund],
                 by_id: Mapping[int, TreeUnit], terms: Terms) -> None:
    """The level's amount over its eligible units by weighted member-months; every unit of the level shows the
    level's figures."""
    level_total = sum(eligible.values())
    parts = largest_remainder(amount, eligible, lambda unit_id: (by_id[unit_id].code, unit_id))
    for unit_id, refund in result.items():
        if refund.unit.level != level:
            continue
        refund.level_share_percent = Decimal(terms.shares.get(level, 0))
        refund.level_pool_ore = amount
        refund.level_weighted_hundredths = level_total
        refund.amount_ore = parts.get(unit_id, 0)


# ------------------------------------------------------------------ calculate and approve (stored)


def get_run(quarter: Quarter) -> RefundRun | None:
    return db.session.scalars(select(RefundRun).where(RefundRun.quarter == str(quarter))).first()


def _locked_run(quarter: Quarter) -> RefundRun | None:
    """The quarter's run, locked for this transaction (SELECT ... FOR UPDATE): a recalculation and an
    approval of the same quarter happen one after the other, the later one seeing the status left by the first."""
    run = get_run(quarter)
    return transitions.lock(RefundRun, run.id) if run is not None else None


def _months_counted(quarter: Quarter):
    """SQL: how many of the quarter's months the periodized membership covers (0 to 3)."""
    cases = [case((active_member_in_month_clause(month), 1), else_=0) for month in quarter.months]
    return reduce(operator.add, cases)


def counted_member_select(quarter: Quarter, terms: Terms):
    """SQL: the members the quarter counts, as (unit_id, member_id, member_no, name, category, months): those of a
    counted category whose periodized membership covers at least one of its months, under their home unit.

    The one rule of who is counted: the calculation groups it, the approval stores it, a draft's lists show it."""
    months = _months_counted(quarter)
    first, last = quarter.months[0], quarter.months[-1]
    return (
        select(
            Member.home_unit_id.label("unit_id"),
            Member.id.label("member_id"),
            Member.member_no.label("member_no"),
            (Member.last_name + ", " + Member.first_name).label("name"),
            Member.category.label("category"),
            months.label("months"),
        )
        .where(
            Member.category.in_(terms.counted_categories),
            active_member_between_clause(first, last),
            months > 0,
        )
    )


SNAPSHOT_COLUMNS = ("unit_id", "member_id", "member_no", "name", "category", "months")


def run_members(run: RefundRun):
    """The members a run counts, as a subquery with the columns of `counted_member_select`: an approved run's
    snapshot, or for a draft the members the register counts now."""
    if run.status == RefundStatus.approved:
        snapshot = select(*(getattr(RefundMember, column) for column in SNAPSHOT_COLUMNS))
        return snapshot.where(RefundMember.run_id == run.id).subquery("counted")
    return counted_member_select(Quarter.parse(run.quarter), run_terms(run)).subquery("counted")


def run_terms(run: RefundRun) -> Terms:
    """The terms the run was calculated with: its policy (the one in force for the quarter when it is gone)."""
    policy = db.session.scalars(select(RefundPolicy).where(RefundPolicy.valid_from == run.policy_valid_from)).first()
    return Terms.from_policy(policy if policy is not None else policy_for(Quarter.parse(run.quarter)))


def month_counts(members) -> list[MonthCount]:
    """Members and member-months per home unit and category of `members` (`run_members` or a subquery of
    `counted_member_select`), in one grouped query."""
    rows = db.session.execute(
        select(members.c.unit_id, members.c.category, func.count(), func.sum(members.c.months))
        .group_by(members.c.unit_id, members.c.category)
    ).all()
    return [MonthCount(unit_id, category, int(count), int(months)) for unit_id, category, count, months in rows]


def _store_snapshot(run: RefundRun, quarter: Quarter, terms: Terms) -> None:
    """Copy the counted members into the run in one INSERT ... SELECT."""
    # Only a draft calculated before the snapshot moved to the approval can have rows here.
    db.session.execute(delete(RefundMember).where(RefundMember.run_id == run.id))
    counted = counted_member_select(quarter, terms).subquery()
    db.session.execute(insert(RefundMember).from_select(
        ["run_id", *SNAPSHOT_COLUMNS], select(literal(run.id), *(counted.c[column] for column in SNAPSHOT_COLUMNS))
    ))


def _stored_tree(run_id: int) -> list[TreeUnit]:
    """The run's units as the tree was when it was calculated."""
    rows = db.session.execute(
        select(RefundUnit.org_unit_id, RefundUnit.parent_unit_id, RefundUnit.code, RefundUnit.name, RefundUnit.level,
               RefundUnit.receives_refunds, RefundUnit.bank_account).where(RefundUnit.run_id == run_id)
    ).all()
    return [TreeUnit(*row) for row in rows]


def _stored_figures(run_id: int) -> dict[int, tuple[int, dict[MemberCategory, int]]]:
    """Per unit of the run: the members counted under it and its member-months per category, as stored."""
    figures = {unit_id: (members, {}) for unit_id, members in db.session.execute(
        select(RefundUnit.org_unit_id, RefundUnit.member_count).where(RefundUnit.run_id == run_id)).all()}
    for unit_id, category, months in db.session.execute(
        select(RefundUnit.org_unit_id, RefundUnitCategory.category, RefundUnitCategory.member_months)
        .join(RefundUnit, RefundUnit.id == RefundUnitCategory.refund_unit_id).where(RefundUnit.run_id == run_id)
    ).all():
        figures[unit_id][1][category] = months
    return figures


def _snapshot_gives_the_figures(run: RefundRun, terms: Terms) -> bool:
    """Whether the run's stored snapshot counts the members and member-months the calculation stored: in all, and
    per unit and category (each member counted for their home unit and the units above it, as calculated)."""
    counts = month_counts(run_members(run))
    totals = (sum(count.members for count in counts), sum(count.member_months for count in counts))
    if totals != (run.member_count, run.member_months):
        return False
    counted = distribute(0, _stored_tree(run.id), counts, terms).units
    return _stored_figures(run.id) == {
        unit_id: (refund.member_count, {category: months for category, months in refund.months.items() if months})
        for unit_id, refund in counted.items()
    }


def load_tree() -> list[TreeUnit]:
    rows = db.session.execute(
        select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.code, OrgUnit.name, OrgUnit.level, OrgUnit.receives_refunds,
               OrgUnit.bank_account)
    ).all()
    return [TreeUnit(*row) for row in rows]


def _clear_run(run_id: int) -> None:
    db.session.execute(
        delete(RefundUnitCategory).where(
            RefundUnitCategory.refund_unit_id.in_(select(RefundUnit.id).where(RefundUnit.run_id == run_id))
        )
    )
    db.session.execute(delete(RefundUnit).where(RefundUnit.run_id == run_id))
    # A draft has no snapshot; only one calculated before the snapshot moved to the approval can have rows here.
    db.session.execute(delete(RefundMember).where(RefundMember.run_id == run_id))


def _store_units(run: RefundRun, distribution: Distribution, terms: Terms) -> None:
    refunds = sorted(distribution.units.values(), key=lambda refund: refund.unit.code)
    unit_rows = [
        {
            "run_id": run.id,
            "org_unit_id": refund.unit.id,
            "parent_unit_id": refund.unit.parent_id,
            "code": refund.unit.code,
            "name": refund.unit.name,
            "level": refund.unit.level,
            "bank_account": refund.unit.bank_account,
            "receives_refunds": bool(refund.unit.receives_refunds),
            "member_count": refund.member_count,
            "member_months": refund.member_months,
            "weighted_months": refund.weighted_months,
            "level_share_percent": refund.level_share_percent,
            "level_pool_ore": refund.level_pool_ore,
            "level_weighted_months": refund.level_weighted_months,
            "amount_ore": refund.amount_ore,
        }
        for refund in refunds
    ]
    if not unit_rows:
        return
    # Through the tables, not the ORM classes (which split the rows into a statement per pattern of None values),
    # and without RETURNING: an executemany of one small statement, where psycopg would parse a statement with all
    # the rows' parameters in it. The new rows' ids are read back by unit.
    db.session.execute(insert(RefundUnit.__table__), unit_rows)
    ids = dict(db.session.execute(
        select(RefundUnit.org_unit_id, RefundUnit.id).where(RefundUnit.run_id == run.id)).all())
    category_rows = [
        {"refund_unit_id": ids[refund.unit.id], "category": category, "member_months": months,
         "weight": terms.weights[category]}
        for refund in refunds
        for category in MemberCategory
        if (months := refund.months.get(category, 0)) > 0
    ]
    if category_rows:
        db.session.execute(insert(RefundUnitCategory.__table__), category_rows)


def calculate(quarter: Quarter, pool_ore: int | None = None, actor: str = "cli",
              now: dt.datetime | None = None) -> RefundRun:
    """Calculate the quarter's refund as a draft (again, if a draft exists). Refused once approved.

    All or nothing: on any error nothing is written.
    """
    try:
        run = _locked_run(quarter)
        if run is not None and run.status == RefundStatus.approved:
            raise RefundError(_("Quarter: %(quarter)s is approved and frozen; it cannot be calculated again.",
                                quarter=period_label(quarter)))
        policy = policy_for(quarter)
        terms = Terms.from_policy(policy)
        pool = resolve_pool(quarter, policy, pool_ore)
        if run is None:
            run = RefundRun(quarter=str(quarter), status=RefundStatus.draft)
            db.session.add(run)
        else:
            _clear_run(run.id)
        run.pool_ore, run.pool_source, run.paid_ore = pool.pool_ore, pool.source, pool.paid_ore
        run.policy_valid_from = policy.valid_from
        run.calculated_at = now or dt.datetime.now().replace(microsecond=0)
        run.calculated_by = actor
        db.session.flush()

        counts = month_counts(counted_member_select(quarter, terms).subquery())
        distribution = distribute(pool.pool_ore, load_tree(), counts, terms)
        _store_units(run, distribution, terms)
        run.member_count = sum(count.members for count in counts)
        run.member_months = sum(count.member_months for count in counts)
        audit.record("refund_calculate", "refund_run", run.id, quarter=str(quarter), pool_ore=pool.pool_ore,
                     pool_source=pool.source, members=run.member_count)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise RefundError(_("Quarter: %(quarter)s was calculated by someone else at the same time; try again.",
                            quarter=period_label(quarter))) from None
    except BaseException:
        db.session.rollback()
        raise
    return run


def approve(quarter: Quarter, actor: str = "cli", now: dt.datetime | None = None) -> tuple[RefundRun, bool]:
    """Freeze the quarter's draft. Returns (run, True) when it was approved now, (run, False) when it already was.

    One conditional update: of concurrent approvals exactly one is "approved now", and an approval
    waits for a recalculation in progress (which holds the run's row lock) and then freezes its figures.
    The winner stores the counted members (the snapshot the documents list) and checks that they give the
    draft's figures; when the register has changed since the calculation nothing is approved (RefundError)."""
    run = get_run(quarter)
    if run is None:
        raise RefundError(_("Quarter: %(quarter)s has not been calculated; calculate it first.",
                            quarter=period_label(quarter)))
    try:
        approved_now = transitions.claim(RefundRun, run.id, RefundStatus.draft, status=RefundStatus.approved,
                                         approved_at=now or dt.datetime.now().replace(microsecond=0),
                                         approved_by=actor)
        if not approved_now:
            db.session.rollback()
            return run, False
        db.session.refresh(run)  # the figures as frozen: a recalculation may have committed while we waited
        terms = run_terms(run)
        _store_snapshot(run, quarter, terms)
        if not _snapshot_gives_the_figures(run, terms):
            raise RefundError(_(
                "Quarter: %(quarter)s: the member register has changed since the calculation (%(when)s); "
                "calculate the quarter again before approving.",
                quarter=period_label(quarter), when=run.calculated_at.strftime("%d.%m.%Y %H:%M")))
        audit.record("refund_approve", "refund_run", run.id, quarter=str(quarter), pool_ore=run.pool_ore)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return run, True


def discard_draft(quarter: Quarter) -> bool:
    """Remove the quarter's draft with everything calculated for it. An approved quarter is never removed."""
    run = _locked_run(quarter)
    if run is None:
        return False
    if run.status == RefundStatus.approved:
        raise RefundError(_("Quarter: %(quarter)s is approved and frozen; it cannot be discarded.",
                            quarter=period_label(quarter)))
    _clear_run(run.id)
    db.session.execute(delete(RefundRun).where(RefundRun.id == run.id))
    audit.record("refund_discard", "refund_run", run.id, quarter=str(quarter))
    db.session.commit()
    return True


# ------------------------------------------------------------------ reading runs (screens, notebook, documents)


def runs() -> list[RefundRun]:
    return db.session.scalars(select(RefundRun).order_by(RefundRun.quarter.desc())).all()


def unit_rows(run_id: int) -> list[RefundUnit]:
    return db.session.scalars(
        select(RefundUnit).where(RefundUnit.run_id == run_id).order_by(RefundUnit.level, RefundUnit.code)
    ).all()


def level_summary(run_id: int) -> list[dict]:
    """Per level: its share of the pool, the units that received something and the amount."""
    rows = db.session.execute(
        select(
            RefundUnit.level,
            func.max(RefundUnit.level_share_percent),
            func.max(RefundUnit.level_pool_ore),
            func.sum(case((RefundUnit.amount_ore > 0, 1), else_=0)),
            func.coalesce(func.sum(RefundUnit.amount_ore), 0),
        )
        .where(RefundUnit.run_id == run_id)
        .group_by(RefundUnit.level)
    ).all()
    found = {level: (percent, pool, units, amount) for level, percent, pool, units, amount in rows}
    return [
        {"level": level, "share_percent": Decimal(found[level][0] or 0), "level_pool_ore": int(found[level][1] or 0),
         "units": int(found[level][2] or 0), "amount_ore": int(found[level][3] or 0)}
        for level in REFUND_LEVELS
        if level in found
    ]


def compare_with_previous(quarter: Quarter) -> list[dict]:
    """Per unit: this quarter's amount, the previous quarter's and the change (both runs as stored)."""
    current, previous = get_run(quarter), get_run(quarter.previous)
    if current is None:
        return []
    before = {}
    if previous is not None:
        before = dict(db.session.execute(
            select(RefundUnit.org_unit_id, RefundUnit.amount_ore).where(RefundUnit.run_id == previous.id)
        ).all())
    rows = []
    for unit in unit_rows(current.id):
        old = before.get(unit.org_unit_id, 0)
        rows.append({"code": unit.code, "name": unit.name, "level": unit.level, "amount_ore": unit.amount_ore,
                     "previous_ore": old, "change_ore": unit.amount_ore - old})
    return rows


def largest_changes(quarter: Quarter, count: int = 10) -> list[dict]:
    """The units whose amount moved most against the previous quarter, largest move first."""
    rows = compare_with_previous(quarter)
    return sorted(rows, key=lambda row: (-abs(row["change_ore"]), row["code"]))[:count]


def unit_documents(org_unit_id: int) -> list[RefundUnit]:
    """The unit's refund documents: one letter and one list per approved quarter it received refunds in."""
    return db.session.scalars(
        select(RefundUnit)
        .join(RefundRun, RefundRun.id == RefundUnit.run_id)
        .where(RefundUnit.org_unit_id == org_unit_id, RefundUnit.receives_refunds.is_(True),
               RefundRun.status == RefundStatus.approved)
        .order_by(RefundRun.quarter.desc())
    ).all()


def snapshot_subtree(refund_unit: RefundUnit) -> set[int]:
    """The unit and the units below it as the tree was when the run was calculated."""
    rows = db.session.execute(
        select(RefundUnit.org_unit_id, RefundUnit.parent_unit_id).where(RefundUnit.run_id == refund_unit.run_id)
    ).all()
    children: dict[int, list[int]] = defaultdict(list)
    for unit_id, parent_id in rows:
        children[parent_id].append(unit_id)
    found, stack = set(), [refund_unit.org_unit_id]
    while stack:
        unit_id = stack.pop()
        if unit_id not in found:
            found.add(unit_id)
            stack.extend(children.get(unit_id, []))
    return found


def unit_member_select(refund_unit: RefundUnit):
    """SQL: the members counted for the unit (its snapshot subtree: the unit and those below it as the tree was when
    calculated) as (unit_code, unit_name, member_no, name, category, months), by home unit and name. An approved
    run's from its snapshot, a draft's from the register now (`run_members`)."""
    subtree = sorted(snapshot_subtree(refund_unit))
    members = run_members(refund_unit.run)
    return (
        select(RefundUnit.code.label("unit_code"), RefundUnit.name.label("unit_name"), members.c.member_no,
               members.c.name, members.c.category, members.c.months)
        .join(RefundUnit, (RefundUnit.run_id == refund_unit.run_id) & (RefundUnit.org_unit_id == members.c.unit_id))
        .where(members.c.unit_id.in_(subtree))
        .order_by(RefundUnit.code, members.c.name, members.c.member_no)
    )


def counted_members(refund_unit: RefundUnit) -> list:
    """The members counted for the unit, by home unit and name (the rows of `unit_member_select`)."""
    return db.session.execute(unit_member_select(refund_unit)).all()
