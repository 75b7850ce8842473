"""The demo's deduction cycle (seed.cycle.play_cycle): what it writes through the driver must read as the services
would have written it: each delivered line the dues rule's amount for its basis line, each list's total the sum of
its lines, a notice per current contact of every basis, and the same rows from the same seed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from seed.cycle import play_cycle, position_pay_ore
from tests.factories import add_initial_rate
from webapp.extensions import db
from webapp.models import (
    DeductionBasis,
    DeductionBasisLine,
    DeductionContact,
    DeductionList,
    DeductionListLine,
    DeductionNotice,
    Member,
)
from webapp.services import dues
from webapp.services.periods import Month

TODAY = dt.date(2026, 5, 20)  # bases January to June, lists January to May


def _lines():
    return db.session.execute(
        select(DeductionList.id, DeductionList.period, DeductionList.total_ore, DeductionListLine.member_id,
               DeductionListLine.national_id, DeductionListLine.name, DeductionListLine.amount_ore,
               DeductionListLine.deviation, DeductionBasisLine.ordinary_dues, DeductionBasisLine.fixed_amount_ore,
               DeductionBasisLine.position_pct, Member.national_id.label("member_national_id"),
               Member.first_name, Member.last_name)
        .join(DeductionList, DeductionList.id == DeductionListLine.list_id)
        .join(DeductionBasis, (DeductionBasis.employer_id == DeductionList.employer_id)
              & (DeductionBasis.period == DeductionList.period))
        .join(DeductionBasisLine, (DeductionBasisLine.basis_id == DeductionBasis.id)
              & (DeductionBasisLine.member_id == DeductionListLine.member_id))
        .join(Member, Member.id == DeductionListLine.member_id)
        .order_by(DeductionListLine.id)
    ).all()


def test_delivered_lines_follow_the_rule_and_the_totals_add_up(app_ctx, world):
    add_initial_rate()
    played = play_cycle(5, seed=1, today=TODAY)
    lines = _lines()
    assert lines and len(lines) == played.lines == db.session.scalar(select(func.count(DeductionListLine.id)))
    totals: dict[int, int] = {}
    for line in lines:
        assert line.national_id == line.member_national_id
        assert line.name == f"{line.first_name} {line.last_name}"
        rate = dues.rate_in_force(Month.parse(line.period))
        if line.deviation is None:
            assert line.amount_ore == dues.line_dues_ore(rate, position_pay_ore(line.member_id, line.position_pct),
                                                         line)
        else:
            assert line.amount_ore is None
        totals[line.id] = totals.get(line.id, 0) + (line.amount_ore or 0)
    assert {line.id: line.total_ore for line in lines} == totals


def test_every_basis_is_noticed_to_its_current_contacts(app_ctx, world):
    add_initial_rate()
    play_cycle(3, seed=1, today=TODAY)
    bases = db.session.execute(select(DeductionBasis.id, DeductionBasis.employer_id, DeductionBasis.notified_at)).all()
    contacts: dict[int, set[int]] = {}
    for employer_id, user_id in db.session.execute(
        select(DeductionContact.employer_id, DeductionContact.user_id).where(DeductionContact.end_date.is_(None))
    ):
        contacts.setdefault(employer_id, set()).add(user_id)
    notices: dict[int, list[int]] = {}
    for basis_id, user_id in db.session.execute(select(DeductionNotice.basis_id, DeductionNotice.user_id)):
        notices.setdefault(basis_id, []).append(user_id)
    assert bases and any(contacts.get(employer_id) for _id, employer_id, _at in bases)
    for basis_id, employer_id, notified_at in bases:
        expected = contacts.get(employer_id, set())
        assert sorted(notices.get(basis_id, [])) == sorted(expected)
        assert (notified_at is not None) == bool(expected)


def test_the_same_seed_plays_the_same_lists(app_ctx, world):
    add_initial_rate()
    play_cycle(3, seed=4, today=TODAY)
    first = [tuple(row) for row in db.session.execute(
        select(DeductionList.employer_id, DeductionList.period, DeductionList.total_ore, DeductionListLine.member_id,
               DeductionListLine.amount_ore, DeductionListLine.deviation)
        .join(DeductionList, DeductionList.id == DeductionListLine.list_id).order_by(DeductionListLine.id))]
    assert first
    for model in (DeductionListLine, DeductionList):
        db.session.execute(model.__table__.delete())
    db.session.execute(DeductionNotice.__table__.delete())
    db.session.commit()
    from webapp.models import Payment, PaymentImport

    for model in (Payment, PaymentImport):
        db.session.execute(model.__table__.delete())
    db.session.execute(DeductionBasisLine.__table__.delete())
    db.session.execute(DeductionBasis.__table__.delete())
    db.session.commit()
    play_cycle(3, seed=4, today=TODAY)
    again = [tuple(row) for row in db.session.execute(
        select(DeductionList.employer_id, DeductionList.period, DeductionList.total_ore, DeductionListLine.member_id,
               DeductionListLine.amount_ore, DeductionListLine.deviation)
        .join(DeductionList, DeductionList.id == DeductionListLine.list_id).order_by(DeductionListLine.id))]
    assert again == first


def test_every_basis_is_reconciled_as_a_full_reconciliation_leaves_it(app_ctx, world):
    """The cycle reconciles the bases of the employers its import did not pay (the import reconciles the others):
    a full reconciliation of every month afterwards changes nothing."""
    from webapp.services.reconciliation import reconcile

    add_initial_rate()
    play_cycle(4, seed=2, today=TODAY)
    columns = (DeductionBasis.id, DeductionBasis.list_count, DeductionBasis.delivered,
               DeductionBasis.reported_total_ore, DeductionBasis.paid_total_ore, DeductionBasis.not_reported_count,
               DeductionBasis.deviation_count, DeductionBasis.reconciliation_status,
               DeductionBasis.reconciliation_flags)
    played = db.session.execute(select(*columns).order_by(DeductionBasis.id)).all()
    assert {row.reconciliation_status for row in played} - {None}
    for (period,) in db.session.execute(select(DeductionBasis.period).distinct()).all():
        reconcile(period)
    db.session.flush()
    assert db.session.execute(select(*columns).order_by(DeductionBasis.id)).all() == played
