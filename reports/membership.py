"""Membership reports as plain functions over the database: LO / LO Stat, the employer associations and the
membership development over time. The CLI, the screens, the benchmark and the notebooks all call these.

Who counts at a date D: an active member on D (webapp.services.membership, the rule the statistics page
uses too): a member whose periodized membership covers D. A join counts from the 1st of the
next month (the same day when it is a 1st) and a leave until the end of its month (webapp.services.periods),
so "the periodized membership covers D" is exactly "it covers the month of D": a report for any day of a
month gives that month's figures, the same member set the deduction basis and the refunds count. Employments
are periodized the same way. Members are counted whatever their category (retired and students included),
by the category they have now: the register keeps no history of categories.

Every figure comes from grouped queries: the LO report reads one row per combination of its dimensions, and
each breakdown is a sum over those rows, so every breakdown adds up to the same total by construction.
No report holds a member row or a national id.

The LO report also carries the month-by-month movements of its quarter up to the report date's month (joins,
leaves by reason, transfers in and out: webapp.services.lifecycle_stats, counted by the registered dates).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, distinct, exists, func, select

from webapp.extensions import db
from webapp.models import Employer, Employment, Member, OrgUnit, Workplace
from webapp.models.choices import EmployerAssociation, Gender, LeaveReason, MemberCategory, OrgLevel, Sector
from webapp.services.bounds import FIRST_DATE
from webapp.services.lifecycle_stats import MonthMovements, monthly_movements, reasons_in
from webapp.services.membership import (
    active_member_between_clause,
    active_member_clause,
    active_member_in_month_clause,
    employment_counted_clause,
    main_employment_rank,
)
from webapp.services.periods import Month
from webapp.services.statistics import national_association_of_units

UNKNOWN = "unknown"
NO_ASSOCIATION = "none"

# (lowest age, code, label), youngest first. A member's age is their age on the report date.
AGE_BANDS = (
    (0, "under_20", _l("Under 20")),
    (20, "20_29", "20–29"),
    (30, "30_39", "30–39"),
    (40, "40_49", "40–49"),
    (50, "50_59", "50–59"),
    (60, "60_66", "60–66"),
    (67, "67_plus", _l("67 and over")),
)

# The breakdowns of the LO report, in the order the files show them.
BREAKDOWNS = (
    ("category", _l("Category")),
    ("gender", _l("Gender")),
    ("age_band", _l("Age band")),
    ("county", _l("County")),
    ("sector", _l("Sector")),
    ("org_unit", _l("National association")),
)
BREAKDOWN_LABELS = dict(BREAKDOWNS)

# The employer associations that receive a report (not "none").
REPORTED_ASSOCIATIONS = tuple(a for a in EmployerAssociation if a is not EmployerAssociation.none)


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ReportError(ValueError):
    """Bad input to a report: the message names the field and the rule."""


def parse_date(text: str, field_name: str = "date", today: dt.date | None = None) -> dt.date:
    """A report date: YYYY-MM-DD, today or earlier (a report counts the members there are, not those to come),
    and not before 1900 (no member record is that old)."""
    today = today or dt.date.today()
    cleaned = str(text or "").strip()
    try:
        if not _DATE_RE.match(cleaned):  # fromisoformat also takes 20260101 and week dates
            raise ValueError(cleaned)
        day = dt.date.fromisoformat(cleaned)
    except ValueError:
        raise ReportError(f"{field_name}: '{text}' is not a date of the form YYYY-MM-DD") from None
    if day > today:
        raise ReportError(f"{field_name}: {day} is in the future; "
                          "a report counts the members at today's date or earlier")
    if day < FIRST_DATE:
        raise ReportError(f"{field_name}: {day} is before {FIRST_DATE}; no member record is that old")
    return day


def parse_association(text: str, field_name: str = "association") -> EmployerAssociation:
    """An employer association by code or name, in any case: 'spekter', 'NHO', 'Staten'."""
    wanted = str(text or "").strip().lower()
    for association in REPORTED_ASSOCIATIONS:
        if wanted in (association.name, str(association.label).lower()):
            return association
    names = ", ".join(a.name for a in REPORTED_ASSOCIATIONS)
    raise ReportError(f"{field_name}: '{text}' is not an employer association (one of {names})")


_NORWEGIAN_LAST = str.maketrans({"Æ": "\uffff1", "Ø": "\uffff2", "Å": "\uffff3", "æ": "\uffff1", "ø": "\uffff2",
                                 "å": "\uffff3"})


def norwegian_order(text: str) -> str:
    """A sort key that puts Æ, Ø and Å after Z, in that order, as Norwegian does."""
    return text.translate(_NORWEGIAN_LAST)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February: someone born on it turns a year older on 1 March
        return day.replace(year=day.year - years, day=28)


def age_band_expression(day: dt.date):
    """SQL CASE giving the age band code of a member on `day`, by comparing the birth date with cut-off dates."""
    whens = [(Member.birth_date.is_(None), UNKNOWN)]
    for low, code, _label in reversed(AGE_BANDS[1:]):
        whens.append((Member.birth_date <= _years_before(day, low), code))
    return case(*whens, else_=AGE_BANDS[0][1])


def main_employment_subquery(day: dt.date):
    """Each member's main employment on `day` with its county and sector, by the main-employment rule
    (webapp.services.membership, the rule the deduction basis uses to place the fixed amounts)."""
    ranked = (
        select(Employment.member_id, Workplace.county, Employer.sector, main_employment_rank().label("rank"))
        .join(Workplace, Workplace.id == Employment.workplace_id)
        .join(Employer, Employer.id == Employment.employer_id)
        .where(employment_counted_clause(day))
        .subquery("ranked_employment")
    )
    return (
        select(ranked.c.member_id, ranked.c.county, ranked.c.sector)
        .where(ranked.c.rank == 1)
        .subquery("main_employment")
    )


# ------------------------------------------------------------------ LO / LO Stat


@dataclass(frozen=True)
class Group:
    code: str
    label: str
    members: int


@dataclass
class LoReport:
    """Every breakdown covers every counted member (unknown groups included), so each sums to `total`:
    screens and files show `total` as each breakdown's total rather than summing again."""

    day: dt.date
    total: int
    breakdowns: dict[str, list[Group]]
    # The months of the report's quarter up to the report date's month (movement_months), each with its movements.
    movements: list[MonthMovements] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(_l("Membership report to LO / LO Stat"))

    @property
    def leave_reasons(self) -> list[LeaveReason | None]:
        """The rows of the leaves by reason: every reason (a report lists them even when none left for it), and
        'no reason recorded' when some leave has none."""
        return list(LeaveReason) + ([None] if None in reasons_in(self.movements) else [])

    def group_rows(self) -> list[tuple[str, str, str, int]]:
        """(breakdown, code, label, members) for every group, breakdown by breakdown."""
        return [(name, g.code, g.label, g.members) for name, _label in BREAKDOWNS for g in self.breakdowns[name]]


