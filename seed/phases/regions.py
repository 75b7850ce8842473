"""Demo data: regions and operating units inside the employer with the most workplaces, and a representative for a
region with a demo login (seed 000: "en hel driftsenhet eller region i en virksomhet med flere kontorsteder").

Run after the generator, like the deduction cycle and the refunds. The employer (the most workplaces, spread over
the most counties) gets a region for each part of the country it has workplaces in (Øst-Norge, Sør-Norge, Vest-Norge,
Nord), and a region with workplaces in several counties an operating unit for each county. One of the people working
in the biggest region becomes its workplace representative and gets a login (demo role workplace_trustee, scope the
region's name). Deterministic (no random draws), and a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from seed.reference import AREAS
from webapp.extensions import db
from webapp.models import DemoAccount, Employment, Member, OperatingUnit, Position, Workplace
from webapp.models.choices import PositionType
from webapp.services.periods import current_clause

# Parts of the country that together hold every county once (seed/data/geography.json).
REGION_AREAS = ("Øst-Norge", "Sør-Norge", "Vest-Norge", "Nord")


@dataclass
class RegionSeedResult:
    regions: int = 0
    operating_units: int = 0
    workplaces: int = 0
    representative: str = ""
    skipped: str = ""

    def summary(self) -> str:
        if self.skipped:
            return f"regions: {self.skipped}"
        return (f"regions: {self.regions} regions and {self.operating_units} operating units over {self.workplaces} "
                f"workplaces; representative login {self.representative or '-'}")


def seed_regions(today: dt.date | None = None) -> RegionSeedResult:
    today = today or dt.date.today()
    result = RegionSeedResult()
    if db.session.scalar(select(OperatingUnit.id).limit(1)) is not None:
        result.skipped = "operating units exist already, nothing added"
        return result
    employer_id = db.session.scalar(
        select(Workplace.employer_id).group_by(Workplace.employer_id)
        .order_by(func.count().desc(), func.count(func.distinct(Workplace.county)).desc(), Workplace.employer_id)
        .limit(1)
    )
    if employer_id is None:
        result.skipped = "no workplaces"
        return result
    workplaces = db.session.scalars(select(Workplace).where(Workplace.employer_id == employer_id)
                                    .order_by(Workplace.id)).all()
    regions = _build_tree(employer_id, workplaces, result)
    if regions:
        result.representative = _representative(regions[0], today)
    db.session.commit()
    return result


def _build_tree(employer_id: int, workplaces: list[Workplace], result: RegionSeedResult) -> list[OperatingUnit]:
    """A region per part of the country, an operating unit per county when a region has several; the regions with
    the most workplaces first."""
    by_county: dict[str, list[Workplace]] = defaultdict(list)
    for workplace in workplaces:
        by_county[workplace.county or ""].append(workplace)
    parts = [(area, [c for c in AREAS[area] if c in by_county]) for area in REGION_AREAS]
    parts = sorted((p for p in parts if p[1]), key=lambda p: (-sum(len(by_county[c]) for c in p[1]), p[0]))
    regions = []
    for area, counties in parts:
        region = OperatingUnit(employer_id=employer_id, name=f"Region {area}")
        db.session.add(region)
        regions.append(region)
        result.regions += 1
        for county in counties:
            place = region
            if len(counties) > 1:
                place = OperatingUnit(employer_id=employer_id, name=f"Driftsenhet {county}", parent=region)
                db.session.add(place)
                result.operating_units += 1
            for workplace in by_county[county]:
                workplace.operating_unit = place
                result.workplaces += 1
    db.session.flush()
    return regions


def _representative(region: OperatingUnit, today: dt.date) -> str:
    """A person at work in the region without a login becomes its representative; their member number logs in."""
    workplace_ids = [w.id for w in db.session.scalars(select(Workplace).where(Workplace.operating_unit_id.in_(
        [region.id] + [child.id for child in region.children])))]
    member = db.session.scalars(
        select(Member).join(Employment, Employment.member_id == Member.id)
        .where(Employment.workplace_id.in_(workplace_ids), current_clause(Employment, today),
               Member.user_id.is_(None), Member.left_on.is_(None))
        .order_by(Member.member_no).limit(1)
    ).first()
    if member is None:
        return ""
    config = current_app.config
    user = current_app.appbuilder.sm.user_model(
        first_name=member.first_name[:64], last_name=member.last_name[:64], username=member.member_no,
        email=f"{member.member_no}@demo.invalid", active=True,
        password=generate_password_hash(config["DEMO_PASSWORD"],
                                        method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"), salt_length=16),
    )
    db.session.add(user)
    db.session.flush()
    member.user_id = user.id
    db.session.add(Position(member_id=member.id, type=PositionType.workplace_trustee, operating_unit_id=region.id,
                            start_date=today - dt.timedelta(days=200)))
    db.session.add(DemoAccount(username=member.member_no, role="workplace_trustee", scope=region.name[:32],
                               note=f"Workplace representative for {region.name}: every workplace below it"))
    return member.member_no
