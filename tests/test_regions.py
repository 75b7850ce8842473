"""Regions and operating units inside an employer (issue 14, seed 000: "en hel driftsenhet eller region i en
virksomhet med flere kontorsteder under seg").

On top of the test world (tests/factories.py) employer E1 gets a tree:

    Region Øst (E1)                      workplace W1b (KL1)
    └── Driftsenhet Oslo (E1)            workplace W1 (AV1)
    Region Vest (E1)                     workplace W1c (AV2), where Vera Vestland works

A workplace representative for Region Øst reaches the people working at W1 and W1b today, whatever their org unit,
and nothing else: not W1c, not E2's W2. The office maintains the tree; it stays a tree of one employer.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from tests.factories import make_member, make_user
from tests.helpers import api_token, login_as
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import (
    ConfidentialityDeclaration,
    Employer,
    Employment,
    OperatingUnit,
    OrgUnit,
    Position,
    Workplace,
)
from webapp.models.choices import PositionType

TRUSTEE = "workplace_trustee"


@dataclass
class Regions:
    east: int
    oslo: int
    west: int
    w1c: int
    vera: int
    trustee: str  # username of the representative for Region Øst
    leader: str  # username of a leader position held for Region Øst


def _officer(first: str, kind: PositionType, region: OperatingUnit, home: OrgUnit) -> str:
    member = make_member(home, first, "Regionsen")
    member.user = make_user(member.member_no, first, "Regionsen")
    db.session.add(Position(member=member, type=kind, operating_unit=region,
                            start_date=dt.date.today() - dt.timedelta(days=10)))
    db.session.add(ConfidentialityDeclaration(user=member.user, confirmed_at=dt.datetime.now(), text_version="test"))
    return member.user.username


@pytest.fixture()
def regions(clean_app, world) -> Regions:
    with clean_app.app_context():
        e1 = db.session.get(Employer, world.employers["E1"].id)
        av2 = db.session.get(OrgUnit, world.units["AV2"].id)
        east = OperatingUnit(employer=e1, name="Region Øst")
        oslo = OperatingUnit(employer=e1, name="Driftsenhet Oslo", parent=east)
        west = OperatingUnit(employer=e1, name="Region Vest")
        db.session.add_all([east, oslo, west])
        db.session.get(Workplace, world.workplaces["W1"].id).operating_unit = oslo
        db.session.get(Workplace, world.workplaces["W1b"].id).operating_unit = east
        w1c = Workplace(employer=e1, name="Arbeidssted W1c", municipality="Bergen", county="Vestland", org_unit=av2,
                        operating_unit=west)
        db.session.add(w1c)
        vera = make_member(av2, "Vera", "Vestland")
        db.session.add(Employment(member=vera, employer=e1, workplace=w1c, start_date=dt.date(2020, 1, 1),
                                  position_pct=100, on_deduction=True))
        home = db.session.get(OrgUnit, world.units["AV1"].id)
        trustee = _officer("Rita", PositionType.workplace_trustee, east, home)
        leader = _officer("Rolf", PositionType.leader, east, home)
        db.session.commit()
        built = Regions(east.id, oslo.id, west.id, w1c.id, vera.id, trustee, leader)
        db.session.remove()
    return built


def key(role: str, kind: str, target_id: int) -> str:
    return f"{role}:{kind}:{target_id}"


def listed_names(client) -> str:
    response = client.get("/memberview/list/?psize_MemberView=100")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ------------------------------------------------------------------ what a region's representative reaches


def test_a_region_representative_lands_on_the_region_page(client, world, regions):
    login_as(client, regions.trustee, TRUSTEE)
    assert client.get("/", follow_redirects=False).headers["Location"].endswith("/unit/")
    page = client.get("/unit/").get_data(as_text=True)
    assert '<h1 id="unit-name">Region Øst</h1>' in page
    assert re.search(r'id="member-count">2<', page)  # Nordmann at W1 and Æsøy at W1b
    below = set(re.findall(r'name="key" value="([^"]+)"', page[page.index('id="units-below"'):]))
    assert below == {key(TRUSTEE, "regions", regions.oslo), key(TRUSTEE, "workplaces", world.workplaces["W1b"].id)}
    assert "Region Vest" not in page and "W1c" not in page


def test_the_member_list_holds_the_people_working_below_the_region_only(client, world, regions):
    login_as(client, regions.trustee, TRUSTEE)
    names = listed_names(client)
    assert "Nordmann" in names and "Æsøy" in names  # two org units (AV1, KL1), one region
    assert "Vestland" not in names and "Utenfor" not in names and "Landsen" not in names
    for outside in (regions.vera, world.members["outside"].id, world.members["lf1_direct"].id):
        assert client.get(f"/memberview/show/{outside}").status_code == 404
    assert client.get(f"/memberview/show/{world.members['club'].id}").status_code == 200
    found = client.get("/typeahead/member?q=Vestland").json["results"]
    assert found == []
    found = client.get("/typeahead/member?q=Nordmann").json["results"]
    assert [row["id"] for row in found] == [world.members["inside"].id]


def test_the_api_of_a_region_representative_is_as_narrow(client, world, regions):
    headers = api_token(client, regions.trustee)
    members = set(client.get("/api/v1/member/?q=(page_size:100)", headers=headers).json["ids"])
    own = {m.id for m in (world.members["inside"], world.members["club"])}
    # Rita is a member herself: her own row comes with her member role.
    assert own <= members and regions.vera not in members and world.members["outside"].id not in members
    assert client.get(f"/api/v1/member/{regions.vera}", headers=headers).status_code == 404
    workplaces = set(client.get("/api/v1/workplace/?q=(page_size:100)", headers=headers).json["ids"])
    assert workplaces == {world.workplaces["W1"].id, world.workplaces["W1b"].id}
    assert client.get(f"/api/v1/workplace/{regions.w1c}", headers=headers).status_code == 404


def test_switching_below_the_region_narrows_and_nothing_beside_it_is_reachable(client, world, regions):
    login_as(client, regions.trustee, TRUSTEE)
    assert client.post("/acting/switch", data={"key": key(TRUSTEE, "regions", regions.oslo)}).status_code == 302
    assert '<h1 id="unit-name">Driftsenhet Oslo</h1>' in client.get("/unit/").get_data(as_text=True)
    names = listed_names(client)
    assert "Nordmann" in names and "Æsøy" not in names

    w1b = key(TRUSTEE, "workplaces", world.workplaces["W1b"].id)
    assert client.post("/acting/switch", data={"key": w1b}).status_code == 302
    names = listed_names(client)
    assert "Æsøy" in names and "Nordmann" not in names

    for refused in (key(TRUSTEE, "regions", regions.west), key(TRUSTEE, "workplaces", regions.w1c),
                    key(TRUSTEE, "workplaces", world.workplaces["W2"].id), key(TRUSTEE, "regions", 999_999),
                    key(TRUSTEE, "units", world.units["AV1"].id), key("leader", "regions", regions.oslo)):
        assert client.post("/acting/switch", data={"key": refused}).status_code == 403, refused
    names = listed_names(client)
    assert "Æsøy" in names and "Vestland" not in names  # still at W1b


def test_the_menu_lists_the_regions_and_workplaces_below(client, world, regions):
    login_as(client, regions.trustee, TRUSTEE)
    page = client.get("/unit/").get_data(as_text=True)
    menu = page[page.index('id="acting-options"'):page.index("</ul>", page.index('id="acting-options"'))]
    offered = set(re.findall(r'name="key" value="([^"]+)"', menu))
    assert {key(TRUSTEE, "regions", regions.oslo), key(TRUSTEE, "workplaces", world.workplaces["W1"].id),
            key(TRUSTEE, "workplaces", world.workplaces["W1b"].id)} <= offered
    assert key(TRUSTEE, "regions", regions.west) not in offered
    assert key(TRUSTEE, "workplaces", regions.w1c) not in offered


def test_a_leader_for_a_region_sees_the_employments_there_only(client, world, regions, dbs):
    login_as(client, regions.leader, "leader")
    assert '<h1 id="unit-name">Region Øst</h1>' in client.get("/unit/").get_data(as_text=True)
    headers = api_token(client, regions.leader)
    listed = set(client.get("/api/v1/employment/?q=(page_size:100)", headers=headers).json["ids"])
    at_region = set(dbs.scalars(select(Employment.id).where(Employment.workplace_id.in_(
        [world.workplaces["W1"].id, world.workplaces["W1b"].id]))).all())
    assert at_region and at_region <= listed
    assert world.employments["outside"].id not in listed
    vera_employment = dbs.scalar(select(Employment.id).where(Employment.member_id == regions.vera))
    assert vera_employment not in listed
    # A region's officer registers no positions: that is the office's.
    response = client.post("/api/v1/position/", headers=headers, json={
        "member": world.members["inside"].id, "type": "workplace_trustee", "operating_unit": regions.oslo,
        "start_date": dt.date.today().isoformat()})
    assert response.status_code in (403, 422)
    assert dbs.scalar(select(Position.id).where(Position.member_id == world.members["inside"].id)) is None


def test_a_unit_leader_cannot_give_a_region_position(client, world, regions, dbs):
    headers = api_token(client, world.logins["leader"])
    response = client.post("/api/v1/position/", headers=headers, json={
        "member": world.members["club"].id, "type": "workplace_trustee", "operating_unit": regions.east,
        "start_date": dt.date.today().isoformat()})
    assert response.status_code == 422 and "operating_unit" in response.json["message"]
    assert dbs.scalar(select(Position.id).where(Position.member_id == world.members["club"].id)) is None


def test_an_empty_region_reaches_nobody_and_an_ended_position_nothing(client, clean_app, world, regions):
    with clean_app.app_context():
        for workplace in db.session.scalars(select(Workplace).where(Workplace.operating_unit_id.is_not(None))):
            workplace.operating_unit = None
        db.session.commit()
        db.session.remove()
    login_as(client, regions.trustee, TRUSTEE)
    names = listed_names(client)
    assert "Nordmann" not in names and "Æsøy" not in names
    with clean_app.app_context():
        position = db.session.scalar(select(Position).where(Position.operating_unit_id == regions.east,
                                                            Position.type == PositionType.workplace_trustee))
        position.end_date = dt.date.today() - dt.timedelta(days=1)
        db.session.commit()
        db.session.remove()
    assert client.get("/unit/").status_code in (302, 403)


# ------------------------------------------------------------------ the office maintains the tree


def test_the_office_builds_the_tree_on_its_screens(client, world, regions, dbs):
    login_as(client, world.logins["office"], "office")
    listing = client.get("/operatingunitview/list/").get_data(as_text=True)
    assert "Region Øst" in listing and "Driftsenhet Oslo" in listing
    form = client.get(f"/operatingunitview/edit/{regions.oslo}").get_data(as_text=True)
    assert 'data-employer-field="employer"' in form
    assert f'<option value="{regions.east}" selected>Region Øst (Virksomhet E1)</option>' in form
    form = client.get(f"/workplaceview/edit/{world.workplaces['W1'].id}").get_data(as_text=True)
    assert f'<option value="{regions.oslo}" selected>Driftsenhet Oslo (Virksomhet E1)</option>' in form
    found = client.get(f"/typeahead/operating_unit?q=Region&employer_id={world.employers['E2'].id}").json["results"]
    assert found == []  # the employer's own units only
    found = client.get(f"/typeahead/operating_unit?q=Region&employer_id={world.employers['E1'].id}").json["results"]
    assert {row["id"] for row in found} == {regions.east, regions.west}
    response = client.post("/operatingunitview/add", data={
        "employer": str(world.employers["E1"].id), "parent": str(regions.oslo), "name": "Kontor Grünerløkka"})
    assert response.status_code == 302
    added = dbs.scalar(select(OperatingUnit).where(OperatingUnit.name == "Kontor Grünerløkka"))
    assert added.parent_id == regions.oslo and added.employer_id == world.employers["E1"].id
    response = client.post(f"/workplaceview/edit/{world.workplaces['W1'].id}", data={
        "employer": str(world.employers["E1"].id), "name": "Arbeidssted W1", "municipality": "Oslo", "county": "Oslo",
        "org_unit": str(world.units["AV1"].id), "operating_unit": str(added.id)})
    assert response.status_code == 302
    dbs.expire_all()
    assert dbs.get(Workplace, world.workplaces["W1"].id).operating_unit_id == added.id


def test_a_unit_cannot_be_placed_below_itself_on_the_screen(client, world, regions, dbs):
    login_as(client, world.logins["office"], "office")
    for parent in (regions.oslo, regions.east):  # its own child, itself
        response = client.post(f"/operatingunitview/edit/{regions.east}", data={
            "employer": str(world.employers["E1"].id), "parent": str(parent), "name": "Region Øst"})
        assert response.status_code == 200
        assert html.unescape(response.get_data(as_text=True)).count(translated(client.application, (
            "Part of operating unit: an operating unit cannot be placed under itself or under an operating unit "
            "below it."))) == 1
    dbs.expire_all()
    assert dbs.get(OperatingUnit, regions.east).parent_id is None


@pytest.mark.parametrize("case", ["own child", "itself", "grandchild", "other employer"])
def test_the_tree_rules_over_the_api(client, world, regions, dbs, case):
    headers = api_token(client, world.logins["office"])
    with client.application.app_context():
        e2 = world.employers["E2"].id
        deep = OperatingUnit(employer_id=world.employers["E1"].id, name="Team Sentrum", parent_id=regions.oslo)
        other = OperatingUnit(employer_id=e2, name="E2 Region")
        db.session.add_all([deep, other])
        db.session.commit()
        deep_id, other_id = deep.id, other.id
        db.session.remove()
    parent = {"own child": regions.oslo, "itself": regions.east, "grandchild": deep_id,
              "other employer": other_id}[case]
    response = client.put(f"/api/v1/operating_unit/{regions.east}", json={"parent": parent}, headers=headers)
    assert response.status_code == 422
    assert list(response.json["message"]) == ["parent"]
    dbs.expire_all()
    assert dbs.get(OperatingUnit, regions.east).parent_id is None


def test_what_lies_below_stays_with_the_employer(client, world, regions, dbs):
    headers = api_token(client, world.logins["office"])
    response = client.put(f"/api/v1/operating_unit/{regions.east}", json={"employer": world.employers["E2"].id},
                          headers=headers)
    assert response.status_code == 422 and "employer" in response.json["message"]
    response = client.put(f"/api/v1/workplace/{world.workplaces['W2'].id}", json={"operating_unit": regions.east},
                          headers=headers)
    assert response.status_code == 422 and "operating_unit" in response.json["message"]
    assert dbs.get(Workplace, world.workplaces["W2"].id).operating_unit_id is None


def test_input_is_bounded_and_named(client, world, regions):
    headers = api_token(client, world.logins["office"])
    for name, field in (("", "name"), ("x" * 151, "name")):
        response = client.post("/api/v1/operating_unit/", json={
            "employer": world.employers["E1"].id, "name": name}, headers=headers)
        assert response.status_code == 422 and field in response.json["message"], name
    response = client.post("/api/v1/position/", headers=headers, json={
        "member": world.members["inside"].id, "type": "leader", "operating_unit": regions.east,
        "org_unit": world.units["AV1"].id, "start_date": dt.date.today().isoformat()})
    assert response.status_code == 422 and "operating_unit" in response.json["message"]


def test_a_unit_in_use_is_not_deleted(client, world, regions, dbs):
    headers = api_token(client, world.logins["office"])
    for in_use in (regions.east, regions.oslo):  # a unit below, workplaces and positions
        response = client.delete(f"/api/v1/operating_unit/{in_use}", headers=headers)
        assert response.status_code == 422
        assert dbs.get(OperatingUnit, in_use) is not None
    login_as(client, world.logins["office"], "office")
    client.post(f"/operatingunitview/delete/{regions.oslo}")
    assert dbs.get(OperatingUnit, regions.oslo) is not None
    with client.application.app_context():
        empty = OperatingUnit(employer_id=world.employers["E2"].id, name="Tom region")
        db.session.add(empty)
        db.session.commit()
        empty_id = empty.id
        db.session.remove()
    assert client.delete(f"/api/v1/operating_unit/{empty_id}", headers=headers).status_code == 200
    dbs.expire_all()
    assert dbs.get(OperatingUnit, empty_id) is None


@pytest.mark.parametrize("role", ["leader", "treasurer", "member_data_admin", "workplace_trustee",
                                  "deduction_contact", "member", "analyst"])
def test_only_the_office_reaches_the_tree(client, world, regions, role):
    login_as(client, world.logins[role], role)
    assert client.get("/operatingunitview/list/").status_code in (302, 403)
    assert client.get(f"/operatingunitview/show/{regions.east}").status_code in (302, 403, 404)
    headers = api_token(client, world.logins[role])
    assert client.get("/api/v1/operating_unit/", headers=headers).status_code in (401, 403)
    assert client.post("/api/v1/operating_unit/", headers=headers,
                       json={"employer": world.employers["E1"].id, "name": "Ny"}).status_code in (401, 403)


def test_the_office_gives_a_position_for_a_region_and_it_takes_effect(client, world, regions, dbs):
    headers = api_token(client, world.logins["office"])
    response = client.post("/api/v1/position/", headers=headers, json={
        "member": world.members["outside"].id, "type": "workplace_trustee", "operating_unit": regions.west,
        "start_date": dt.date.today().isoformat()})
    assert response.status_code == 201, response.json
    assert response.json["result"]["operating_unit"] == regions.west
    login_as(client, world.logins["office"], "office")
    assert client.get("/positionview/add").status_code == 200
    assert "Region Vest (Virksomhet E1)" in client.get("/positionview/list/").get_data(as_text=True)
    client.get("/logout/")
    with client.application.app_context():
        db.session.add(ConfidentialityDeclaration(user_id=world.members["outside"].user_id,
                                                  confirmed_at=dt.datetime.now(), text_version="test"))
        db.session.commit()
        db.session.remove()
    login_as(client, world.members["outside"].member_no, TRUSTEE)
    names = listed_names(client)
    assert "Vestland" in names and "Nordmann" not in names and "Æsøy" not in names
