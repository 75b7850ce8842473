"""National ids are shown whole only to the office and member-data admins."""

from __future__ import annotations

from webapp.security import roles
from webapp.security import scope as sc


def mask_national_id(value: str | None) -> str:
    if not value:
        return ""
    return value[:6] + "*****"


def sees_full_national_id(home_unit_id: int | None, scope: sc.Scope) -> bool:
    """True when a grant of a full-id role reaches a member of `home_unit_id`."""
    for grant in scope.grants:
        if grant.role not in roles.FULL_NATIONAL_ID_ROLES:
            continue
        if grant.kind == sc.ALL or (grant.kind == sc.UNITS and home_unit_id in grant.ids):
            return True
    return False


def national_id_for(value: str | None, home_unit_id: int | None, scope: sc.Scope) -> str:
    return value or "" if sees_full_national_id(home_unit_id, scope) else mask_national_id(value)
