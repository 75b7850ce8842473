"""Row filters: which rows of each model a grant reaches.

`visible_clause(model, grants)` is the one filter every scoped list, show,
edit, delete, action, dropdown and API call applies. A model without a rule
here is visible to the office alone. No grants means no rows.

A region's grant (an officer or representative for an employer's operating unit)
reaches the workplaces below it: it is a workplace grant over those ids (see
`scope.grant_for`), so every workplace rule below serves regions too. The
regions themselves (the tree) are the office's.

`assert_writable` is the write-side twin: after a change is flushed, the row
and every row it points at must still be visible to the grants that may make
that change, else the change is refused and rolled back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from flask import abort
from sqlalchemy import false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement, True_

from webapp.extensions import db
from webapp.models import (
    AvtaleGiroMandate,
    CourseApplication,
    DeductionBasis,
    DeductionContact,
    DeductionList,
    Employer,
    Employment,
    EmploymentChange,
    Invoice,
    Member,
    MemberDocument,
    Message,
    MessageThread,
    OrgUnit,
    Payment,
    PointsAccount,
    Position,
    PrizeOrder,
    Recruitment,
    RefundMember,
    RefundRun,
    RefundUnit,
    RefundUnitCategory,
    Workplace,
)
from webapp.models.choices import RefundStatus
from webapp.security import scope as sc
from webapp.services.bounds import INT64_MAX
from webapp.services.periods import current_clause


class ScopeViolation(PermissionError):
    """A row outside the acting scope was asked for or written."""


def _members_at_workplaces(ids) -> ColumnElement:
    """Members employed at the workplaces today (a trustee's people)."""
    current = current_clause(Employment, dt.date.today())
    return select(Employment.member_id).where(Employment.workplace_id.in_(ids), current)


def _workplaces_in_units(ids):
    return select(Workplace.id).where(Workplace.org_unit_id.in_(ids))


def _members_in_units(ids):
    return select(Member.id).where(Member.home_unit_id.in_(ids))


def _approved_runs():
    return select(RefundRun.id).where(RefundRun.status == RefundStatus.approved)


def _messages_in_threads(which_threads) -> ColumnElement:
    return Message.thread_id.in_(select(MessageThread.id).where(which_threads))


# For each model: {grant kind: function(ids) -> clause}. A kind not listed reaches nothing.
_RULES: dict[type, dict[str, Callable[[list[int]], ColumnElement]]] = {
    Member: {
        sc.UNITS: lambda ids: Member.home_unit_id.in_(ids),
        sc.WORKPLACES: lambda ids: Member.id.in_(_members_at_workplaces(ids)),
        sc.MEMBERS: lambda ids: Member.id.in_(ids),
    },
    Employment: {
        sc.UNITS: lambda ids: Employment.member_id.in_(_members_in_units(ids)),
        # An officer of a region: the employments at its workplaces of the people working there today.
        sc.WORKPLACES: lambda ids: Employment.workplace_id.in_(ids) & Employment.member_id.in_(
            _members_at_workplaces(ids)),
        sc.MEMBERS: lambda ids: Employment.member_id.in_(ids),
    },
    Position: {
        sc.UNITS: lambda ids: or_(Position.org_unit_id.in_(ids), Position.workplace_id.in_(_workplaces_in_units(ids))),
        sc.WORKPLACES: lambda ids: Position.workplace_id.in_(ids),
        sc.MEMBERS: lambda ids: Position.member_id.in_(ids),
    },
    OrgUnit: {
        sc.AGGREGATE: lambda ids: true(),
        sc.UNITS: lambda ids: OrgUnit.id.in_(ids),
    },
    Workplace: {
        sc.UNITS: lambda ids: Workplace.org_unit_id.in_(ids),
        sc.WORKPLACES: lambda ids: Workplace.id.in_(ids),
        sc.EMPLOYERS: lambda ids: Workplace.employer_id.in_(ids),
    },
    Employer: {
        sc.AGGREGATE: lambda ids: true(),
        sc.UNITS: lambda ids: Employer.id.in_(select(Workplace.employer_id).where(Workplace.org_unit_id.in_(ids))),
        sc.WORKPLACES: lambda ids: Employer.id.in_(select(Workplace.employer_id).where(Workplace.id.in_(ids))),
        sc.EMPLOYERS: lambda ids: Employer.id.in_(ids),
    },
    DeductionContact: {
        sc.EMPLOYERS: lambda ids: DeductionContact.employer_id.in_(ids),
    },
    # The deduction cycle belongs to the employer: its contacts see it, the office sees all.
    DeductionBasis: {sc.EMPLOYERS: lambda ids: DeductionBasis.employer_id.in_(ids)},
    DeductionList: {sc.EMPLOYERS: lambda ids: DeductionList.employer_id.in_(ids)},
    # A payment matched to an employer-month is the employer's; one matched to a member is the member's.
    Payment: {
        sc.EMPLOYERS: lambda ids: Payment.employer_id.in_(ids),
        sc.MEMBERS: lambda ids: Payment.member_id.in_(ids),
    },
    # Direct payment: a member's invoices and AvtaleGiro mandate are the member's (and the office's) alone;
    # officers, trustees, employers and analysts reach none of them. Adjustments and allocations: office only.
    Invoice: {sc.MEMBERS: lambda ids: Invoice.member_id.in_(ids)},
    AvtaleGiroMandate: {sc.MEMBERS: lambda ids: AvtaleGiroMandate.member_id.in_(ids)},
    # Secure messages: the party's own threads; officers answer the threads addressed to units of
    # their subtree; threads addressed to the union office (no unit) are the office's alone.
    MessageThread: {
        sc.MEMBERS: lambda ids: MessageThread.member_id.in_(ids),
        sc.EMPLOYERS: lambda ids: MessageThread.employer_id.in_(ids),
        sc.UNITS: lambda ids: MessageThread.org_unit_id.in_(ids),
    },
    Message: {
        sc.MEMBERS: lambda ids: _messages_in_threads(MessageThread.member_id.in_(ids)),
        sc.EMPLOYERS: lambda ids: _messages_in_threads(MessageThread.employer_id.in_(ids)),
        sc.UNITS: lambda ids: _messages_in_threads(MessageThread.org_unit_id.in_(ids)),
    },
    # The rest of the member's own page belongs to the member alone (and the office).
    CourseApplication: {sc.MEMBERS: lambda ids: CourseApplication.member_id.in_(ids)},
    Recruitment: {sc.MEMBERS: lambda ids: Recruitment.recruiter_id.in_(ids)},
    PrizeOrder: {sc.MEMBERS: lambda ids: PrizeOrder.member_id.in_(ids)},
    PointsAccount: {sc.MEMBERS: lambda ids: PointsAccount.member_id.in_(ids)},
    MemberDocument: {sc.MEMBERS: lambda ids: MemberDocument.member_id.in_(ids)},
    EmploymentChange: {sc.MEMBERS: lambda ids: EmploymentChange.member_id.in_(ids)},
    # Refund documents: officers see the approved quarters of the units in their subtree; drafts are the office's.
    RefundUnit: {sc.UNITS: lambda ids: RefundUnit.org_unit_id.in_(ids) & RefundUnit.run_id.in_(_approved_runs())},
    RefundUnitCategory: {
        sc.UNITS: lambda ids: RefundUnitCategory.refund_unit_id.in_(
            select(RefundUnit.id).where(RefundUnit.org_unit_id.in_(ids), RefundUnit.run_id.in_(_approved_runs()))
        )
    },
    RefundMember: {sc.UNITS: lambda ids: RefundMember.unit_id.in_(ids) & RefundMember.run_id.in_(_approved_runs())},
}


def register_rule(model: type, rules: dict[str, Callable[[list[int]], ColumnElement]]) -> None:
    """Let another area (deductions, refunds, ...) declare how its rows are scoped."""
    _RULES[model] = rules


def grant_clause(model: type, grant: sc.Grant) -> ColumnElement:
    if grant.kind == sc.ALL:
        return true()
    rule = _RULES.get(model, {}).get(grant.kind)
    if rule is None:
        return false()
    if grant.kind != sc.AGGREGATE and not grant.ids:
        return false()
    return rule(sorted(grant.ids))


def visible_clause(model: type, grants: Iterable[sc.Grant]) -> ColumnElement:
    clauses = [grant_clause(model, grant) for grant in grants]
    if not clauses:
        return false()
    if any(isinstance(clause, True_) for clause in clauses):
        return true()
    return or_(*clauses)


def is_visible(model: type, pk, grants: Iterable[sc.Grant]) -> bool:
    if pk is None:
        return False
    mapper_pk = model.__mapper__.primary_key[0]
    query = select(mapper_pk).where(mapper_pk == pk, visible_clause(model, list(grants)))
    return db.session.execute(query).first() is not None


def scoped_row(model: type, pk, grants: Iterable[sc.Grant], options: Iterable = ()):
    """The row of `model` with id `pk` when the grants' row rule admits it, else None.

    An id beyond what a 64-bit key holds is one nobody has (never handed to the database to fail)."""
    if isinstance(pk, bool) or not isinstance(pk, int) or not 0 < pk <= INT64_MAX:
        return None
    mapper_pk = model.__mapper__.primary_key[0]
    query = select(model).where(mapper_pk == pk, visible_clause(model, list(grants))).options(*options)
    return db.session.scalars(query).first()


def row_for_view(model: type, pk, view_name: str):
    """The row when the acting scope's grants for `view_name` reach it, else None (an id typed as text is read as
    a whole number): for the panels one screen adds to another's page, shown only to who may use that screen."""
    pk = int(pk) if str(pk).isdigit() else pk
    return scoped_row(model, pk, sc.get_scope().grants_for_view(view_name))


def scoped_get(model: type, pk, options: Iterable = (), grants: Iterable[sc.Grant] | None = None):
    """The row for the acting scope (or the given grants); 404 otherwise, just as for an id nobody has.

    The portal, Min side and messages look up every row by id through here, so
    the row filter above is the only rule of who reaches what.
    """
    row = scoped_row(model, pk, sc.get_scope().grants if grants is None else grants, options)
    if row is None:
        abort(404)
    return row


def assert_writable(item, grants: list[sc.Grant]) -> None:
    """Refuse a write that puts a row, or a row it refers to, outside the grants."""
    db.session.flush()
    model = type(item)
    if not is_visible(model, item.id, grants):
        raise ScopeViolation(f"{model.__name__} {item.id} is outside the acting scope")
    for relationship in model.__mapper__.relationships:
        if relationship.direction.name != "MANYTOONE":
            continue
        target_model = relationship.mapper.class_
        if target_model not in _RULES:
            continue
        target = getattr(item, relationship.key)
        if target is not None and not is_visible(target_model, target.id, grants):
            raise ScopeViolation(f"{relationship.key} {target.id} is outside the acting scope")
