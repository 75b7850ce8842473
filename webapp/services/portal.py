"""What the deduction portal's front page shows an employer: its months with their lists, and its contacts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionContact, DeductionList
from webapp.models.choices import ListStatus
from webapp.services.deduction_lists import stored_month
from webapp.services.periods import current_first


def months_overview(employer_id: int) -> list[dict]:
    """One row per month with a basis, newest first: the basis, its month, the delivered lists and the draft."""
    bases = db.session.scalars(
        select(DeductionBasis).where(DeductionBasis.employer_id == employer_id).order_by(DeductionBasis.period.desc())
    ).all()
    lists = db.session.scalars(
        select(DeductionList).where(DeductionList.employer_id == employer_id).order_by(DeductionList.created_at)
    ).all()
    by_period: dict[str, list[DeductionList]] = {}
    for deduction_list in lists:
        by_period.setdefault(deduction_list.period, []).append(deduction_list)
    rows = []
    for basis in bases:
        period_lists = by_period.get(basis.period, [])
        rows.append({
            "basis": basis,
            "month": stored_month(basis.period),
            "delivered": [lst for lst in period_lists if lst.status == ListStatus.delivered],
            "draft": next((lst for lst in period_lists if lst.status == ListStatus.draft), None),
        })
    return rows


def contacts_of(employer_id: int) -> list[DeductionContact]:
    """The employer's deduction contacts, those in post today first, each group oldest first (history kept)."""
    return db.session.scalars(
        select(DeductionContact).where(DeductionContact.employer_id == employer_id)
        .order_by(current_first(DeductionContact, dt.date.today()), DeductionContact.start_date)
    ).all()
