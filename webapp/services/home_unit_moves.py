"""Moving inside the union: when an employment is registered (a reported change approved, or an employment added
or changed on the office's screen), the member's home unit follows the mapping of webapp.services.home_units, or
the unit the office chose instead.

The move is made in the caller's transaction and audited ("home_unit_moved", with where the unit came from).
Which employment decides: the member's main employment on the day the saved one takes effect (periodized: the
first day of the month it counts from, not before the current month). An employment that is not the main one
then, or has ended, moves nobody.

Who may move a member: the office anywhere; a writer with a narrower scope (a member-data admin) only to a unit
inside that scope (`may_move_to`). Else the member stays where they are, and the caller tells the writer to ask
the union office.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from webapp.extensions import db
from webapp.models import Employment, Member, OrgUnit
from webapp.services.home_units import (
    MappedUnit,
    main_employment,
    mapped_unit,
    move_member,
    unit_for_member,
)
from webapp.services.periods import Month, effective_start

# The choices of the office: follow the mapping, or keep the member where they are; else an org unit's id.
FOLLOW, KEEP = "follow", "keep"
OVERRIDE = "override"


@dataclass(frozen=True)
class MoveOutcome:
    from_unit_id: int | None = None
    to_unit_id: int | None = None  # set when the member moved
    source: str | None = None
    refused_unit_id: int | None = None  # the unit the mapping gave but the writer may not move the member to

    @property
    def moved(self) -> bool:
        return self.to_unit_id is not None


def effective_day(start: dt.date, today: dt.date | None = None) -> dt.date:
    """The day an employment starting on `start` decides the home unit: the first day it counts, but not before
    the current month (a change reported late moves the member now)."""
    return max(effective_start(start), Month.of(today or dt.date.today()).first_day)


def proposed_unit(member: Member, workplace_id: int | None, employer_id: int | None) -> MappedUnit | None:
    """The unit the mapping gives for a job at this workplace (or employer) and the member's postcode."""
    return mapped_unit(workplace_id, employer_id, member.postcode)


def parse_choice(value) -> str | int | None:
    """A home-unit choice as a form sends it: FOLLOW, KEEP or an org unit's id; None for anything else."""
    text = str(value or "").strip()
    if text in (FOLLOW, KEEP):
        return text
    if text.isascii() and text.isdigit() and len(text) < 12 and db.session.get(OrgUnit, int(text)) is not None:
        return int(text)
    return None


def _target(member: Member, employment: Employment, choice, day: dt.date) -> tuple[int, str] | None:
    if isinstance(choice, int):
        mapped = proposed_unit(member, employment.workplace_id, employment.employer_id)
        return choice, (mapped.source if mapped is not None and mapped.org_unit_id == choice else OVERRIDE)
    main = main_employment(member.id, day)
    if main is None or main.id != employment.id:
        return None
    mapped = unit_for_member(member, day)
    return (mapped.org_unit_id, mapped.source) if mapped is not None else None


def follow_saved_employment(employment: Employment, reason: str, choice: str | int = FOLLOW,
                            may_move_to: Callable[[int], bool] | None = None,
                            today: dt.date | None = None) -> MoveOutcome:
    """After `employment` was saved (flushed): move its member as `choice` says (FOLLOW the mapping, KEEP, or a
    unit's id chosen by the office). `may_move_to(unit_id)` limits where the writer may move the member."""
    if choice == KEEP:
        return MoveOutcome()
    member = db.session.get(Member, employment.member_id)
    day = effective_day(employment.start_date, today)
    target = _target(member, employment, choice, day)
    if target is None or target[0] == member.home_unit_id:
        return MoveOutcome()
    unit_id, source = target
    if may_move_to is not None and not may_move_to(unit_id):
        return MoveOutcome(refused_unit_id=unit_id)
    before = member.home_unit_id
    move_member(member, unit_id, source, reason)
    return MoveOutcome(from_unit_id=before, to_unit_id=unit_id, source=source)
