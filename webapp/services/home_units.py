"""Which unit a member belongs to, from where they work: one mapping, used when the office approves an
enrollment and when an employment change is registered.

The mapping, first match wins:

1. a workplace → the workplace's own unit (Workplace.org_unit_id, usually its club);
2. an employer → the branch of the employer's HomeUnitRule (for an employer whose workplace is not known);
3. a county → the branch of the county's HomeUnitRule (the county of the member's postcode, for someone
   without an employer or whose employer has no rule).

No match: None, and the office chooses. The office may always choose another unit (an override); every
move is audited with where the unit came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Employment, HomeUnitRule, Member, OrgUnit, Postcode, Workplace
from webapp.models.choices import HomeUnitRuleKind
from webapp.services import audit
from webapp.services.membership import employment_counted_clause, main_employment_order

WORKPLACE, EMPLOYER, COUNTY = "workplace", "employer", "county"


@dataclass(frozen=True)
class MappedUnit:
    org_unit_id: int
    source: str  # WORKPLACE, EMPLOYER or COUNTY: which rule gave it


def county_of_postcode(postcode: str | None) -> str | None:
    if not postcode:
        return None
    return db.session.scalar(select(Postcode.county).where(Postcode.code == postcode))


def _rule_unit(kind: HomeUnitRuleKind, column, value) -> int | None:
    if value is None:
        return None
    return db.session.scalar(select(HomeUnitRule.org_unit_id).where(HomeUnitRule.kind == kind, column == value))


def mapped_unit(workplace_id: int | None = None, employer_id: int | None = None,
                postcode: str | None = None) -> MappedUnit | None:
    """The unit the mapping gives for a workplace, else an employer, else the county of the postcode; None when
    nothing matches."""
    if workplace_id is not None:
        workplace = db.session.get(Workplace, workplace_id)
        if workplace is not None:
            return MappedUnit(workplace.org_unit_id, WORKPLACE)
    unit_id = _rule_unit(HomeUnitRuleKind.employer, HomeUnitRule.employer_id, employer_id)
    if unit_id is not None:
        return MappedUnit(unit_id, EMPLOYER)
    unit_id = _rule_unit(HomeUnitRuleKind.county, HomeUnitRule.county, county_of_postcode(postcode))
    return MappedUnit(unit_id, COUNTY) if unit_id is not None else None


def main_employment(member_id: int, day: dt.date) -> Employment | None:
    """The member's main employment counted on `day` (membership.main_employment_order)."""
    return db.session.scalars(
        select(Employment).where(Employment.member_id == member_id, employment_counted_clause(day))
        .order_by(*main_employment_order()).limit(1)
    ).first()


def unit_for_member(member: Member, day: dt.date) -> MappedUnit | None:
    """Where the mapping puts the member on `day`: by their main employment, else by their postcode."""
    employment = main_employment(member.id, day)
    if employment is not None:
        return mapped_unit(employment.workplace_id, employment.employer_id, member.postcode)
    return mapped_unit(postcode=member.postcode)


def move_member(member: Member, unit_id: int, source: str, reason: str) -> bool:
    """Set the member's home unit (in the caller's transaction), audited with where it came from ("override"
    when the office chose it). False, and nothing written, when the member is there already."""
    if unit_id == member.home_unit_id:
        return False
    if db.session.get(OrgUnit, unit_id) is None:
        raise ValueError(f"no org unit {unit_id}")
    before = member.home_unit_id
    member.home_unit_id = unit_id
    audit.record("home_unit_moved", "member", member.id, member_id=member.id, from_unit_id=before,
                 to_unit_id=unit_id, source=source, reason=reason)
    return True

