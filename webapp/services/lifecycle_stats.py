"""The movements of the membership per month: joins, leaves by reason, transfers in and out, and the net change.

Counted by the dates the register holds, not periodized: a join in the month of its `joined_on`, a leave in the
month of its `left_on` (a resignation, a transfer out or an ending for non-payment is always the last day of a
month) and a transfer in the month of its `transfer_on`. A re-join counts as a join in the month of the new join
date; the register keeps one pair of dates per member, so the earlier leave of a member who came back no longer
counts (the audit log keeps it). Net change = joins - leaves: a transfer in that brought a new member is already
one of the joins and a transfer out one of the leaves (reason `transferred`); a transfer in registered on an
existing member (their seniority from another LO union) joins no one.

These figures are not the periodized development of reports.membership, where a join counts from the first of
the next month: a join on 15 March is a join of March here and the first month it is counted there is April.

Figures only, never member rows: the notebook, the LO report and the tests call `monthly_movements`. With
`unit_ids` the members are those whose home unit is one of them (an officer's units: pass the subtree of the
units the officer acts for); an empty collection counts no one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, cast, extract, func, select

from webapp.extensions import db
from webapp.models import Member
from webapp.models.choices import LeaveReason, TransferDirection
from webapp.models.lifecycle import MembershipTransfer
from webapp.services.periods import Month

UNKNOWN_REASON = "unknown"
# A range longer than this is refused: no report or notebook shows more than a few decades month by month.
MAX_MONTHS = 600


class MovementsError(ValueError):
    """A bad range of months; the message names the field and the rule."""


@dataclass(frozen=True)
class MonthMovements:
    """One month's movements. `leaves_by_reason` holds the reasons with leaves only; None is a leave registered
    without a reason (older rows)."""

    month: Month
    joins: int = 0
    leaves_by_reason: dict[LeaveReason | None, int] = field(default_factory=dict)
    transfers_in: int = 0
    transfers_out: int = 0

    @property
    def leaves(self) -> int:
        return sum(self.leaves_by_reason.values())

    @property
    def net(self) -> int:
        return self.joins - self.leaves

    def leaves_for(self, reason: LeaveReason | None) -> int:
        return self.leaves_by_reason.get(reason, 0)


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from `first` to `last`, both included."""
    if last < first:
        raise MovementsError(f"months: the last month {last} is before the first month {first}")
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    if count > MAX_MONTHS:
        raise MovementsError(f"months: {first} to {last} is {count} months; at most {MAX_MONTHS} are counted at once")
    return [first.shift(offset) for offset in range(count)]


def _month_index(column):
    """The month of a date column as year * 12 + month - 1 (Month.shift's numbering), in SQL that SQLite
    (strftime) and PostgreSQL (EXTRACT) both compute, so rows group by month in the database."""
    return cast(extract("year", column) * 12 + extract("month", column) - 1, Integer)


def _month_of(index: int) -> Month:
    return Month(index // 12, index % 12 + 1)


def _in_months(column, first: Month, last: Month):
    return column.between(first.first_day, last.last_day)


def _scoped(query, unit_ids: Collection[int] | None):
    return query if unit_ids is None else query.where(Member.home_unit_id.in_(list(unit_ids)))


def monthly_movements(first: Month, last: Month, unit_ids: Collection[int] | None = None) -> list[MonthMovements]:
    """Joins, leaves by reason and transfers in and out for every month from `first` to `last` (months without
    any movement included), for the whole register or the members whose home unit is in `unit_ids`."""
    months = months_between(first, last)
    if unit_ids is not None and not unit_ids:
        return [MonthMovements(month) for month in months]

    joined = _month_index(Member.joined_on)
    joins = db.session.execute(_scoped(
        select(joined, func.count()).where(_in_months(Member.joined_on, first, last)).group_by(joined), unit_ids
    )).all()
    left = _month_index(Member.left_on)
    leaves = db.session.execute(_scoped(
        select(left, Member.leave_reason, func.count())
        .where(Member.left_on.is_not(None), _in_months(Member.left_on, first, last))
        .group_by(left, Member.leave_reason),
        unit_ids,
    )).all()
    moved = _month_index(MembershipTransfer.transfer_on)
    transfers = db.session.execute(_scoped(
        select(moved, MembershipTransfer.direction, func.count())
        .join(Member, Member.id == MembershipTransfer.member_id)
        .where(_in_months(MembershipTransfer.transfer_on, first, last))
        .group_by(moved, MembershipTransfer.direction),
        unit_ids,
    )).all()
    return _assemble(months, joins, leaves, transfers)


def _assemble(months: list[Month], joins, leaves, transfers) -> list[MonthMovements]:
    join_count = {_month_of(index): count for index, count in joins}
    by_reason: dict[Month, dict[LeaveReason | None, int]] = defaultdict(dict)
    for index, reason, count in leaves:
        by_reason[_month_of(index)][reason] = count
    moved: dict[tuple[Month, TransferDirection], int] = {
        (_month_of(index), direction): count for index, direction, count in transfers
    }
    return [
        MonthMovements(
            month=month,
            joins=join_count.get(month, 0),
            leaves_by_reason=_in_reason_order(by_reason.get(month, {})),
            transfers_in=moved.get((month, TransferDirection.incoming), 0),
            transfers_out=moved.get((month, TransferDirection.outgoing), 0),
        )
        for month in months
    ]


def _in_reason_order(counts: dict[LeaveReason | None, int]) -> dict[LeaveReason | None, int]:
    return {reason: counts[reason] for reason in reason_order(counts)}


def reason_order(reasons: Iterable[LeaveReason | None]) -> list[LeaveReason | None]:
    """The reasons in the order of LeaveReason, a leave without a reason last."""
    present = set(reasons)
    return [reason for reason in LeaveReason if reason in present] + ([None] if None in present else [])


def reasons_in(movements: Iterable[MonthMovements]) -> list[LeaveReason | None]:
    """The leave reasons that occur in any of the months, in order: the columns a table of them needs."""
    return reason_order(reason for month in movements for reason in month.leaves_by_reason)


def total(movements: Iterable[MonthMovements]) -> MonthMovements:
    """One or more months added up, as one MonthMovements under the first of them."""
    movements = list(movements)
    reasons: dict[LeaveReason | None, int] = defaultdict(int)
    for month in movements:
        for reason, count in month.leaves_by_reason.items():
            reasons[reason] += count
    return MonthMovements(
        month=movements[0].month,
        joins=sum(month.joins for month in movements),
        leaves_by_reason=_in_reason_order(reasons),
        transfers_in=sum(month.transfers_in for month in movements),
        transfers_out=sum(month.transfers_out for month in movements),
    )


def reason_code(reason: LeaveReason | None) -> str:
    """The reason's code for files ('resigned', ...); 'unknown' for a leave without a reason."""
    return reason.name if reason is not None else UNKNOWN_REASON


def reason_label(reason: LeaveReason | None) -> str:
    """The reason as people read it, in the request's language."""
    return str(reason.label) if reason is not None else str(_l("No reason recorded"))
