"""Who the current user acts as, and which rows that lets them reach.

A user's acting options follow from the data: directly assigned roles (office,
analyst), current positions (officer roles for a unit, workplace trustee for a
workplace; either for an employer's region or operating unit), current employer
links (deduction contact) and their own current membership (member). "Current"
is the one rule `periods.current_on`: started and not ended on the day, by the
dates as entered. In the browser they act in one chosen option at a time; an
API client acts in all of them at once (the union of their scopes).

An officer of a unit with units below may also act for any one of those units
(a national association's leader as the leader of a branch below it), and the
holder of a position for a region for any region or workplace below it: the
switcher offers them (`Scope.options_below`), and a chosen option is accepted
only when it is one of the user's own or lies below one of them with the same
role (`find_option`); anything else is refused like an option nobody has.

The scope is resolved once per request into `g.scope`. Every row filter and
write check reads it; a request with no scope sees no rows (fail closed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import abort, g, has_request_context, session
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import DeductionContact, Employer, Member, OperatingUnit, OrgUnit, Position, Workplace
from webapp.security import roles

# What a grant reaches (the kinds of the role table), under the names the row filters use: sc.UNITS, ...
from webapp.security.roles import AGGREGATE, ALL, EMPLOYERS, MEMBERS, UNITS, WORKPLACES  # noqa: F401
from webapp.services.membership import is_membership_current
from webapp.services.periods import current_clause

SESSION_KEY = "acting_option"

# An option's target may also be a region (an employer's operating unit); its grant reaches the workplaces below it.
REGIONS = "regions"


@dataclass(frozen=True)
class ActingOption:
    """One role a user can act in, with its target (unit, workplace, employer or self)."""

    role: str
    kind: str
    target_id: int | None
    target_label: str
    depth: int = 0  # for an option below one of the user's own: how many levels below it

    @property
    def key(self) -> str:
        return f"{self.role}:{self.kind}:{self.target_id or 0}"


@dataclass(frozen=True)
class Grant:
    """A role together with the rows it reaches."""

    role: str
    kind: str
    ids: frozenset[int] = frozenset()


@dataclass
class Scope:
    user_id: int | None = None
    options: list[ActingOption] = field(default_factory=list)
    active: ActingOption | None = None
    grants: list[Grant] = field(default_factory=list)
    via_api: bool = False
    _below: dict[str, list[ActingOption]] = field(default_factory=dict, repr=False)

    @property
    def role_names(self) -> list[str]:
        return sorted({grant.role for grant in self.grants})

    @property
    def needs_choice(self) -> bool:
        return not self.via_api and self.active is None and len(self.options) > 1

    def grants_for_view(self, view_name: str | None) -> list[Grant]:
        if view_name is None:
            return list(self.grants)
        return [grant for grant in self.grants if roles.role_sees_view(grant.role, view_name)]

    def grants_with(self, permission: str, view_name: str) -> list[Grant]:
        return [grant for grant in self.grants if roles.role_allows(grant.role, permission, view_name)]

    def has_role(self, *names: str) -> bool:
        return any(grant.role in names for grant in self.grants)

    def options_below(self, option: ActingOption) -> list[ActingOption]:
        """The options below `option` (its units, or its regions and workplaces), in tree order; once per request."""
        if option.key not in self._below:
            self._below[option.key] = options_below(option)
        return self._below[option.key]


EMPTY_SCOPE = Scope()


def _option(role_name: str, target_id: int | None, target_label: str) -> ActingOption:
    """An option of `role_name`, reaching what the role table says its grant reaches."""
    return ActingOption(role_name, roles.ROLE_TABLE[role_name].kind, target_id, target_label)


def region_label(name: str, employer_name: str) -> str:
    return f"{name} ({employer_name})"


def _position_option(position: Position, unit: OrgUnit | None, workplace: Workplace | None,
                     region: tuple[str, str] | None) -> ActingOption | None:
    """The option a position gives: its role, over its region, or over its workplace or its unit as the role table's
    kind says."""
    role = roles.role_for_position(position.type)
    if position.operating_unit_id is not None:
        return ActingOption(role.name, REGIONS, position.operating_unit_id, region_label(*region)) if region else None
    if role.kind == WORKPLACES:
        return _option(role.name, workplace.id, workplace.name) if workplace is not None else None
    return _option(role.name, unit.id, f"{unit.code} {unit.name}") if unit is not None else None


def acting_options(user, today: dt.date | None = None) -> list[ActingOption]:
    """Every option the user can act in today, office first, own page last."""
    today = today or dt.date.today()
    options: list[ActingOption] = []
    assigned = {role.name for role in (user.roles or [])}
    for role in roles.ASSIGNED_ROLES:
        if role in assigned:
            options.append(_option(role, None, ""))

    member = db.session.execute(select(Member).where(Member.user_id == user.id)).scalar_one_or_none()
    if member is not None:
        positions = db.session.execute(
            select(Position, OrgUnit, Workplace, OperatingUnit.name, Employer.name)
            .outerjoin(OrgUnit, Position.org_unit_id == OrgUnit.id)
            .outerjoin(Workplace, Position.workplace_id == Workplace.id)
            .outerjoin(OperatingUnit, Position.operating_unit_id == OperatingUnit.id)
            .outerjoin(Employer, OperatingUnit.employer_id == Employer.id)
            .where(Position.member_id == member.id, current_clause(Position, today))
            .order_by(Position.type, Position.id)
        ).all()
        for position, unit, workplace, region_name, employer_name in positions:
            region = (region_name, employer_name) if region_name is not None else None
            option = _position_option(position, unit, workplace, region)
            if option is not None:
                options.append(option)

    contacts = db.session.execute(
        select(DeductionContact, Employer)
        .join(Employer, DeductionContact.employer_id == Employer.id)
        .where(
            DeductionContact.user_id == user.id,
            current_clause(DeductionContact, today),
        )
        .order_by(Employer.name)
    ).all()
    for _contact, employer in contacts:
        options.append(_option(roles.DEDUCTION_CONTACT, employer.id, employer.name))

    if member is not None and is_membership_current(member, today):
        options.append(_option(roles.MEMBER, member.id, member.full_name))

    unique: dict[str, ActingOption] = {}
    for option in options:
        unique.setdefault(option.key, option)
    return list(unique.values())


def unit_subtree_ids(root_ids: set[int]) -> frozenset[int]:
    """The given units and every unit below them (one recursive query)."""
    if not root_ids:
        return frozenset()
    tree = select(OrgUnit.id).where(OrgUnit.id.in_(root_ids)).cte("subtree", recursive=True)
    tree = tree.union_all(select(OrgUnit.id).where(OrgUnit.parent_id == tree.c.id))
    return frozenset(db.session.execute(select(tree.c.id)).scalars())


def _region_tree(root_ids: set[int], include_roots: bool = True):
    """The regions below the given ones (and the given ones), as a recursive CTE of ids.

    UNION, not UNION ALL: should the tree ever hold a cycle, the query still ends."""
    start = OperatingUnit.id.in_(root_ids) if include_roots else OperatingUnit.parent_id.in_(root_ids)
    tree = select(OperatingUnit.id).where(start).cte("region_tree", recursive=True)
    return tree.union(select(OperatingUnit.id).where(OperatingUnit.parent_id == tree.c.id))


def region_subtree_ids(root_ids: set[int]) -> frozenset[int]:
    """The given regions and every region below them (one recursive query)."""
    if not root_ids:
        return frozenset()
    return frozenset(db.session.execute(select(_region_tree(root_ids).c.id)).scalars())


def region_workplace_ids(root_ids: set[int]) -> frozenset[int]:
    """The workplaces in the given regions and in every region below them (one query)."""
    if not root_ids:
        return frozenset()
    tree = _region_tree(root_ids)
    query = select(Workplace.id).where(Workplace.operating_unit_id.in_(select(tree.c.id)))
    return frozenset(db.session.execute(query).scalars())


def _in_tree_order(root_id: int, children: dict, make) -> list[ActingOption]:
    """Depth first from `root_id` (not included): `children[id]` lists (sort key, id, row) of the nodes right below."""
    found: list[ActingOption] = []
    stack = [(row_id, row, 1) for _, row_id, row in sorted(children.get(root_id, []), reverse=True)]
    seen = {root_id}
    while stack:
        row_id, row, depth = stack.pop()
        if row_id in seen:
            continue
        seen.add(row_id)
        found.append(make(row, depth))
        stack.extend((child_id, child, depth + 1) for _, child_id, child in sorted(children.get(row_id, []),
                                                                                    reverse=True))
    return found


def _units_below(option: ActingOption) -> list[ActingOption]:
    tree = select(OrgUnit.id).where(OrgUnit.parent_id == option.target_id).cte("units_below", recursive=True)
    tree = tree.union(select(OrgUnit.id).where(OrgUnit.parent_id == tree.c.id))
    rows = db.session.execute(
        select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.code, OrgUnit.name).where(OrgUnit.id.in_(select(tree.c.id)))
    ).all()
    children: dict[int, list] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append((row.code, row.id, row))
    return _in_tree_order(
        option.target_id, children,
        lambda row, depth: ActingOption(option.role, UNITS, row.id, f"{row.code} {row.name}", depth),
    )


def _regions_below(option: ActingOption) -> list[ActingOption]:
    """The workplaces and regions below a region: each region's own workplaces first, then its regions."""
    tree = _region_tree({option.target_id})
    regions = db.session.execute(
        select(OperatingUnit.id, OperatingUnit.parent_id, OperatingUnit.name)
        .where(OperatingUnit.id.in_(select(tree.c.id)), OperatingUnit.id != option.target_id)
    ).all()
    workplaces = db.session.execute(
        select(Workplace.id, Workplace.operating_unit_id, Workplace.name)
        .where(Workplace.operating_unit_id.in_(select(tree.c.id)))
    ).all()
    children: dict = {}
    for row in workplaces:  # a region's own workplaces first (sort key 0), then its regions (1)
        children.setdefault(("r", row.operating_unit_id), []).append(((0, row.name, row.id), ("w", row.id),
                                                                      (WORKPLACES, row)))
    for row in regions:
        children.setdefault(("r", row.parent_id), []).append(((1, row.name, row.id), ("r", row.id), (REGIONS, row)))

    def make(kind_and_row, depth):  # below a region, all of one employer: named without it
        kind, row = kind_and_row
        return ActingOption(option.role, kind, row.id, row.name, depth)

    return _in_tree_order(("r", option.target_id), children, make)


