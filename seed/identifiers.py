"""Valid Norwegian identifiers for demo data: organisation, account, mobile and national id numbers."""

from __future__ import annotations

import datetime as dt
import random

_BANK_PREFIXES = ("1503", "1506", "1607", "1813", "2801", "3000", "3201", "3905", "4200", "9710", "1254", "1822")
# Mobile ranges that phonenumbers accepts as a whole (part of 45x is not allocated).
_MOBILE_PREFIXES = ("40", "41", "46", "47", "48", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99")
ACCOUNT_WEIGHTS = (6, 7, 8, 9, 4, 5, 6, 7, 8, 9)


def mod11(digits: str, weights: tuple[int, ...]) -> int:
    return sum(w * int(d) for w, d in zip(weights, digits)) % 11


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


def national_id(rng: random.Random, birth: dt.date, female: bool, d_number: bool, taken: set) -> str:
    """An 11-digit national id (or D-number) for the birth date and gender, with both MOD11 digits valid."""
    day = birth.day + (40 if d_number else 0)
    head = f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"
    low = 500 if birth.year >= 2000 else 0
    male_digit = 0 if female else 1

    def draw():
        digits = head + f"{low + 2 * rng.randrange(250) + male_digit:03d}"
        k1 = (11 - mod11(digits, (3, 7, 6, 1, 8, 9, 4, 5, 2))) % 11
        if k1 == 10:
            return None
        digits += str(k1)
        k2 = (11 - mod11(digits, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))) % 11
        return None if k2 == 10 else digits + str(k2)

    return _unique(taken, draw)
