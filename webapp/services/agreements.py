"""Who a collective agreement covers on a day: the one rule, as an SQL clause over Member.

A member is covered by an agreement on a day when
- the agreement is valid that day (valid_from <= day <= valid_to, no valid_to: open),
- the membership is current that day (membership.membership_current_clause: the dates as entered),
- an employment of theirs at an employer the agreement covers is current that day (periods.current_on_clause,
  the same "current on a day" rule as positions and contact links), and
- their category is one the agreement lists (no categories listed: every category).

Ballots freeze this set at their cut-off date; the send-out segments use the same clause, so "covered by the
agreement" means one thing everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, exists, func, not_, select

from webapp.extensions import db
from webapp.models import Employment, Member
from webapp.models.choices import EmployerAssociation, MemberCategory
from webapp.models.outreach import AgreementCategory, AgreementEmployer, CollectiveAgreement
from webapp.services.membership import membership_current_clause
from webapp.services.periods import current_on_clause
from webapp.services.validation import FieldError

NAME_MAX_LENGTH = 150
NOTE_MAX_LENGTH = 500
# An agreement names the employers it covers; a national agreement covers many, but not without end.
MAX_EMPLOYERS = 5000


def counterpart_rule(values: Mapping[str, Any]) -> dict:
    """Record rule: the counterpart is an employer association or a single employer, exactly one of them."""
    association = values.get("counterpart_association")
    association_name = getattr(association, "name", association)
    has_association = association_name not in (None, "", EmployerAssociation.none.name)
    has_employer = values.get("counterpart_employer") is not None or values.get("counterpart_employer_id") is not None
    if has_association and has_employer:
        return {"counterpart_association": _l("Counterpart: an employer association or a single employer, not both.")}
    if not has_association and not has_employer:
        return {"counterpart_association": _l("Counterpart: choose an employer association or a single employer.")}
    return {}


def validity_rule(values: Mapping[str, Any]) -> dict:
    """Record rule: valid to is not before valid from (an open end is fine)."""
    first, last = values.get("valid_from"), values.get("valid_to")
    if first and last and last < first:
        return {"valid_to": _l("Valid to: cannot be before valid from.")}
    return {}


def employers_rule(employers) -> None:
    """Field rule of the covered employers: at most MAX_EMPLOYERS."""
    if employers is not None and len(employers) > MAX_EMPLOYERS:
        raise FieldError(_l("Employers covered: at most %(count)s employers.", count=MAX_EMPLOYERS))
    return employers


def agreement_valid_clause(agreement_id: int, day: dt.date):
    """SQL: the agreement exists and is valid on `day`."""
    return exists().where(
        CollectiveAgreement.id == agreement_id,
        current_on_clause(CollectiveAgreement.valid_from, CollectiveAgreement.valid_to, day),
    )


def _employment_at_covered_employer_clause(agreement_id: int, day: dt.date):
    return exists().where(
        Employment.member_id == Member.id,
        current_on_clause(Employment.start_date, Employment.end_date, day),
        Employment.employer_id.in_(
            select(AgreementEmployer.employer_id).where(AgreementEmployer.agreement_id == agreement_id)
        ),
    )


def _category_covered_clause(agreement_id: int):
    listed = select(AgreementCategory.category).where(AgreementCategory.agreement_id == agreement_id)
    none_listed = not_(exists().where(AgreementCategory.agreement_id == agreement_id))
    return none_listed | Member.category.in_(listed)


def covered_clause(agreement_id: int, day: dt.date):
    """SQL clause over Member: the member is covered by agreement `agreement_id` on `day` (see the module)."""
    return and_(
        agreement_valid_clause(agreement_id, day),
        membership_current_clause(day),
        _employment_at_covered_employer_clause(agreement_id, day),
        _category_covered_clause(agreement_id),
    )


def covered_member_ids(agreement_id: int, day: dt.date) -> set[int]:
    """The ids of the members agreement `agreement_id` covers on `day`."""
    return set(db.session.scalars(select(Member.id).where(covered_clause(agreement_id, day))))


def covers(agreement_id: int, member_id: int, day: dt.date) -> bool:
    """Whether agreement `agreement_id` covers the member on `day` (one lookup, not the covered set)."""
    return db.session.scalar(select(Member.id).where(Member.id == member_id, covered_clause(agreement_id, day))) \
        is not None


def covered_count(agreement_id: int, day: dt.date) -> int:
    """How many members agreement `agreement_id` covers on `day` (one COUNT query)."""
    return db.session.scalar(select(func.count(Member.id)).where(covered_clause(agreement_id, day))) or 0


def categories_of(agreement_id: int | None) -> list[MemberCategory]:
    """The categories the agreement lists (empty: it covers every category)."""
    if agreement_id is None:
        return []
    return list(db.session.scalars(select(AgreementCategory.category)
                                   .where(AgreementCategory.agreement_id == agreement_id)))


def set_categories(agreement_id: int, categories) -> None:
    """Replace the agreement's categories with `categories` (none: every category), in the caller's transaction."""
    db.session.execute(delete(AgreementCategory).where(AgreementCategory.agreement_id == agreement_id))
    for category in sorted(set(categories or ()), key=lambda member: member.name):
        db.session.add(AgreementCategory(agreement_id=agreement_id, category=category))
