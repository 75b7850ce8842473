"""User-facing names of the roles."""

from flask_babel import lazy_gettext as _l

from webapp.security import roles

ROLE_LABELS = {
    roles.OFFICE: _l("Forbundskontoret"),
    roles.LEADER: _l("Leder"),
    roles.TREASURER: _l("Kasserer"),
    roles.MEMBER_DATA_ADMIN: _l("Adm. medlemsopplysninger"),
    roles.WORKPLACE_TRUSTEE: _l("Plasstillitsvalgt"),
    roles.DEDUCTION_CONTACT: _l("Trekkontakt"),
    roles.MEMBER: _l("Medlem"),
    roles.ANALYST: _l("Analytiker"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))
