"""Who pays how, and since when: payroll deduction, invoice or AvtaleGiro, one rule in Python and SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.billing_helpers import direct_member, employ, mandate
from tests.factories import add_initial_rate
from webapp.extensions import db
from webapp.models import DeductionBasisLine, Employer, Employment, Member
from webapp.models.choices import MemberCategory, PaymentMethod
from webapp.services import deduction_basis
from webapp.services.deduction_basis import on_payroll_deduction, payroll_deduction_clause
from webapp.services.payment_methods import MethodSince, direct_payers, payment_method
from webapp.services.periods import Month

DAY = dt.date(2026, 11, 16)
MONTH = Month.of(DAY)


def method_of(member_id: int, day: dt.date = DAY) -> MethodSince | None:
    return payment_method(db.session.get(Member, member_id), day)


def test_a_member_on_the_payroll_since_their_employment_started(app_ctx, world):
    assert method_of(world.members["inside"].id) == MethodSince(PaymentMethod.deduction, dt.date(2020, 1, 1))


def test_a_member_without_employment_pays_by_invoice_since_joining(app_ctx, world):
    assert method_of(world.members["lf1_direct"].id) == MethodSince(PaymentMethod.invoice, dt.date(2015, 1, 1))


def test_a_member_whose_job_ended_pays_directly_from_the_next_month(app_ctx, world):
    member = direct_member(world, "Jens", "Sluttet")
    employ(world, member, start=dt.date(2018, 3, 10), end=dt.date(2026, 8, 15))
    db.session.commit()
    assert method_of(member.id) == MethodSince(PaymentMethod.invoice, dt.date(2026, 9, 1))
    # August still counts on the payroll (an employment counts to the end of its month), from April 2018.
    assert method_of(member.id, dt.date(2026, 8, 31)) == MethodSince(PaymentMethod.deduction, dt.date(2018, 4, 1))


def test_an_avtalegiro_mandate_counts_from_its_registration(app_ctx, world):
    member = direct_member(world, "Aud", "Avtale")
    employ(world, member, start=dt.date(2018, 1, 1), end=dt.date(2026, 8, 15))
    mandate(member, dt.date(2026, 10, 5))
    early = direct_member(world, "Eva", "Tidlig")
    employ(world, early, start=dt.date(2018, 1, 1), end=dt.date(2026, 8, 15))
    mandate(early, dt.date(2026, 5, 2))  # signed while still on the payroll
    db.session.commit()
    assert method_of(member.id) == MethodSince(PaymentMethod.avtalegiro, dt.date(2026, 10, 5))
    assert method_of(member.id, dt.date(2026, 9, 30)) == MethodSince(PaymentMethod.invoice, dt.date(2026, 9, 1))
    assert method_of(early.id) == MethodSince(PaymentMethod.avtalegiro, dt.date(2026, 9, 1))


def test_a_deleted_mandate_means_invoice_again(app_ctx, world):
    member = direct_member(world, "Dag", "Slettet")
    mandate(member, dt.date(2026, 3, 1), active=False)
    db.session.commit()
    assert method_of(member.id).method == PaymentMethod.invoice


def test_students_retired_and_unemployed_pay_directly_even_when_employed(app_ctx, world):
    for category in (MemberCategory.student, MemberCategory.retired, MemberCategory.unemployed):
        member = direct_member(world, "Stine", category.name.capitalize(), category=category)
        employ(world, member, start=dt.date(2021, 1, 1))
        db.session.commit()
        assert method_of(member.id) == MethodSince(PaymentMethod.invoice, dt.date(2015, 1, 1)), category


def test_an_employer_without_agreement_or_an_employment_off_deduction_means_paying_directly(app_ctx, world):
    off = direct_member(world, "Odd", "Utenfor")
    employ(world, off, start=dt.date(2021, 1, 1), on_deduction=False)
    no_agreement = direct_member(world, "Nina", "Avtaleløs")
    employ(world, no_agreement, workplace="W2", start=dt.date(2021, 1, 1))
    db.session.get(Employer, world.employers["E2"].id).has_deduction_agreement = False
    db.session.commit()
    assert method_of(off.id).method == PaymentMethod.invoice
    assert method_of(no_agreement.id).method == PaymentMethod.invoice


def test_a_member_who_has_left_has_no_payment_method(app_ctx, world):
    member = direct_member(world, "Leif", "Gått", left=dt.date(2026, 10, 3))
    db.session.commit()
    assert method_of(member.id) is None
    assert method_of(member.id, dt.date(2026, 10, 31)).method == PaymentMethod.invoice


def test_a_month_with_a_basis_follows_the_basis(app_ctx, world):
    """The basis is what the employers were told: a member on it is deducted that month even if the register
    changed later, and one the basis left out pays directly."""
    add_initial_rate()
    late = direct_member(world, "Lars", "Sen")
    db.session.commit()
    deduction_basis.generate(MONTH)
    employ(world, late, start=dt.date(2026, 1, 1))  # registered after the basis was made
    gone = db.session.get(Employment, world.employments["club"].id)
    gone.end_date = dt.date(2026, 9, 30)  # ended (retroactively) before the basis month
    db.session.commit()
    assert method_of(late.id).method == PaymentMethod.invoice
    assert method_of(world.members["club"].id).method == PaymentMethod.deduction
    # In the next month (no basis yet) the register decides.
    next_day = MONTH.next.first_day
    assert method_of(late.id, next_day) == MethodSince(PaymentMethod.deduction, next_day)
    assert method_of(world.members["club"].id, next_day) == MethodSince(PaymentMethod.invoice, next_day)


def test_the_set_based_direct_payers_agree_with_payment_method_for_everyone(app_ctx, world):
    add_initial_rate()
    changed = direct_member(world, "Siri", "Skifte")
    employ(world, changed, start=dt.date(2026, 2, 1), end=dt.date(2026, 9, 20))
    giro = direct_member(world, "Gro", "Giro")
    mandate(giro, dt.date(2026, 7, 14))
    direct_member(world, "Nils", "Ny", joined=dt.date(2026, 10, 2))
    direct_member(world, "Gunn", "Gammel", left=dt.date(2026, 8, 31))
    db.session.commit()
    deduction_basis.generate(Month(2026, 9))
    members = db.session.scalars(select(Member)).all()
    for month in (Month(2026, 6), Month(2026, 7), Month(2026, 8), Month(2026, 9), Month(2026, 10), Month(2026, 11)):
        by_method = {method: set(db.session.scalars(direct_payers(month, method)))
                     for method in (PaymentMethod.invoice, PaymentMethod.avtalegiro)}
        assert set(db.session.scalars(direct_payers(month))) == by_method[PaymentMethod.invoice] | by_method[
            PaymentMethod.avtalegiro]
        for member in members:
            answer = payment_method(member, month.first_day)
            expected = answer.method if answer is not None and answer.is_direct else None
            found = [method for method, ids in by_method.items() if member.id in ids]
            assert found == ([expected] if expected else []), (member.full_name, month)
    assert giro.id in set(db.session.scalars(direct_payers(Month(2026, 7), PaymentMethod.avtalegiro)))
    assert giro.id in set(db.session.scalars(direct_payers(Month(2026, 6), PaymentMethod.invoice)))


def test_direct_payers_refuses_the_deduction_method(app_ctx, world):
    with pytest.raises(ValueError, match="not a direct payment method"):
        direct_payers(MONTH, PaymentMethod.deduction)


PAYROLL_EDGES = [
    # (what, category, joined, left, start, end, on_deduction, deducted in MONTH)
    ("plain", MemberCategory.ordinary, dt.date(2015, 1, 1), None, dt.date(2020, 1, 1), None, True, True),
    ("apprentice", MemberCategory.apprentice, dt.date(2015, 1, 1), None, dt.date(2020, 1, 1), None, True, True),
    ("student", MemberCategory.student, dt.date(2015, 1, 1), None, dt.date(2020, 1, 1), None, True, False),
    ("off deduction", MemberCategory.ordinary, dt.date(2015, 1, 1), None, dt.date(2020, 1, 1), None, False, False),
    ("job starts on the 1st", MemberCategory.ordinary, dt.date(2015, 1, 1), None, MONTH.first_day, None, True, True),
    ("job starts on the 2nd", MemberCategory.ordinary, dt.date(2015, 1, 1), None,
     MONTH.first_day + dt.timedelta(days=1), None, True, False),
    ("job ended on the 1st", MemberCategory.ordinary, dt.date(2015, 1, 1), None, dt.date(2020, 1, 1),
     MONTH.first_day, True, True),
    ("job ended last month", MemberCategory.ordinary, dt.date(2015, 1, 1), None, dt.date(2020, 1, 1),
     MONTH.first_day - dt.timedelta(days=1), True, False),
    ("joined on the 2nd", MemberCategory.ordinary, MONTH.first_day + dt.timedelta(days=1), None,
     dt.date(2020, 1, 1), None, True, False),
    ("left last month", MemberCategory.ordinary, dt.date(2015, 1, 1), MONTH.first_day - dt.timedelta(days=1),
     dt.date(2020, 1, 1), None, True, False),
]


def test_the_python_twin_of_the_payroll_rule_agrees_with_the_sql_rule_on_every_edge(app_ctx, world):
    members = {}
    for what, category, joined, left, start, end, on_deduction, expected in PAYROLL_EDGES:
        member = direct_member(world, "Kant", what.replace(" ", "-")[:40], category=category, joined=joined,
                               left=left)
        employ(world, member, start=start, end=end, on_deduction=on_deduction)
        members[member.id] = (what, expected)
    db.session.commit()
    found = set(db.session.scalars(
        select(Employment.member_id).join(Employer, Employer.id == Employment.employer_id)
        .join(Member, Member.id == Employment.member_id)
        .where(Employment.member_id.in_(members), payroll_deduction_clause(MONTH))
    ))
    assert {members[m][0] for m in found} == {what for what, expected in members.values() if expected}
    for member_id, (what, expected) in members.items():
        member = db.session.get(Member, member_id)
        employments = db.session.scalars(select(Employment).where(Employment.member_id == member_id)).all()
        assert on_payroll_deduction(member.category, member.joined_on, member.left_on, employments, MONTH) \
            == expected, what


def test_the_basis_generator_reads_the_shared_rule(app_ctx, world):
    """The basis puts exactly the members the shared rule names on deduction."""
    add_initial_rate()
    for what, category, joined, left, start, end, on_deduction, _expected in PAYROLL_EDGES:
        member = direct_member(world, "Grunn", what.replace(" ", "-")[:40], category=category, joined=joined,
                               left=left)
        employ(world, member, start=start, end=end, on_deduction=on_deduction)
    db.session.commit()
    deduction_basis.generate(MONTH)
    on_basis = set(db.session.scalars(select(DeductionBasisLine.member_id)
                                      .where(DeductionBasisLine.on_deduction.is_(True))))
    by_rule = set(db.session.scalars(
        select(Employment.member_id).join(Employer, Employer.id == Employment.employer_id)
        .join(Member, Member.id == Employment.member_id).where(payroll_deduction_clause(MONTH))
    ))
    assert on_basis == by_rule
    assert len(on_basis) == 3 + sum(1 for edge in PAYROLL_EDGES if edge[-1])  # the world's three and the edges


@pytest.mark.parametrize("registered, counts", [
    (dt.datetime(2026, 11, 30, 23, 59), True),  # the month's last minute
    (dt.datetime(2026, 12, 1, 0, 0), False),  # the next month's first moment
    (dt.datetime(2026, 1, 1, 0, 0), True),
])
def test_the_python_twin_of_the_mandate_rule_agrees_with_the_sql_rule(app_ctx, world, registered, counts):
    from webapp.models import AvtaleGiroMandate
    from webapp.services.payment_methods import first_mandate_registrations, mandate_clause, mandate_counts_in

    member = direct_member(world, "Mia", "Mandat")
    db.session.add(AvtaleGiroMandate(kid="9020000000000000", member_id=member.id, active=True, notify=False,
                                     registered_at=registered))
    db.session.commit()
    in_sql = db.session.scalar(select(Member.id).where(Member.id == member.id, mandate_clause(MONTH))) is not None
    assert in_sql == mandate_counts_in(first_mandate_registrations()[member.id], MONTH) == counts
