"""The demo national ids: a birth date whose numbers are all taken moves to the nearest date with one left."""

from __future__ import annotations

import datetime as dt
import random

from seed.identifiers import NationalIds, national_id, national_id_and_birth
from webapp.services.validation import person_facts


def test_a_full_birth_date_moves_to_the_nearest_date_and_the_draw_ends():
    rng, taken, birth = random.Random(1), NationalIds(), dt.date(1980, 5, 17)
    drawn = [national_id_and_birth(rng, birth, True, False, taken) for _ in range(700)]

    numbers = [number for number, _day in drawn]
    assert len(set(numbers)) == 700
    for number, day in drawn:
        assert person_facts(number) == (day, person_facts(number)[1])
        assert person_facts(number)[1].name == "female"
    days = sorted({day for _number, day in drawn})
    assert days[0] < birth < days[-1]
    assert all(abs((day - birth).days) <= 2 for day in days)
    per_day = {day: sum(1 for _n, d in drawn if d == day) for day in days}
    assert 150 < per_day[birth] <= 250  # every valid number of the date, then the next date


def test_existing_numbers_are_not_handed_out_again():
    rng = random.Random(2)
    first = NationalIds()
    existing = [national_id(rng, dt.date(2001, 1, 1), False, False, first) for _ in range(150)]
    taken = NationalIds(existing)
    again = random.Random(2)  # the same draws as before: each taken number is drawn again and passed over
    more = [national_id(again, dt.date(2001, 1, 1), False, False, taken) for _ in range(150)]
    assert not set(existing) & set(more)
    assert len(set(more)) == 150
