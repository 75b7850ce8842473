"""Who may register, change or end a position.

A position is a grant of access: an officer position gives its holder the
officer role of its unit (a member-data admin reads national ids whole), a
workplace representative reads the members at the workplace. So the office
grants positions anywhere; a leader grants officer positions only in the
units strictly below the unit they lead, and workplace representatives at the
workplaces of their units; never to the member they are themselves, and they
never change or end their own position. Every other role grants nothing.

The screens and the API ask the same two questions: may the acting scope
touch the position as it is stored (`change_refusal`), and may it grant the
position as it will be (`grant_refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Member, OrgUnit, Position, Workplace
from webapp.security import roles
from webapp.security import scope as sc


@dataclass(frozen=True)
class PositionTarget:
    """Whom a position is for and where it is held."""

    member_id: int | None
    type: str | None
    org_unit_id: int | None
    workplace_id: int | None
    operating_unit_id: int | None = None

    @classmethod
    def of(cls, position: Position) -> PositionTarget:
        """The target of a position object, also before it is flushed (relations set, ids not yet)."""
        kind = position.type
        return cls(
            member_id=_id_of(position, "member"),
            type=getattr(kind, "name", kind),
            org_unit_id=_id_of(position, "org_unit"),
            workplace_id=_id_of(position, "workplace"),
            operating_unit_id=_id_of(position, "operating_unit"),
        )


def _id_of(position: Position, relation: str) -> int | None:
    with db.session.no_autoflush:
        related = getattr(position, relation)
    return related.id if related is not None else getattr(position, f"{relation}_id")


def _led_unit_ids(scope: sc.Scope) -> set[int]:
    """The units the scope acts as leader of (the browser's chosen role, or every role over the API)."""
    options = scope.options if scope.via_api else [scope.active] if scope.active else []
    return {option.target_id for option in options if option.role == roles.LEADER and option.kind == sc.UNITS}


def _is_office(scope: sc.Scope) -> bool:
    return any(grant.kind == sc.ALL for grant in scope.grants)


def _own_member_id(scope: sc.Scope) -> int | None:
    if scope.user_id is None:
        return None
    return db.session.execute(select(Member.id).where(Member.user_id == scope.user_id)).scalar_one_or_none()


def _parent_of(unit_id: int) -> int | None:
    return db.session.execute(select(OrgUnit.parent_id).where(OrgUnit.id == unit_id)).scalar_one_or_none()


def _unit_of_workplace(workplace_id: int) -> int | None:
    return db.session.execute(select(Workplace.org_unit_id).where(Workplace.id == workplace_id)).scalar_one_or_none()


def grant_refusal(scope: sc.Scope, target: PositionTarget) -> dict[str, str]:
    """Why the scope may not grant this position, as {field: message}; empty when it may.

    A target without a unit or workplace is left to the validation rules, which name what is missing.
    """
    if _is_office(scope):
        return {}
    led_units = _led_unit_ids(scope)
    if not led_units:
        return {"type": str(_l("Position: only the union office and the leader of a unit above register positions."))}
    with db.session.no_autoflush:  # the position being written is not flushed before it is allowed
        return _leader_refusal(scope, led_units, target)


def _leader_refusal(scope: sc.Scope, led_units: set[int], target: PositionTarget) -> dict[str, str]:
    if target.member_id is not None and target.member_id == _own_member_id(scope):
        return {"member": str(_l("Member: you cannot give a position to yourself; the union office does that."))}
    if target.operating_unit_id is not None:
        return {"operating_unit": str(_l(
            "Operating unit: positions for an employer's operating units are registered by the union office."
        ))}
    subtree = sc.unit_subtree_ids(led_units)
    # Strictly below: the unit's parent lies in the subtree (the led unit itself has its parent above it).
    if target.org_unit_id is not None and _parent_of(target.org_unit_id) not in subtree:
        return {"org_unit": str(_l(
            "Organisational unit: a leader registers positions only in the units below the unit they lead; "
            "the union office registers the others."
        ))}
    if target.workplace_id is not None and _unit_of_workplace(target.workplace_id) not in subtree:
        return {"workplace": str(_l(
            "Workplace: a leader registers workplace representatives only at the workplaces of the units they lead "
            "and the units below them."
        ))}
    return {}


def may_grant_position(scope: sc.Scope, target: PositionTarget) -> bool:
    return not grant_refusal(scope, target)


def change_refusal(scope: sc.Scope, stored: Position) -> str | None:
    """Why the scope may not change or end a stored position (its own, or one it could not grant); None when it may."""
    if grant_refusal(scope, PositionTarget.of(stored)):
        return str(_l(
            "Position: you may change or end only positions of other members in the units below the unit you lead; "
            "the union office changes the others."
        ))
    return None

