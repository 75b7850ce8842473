"""Aggregated figures of the register (counts only, never member rows).

Members are the active members on the day (webapp.services.membership: periodized), so the statistics page
gives the LO report's total for the same day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Employer, Member, OrgUnit, Workplace
from webapp.models.choices import OrgLevel
from webapp.services.membership import active_member_clause


def register_counts(day: dt.date | None = None) -> dict[str, int]:
    def count(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return {
        "members": count(Member, active_member_clause(day or dt.date.today())),
        "org_units": count(OrgUnit),
        "employers": count(Employer),
        "workplaces": count(Workplace),
    }


def members_by_category(day: dt.date | None = None) -> list[tuple[str, int]]:
    rows = db.session.execute(
        select(Member.category, func.count(Member.id))
        .where(active_member_clause(day or dt.date.today()))
        .group_by(Member.category)
        .order_by(Member.category)
    ).all()
    return [(category.label, count) for category, count in rows]


def national_association_of_units() -> dict[int, tuple[int, str, str]]:
    """{unit id: (id, code, name) of the national association it belongs to}; units above the level have none.

    The tree is small (hundreds of units), so it is walked in Python from one query.
    """
    units = db.session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.level, OrgUnit.code, OrgUnit.name)).all()
    parent = {u.id: u.parent_id for u in units}
    associations = {u.id: (u.id, u.code, u.name) for u in units if u.level == OrgLevel.national_association}
    result: dict[int, tuple[int, str, str]] = {}
    for unit in units:
        node = unit.id
        while node is not None and node not in associations:
            node = parent.get(node)
        if node is not None:
            result[unit.id] = associations[node]
    return result


def members_by_national_association(day: dt.date | None = None) -> list[tuple[str, int]]:
    """Active members per national association, counting every unit below it."""
    association_of = national_association_of_units()
    per_unit = db.session.execute(
        select(Member.home_unit_id, func.count(Member.id))
        .where(active_member_clause(day or dt.date.today()))
        .group_by(Member.home_unit_id)
    ).all()
    totals: dict[str, int] = {}
    for unit_id, count in per_unit:
        association = association_of.get(unit_id)
        if association:
            totals[association[2]] = totals.get(association[2], 0) + count
    return sorted(totals.items())
