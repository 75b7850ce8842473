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

from sqlalchemy import and_, exists, not_, select

from webapp.extensions import db
from webapp.models import Employment, Member
from webapp.models.outreach import AgreementCategory, AgreementEmployer, CollectiveAgreement
from webapp.services.membership import membership_current_clause
from webapp.services.periods import current_on_clause


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


def covered_count(agreement_id: int, day: dt.date) -> int:
    """How many members agreement `agreement_id` covers on `day` (one COUNT query)."""
    from sqlalchemy import func

    return db.session.scalar(select(func.count(Member.id)).where(covered_clause(agreement_id, day))) or 0
