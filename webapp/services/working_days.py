"""Norwegian working days: Monday to Friday, except the public holidays (helligdager).

The fixed holidays are New Year's Day, 1 May (Labour Day), 17 May (Constitution Day) and 25 and 26 December;
the moving ones follow Easter Sunday: Maundy Thursday (-3 days), Good Friday (-2), Easter Monday (+1),
Ascension Day (+39) and Whit Monday (+50). Sundays (Easter Sunday, Whit Sunday) are no working days anyway.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 17), (12, 25), (12, 26))
EASTER_OFFSETS = (-3, -2, 1, 39, 50)


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday of a year in the Gregorian calendar (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    j = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * j) // 451
    month, day = divmod(h + j - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[dt.date]:
    """The Norwegian public holidays of a year that can fall on a weekday."""
    easter = easter_sunday(year)
    return frozenset([dt.date(year, month, day) for month, day in FIXED_HOLIDAYS]
                     + [easter + dt.timedelta(days=offset) for offset in EASTER_OFFSETS])


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in public_holidays(day.year)


def nth_working_day_after(day: dt.date, n: int) -> dt.date:
    """The n-th working day after `day` (n >= 1; `day` itself does not count): the 1st working day after
    31 March 2026 is 1 April 2026, the 2nd is 7 April (Maundy Thursday to Easter Monday lie between)."""
    if n < 1:
        raise ValueError(f"n: the working day after a date counts from 1, not {n}")
    count = 0
    while count < n:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return day