def _membership_cube(day: dt.date) -> list:
    """One row per combination of the report's dimensions with its member count."""
    main = main_employment_subquery(day)
    per_member = (
        select(
            Member.category.label("category"),
            Member.gender.label("gender"),
            age_band_expression(day).label("age_band"),
            main.c.county.label("county"),
            main.c.sector.label("sector"),
            Member.home_unit_id.label("home_unit_id"),
        )
        .outerjoin(main, main.c.member_id == Member.id)
        .where(active_member_clause(day))
        .subquery("counted_member")
    )
    dimensions = [per_member.c[name] for name in ("category", "gender", "age_band", "county", "sector", "home_unit_id")]
    return db.session.execute(select(*dimensions, func.count().label("members")).group_by(*dimensions)).all()


def _groups(counts: Counter, ordered: list[tuple[str, str]]) -> list[Group]:
    """Groups in the given order (listed even when empty), then any others, then 'unknown' when there are any."""
    listed = {code for code, _label in ordered}
    groups = [Group(code, str(label), counts.get(code, 0)) for code, label in ordered]
    extra = sorted(code for code in counts if code not in listed and code != UNKNOWN)
    groups += [Group(code, code, counts[code]) for code in extra]
    if counts.get(UNKNOWN):
        groups.append(Group(UNKNOWN, str(_l("Unknown")), counts[UNKNOWN]))
    return groups


