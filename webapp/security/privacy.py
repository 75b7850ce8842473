"""Who sees a national id whole: the one rule, for every screen, API, page and PDF.

A grant of a role the role table marks `full_national_id` sees the national
ids of the members it reaches by unit whole: a grant of every row (the office)
everyone's, a unit grant (a member-data admin) those of the members of its
units. Everyone else (officers without the right, workplace trustees,
deduction contacts, a member on their own page) sees the first six digits.
"""

from __future__ import annotations

from webapp.security import roles
from webapp.security import scope as sc


def mask_national_id(value: str | None) -> str:
    """The first six digits (the birth date) and stars: what an id looks like to someone without the right."""
    if not value:
        return ""
    return value[:6] + "*****"


def _reaches_unit(grant: sc.Grant, home_unit_id: int | None) -> bool:
    return grant.kind == sc.ALL or (grant.kind == sc.UNITS and home_unit_id in grant.ids)


def sees_full_national_id(scope: sc.Scope, home_unit_id: int | None) -> bool:
    """True when a grant of a full-id role reaches the members of `home_unit_id`."""
    return any(
        roles.ROLE_TABLE[grant.role].full_national_id and _reaches_unit(grant, home_unit_id)
        for grant in scope.grants
        if grant.role in roles.ROLE_TABLE
    )


def national_id_for(value: str | None, scope: sc.Scope, home_unit_id: int | None) -> str:
    """The national id of a member of `home_unit_id` as `scope` may see it."""
    return value or "" if sees_full_national_id(scope, home_unit_id) else mask_national_id(value)


def national_id_on_screen(value: str | None) -> str:
    """The national id of a row a browser screen (page or PDF) of the acting option shows.

    Every such row passed the active option's row filter, so the option's own unit
    stands for the row's home unit. Without an active option (an API client) only
    a grant of every row sees ids whole.
    """
    scope = sc.get_scope()
    active = scope.active
    unit_id = active.target_id if active is not None and active.kind == sc.UNITS else None
    return national_id_for(value, scope, unit_id)
