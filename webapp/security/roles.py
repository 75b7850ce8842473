"""The roles of the system, each defined once in one table (`ROLES`).

A row holds every fact about a role: its label, its grants (view pattern,
permission pattern pairs handed to Flask-AppBuilder as built-in roles,
FAB_ROLES), what its grant reaches (kind), its home page, where it comes
from (assigned to a user directly, or held through a position), and who
declares confidentiality, answers messages, writes as the party of a thread
and sees national ids whole. Every other module reads these facts from here
and defines no list of role names of its own (tests/test_role_table.py).

FAB matches grant patterns with `re.match`, so every pattern is anchored at
both ends. `flask --app run roles sync` makes sure each role exists as a row,
so users can be given the directly assigned roles (office, analyst) in the
user screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from webapp.models.choices import PositionType

OFFICE = "office"
LEADER = "leader"
TREASURER = "treasurer"
MEMBER_DATA_ADMIN = "member_data_admin"
WORKPLACE_TRUSTEE = "workplace_trustee"
DEDUCTION_CONTACT = "deduction_contact"
MEMBER = "member"
ANALYST = "analyst"
PUBLIC = "Public"

# What a role's grant reaches: every row, aggregates only, or the rows under some ids.
ALL = "all"
AGGREGATE = "aggregate"
UNITS = "units"
WORKPLACES = "workplaces"
EMPLOYERS = "employers"
MEMBERS = "members"

VIEW_READ = "can_(list|show)"
API_READ = "can_(get|info)"
VIEW_WRITE = "can_(list|show|add|edit|delete)"
API_WRITE = "can_(get|info|post|put|delete)"


def _grant(views: str, permissions: str) -> list[str]:
    return [f"^({views})$", f"^({permissions})$"]


# Every logged-in role: its home page, the role switcher, its own password.
_COMMON = [
    _grant("HomeView|ActingRoleView|TypeaheadView", "can_.*"),
    _grant("ResetMyPasswordView", "can_this_form_(get|post)"),
    _grant("UserInfoEditView", "can_this_form_(get|post)"),
    _grant("UserDBModelView", "can_userinfo"),
    _grant("UserGuide", "menu_access"),  # the menu's link to the user guide (webapp/views/guide.py)
    # Their own background jobs (webapp/views/jobs.py); retrying a failed one is the office's.
    _grant("JobView", "can_(index|show|progress|file)"),
]

# Secure messages: members and deduction contacts write to the union; officers answer for their units.
_MESSAGES = [
    _grant("MessagesView", "can_.*"),
    _grant("Messages", "menu_access"),
]

_OFFICER_READ = _MESSAGES + [
    _grant("UnitPageView", "can_.*"),
    _grant("MemberView|PositionView|EmploymentView|OrgUnitView|WorkplaceView|EmployerView", VIEW_READ),
    _grant("MemberApi|PositionApi|EmploymentApi|OrgUnitApi|WorkplaceApi|EmployerApi", API_READ),
    _grant("Register|Members|Positions|Employments|OrgUnits|Workplaces|Employers", "menu_access"),
    # Refund letters and lists of the units in scope (approved quarters only; see rowfilters).
    _grant("RefundDocumentView", "can_.*"),
    _grant("RefundApi", API_READ),
]

_LEADER = _COMMON + _OFFICER_READ + [_grant("PositionView", VIEW_WRITE), _grant("PositionApi", API_WRITE),
                                     _grant("Jobs", "menu_access"),  # a leader's send-outs run as jobs
                                     # Send-outs and segments for the members of their units (webapp/views/sendouts.py)
                                     _grant("SendOutView|SegmentView", "can_.*"),
                                     _grant("Membership|SendOuts|Segments", "menu_access")]
_TREASURER = _COMMON + _OFFICER_READ
_MEMBER_DATA_ADMIN = _COMMON + _OFFICER_READ + [
    _grant("MemberView", "can_(list|show|add|edit)"),
    _grant("MemberApi", "can_(get|info|post|put)"),
    _grant("EmploymentView", VIEW_WRITE),
    _grant("EmploymentApi", API_WRITE),
]
_WORKPLACE_TRUSTEE = _COMMON + [
    _grant("UnitPageView", "can_.*"),  # the page of their workplace, or of their region and what lies below it
    _grant("MemberView|WorkplaceView", VIEW_READ),
    _grant("MemberApi|WorkplaceApi", API_READ),
    _grant("Register|Members|Workplaces", "menu_access"),
]
_DEDUCTION_CONTACT = _COMMON + _MESSAGES + [
    _grant("PortalView", "can_.*"),
    _grant("EmployerView|WorkplaceView", VIEW_READ),
    _grant("EmployerApi|WorkplaceApi|DeductionMonthApi|DeductionListApi|PaymentApi", API_READ),
]
_MEMBER = _COMMON + _MESSAGES + [
    _grant("MyPageView|SubjectAccessView", "can_.*"),
    _grant("MemberApi|EmploymentApi|PositionApi", API_READ),
    # Their own invoices (the row filter admits the member's own; see rowfilters). The office's billing screens
    # (invoices, payments, mandates, arrears, direct dues) are granted to no other role.
    _grant("InvoiceApi", API_READ),
]
_ANALYST = _COMMON + [
    _grant("StatisticsView", "can_.*"),
    # Membership reports: produce, download and send; see what was sent. Aggregated figures only.
    _grant("MembershipReportView", "can_.*"),
    _grant("ReportDispatchView", VIEW_READ),
    _grant("Reports|MembershipReports|ReportDispatches", "menu_access"),
    _grant("OrgUnitView|EmployerView", VIEW_READ),
    _grant("OrgUnitApi|EmployerApi", API_READ),
    _grant("Register|OrgUnits|Employers|Statistics", "menu_access"),
]


@dataclass(frozen=True)
class Role:
    """Everything the system knows about one role."""

    name: str
    label: object  # a lazy translated string
    grants: list[list[str]]
    kind: str  # what its grant reaches (ALL, AGGREGATE, UNITS, ...)
    home: str | None  # the endpoint it lands on; None: the office overview
    assigned: bool = False  # given to a user directly; the others follow from positions, employer links, membership
    position: PositionType | None = None  # the position whose holders act in this role
    declares: bool = False  # confirms the duty of confidentiality before the first member list
    answers: bool = False  # answers the threads addressed to its unit, and is mailed when one waits
    writes_as_party: bool = False  # writes to the union as the party of a thread (not for the union)
    full_national_id: bool = False  # sees national ids whole (for the members its grant reaches); others see six digits


def _position_label(position: PositionType):
    return position.labels()[position.name]


ROLES: tuple[Role, ...] = (
    Role(OFFICE, _l("Union office"), [[".*", ".*"]], ALL, None, assigned=True, full_national_id=True),
    Role(LEADER, _position_label(PositionType.leader), _LEADER, UNITS, "UnitPageView.index",
         position=PositionType.leader, declares=True, answers=True),
    Role(TREASURER, _position_label(PositionType.treasurer), _TREASURER, UNITS, "UnitPageView.index",
         position=PositionType.treasurer, declares=True, answers=True),
    Role(MEMBER_DATA_ADMIN, _position_label(PositionType.member_data_admin), _MEMBER_DATA_ADMIN, UNITS,
         "UnitPageView.index", position=PositionType.member_data_admin, declares=True, answers=True,
         full_national_id=True),
    Role(WORKPLACE_TRUSTEE, _position_label(PositionType.workplace_trustee), _WORKPLACE_TRUSTEE, WORKPLACES,
         "MemberView.list", position=PositionType.workplace_trustee, declares=True),
    Role(DEDUCTION_CONTACT, _l("Deduction contact"), _DEDUCTION_CONTACT, EMPLOYERS, "PortalView.index",
         writes_as_party=True),
    Role(MEMBER, _l("Member"), _MEMBER, MEMBERS, "MyPageView.index", writes_as_party=True),
    Role(ANALYST, _l("Analyst"), _ANALYST, AGGREGATE, "StatisticsView.index", assigned=True),
)
ROLE_TABLE: dict[str, Role] = {role.name: role for role in ROLES}

ALL_ROLES = tuple(ROLE_TABLE)
ROLE_GRANTS: dict[str, list[list[str]]] = {role.name: role.grants for role in ROLES} | {PUBLIC: []}


def names_where(predicate: Callable[[Role], bool]) -> tuple[str, ...]:
    """The names of the roles the predicate holds for, in table order (Superset's sync_role_definitions style)."""
    return tuple(role.name for role in ROLES if predicate(role))


# Derived once from the table, for the modules that ask.
ASSIGNED_ROLES = names_where(lambda role: role.assigned)
DECLARING_ROLES = names_where(lambda role: role.declares)
ANSWERING_POSITIONS = tuple(role.position for role in ROLES if role.answers and role.position is not None)
PARTY_ROLES = names_where(lambda role: role.writes_as_party)
FULL_NATIONAL_ID_ROLES = names_where(lambda role: role.full_national_id)


def role_for_position(position: PositionType) -> Role:
    return next(role for role in ROLES if role.position == position)


def home_of(role_name: str | None) -> str | None:
    role = ROLE_TABLE.get(role_name)
    return role.home if role else None


def role_label(role_name: str) -> str:
    role = ROLE_TABLE.get(role_name)
    return str(role.label) if role else role_name


def role_allows(role: str, permission: str, view: str) -> bool:
    """True when `role` has `permission` on `view`, matched exactly as FAB does."""
    return any(
        re.match(view_pattern, view) and re.match(permission_pattern, permission)
        for view_pattern, permission_pattern in ROLE_GRANTS.get(role, [])
    )


def role_sees_view(role: str, view: str) -> bool:
    """True when `role` has any permission at all on `view`."""
    return any(re.match(view_pattern, view) for view_pattern, _ in ROLE_GRANTS.get(role, []))