def lo_report(day: dt.date) -> LoReport:
    """Members counted at `day` by category, gender, age band, county, sector and national association."""
    association_of = national_association_of_units()
    counters: dict[str, Counter] = {name: Counter() for name, _label in BREAKDOWNS}
    total = 0
    for row in _membership_cube(day):
        members = row.members
        total += members
        counters["category"][row.category.name] += members
        counters["gender"][row.gender.name if row.gender else UNKNOWN] += members
        counters["age_band"][row.age_band] += members
        counters["county"][row.county or UNKNOWN] += members
        counters["sector"][row.sector.name if row.sector else UNKNOWN] += members
        association = association_of.get(row.home_unit_id)
        counters["org_unit"][association[1] if association else NO_ASSOCIATION] += members

    counties = db.session.scalars(select(Workplace.county).distinct().where(Workplace.county.is_not(None))).all()
    associations = db.session.execute(
        select(OrgUnit.code, OrgUnit.name).where(OrgUnit.level == OrgLevel.national_association).order_by(OrgUnit.code)
    ).all()
    unit_order = [(code, f"{code} {name}") for code, name in associations]
    if counters["org_unit"].get(NO_ASSOCIATION):
        unit_order.append((NO_ASSOCIATION, str(_l("No national association (union level)"))))
    breakdowns = {
        "category": _groups(counters["category"], MemberCategory.choices()),
        "gender": _groups(counters["gender"], Gender.choices()),
        "age_band": _groups(counters["age_band"], [(code, label) for _low, code, label in AGE_BANDS]),
        "county": _groups(counters["county"], [(county, county) for county in sorted(counties, key=norwegian_order)]),
        "sector": _groups(counters["sector"], Sector.choices()),
        "org_unit": _groups(counters["org_unit"], unit_order),
    }
    return LoReport(day=day, total=total, breakdowns=breakdowns, movements=monthly_movements(*movement_months(day)))


def movement_months(day: dt.date) -> tuple[Month, Month]:
    """The months of the LO report's movements: from the first month of the report date's quarter to the report
    date's month (whole months: a resignation registered for the end of the month counts in it)."""
    month = Month.of(day)
    return month.quarter.months[0], month


def members_counted(day: dt.date) -> int:
    """How many members count at `day`, by a query of its own (to check the reports against)."""
    return db.session.scalar(select(func.count(Member.id)).where(active_member_clause(day))) or 0


# ------------------------------------------------------------------ employer associations


@dataclass(frozen=True)
class EnterpriseRow:
    org_number: str
    name: str
    members: int


@dataclass
class AssociationReport:
    association: EmployerAssociation
    day: dt.date
    rows: list[EnterpriseRow]
    # Members employed at one or more of the enterprises; one employed at two counts once here, at each in rows.
    distinct_members: int

    @property
    def total(self) -> int:
        return sum(row.members for row in self.rows)

    @property
    def title(self) -> str:
        return str(_l("Membership report to %(association)s", association=self.association.label))


def employer_association_report(association: EmployerAssociation, day: dt.date) -> AssociationReport:
    """Per member enterprise of the association: the members employed there at `day` (enterprises with none too).

    Both queries start from the association's enterprises and reach their employments by the employer index
    (SQLite scans every employment when the enterprises are joined to them instead)."""
    member_counted = exists().where(Member.id == Employment.member_id, active_member_clause(day))
    counted_here = and_(Employment.employer_id == Employer.id, employment_counted_clause(day), member_counted)
    rows = db.session.execute(
        select(Employer.org_number, Employer.name, func.count(distinct(Employment.member_id)))
        .select_from(Employer)
        .outerjoin(Employment, counted_here)
        .where(Employer.association == association)
        .group_by(Employer.id, Employer.org_number, Employer.name)
        .order_by(Employer.name, Employer.org_number)
    ).all()
    distinct_members = db.session.scalar(
        select(func.count(distinct(Employment.member_id))).where(
            Employment.employer_id.in_(select(Employer.id).where(Employer.association == association)),
            employment_counted_clause(day),
            member_counted,
        )
    ) or 0
    return AssociationReport(
        association=association,
        day=day,
        rows=[EnterpriseRow(org_number, name, int(members)) for org_number, name, members in rows],
        distinct_members=distinct_members,
    )