def options_below(option: ActingOption) -> list[ActingOption]:
    """What an officer can switch to below `option`, with the same role: the units below a unit, the regions and
    workplaces below a region. Nothing below any other option."""
    if option.target_id is None:
        return []
    if option.kind == UNITS:
        return _units_below(option)
    if option.kind == REGIONS:
        return _regions_below(option)
    return []


def find_option(scope: Scope, key: str) -> ActingOption | None:
    """The option `key` names when the user may act in it: one of their own, or one below one of their own with the
    same role (a unit below their unit, a region or workplace below their region). None for anything else."""
    own = next((option for option in scope.options if option.key == key), None)
    if own is not None:
        return own
    role = key.partition(":")[0]
    for option in scope.options:
        if option.role == role and option.kind in (UNITS, REGIONS):
            below = next((found for found in scope.options_below(option) if found.key == key), None)
            if below is not None:
                return below
    return None


def grant_for(option: ActingOption) -> Grant:
    if option.kind == UNITS:
        return Grant(option.role, UNITS, unit_subtree_ids({option.target_id}))
    if option.kind == REGIONS:
        return Grant(option.role, WORKPLACES, region_workplace_ids({option.target_id}))
    if option.kind in (WORKPLACES, EMPLOYERS, MEMBERS):
        return Grant(option.role, option.kind, frozenset({option.target_id}))
    return Grant(option.role, option.kind)


