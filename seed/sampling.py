"""Small drawing helpers of the generator: weighted choices, places, addresses and ASCII forms of names."""

from __future__ import annotations

import bisect
import datetime as dt
import random
import re
from collections.abc import Iterable
from functools import lru_cache

from seed.reference import COUNTIES, STREETS, Municipality


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def weighted(rng: random.Random, cum: list[float]) -> int:
    """Index drawn from cumulative weights."""
    return bisect.bisect(cum, rng.random() * cum[-1])


def cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def pick_municipality(rng: random.Random, county: str) -> Municipality:
    options = COUNTIES[county]
    return options[weighted(rng, cumulative(m.weight for m in options))] if len(options) > 1 else options[0]


def postcode(rng: random.Random, info: Municipality) -> str:
    return f"{rng.randint(info.first_postcode, info.last_postcode):04d}"


def street_address(rng: random.Random) -> str:
    number = rng.randint(1, 120)
    letter = rng.choice("ABC") if rng.random() < 0.12 else ""
    return f"{rng.choice(STREETS)} {number}{letter}"


_FOLD = str.maketrans(
    {"æ": "ae", "ø": "o", "å": "aa", "é": "e", "è": "e", "ü": "u", "ö": "o", "ä": "a", " ": ".", "'": ""}
)


@lru_cache(maxsize=65_536)
def ascii_name(text_value: str) -> str:
    """Lower-case ASCII for e-mail addresses and domains (cached: the names repeat across a million members)."""
    folded = text_value.lower().translate(_FOLD)
    folded = re.sub(r"[^a-z0-9.\-]", "", folded)
    return re.sub(r"\.{2,}", ".", folded).strip(".-")


def slug(text_value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", ascii_name(text_value))
