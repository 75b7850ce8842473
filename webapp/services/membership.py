"""Who is an active member on a day, and which employment is a member's main one: each rule once.

Active member on a day: the periodized membership covers the day's month (webapp.services.periods.counts_on):
a join counts from the 1st of the next month (the same day when it is a 1st), a leave until the end of its
month. This is the one meaning for every member count: the statistics page, the unit page, the LO report, the
deduction basis and the refunds, so they all give the same number for the same day. We chose the periodized
meaning over "has not left" because the reports to LO and the dues are periodized by rule; a count that
disagreed with them could not be reconciled. Members are counted whatever their category.

Access is not counting: the member's own page is open while the membership is current on the day
(`membership_current_clause`, the dates as entered), as positions and contact links are.

Main employment: of a member's employments counted on a day, the largest position, then the oldest, then
the first registered. `main_employment_order` is that rule as an SQL ordering; the deduction basis reads its
rows in that order and the reports rank by it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_

from webapp.models import Employment, Member
from webapp.services.periods import (
    Month,
    counts_on,
    counts_on_clause,
    covers_month_clause,
    current_on,
    current_on_clause,
)


def is_active_member(member: Member, day: dt.date) -> bool:
    return is_active_membership(member.joined_on, member.left_on, day)


def is_active_membership(joined_on: dt.date | None, left_on: dt.date | None, day: dt.date) -> bool:
    """The same rule over a membership's dates, for rows that are not Member objects yet (the seed's)."""
    return counts_on(joined_on, left_on, day)


def active_member_clause(day: dt.date):
    """SQL: the member is active on `day`."""
    return counts_on_clause(Member.joined_on, Member.left_on, day)


def active_member_in_month_clause(month: Month):
    """SQL: the member is active in `month` (on every day of it: the periodized rule does not change within a month)."""
    return covers_month_clause(Member.joined_on, Member.left_on, month)


def is_membership_current(member: Member, day: dt.date) -> bool:
    """The membership is in force on `day` by its dates as entered (for access, not for counting)."""
    return current_on(member.joined_on, member.left_on, day)


def active_member_between_clause(first: Month, last: Month):
    """SQL: the member is active in at least one month from `first` to `last` (the periodized span overlaps them)."""
    return (Member.joined_on <= last.first_day) & or_(Member.left_on.is_(None), Member.left_on >= first.first_day)


def membership_current_clause(day: dt.date):
    """SQL twin of `is_membership_current`."""
    return current_on_clause(Member.joined_on, Member.left_on, day)


def employment_counted_clause(day: dt.date):
    """SQL: the employment counts on `day` (periodized like the membership)."""
    return counts_on_clause(Employment.start_date, Employment.end_date, day)


def employment_counted_in_month_clause(month: Month):
    return covers_month_clause(Employment.start_date, Employment.end_date, month)


def main_employment_order() -> tuple:
    """The main-employment rule as an ordering of a member's employments: the first is the main one."""
    return (Employment.position_pct.desc(), Employment.start_date, Employment.id)


def main_employment_rank():
    """SQL window: 1 for each member's main employment among the rows selected."""
    return func.row_number().over(partition_by=Employment.member_id, order_by=main_employment_order())