def build_scope(user, chosen_key: str | None, via_api: bool) -> Scope:
    options = acting_options(user)
    scope = Scope(user_id=user.id, options=options, via_api=via_api)
    if via_api:
        scope.grants = [grant_for(option) for option in options]
        return scope
    active = find_option(scope, chosen_key) if chosen_key else None
    if active is None and len(options) == 1:
        active = options[0]
    scope.active = active
    scope.grants = [grant_for(active)] if active else []
    return scope


def current_user_for_request():
    """The authenticated user of this request: browser session first, then a JWT."""
    from flask_login import current_user

    if current_user and current_user.is_authenticated:
        return current_user, False
    try:
        from flask_jwt_extended import get_current_user, verify_jwt_in_request

        if verify_jwt_in_request(optional=True):
            user = get_current_user()
            if user is not None and user.is_active:
                return user, True
    except Exception:  # an invalid or expired token is simply no user
        return None, False
    return None, False


def get_scope() -> Scope:
    """The scope of the current request, resolved once and kept on `g`."""
    if not has_request_context():
        return EMPTY_SCOPE
    if "scope" not in g:
        user, via_api = current_user_for_request()
        if user is None:
            g.scope = EMPTY_SCOPE
        else:
            g.scope = build_scope(user, None if via_api else session.get(SESSION_KEY), via_api)
    return g.scope


def acting_target_id(kind: str) -> int:
    """The member, employer or unit the browser acts for, when it acts as that `kind`; 403 otherwise."""
    scope = get_scope()
    if scope.active is None or scope.active.kind != kind:
        abort(403)
    return scope.active.target_id


def choose(option_key: str) -> bool:
    """Make `option_key` the acting option of this browser session, if it is one of the user's or below one of
    them (see `find_option`)."""
    scope = get_scope()
    if find_option(scope, option_key) is None:
        return False
    session[SESSION_KEY] = option_key
    g.pop("scope", None)
    return True
