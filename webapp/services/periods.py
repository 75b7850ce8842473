"""Months (`YYYY-MM`) and quarters (`YYYY-Qn`), parsed in one place, and the periodization rules.

Parsing refuses years outside the register's window (webapp.services.bounds: from 2000 to two years ahead):
a typed period is bounded like every other value. Months built from dates (`Month.of`) are not checked.

Periodization: a join takes effect from the first of the next month (the same
month when it falls on the 1st); a leave at the end of its month. Employment
start and end dates follow the same rule.

Two rules for "on a day", each written once here with a Python and an SQL twin:

- `current_on` / `current_on_clause`: a dated row (position, employment, contact link, membership) is in
  force on a day when it has started and not ended: start <= day <= end, an empty end never ends. The dates
  count as entered. Who may act in which role, and whom a trustee sees, follows this rule.
- `counts_on` / `counts_on_clause`: the periodized rule, for counting: the span counts on a day when it covers
  the day's month. Member counts (statistics, reports, deduction basis, refunds) follow this rule
  (webapp.services.membership).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")


class PeriodError(ValueError):
    pass


class PeriodOutOfRange(PeriodError):
    """A well-formed month or quarter outside the years the register works with (webapp.services.bounds)."""


def _year_and_number(pattern: re.Pattern, text: str, field: str, form: str, described: str) -> tuple[int, int]:
    """The year and the month (or quarter) number of `text` matched by `pattern` (letters in any case); the
    errors name the field, the form and the year window."""
    from webapp.services.bounds import FIRST_PERIOD_YEAR, last_period_year, period_year_allowed

    match = pattern.match(str(text).strip().upper())
    if not match:
        raise PeriodError(f"{field}: '{text}' is not {described}")
    year = int(match.group(1))
    if not period_year_allowed(year):
        raise PeriodOutOfRange(f"{field}: '{text}' ({form}) must lie in the years "
                               f"{FIRST_PERIOD_YEAR} to {last_period_year()}")
    return year, int(match.group(2))


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        return cls(*_year_and_number(_MONTH_RE, text, "period", "YYYY-MM", "a month of the form YYYY-MM"))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def shift(self, months: int) -> Month:
        index = self.year * 12 + (self.month - 1) + months
        return Month(index // 12, index % 12 + 1)

    @property
    def previous(self) -> Month:
        return self.shift(-1)

    @property
    def next(self) -> Month:
        return self.shift(1)

    @property
    def label(self) -> str:
        """As the portal shows it: 2021/03."""
        return f"{self.year:04d}/{self.month:02d}"

    @property
    def quarter(self) -> Quarter:
        return Quarter(self.year, (self.month - 1) // 3 + 1)


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        return cls(*_year_and_number(_QUARTER_RE, text, "quarter", "YYYY-Qn",
                                     "a quarter of the form YYYY-Qn (n = 1 to 4)"))

    def __str__(self) -> str:
        return f"{self.year:04d}-Q{self.number}"

    @property
    def months(self) -> list[Month]:
        first = (self.number - 1) * 3 + 1
        return [Month(self.year, first + i) for i in range(3)]

    @property
    def first_day(self) -> dt.date:
        return self.months[0].first_day

    @property
    def last_day(self) -> dt.date:
        return self.months[-1].last_day

    @property
    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


def period_label(period) -> str:
    """A month or quarter as people read it, in the request's language: '2026-Q3' -> '3. kvartal 2026',
    '2026-07' -> 'juli 2026' (English: 'Q3 2026', 'July 2026'). Codes stay for input, URLs and files; every
    page, PDF and message that shows a period to a person goes through here. Anything else comes back as it is."""
    from flask_babel import format_date, gettext

    if isinstance(period, Month):
        period = str(period)
    elif isinstance(period, Quarter):
        period = str(period)
    text = str(period or "").strip()
    quarter = _QUARTER_RE.match(text.upper())
    if quarter:
        return gettext("Q%(number)s %(year)s", number=int(quarter.group(2)), year=quarter.group(1))
    month = _MONTH_RE.match(text)
    if month:
        return format_date(dt.date(int(month.group(1)), int(month.group(2)), 1), "LLLL y")
    return text


def effective_start(day: dt.date) -> dt.date:
    """The first day a join (or an employment start) counts: the 1st of the next month, or the day itself on a 1st."""
    if day.day == 1:
        return day
    return Month.of(day).next.first_day


def effective_end(day: dt.date) -> dt.date:
    """The last day a leave (or an employment end) counts: the end of its month."""
    return Month.of(day).last_day


def covers_month(start: dt.date | None, end: dt.date | None, month: Month) -> bool:
    """True when the periodized span from `start` to `end` covers the month.

    effective_start(start) <= first day  <=>  start <= first day, and
    effective_end(end) >= last day       <=>  end >= first day,
    which is what `covers_month_clause` says in SQL.
    """
    if start is None:
        return False
    return start <= month.first_day and (end is None or end >= month.first_day)


def covers_month_clause(start_column, end_column, month: Month):
    """SQL: the periodized span of two date columns covers the month.

    The start's comparison holds for most rows (counting is over a register's spans, most of which began before
    the month), so it is kept from the start column's index (`Unindexed`)."""
    from sqlalchemy import or_

    first = month.first_day
    return (Unindexed(start_column) <= first) & or_(end_column.is_(None), end_column >= first)


class Unindexed(FunctionElement):
    """A column compared in a condition that holds for most rows: on SQLite `+column` (its documented way of
    keeping a term from an index), so its planner, which has no histograms and guesses that a range keeps a
    quarter of a table, does not walk an index on the column and read nearly every row through it; the column
    itself elsewhere. The direct payers of a quarter at a million members (the invoice run's candidates): 14.5 s
    through the members' index on the join date, 5.3 s without."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(Unindexed)
def _unindexed(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(Unindexed, "sqlite")
def _unindexed_on_sqlite(element, compiler, **kw):
    return f"+{compiler.process(element.clauses, **kw)}"


def current_on(start: dt.date | None, end: dt.date | None, day: dt.date) -> bool:
    """True when the span from `start` to `end` (both days included, no end: open) holds `day`; no start: never."""
    return start is not None and start <= day and (end is None or end >= day)


def current_on_clause(start_column, end_column, day: dt.date):
    """SQL twin of `current_on` over two date columns (a NULL start never compares true, as in Python)."""
    from sqlalchemy import or_

    return (start_column <= day) & or_(end_column.is_(None), end_column >= day)


def counts_on(start: dt.date | None, end: dt.date | None, day: dt.date) -> bool:
    """True when the periodized span counts on `day`: it covers the month of `day` (joined on the 2nd: from the
    next month; left on any day: to the end of that month)."""
    return covers_month(start, end, Month.of(day))


def counts_on_clause(start_column, end_column, day: dt.date):
    """SQL twin of `counts_on`."""
    return covers_month_clause(start_column, end_column, Month.of(day))


def current_clause(model, day: dt.date):
    """SQL: a row of a dated model (its `start_date` and `end_date`: positions, employments, contact links) is
    current on `day`."""
    return current_on_clause(model.start_date, model.end_date, day)


def current_first(model, day: dt.date):
    """SQL ordering term for display: the rows of a dated model current on `day` before the others."""
    from sqlalchemy import case

    return case((current_clause(model, day), 0), else_=1)


def current_ids(rows, day: dt.date) -> set[int]:
    """The ids of the dated rows (their `start_date` and `end_date`) current on `day`: the Python twin of
    `current_clause`, for screens that show current and past rows side by side."""
    return {row.id for row in rows if current_on(row.start_date, row.end_date, day)}
