"""Demo data for regions (seed/phases/regions.py): a tree over the biggest employer's workplaces and a representative
who logs in with the demo password and lands on the region's page; a second run adds nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from seed.generator import generate
from seed.phases.regions import seed_regions
from webapp.extensions import db
from webapp.models import DemoAccount, OperatingUnit, Position, Workplace

TODAY = dt.date(2026, 6, 15)


def test_the_demo_has_regions_and_a_representative_who_reaches_them(app, clean_app):
    with clean_app.app_context():
        generate(members=400, employers=40, seed=3, reset=False, progress=False, today=TODAY)
        result = seed_regions(today=TODAY)
        assert result.regions >= 1 and result.workplaces >= 2 and result.representative
        units = db.session.scalars(select(OperatingUnit)).all()
        assert len(units) == result.regions + result.operating_units
        assert len({unit.employer_id for unit in units}) == 1
        employer_id = units[0].employer_id
        placed = db.session.scalars(select(Workplace).where(Workplace.operating_unit_id.is_not(None))).all()
        assert len(placed) == result.workplaces and {w.employer_id for w in placed} == {employer_id}
        account = db.session.scalar(select(DemoAccount).where(DemoAccount.username == result.representative))
        assert account.role == "workplace_trustee" and account.scope.startswith("Region ")
        position = db.session.scalar(select(Position).where(Position.operating_unit_id.is_not(None)))
        region_name = db.session.get(OperatingUnit, position.operating_unit_id).name
        assert seed_regions(today=TODAY).skipped  # a second run adds nothing
        assert db.session.scalar(select(func.count(OperatingUnit.id))) == len(units)
        password = clean_app.config["DEMO_PASSWORD"]
        db.session.remove()

    client = clean_app.test_client()
    assert client.post("/login/", data={"username": result.representative, "password": password}).status_code == 302
    choice = client.get("/", follow_redirects=False).headers["Location"]
    if choice.endswith("/acting/choose"):  # a member too: choose the representative's role
        page = client.get("/acting/choose").get_data(as_text=True)
        key = next(k for k in page.split('name="key" value="')[1:] if k.startswith("workplace_trustee:regions:"))
        assert client.post("/acting/switch", data={"key": key.split('"')[0]}).status_code == 302
    assert client.get("/", follow_redirects=False).headers["Location"].endswith("/unit/")
    assert f'<h1 id="unit-name">{region_name}</h1>' in client.get("/unit/").get_data(as_text=True)
