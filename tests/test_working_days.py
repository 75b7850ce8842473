"""Norwegian working days: weekdays except the public holidays, Easter computed."""

import datetime as dt

import pytest

from webapp.services.working_days import easter_sunday, is_working_day, nth_working_day_after, public_holidays

D = dt.date

# Easter Sundays as the almanac gives them (including the earliest and latest possible dates).
KNOWN_EASTERS = [D(1818, 3, 22), D(1943, 4, 25), D(2000, 4, 23), D(2008, 3, 23), D(2011, 4, 24), D(2019, 4, 21),
                 D(2024, 3, 31), D(2025, 4, 20), D(2026, 4, 5), D(2027, 3, 28), D(2028, 4, 16), D(2029, 4, 1),
                 D(2038, 4, 25), D(2285, 3, 22)]


@pytest.mark.parametrize("easter", KNOWN_EASTERS, ids=str)
def test_easter_sunday_matches_the_almanac(easter):
    assert easter_sunday(easter.year) == easter


def test_the_holidays_of_2026():
    assert sorted(public_holidays(2026)) == [
        D(2026, 1, 1),    # New Year's Day
        D(2026, 4, 2),    # Maundy Thursday
        D(2026, 4, 3),    # Good Friday
        D(2026, 4, 6),    # Easter Monday
        D(2026, 5, 1),    # Labour Day
        D(2026, 5, 14),   # Ascension Day
        D(2026, 5, 17),   # Constitution Day (a Sunday this year)
        D(2026, 5, 25),   # Whit Monday
        D(2026, 12, 25),  # Christmas Day
        D(2026, 12, 26),  # Boxing Day (a Saturday)
    ]


def test_weekends_and_holidays_are_no_working_days():
    assert is_working_day(D(2026, 11, 30))       # a Monday
    assert not is_working_day(D(2026, 11, 28))   # Saturday
    assert not is_working_day(D(2026, 11, 29))   # Sunday
    assert not is_working_day(D(2026, 4, 6))     # Easter Monday
    assert not is_working_day(D(2027, 5, 17))    # 17 May on a Monday
    assert is_working_day(D(2026, 12, 24))       # Christmas Eve is an ordinary working day
    assert is_working_day(D(2026, 12, 31))


@pytest.mark.parametrize("after, n, expected", [
    (D(2026, 3, 31), 1, D(2026, 4, 1)),    # the day after, a Wednesday
    (D(2026, 3, 31), 2, D(2026, 4, 7)),    # Maundy Thursday, Good Friday, the weekend and Easter Monday between
    (D(2026, 3, 31), 10, D(2026, 4, 17)),  # without the Easter holidays it would be 14 April
    (D(2027, 3, 31), 10, D(2027, 4, 14)),  # Easter 2027 (28 March) falls in the quarter itself: no shift
    (D(2024, 3, 31), 1, D(2024, 4, 2)),    # Easter Monday 1 April 2024
    (D(2029, 3, 31), 1, D(2029, 4, 3)),    # Easter Sunday 1 April 2029, Easter Monday the 2nd
    (D(2026, 12, 31), 1, D(2027, 1, 4)),   # New Year's Day on a Friday, then the weekend
    (D(2026, 12, 31), 10, D(2027, 1, 15)),
    (D(2026, 12, 23), 1, D(2026, 12, 24)),
    (D(2026, 12, 24), 1, D(2026, 12, 28)),  # 25 Dec (Fri), the weekend with 26 Dec
    (D(2026, 5, 13), 1, D(2026, 5, 15)),   # Ascension Day between
])
def test_nth_working_day_after(after, n, expected):
    assert nth_working_day_after(after, n) == expected


def test_counting_starts_at_one():
    with pytest.raises(ValueError, match="n:"):
        nth_working_day_after(D(2026, 3, 31), 0)
