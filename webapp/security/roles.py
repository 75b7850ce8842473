"""The roles of the system and their rights, defined in code.

Each role is a list of (view pattern, permission pattern) pairs, handed to
Flask-AppBuilder as built-in roles (FAB_ROLES). FAB matches them with
`re.match`, so every pattern is anchored at both ends.
`flask --app run roles sync` makes sure each role exists as a row, so users can
be given the directly assigned roles (office, analyst) in the user screen.
"""

from __future__ import annotations

import re

OFFICE = "office"
LEADER = "leader"
TREASURER = "treasurer"
MEMBER_DATA_ADMIN = "member_data_admin"
WORKPLACE_TRUSTEE = "workplace_trustee"
DEDUCTION_CONTACT = "deduction_contact"
MEMBER = "member"
ANALYST = "analyst"
PUBLIC = "Public"

ALL_ROLES = (OFFICE, LEADER, TREASURER, MEMBER_DATA_ADMIN, WORKPLACE_TRUSTEE, DEDUCTION_CONTACT, MEMBER, ANALYST)
OFFICER_ROLES = (LEADER, TREASURER, MEMBER_DATA_ADMIN)
# Roles given to a user directly; the others follow from positions, employer links and membership.
ASSIGNED_ROLES = (OFFICE, ANALYST)
# Who sees a national id whole; everyone else sees the first six digits.
FULL_NATIONAL_ID_ROLES = (OFFICE, MEMBER_DATA_ADMIN)

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

ROLE_GRANTS: dict[str, list[list[str]]] = {
    OFFICE: [[".*", ".*"]],
    LEADER: _COMMON
    + _OFFICER_READ
    + [_grant("PositionView", VIEW_WRITE), _grant("PositionApi", API_WRITE)],
    TREASURER: _COMMON + _OFFICER_READ,
    MEMBER_DATA_ADMIN: _COMMON
    + _OFFICER_READ
    + [
        _grant("MemberView", "can_(list|show|add|edit)"),
        _grant("MemberApi", "can_(get|info|post|put)"),
        _grant("EmploymentView", VIEW_WRITE),
        _grant("EmploymentApi", API_WRITE),
    ],
    WORKPLACE_TRUSTEE: _COMMON
    + [
        _grant("MemberView|WorkplaceView", VIEW_READ),
        _grant("MemberApi|WorkplaceApi", API_READ),
        _grant("Register|Members|Workplaces", "menu_access"),
    ],
    DEDUCTION_CONTACT: _COMMON
    + _MESSAGES
    + [
        _grant("PortalView", "can_.*"),
        _grant("EmployerView|WorkplaceView", VIEW_READ),
        _grant("EmployerApi|WorkplaceApi|DeductionMonthApi|DeductionListApi|PaymentApi", API_READ),
    ],
    MEMBER: _COMMON
    + _MESSAGES
    + [
        _grant("MyPageView|SubjectAccessView", "can_.*"),
        _grant("MemberApi|EmploymentApi|PositionApi", API_READ),
    ],
    ANALYST: _COMMON
    + [
        _grant("StatisticsView", "can_.*"),
        # Membership reports: produce, download and send; see what was sent. Aggregated figures only.
        _grant("MembershipReportView", "can_.*"),
        _grant("ReportDispatchView", VIEW_READ),
        _grant("Reports|MembershipReports|ReportDispatches", "menu_access"),
        _grant("OrgUnitView|EmployerView", VIEW_READ),
        _grant("OrgUnitApi|EmployerApi", API_READ),
        _grant("Register|OrgUnits|Employers|Statistics", "menu_access"),
    ],
    PUBLIC: [],
}


def role_allows(role: str, permission: str, view: str) -> bool:
    """True when `role` has `permission` on `view`, matched exactly as FAB does."""
    return any(
        re.match(view_pattern, view) and re.match(permission_pattern, permission)
        for view_pattern, permission_pattern in ROLE_GRANTS.get(role, [])
    )


def role_sees_view(role: str, view: str) -> bool:
    """True when `role` has any permission at all on `view`."""
    return any(re.match(view_pattern, view) for view_pattern, _ in ROLE_GRANTS.get(role, []))
