"""Employers for the run tests: each with a deduction agreement, one workplace, one member on deduction and one
deduction contact (a login with an e-mail address)."""

from __future__ import annotations

import datetime as dt

from tests.factories import make_member, make_user
from webapp.extensions import db
from webapp.models import DeductionContact, Employer, Employment, OrgUnit, Workplace
from webapp.models.choices import Sector


def add_employers(count: int, unit_code: str = "AV1", prefix: str = "Kjede") -> list[int]:
    """`count` employers with one member and one contact each, committed; their ids."""
    unit = db.session.scalars(db.select(OrgUnit).where(OrgUnit.code == unit_code)).one()
    today = dt.date.today()
    ids = []
    for n in range(count):
        employer = Employer(org_number=f"8{n:08d}", name=f"{prefix} {n} AS", has_deduction_agreement=True,
                            sector=Sector.private, customer_no=f"5{n:07d}", address="Gata 1", postcode="0150",
                            city="Oslo")
        place = Workplace(employer=employer, name=f"{prefix} {n}", municipality="Oslo", county="Oslo", org_unit=unit)
        member = make_member(unit, "Run", f"Medlem{n}")
        db.session.add_all([employer, place, Employment(member=member, employer=employer, workplace=place,
                                                        start_date=dt.date(2020, 1, 1), position_pct=100,
                                                        on_deduction=True)])
        contact = make_user(f"kontakt{prefix.lower()}{n}", "Kon", f"Takt{n}")
        db.session.add(DeductionContact(user=contact, employer=employer, start_date=today - dt.timedelta(days=30)))
        db.session.flush()
        ids.append(employer.id)
    db.session.commit()
    return ids