# ------------------------------------------------------------------ development over time


@dataclass(frozen=True)
class DevelopmentRow:
    """One month for one category and national association."""

    month: str
    category: str
    org_unit: str
    members: int
    joins: int
    leaves: int

    @property
    def net(self) -> int:
        return self.joins - self.leaves


def membership_development(first: Month, last: Month) -> list[DevelopmentRow]:
    """Members, joins and leaves per month from `first` to `last`, by category and national association.

    Periodized: a member joins in the first month their membership covers and leaves in the first month it
    no longer covers, so members(M) - members(M-1) = joins(M) - leaves(M) for every group.
    """
    if last < first:
        raise ReportError(f"months: {last} is before {first}")
    months: list[Month] = []
    month = first
    while month <= last:
        months.append(month)
        month = month.next
    columns = []
    for month in months:
        counted = active_member_in_month_clause(month)
        counted_before = active_member_in_month_clause(month.previous)
        joined = counted & (Member.joined_on > month.previous.first_day)
        left = counted_before & Member.left_on.is_not(None) & (Member.left_on < month.first_day)
        columns += [func.sum(case((condition, 1), else_=0)) for condition in (counted, joined, left)]
    touched = active_member_between_clause(first.previous, last)
    rows = db.session.execute(
        select(Member.category, Member.home_unit_id, *columns)
        .where(touched)
        .group_by(Member.category, Member.home_unit_id)
    ).all()
    association_of = national_association_of_units()
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        association = association_of.get(row[1])
        unit = association[1] if association else NO_ASSOCIATION
        for index, month in enumerate(months):
            figures = totals[(str(month), row[0].name, unit)]
            for k in range(3):
                figures[k] += int(row[2 + 3 * index + k] or 0)
    return [
        DevelopmentRow(month, category, unit, *figures)
        for (month, category, unit), figures in sorted(totals.items())
    ]


@dataclass
class DevelopmentSummary:
    month: str
    group: str
    members: int = 0
    joins: int = 0
    leaves: int = 0

    @property
    def net(self) -> int:
        return self.joins - self.leaves

    def as_dict(self) -> dict:
        return {"month": self.month, "group": self.group, "members": self.members, "joins": self.joins,
                "leaves": self.leaves, "net": self.net}


def summarise_development(rows: list[DevelopmentRow], by: str | None = None) -> list[DevelopmentSummary]:
    """The development rows added up per month and `by` ('category', 'org_unit'), or per month alone (None)."""
    if by not in (None, "category", "org_unit"):
        raise ReportError(f"by: '{by}' is not one of category, org_unit")
    labels = {}
    if by == "category":
        labels = {code: str(label) for code, label in MemberCategory.choices()}
    summary: dict[tuple[str, str], DevelopmentSummary] = {}
    for row in rows:
        group = labels.get(getattr(row, by), getattr(row, by)) if by else str(_l("All members"))
        item = summary.setdefault((row.month, group), DevelopmentSummary(row.month, group))
        item.members += row.members
        item.joins += row.joins
        item.leaves += row.leaves
    return [summary[key] for key in sorted(summary)]


# ------------------------------------------------------------------ all of them


@dataclass
class AllReports:
    lo: LoReport
    associations: dict[EmployerAssociation, AssociationReport] = field(default_factory=dict)


def all_reports(day: dt.date) -> AllReports:
    result = AllReports(lo=lo_report(day))
    for association in REPORTED_ASSOCIATIONS:
        result.associations[association] = employer_association_report(association, day)
    return result
