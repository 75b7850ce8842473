"""The next free member number: 3 to 8 digits starting with 75, in the order 750…759, 7500…7599, 75000…,
stepping over numbers in the register, wrapping to the gaps when the series is used up, and refusing when no
number is left (webapp/services/member_numbers.py). The counter is made from the register the first time."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Member, NumberCounter, OrgUnit
from webapp.models.choices import MemberCategory, OrgLevel
from webapp.services import member_numbers
from webapp.services.member_numbers import COUNTER, MemberNumberError, next_member_number, successor


@pytest.mark.parametrize("number,following", [
    (750, 751), (758, 759), (759, 7500), (7500, 7501), (7599, 75000), (75999, 750000), (759999, 7500000),
    (7599999, 75000000), (75000000, 75000001), (75999998, 75999999), (75999999, None),
])
def test_successor_runs_through_each_length_then_the_next(number, following):
    assert successor(number) == following


def _unit() -> OrgUnit:
    unit = db.session.scalars(select(OrgUnit)).first()
    if unit is None:
        unit = OrgUnit(code="NTF", name="Norsk Tjenesteforbund", level=OrgLevel.union)
        db.session.add(unit)
        db.session.flush()
    return unit


def add_members(*numbers: int) -> None:
    unit = _unit()
    start = db.session.query(Member).count()
    for k, number in enumerate(numbers):
        db.session.add(Member(member_no=str(number), national_id=f"{start + k:011d}",
                              first_name="Tall", last_name=f"Nummer{number}", home_unit_id=unit.id,
                              joined_on=dt.date(2020, 1, 1), category=MemberCategory.ordinary))
    db.session.flush()


def set_counter(last_value: int) -> None:
    db.session.merge(NumberCounter(name=COUNTER, last_value=last_value))
    db.session.flush()


def counter_value() -> int:
    return db.session.scalar(select(NumberCounter.last_value).where(NumberCounter.name == COUNTER))


def test_an_empty_register_starts_at_750_and_counts_on(app_ctx):
    assert counter_value() is None
    assert [next_member_number() for _ in range(3)] == ["750", "751", "752"]
    assert counter_value() == 752


def test_the_counter_is_made_from_the_register_furthest_along_the_series(app_ctx):
    # 7599 is numerically smaller than 75000 but a longer number comes later in the series.
    add_members(750, 7599, 75000, 759)
    assert counter_value() is None
    assert next_member_number() == "75001"
    assert counter_value() == 75001


def test_taken_numbers_are_stepped_over(app_ctx):
    set_counter(750)
    add_members(751, 752, 754)
    assert [next_member_number() for _ in range(3)] == ["753", "755", "756"]


def test_the_series_moves_to_the_next_length(app_ctx):
    set_counter(758)
    add_members(7500)
    assert [next_member_number() for _ in range(3)] == ["759", "7501", "7502"]
    set_counter(7599)
    assert next_member_number() == "75000"


def test_after_the_last_number_the_gaps_are_used(app_ctx):
    set_counter(75_999_999)
    add_members(750, 751, 753)
    assert [next_member_number() for _ in range(2)] == ["752", "754"]
    assert counter_value() == 754


def test_the_batch_search_steps_over_a_long_taken_run(app_ctx):
    set_counter(749)
    add_members(*range(750, 760), *range(7500, 7600), *range(75000, 76000))  # more than one batch taken
    assert next_member_number() == "750000"


def test_no_number_left_is_refused_and_the_counter_stays(app_ctx, monkeypatch):
    """A series that ends at 759 (the real one ends at 75999999: 76 million members would be needed)."""
    real = member_numbers.successor
    monkeypatch.setattr(member_numbers, "successor", lambda n: following if (following := real(n)) and following <= 759
                        else None)
    set_counter(755)
    add_members(*range(750, 760))
    with pytest.raises(MemberNumberError, match=r"750.*75999999"):
        next_member_number()
    assert counter_value() == 755


def test_a_number_is_never_handed_out_twice_in_one_transaction(app_ctx):
    numbers = [next_member_number() for _ in range(25)]
    assert len(set(numbers)) == 25
    assert numbers[9:11] == ["759", "7500"]
