"""Aggregated figures of the register (counts only, never member rows)."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Employer, Member, OrgUnit, Workplace
from webapp.models.choices import OrgLevel


def register_counts() -> dict[str, int]:
    def count(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return {
        "members": count(Member, Member.left_on.is_(None)),
        "org_units": count(OrgUnit),
        "employers": count(Employer),
        "workplaces": count(Workplace),
    }


def members_by_category() -> list[tuple[str, int]]:
    rows = db.session.execute(
        select(Member.category, func.count(Member.id))
        .where(Member.left_on.is_(None))
        .group_by(Member.category)
        .order_by(Member.category)
    ).all()
    return [(category.label, count) for category, count in rows]


def members_by_national_association() -> list[tuple[str, int]]:
    """Active members per national association, counting every unit below it."""
    units = db.session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.level, OrgUnit.name)).all()
    parent = {u.id: u.parent_id for u in units}
    association_of: dict[int, str] = {}
    names = {u.id: u.name for u in units if u.level == OrgLevel.national_association}
    for unit in units:
        node = unit.id
        while node is not None and node not in names:
            node = parent.get(node)
        if node is not None:
            association_of[unit.id] = names[node]
    per_unit = db.session.execute(
        select(Member.home_unit_id, func.count(Member.id)).where(Member.left_on.is_(None)).group_by(Member.home_unit_id)
    ).all()
    totals: dict[str, int] = {}
    for unit_id, count in per_unit:
        name = association_of.get(unit_id)
        if name:
            totals[name] = totals.get(name, 0) + count
    return sorted(totals.items())
