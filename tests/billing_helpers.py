"""Direct dues as data for the billing tests: three income bands and a rate for every category.

Monthly direct dues from 2020: ordinary 150 / 250 / 350 kr by band (the middle band is the default), students
50 kr, retired 100 kr, unemployed 80 kr, apprentices 42 kr. With the deduction rate's insurances (contents 85 kr,
travel 91 kr) an ordinary member in the default band pays 250 + 85 + 91 = 426 kr a month.
"""

from __future__ import annotations

import datetime as dt

from webapp.extensions import db
from webapp.models import DirectDuesRate, IncomeBand
from webapp.models.choices import MemberCategory

RATES_FROM = dt.date(2020, 1, 1)
ORDINARY_BY_BAND = {"lav": 15000, "middels": 25000, "hoy": 35000}
OTHERS = {MemberCategory.student: 5000, MemberCategory.retired: 10000, MemberCategory.unemployed: 8000,
          MemberCategory.apprentice: 4200}
CONTENTS_ORE = 8500
TRAVEL_ORE = 9100
DEFAULT_ORDINARY_MONTH_ORE = 25000 + CONTENTS_ORE + TRAVEL_ORE


def add_direct_rates(valid_from: dt.date = RATES_FROM) -> dict[str, IncomeBand]:
    """The bands and the direct dues rates (the deduction rate with the insurances is `add_initial_rate`)."""
    bands = {
        "lav": IncomeBand(code="lav", lower_ore=0, upper_ore=30_000_000, is_default=False),
        "middels": IncomeBand(code="middels", lower_ore=30_000_000, upper_ore=60_000_000, is_default=True),
        "hoy": IncomeBand(code="hoy", lower_ore=60_000_000, upper_ore=None, is_default=False),
    }
    db.session.add_all(bands.values())
    db.session.flush()
    for code, monthly in ORDINARY_BY_BAND.items():
        db.session.add(DirectDuesRate(valid_from=valid_from, category=MemberCategory.ordinary,
                                      income_band_id=bands[code].id, monthly_ore=monthly))
    for category, monthly in OTHERS.items():
        db.session.add(DirectDuesRate(valid_from=valid_from, category=category, monthly_ore=monthly))
    db.session.commit()
    return bands
