"""Valid Norwegian identifiers for demo data: organisation, account, mobile and national id numbers."""

from __future__ import annotations

import datetime as dt
import random
from operator import mul

_BANK_PREFIXES = ("1503", "1506", "1607", "1813", "2801", "3000", "3201", "3905", "4200", "9710", "1254", "1822")
# Mobile ranges that phonenumbers accepts as a whole (part of 45x is not allocated).
_MOBILE_PREFIXES = ("40", "41", "46", "47", "48", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99")
ACCOUNT_WEIGHTS = (6, 7, 8, 9, 4, 5, 6, 7, 8, 9)


def mod11(digits: str, weights: tuple[int, ...]) -> int:
    return sum(map(mul, weights, map(int, digits))) % 11


def _unique(taken: set, draw) -> str:
    """Draw until a number comes out that is valid (not None) and not taken yet; take it."""
    while True:
        number = draw()
        if number is not None and number not in taken:
            taken.add(number)
            return number


def org_number(rng: random.Random, taken: set) -> str:
    """A 9-digit organisation number starting with 8 or 9 with a valid MOD11 check digit."""

    def draw():
        body = rng.choice("89") + f"{rng.randrange(10_000_000):07d}"
        check = (11 - mod11(body, (3, 2, 7, 6, 5, 4, 3, 2))) % 11
        return None if check == 10 else body + str(check)

    return _unique(taken, draw)


def bank_account(rng: random.Random, taken: set) -> str:
    """An 11-digit Norwegian account number with a valid MOD11 check digit."""

    def draw():
        body = rng.choice(_BANK_PREFIXES) + f"{rng.randrange(1_000_000):06d}"
        check = mod11(body, ACCOUNT_WEIGHTS)
        return None if check == 10 else body + str(check)

    return _unique(taken, draw)


def is_valid_account(number: str) -> bool:
    return len(number) == 11 and number.isdigit() and mod11(number, ACCOUNT_WEIGHTS) == int(number[-1])


def mobile(rng: random.Random) -> str:
    return "+47" + rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(1_000_000):06d}"


_NID_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_NID_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _national_id_number(head: str, individual: int) -> str | None:
    """The 11-digit number for a date part and an individual number, or None when a check digit would be 10."""
    digits = head + f"{individual:03d}"
    k1 = (11 - mod11(digits, _NID_WEIGHTS_1)) % 11
    if k1 == 10:
        return None
    digits += str(k1)
    k2 = (11 - mod11(digits, _NID_WEIGHTS_2)) % 11
    return None if k2 == 10 else digits + str(k2)


class NationalIds:
    """The national ids handed out so far, and whether a date still has a valid number left per gender.

    A date has 250 individual numbers per gender, of which about 200 give valid check digits; once they are all
    taken, `national_id` moves to the nearest date that has one left (the day before, the day after, two days
    before, ...), so the draw always ends. A date's numbers are counted only once a hundred are taken."""

    def __init__(self, existing=()):
        self.taken: set[str] = set()
        self._count: dict[tuple[str, int, int], int] = {}  # taken numbers by date part, century half and gender
        self._left: dict[tuple[str, int, int], int] = {}  # valid numbers not taken, once counted
        for number in existing:
            individual = int(number[6:9])
            self.take(number[:6], 0 if individual < 500 else 500, individual % 2, number)

    def __contains__(self, number: str) -> bool:
        return number in self.taken

    def __len__(self) -> int:
        return len(self.taken)

    def has_room(self, head: str, low: int, male_digit: int) -> bool:
        key = (head, low, male_digit)
        left = self._left.get(key)
        if left is None:
            if self._count.get(key, 0) < 100:  # far fewer than the valid numbers of any date
                return True
            numbers = (_national_id_number(head, low + 2 * k + male_digit) for k in range(250))
            left = self._left[key] = sum(1 for number in numbers if number is not None and number not in self.taken)
        return left > 0

    def take(self, head: str, low: int, male_digit: int, number: str) -> None:
        key = (head, low, male_digit)
        self.taken.add(number)
        self._count[key] = self._count.get(key, 0) + 1
        if key in self._left:
            self._left[key] -= 1


def national_id(rng: random.Random, birth: dt.date, female: bool, d_number: bool, taken: NationalIds) -> str:
    """An 11-digit national id (or D-number) for the birth date and gender, with both MOD11 digits valid.

    When every number of the birth date is taken, the id is for the nearest date with one left (see NationalIds)."""
    return national_id_and_birth(rng, birth, female, d_number, taken)[0]


def national_id_and_birth(
    rng: random.Random, birth: dt.date, female: bool, d_number: bool, taken: NationalIds
) -> tuple[str, dt.date]:
    """`national_id` and the birth date it encodes: `birth`, or the nearest date with a number left."""
    male_digit = 0 if female else 1
    for shift in _nearest_days():
        day = birth + dt.timedelta(days=shift)
        head = f"{day.day + (40 if d_number else 0):02d}{day.month:02d}{day.year % 100:02d}"
        low = 500 if day.year >= 2000 else 0
        if taken.has_room(head, low, male_digit):
            break
    while True:
        number = _national_id_number(head, low + 2 * rng.randrange(250) + male_digit)
        if number is not None and number not in taken:
            taken.take(head, low, male_digit, number)
            return number, day


def _nearest_days():
    """0, -1, 1, -2, 2, ...: the days to try, nearest first."""
    distance = 0
    yield 0
    while True:
        distance += 1
        yield -distance
        yield distance
