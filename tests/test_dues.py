"""The dues rule (webapp.services.dues): percentage in Decimal with min and max, fixed components, dated rates."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, literal, select

from seed.cycle import play_cycle
from tests.factories import add_initial_rate
from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionBasisLine, DeductionList, DeductionListLine, DuesRate
from webapp.services import dues
from webapp.services.deduction_basis import Components
from webapp.services.periods import Month

CONTENTS, TRAVEL, APPRENTICE = 8500, 9100, 4200


def rate(percent="1.1", minimum=None, maximum=None, valid_from=dt.date(2000, 1, 1)) -> DuesRate:
    return DuesRate(valid_from=valid_from, percent=Decimal(percent), monthly_min_ore=minimum, monthly_max_ore=maximum,
                    contents_insurance_ore=CONTENTS, travel_insurance_ore=TRAVEL, apprentice_flat_ore=APPRENTICE)


def components(r: DuesRate, apprentice=False, main=True, contents=True, travel=True) -> dues.FixedComponents:
    return dues.fixed_components(r, apprentice=apprentice, main_employment=main, contents_insurance=contents,
                                 travel_insurance=travel)


def test_percentage_is_decimal_to_the_ore():
    assert dues.percentage_dues_ore(rate("1.1"), 3_333_333) == 36_667  # 1.1 % of 33 333,33 kr is 366,67 kr
    assert dues.percentage_dues_ore(rate("1.1"), Decimal("2373750.5")) == 26_111  # a part-time pay with half an øre


def test_half_an_ore_rounds_up():
    # 1.1 % of 15 kr is 16.5 øre: Python's round() (half to even) gave 16, the rule gives 17.
    assert dues.percentage_dues_ore(rate("1.1"), 1500) == 17
    assert dues.percentage_dues_ore(rate("1.1"), 4_747_500) == 52_223  # 52 222.5 øre; the seed's float gave 52 222


def test_a_rate_typed_as_float_counts_as_typed():
    assert dues.percentage_dues_ore(rate(1.1), 1500) == 17


@pytest.mark.parametrize(("pay", "expected"), [
    (10_000, 5_000),         # 110 øre is below the minimum: the minimum
    (3_333_333, 36_667),     # in between: the percentage
    (100_000_000, 60_000),   # 11 000 kr is above the maximum: the maximum
], ids=["below-min", "between", "above-max"])
def test_min_and_max_hold(pay, expected):
    assert dues.percentage_dues_ore(rate("1.1", minimum=5_000, maximum=60_000), pay) == expected


def test_without_min_and_max_nothing_is_clamped():
    unclamped = rate("1.1")
    assert dues.percentage_dues_ore(unclamped, 10_000) == 110
    assert dues.percentage_dues_ore(unclamped, 100_000_000) == 1_100_000
    assert dues.percentage_dues_ore(rate("1.1", minimum=5_000), 100_000_000) == 1_100_000
    assert dues.percentage_dues_ore(rate("1.1", maximum=60_000), 10_000) == 110


def test_ordinary_member_pays_percentage_and_both_insurances_on_the_main_employment():
    r = rate("1.1")
    main = components(r)
    assert (main.ordinary_dues, main.contents_insurance, main.travel_insurance) == (True, True, True)
    assert dues.line_dues_ore(r, 3_333_333, main) == 36_667 + CONTENTS + TRAVEL
    second_job = components(r, main=False)
    insurances_and_fixed = (second_job.contents_insurance, second_job.travel_insurance, second_job.fixed_amount_ore)
    assert insurances_and_fixed == (False, False, 0)
    assert dues.line_dues_ore(r, 3_333_333, second_job) == 36_667


def test_travel_insurance_opt_out_leaves_contents_insurance():
    r = rate("1.1")
    opted_out = components(r, travel=False)
    assert not opted_out.travel_insurance and opted_out.contents_insurance
    assert dues.line_dues_ore(r, 3_333_333, opted_out) == 36_667 + CONTENTS


def test_apprentice_pays_the_flat_amount_once_whatever_the_pay():
    r = rate("1.1", minimum=5_000)
    main = components(r, apprentice=True)
    flags = (main.ordinary_dues, main.contents_insurance, main.travel_insurance, main.apprentice)
    assert flags == (False, False, False, True)
    assert dues.line_dues_ore(r, 3_333_333, main) == APPRENTICE
    assert dues.line_dues_ore(r, 0, main) == APPRENTICE  # the minimum is for percentage dues only
    assert dues.line_dues_ore(r, 3_333_333, components(r, apprentice=True, main=False)) == 0


def test_a_basis_line_is_a_dues_line():
    line = Components(employment_id=1, position_pct=Decimal("50"), **vars(components(rate("1.1"), travel=False)))
    assert dues.line_dues_ore(rate("1.1"), 1500, line) == 17 + CONTENTS


def test_the_rate_in_force_is_the_newest_valid_on_the_first_day(app_ctx):
    db.session.add_all([rate("1.1", valid_from=dt.date(2020, 1, 1)), rate("1.2", valid_from=dt.date(2026, 3, 1)),
                        rate("1.3", valid_from=dt.date(2026, 4, 2))])
    db.session.commit()
    assert dues.rate_in_force(Month(2019, 12)) is None
    assert dues.rate_in_force(Month(2020, 1)).percent == Decimal("1.1")
    assert dues.rate_in_force(Month(2026, 2)).percent == Decimal("1.1")
    assert dues.rate_in_force(Month(2026, 3)).percent == Decimal("1.2")
    assert dues.rate_in_force(Month(2026, 4)).percent == Decimal("1.2")  # 1.3 starts on the 2nd: not in force in April
    assert dues.rate_in_force(Month(2026, 5)).percent == Decimal("1.3")


@given(pay=st.integers(0, 10**10), percent=st.decimals("0.001", "99.999", places=3),
       minimum=st.none() | st.integers(0, 10**6), span=st.none() | st.integers(0, 10**6))
def test_property_within_min_and_max_and_unclamped_in_between(pay, percent, minimum, span):
    maximum = None if span is None else (minimum or 0) + span
    result = dues.percentage_dues_ore(rate(str(percent), minimum, maximum), pay)
    unclamped = int((pay * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert minimum is None or result >= minimum
    assert maximum is None or result <= maximum
    if (minimum is None or unclamped >= minimum) and (maximum is None or unclamped <= maximum):
        assert result == unclamped


def test_the_seed_cycle_deducts_by_the_rate_in_force_with_its_maximum(app_ctx, world):
    add_initial_rate()
    capped = rate("1.1", minimum=1_000, maximum=1_000, valid_from=dt.date(2026, 3, 1))
    db.session.add(capped)
    db.session.commit()
    play_cycle(5, seed=1, today=dt.date(2026, 5, 20))  # bases January to June, lists January to May
    lines = db.session.execute(
        select(DeductionList.period, DeductionListLine.amount_ore, DeductionBasisLine.fixed_amount_ore,
               DeductionBasisLine.ordinary_dues)
        .join(DeductionList, DeductionList.id == DeductionListLine.list_id)
        .join(DeductionBasis, (DeductionBasis.employer_id == DeductionList.employer_id)
              & (DeductionBasis.period == DeductionList.period))
        .join(DeductionBasisLine, (DeductionBasisLine.basis_id == DeductionBasis.id)
              & (DeductionBasisLine.member_id == DeductionListLine.member_id))
        .where(DeductionListLine.amount_ore.is_not(None), DeductionBasisLine.ordinary_dues.is_(True))
    ).all()
    before = [line.amount_ore - line.fixed_amount_ore for line in lines if line.period < "2026-03"]
    capped_months = [line.amount_ore - line.fixed_amount_ore for line in lines if line.period >= "2026-03"]
    assert before and capped_months
    assert all(percentage > 10_000 for percentage in before)  # 1.1 % of at least 30 000 kr
    assert set(capped_months) == {1_000}


# The fixture only reads: nothing to reset between examples.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pays=st.lists(st.integers(min_value=0, max_value=10**11), min_size=1, max_size=20),
       percent=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999.999"), places=3),
       bounds=st.sampled_from([(None, None), (10_000, None), (None, 50_000), (10_000, 50_000)]))
def test_the_sql_twin_of_the_percentage_gives_the_rule_s_amount_to_the_ore(app_ctx, pays, percent, bounds):
    """dues.percentage_dues_sql, evaluated by the database, for pays in ten-thousandths of an øre (a part-time
    pay with fractions of an øre), percentages with up to three decimals and every kind of bound."""
    r = rate(str(percent), *bounds)
    for pay in pays:
        in_sql = db.session.scalar(select(dues.percentage_dues_sql(r, literal(pay, BigInteger), scale=4)))
        assert in_sql == dues.percentage_dues_ore(r, Decimal(pay) / 10_000), (pay, percent, bounds)
