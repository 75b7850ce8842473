"""An employer's regions and operating units: what their page shows, and when one may be deleted.

The tree itself (which regions and workplaces lie below a region) is the scope's
business (webapp/security/scope.py: `region_subtree_ids`, `region_workplace_ids`,
`options_below`); this module reads it for the page of a region or a workplace
that a representative or officer acts for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Member, OperatingUnit, Position, Workplace
from webapp.security import scope as sc
from webapp.security.rowfilters import visible_clause
from webapp.services.membership import active_member_clause
from webapp.services.periods import current_clause


@dataclass(frozen=True)
class PlaceOverview:
    """A region or a workplace as those acting for it see it."""

    title: str
    employer_name: str
    part_of: str | None
    member_count: int
    workplace_count: int
    officers: list[tuple[Position, Member]]


def _officers(where, day: dt.date) -> list[tuple[Position, Member]]:
    rows = db.session.execute(
        select(Position, Member).join(Member, Position.member_id == Member.id)
        .where(where, current_clause(Position, day)).order_by(Position.type, Member.last_name)
    ).all()
    return [tuple(row) for row in rows]


def _active_members(grants, day: dt.date) -> int:
    return db.session.scalar(
        select(func.count(Member.id)).where(visible_clause(Member, grants), active_member_clause(day))
    ) or 0


def place_overview(option: sc.ActingOption, grants, day: dt.date | None = None) -> PlaceOverview | None:
    """The region or workplace `option` acts for: the active members its grant reaches (working there today), its
    workplaces and the positions held for it. None when it no longer exists."""
    day = day or dt.date.today()
    if option.kind == sc.REGIONS:
        region = db.session.get(OperatingUnit, option.target_id)
        if region is None:
            return None
        return PlaceOverview(
            region.name, region.employer.name, region.parent.name if region.parent else None,
            _active_members(grants, day), len(sc.region_workplace_ids({region.id})),
            _officers(Position.operating_unit_id == region.id, day),
        )
    workplace = db.session.get(Workplace, option.target_id)
    if workplace is None:
        return None
    return PlaceOverview(
        workplace.name, workplace.employer.name, workplace.operating_unit.name if workplace.operating_unit else None,
        _active_members(grants, day), 1, _officers(Position.workplace_id == workplace.id, day),
    )


def deletion_refusal(unit_id: int) -> str | None:
    """Why an operating unit may not be deleted (regions, workplaces or positions still refer to it); None if it may."""
    in_use = (
        select(OperatingUnit.id).where(OperatingUnit.parent_id == unit_id).exists()
        | select(Workplace.id).where(Workplace.operating_unit_id == unit_id).exists()
        | select(Position.id).where(Position.operating_unit_id == unit_id).exists()
    )
    if db.session.execute(select(in_use)).scalar():
        return str(_l("Operating unit: operating units, workplaces or positions still belong to it; move or end "
                      "them first."))
    return None
