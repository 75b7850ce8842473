"""The figures of an org unit's page: its active members, its units below and its current officers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Member, OrgUnit, Position
from webapp.security.rowfilters import visible_clause
from webapp.services.membership import active_member_clause
from webapp.services.periods import current_clause


@dataclass(frozen=True)
class UnitOverview:
    unit: OrgUnit
    member_count: int
    child_units: list[OrgUnit]
    officers: list[tuple[Position, Member]]


def unit_overview(unit: OrgUnit, grants, day: dt.date | None = None) -> UnitOverview:
    """The unit as its officers see it on `day`: members counted within `grants` (the unit's subtree) by the
    one active-member rule, the units right below it, and the positions at the unit current on the day."""
    day = day or dt.date.today()
    member_count = db.session.scalar(
        select(func.count(Member.id)).where(visible_clause(Member, grants), active_member_clause(day))
    ) or 0
    child_units = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.code)).all()
    officers = db.session.execute(
        select(Position, Member)
        .join(Member, Position.member_id == Member.id)
        .where(Position.org_unit_id == unit.id, current_clause(Position, day))
        .order_by(Position.type)
    ).all()
    return UnitOverview(unit, member_count, list(child_units), [tuple(row) for row in officers])
