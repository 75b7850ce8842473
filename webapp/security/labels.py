"""User-facing names of the roles."""

from flask_babel import lazy_gettext as _l

from webapp.security import roles

ROLE_LABELS = {
    roles.OFFICE: _l("Union office"),
    roles.LEADER: _l("Leader"),
    roles.TREASURER: _l("Treasurer"),
    roles.MEMBER_DATA_ADMIN: _l("Member data admin"),
    roles.WORKPLACE_TRUSTEE: _l("Workplace representative"),
    roles.DEDUCTION_CONTACT: _l("Deduction contact"),
    roles.MEMBER: _l("Member"),
    roles.ANALYST: _l("Analyst"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))
