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


# ------------------------------------------------------------------ members who pay directly


def direct_member(world, first: str, last: str, *, unit: str = "AV1", joined: dt.date = dt.date(2015, 1, 1),
                  left: dt.date | None = None, email: str | None = "default", **extra):
    """A member with no employment (so paying directly); `email=None` for one without any address."""
    from tests.factories import make_member
    from webapp.models import OrgUnit

    category = extra.pop("category", MemberCategory.ordinary)
    member = make_member(db.session.get(OrgUnit, world.units[unit].id), first, last, left_on=left, **extra)
    member.joined_on, member.category = joined, category
    if email is None:
        member.email_private = member.email_work = None
    elif email != "default":
        member.email_private = email
    db.session.flush()
    return member


def employ(world, member, *, workplace: str = "W1", start: dt.date = dt.date(2020, 1, 1),
           end: dt.date | None = None, on_deduction: bool = True):
    from webapp.models import Employment, Workplace

    place = db.session.get(Workplace, world.workplaces[workplace].id)
    employment = Employment(member_id=member.id, employer_id=place.employer_id, workplace_id=place.id,
                            start_date=start, end_date=end, position_pct=100, on_deduction=on_deduction)
    db.session.add(employment)
    db.session.flush()
    return employment


def mandate(member, registered: dt.date, *, active: bool = True, notify: bool = False):
    from webapp.models import AvtaleGiroMandate
    from webapp.services.kid import member_kid_for
    from webapp.services.periods import Month

    row = AvtaleGiroMandate(kid=member_kid_for(member.member_no, Month.of(registered)), member_id=member.id,
                            notify=notify, active=active, registered_at=dt.datetime.combine(registered, dt.time(9)))
    db.session.add(row)
    db.session.flush()
    return row
