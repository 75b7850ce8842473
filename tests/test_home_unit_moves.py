"""Moving inside the union: the mapping's order (workplace > employer > county > none), and the member's home unit
following an approved employment change or an employment saved on the office's screen, with the office's override,
audited; a member-data admin moves members only inside their scope."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from sqlalchemy import select

from tests.helpers import login_as
from tests.test_access_matrix import member_form
from webapp.extensions import db
from webapp.models import AuditEntry, Employment, EmploymentChange, HomeUnitRule, Member, Postcode
from webapp.models.choices import HomeUnitRuleKind, RequestStatus
from webapp.services import home_unit_moves, mypage
from webapp.services.home_units import COUNTY, EMPLOYER, WORKPLACE, MappedUnit, mapped_unit

TODAY = dt.date.today()


def text_of(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(page).replace("\u00a0", " "))


def moves(session, member_id: int) -> list[dict]:
    session.expire_all()
    rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "home_unit_moved",
                                                    AuditEntry.member_id == member_id).order_by(AuditEntry.id))
    return [json.loads(row.details) for row in rows]


def home_unit(session, member_id: int) -> int:
    session.expire_all()
    return session.get(Member, member_id).home_unit_id


@pytest.fixture()
def rules(clean_app, world):
    """Employer E2 → AV1, county Vestland → KL1; postcode 5003 lies in Vestland, 0150 in Oslo (no rule)."""
    with clean_app.app_context():
        db.session.add_all([
            Postcode(code="5003", place="Bergen", municipality="Bergen", county="Vestland"),
            Postcode(code="0150", place="Oslo", municipality="Oslo", county="Oslo"),
            HomeUnitRule(kind=HomeUnitRuleKind.employer, employer_id=world.employers["E2"].id,
                         org_unit_id=world.units["AV1"].id),
            HomeUnitRule(kind=HomeUnitRuleKind.county, county="Vestland", org_unit_id=world.units["KL1"].id),
        ])
        db.session.commit()
        db.session.remove()
    return world


def test_the_mapping_takes_workplace_then_employer_then_county_then_nothing(app_ctx, rules):
    w = rules
    assert mapped_unit(w.workplaces["W2"].id, w.employers["E2"].id, "5003") == MappedUnit(w.units["AV2"].id,
                                                                                          WORKPLACE)
    assert mapped_unit(None, w.employers["E2"].id, "5003") == MappedUnit(w.units["AV1"].id, EMPLOYER)
    assert mapped_unit(None, w.employers["E1"].id, "5003") == MappedUnit(w.units["KL1"].id, COUNTY)
    assert mapped_unit(None, None, "5003") == MappedUnit(w.units["KL1"].id, COUNTY)
    assert mapped_unit(None, w.employers["E1"].id, "0150") is None  # Oslo has no rule
    assert mapped_unit(None, None, "9999") is None and mapped_unit() is None


# ------------------------------------------------------------------ an approved employment change


def _report_change(clean_app, world, member_key: str = "inside", workplace_key: str = "W2", pct: int = 100) -> int:
    member, old = world.members[member_key], world.employments.get(member_key)
    place = world.workplaces[workplace_key]
    with clean_app.app_context():
        change = EmploymentChange(member_id=member.id, employment_id=old.id if old else None,
                                  employer_id=place.employer_id, workplace_id=place.id,
                                  start_date=TODAY.replace(day=1), position_pct=pct, status=RequestStatus.pending,
                                  reported_at=dt.datetime.now())
        db.session.add(change)
        db.session.commit()
        change_id = change.id
        db.session.remove()
    return change_id


@pytest.fixture()
def office(client, world):
    login_as(client, world.logins["office"], "office")
    return client


def test_approving_from_the_list_moves_the_member_by_the_mapping(office, world, dbs, clean_app):
    change_id = _report_change(clean_app, world)
    member_id = world.members["inside"].id
    office.post("/employmentchangeview/action_post", data={"action": "approve", "rowid": [change_id]})
    assert dbs.get(EmploymentChange, change_id).status == RequestStatus.approved
    assert home_unit(dbs, member_id) == world.units["AV2"].id
    [move] = moves(dbs, member_id)
    assert (move["from_unit_id"], move["to_unit_id"], move["source"]) == (
        world.units["AV1"].id, world.units["AV2"].id, "workplace")


def test_the_approval_page_proposes_the_mapped_unit_and_offers_to_keep(office, world, clean_app):
    change_id = _report_change(clean_app, world)
    response = office.post(f"/employmentchangeview/action/approve/{change_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/employmentchangeview/approve/{change_id}")
    page = office.get(f"/employmentchangeview/approve/{change_id}").get_data(as_text=True)
    selected = re.findall(r'<option value="([^"]+)" selected', page)
    assert selected == [str(world.units["AV2"].id)]
    assert 'value="keep"' in page
    text = text_of(office.get(f"/employmentchangeview/approve/{change_id}"))
    assert "Reglene gir Avdeling Vest (etter arbeidsstedet)" in text
    assert "Behold nåværende enhet (Avdeling Øst)" in text


@pytest.mark.parametrize(("choice", "unit_key", "source"), [
    ("proposed", "AV2", "workplace"),
    ("keep", "AV1", None),
    ("KL1", "KL1", "override"),
])
def test_the_office_confirms_keeps_or_overrides_the_unit(office, world, dbs, clean_app, choice, unit_key, source):
    change_id = _report_change(clean_app, world)
    member_id = world.members["inside"].id
    value = {"proposed": str(world.units["AV2"].id), "keep": "keep"}.get(choice) or str(world.units[choice].id)
    response = office.post(f"/employmentchangeview/approve/{change_id}", data={"home_unit": value},
                           follow_redirects=True)
    text = text_of(response)
    assert "Endringen i arbeidsforholdet er registrert." in text
    assert dbs.get(EmploymentChange, change_id).status == RequestStatus.approved
    assert home_unit(dbs, member_id) == world.units[unit_key].id
    if source is None:
        assert moves(dbs, member_id) == []
        assert "Hjemmeenhet endret" not in text
    else:
        [move] = moves(dbs, member_id)
        assert (move["to_unit_id"], move["source"]) == (world.units[unit_key].id, source)
        assert f"Hjemmeenhet endret fra Avdeling Øst til {world.units[unit_key].name}." in text


@pytest.mark.parametrize("value", ["", "nowhere", "999999", "-1"])
def test_a_bad_unit_choice_is_refused_and_nothing_happens(office, world, dbs, clean_app, value):
    change_id = _report_change(clean_app, world)
    response = office.post(f"/employmentchangeview/approve/{change_id}", data={"home_unit": value})
    assert response.status_code == 422
    assert "Hjemmeenhet: velg en enhet, eller behold den nåværende." in text_of(response)
    assert dbs.get(EmploymentChange, change_id).status == RequestStatus.pending
    assert home_unit(dbs, world.members["inside"].id) == world.units["AV1"].id


def test_a_decided_change_has_no_approval_page(office, world, dbs, clean_app):
    change_id = _report_change(clean_app, world)
    office.post("/employmentchangeview/action_post", data={"action": "reject", "rowid": [change_id]})
    response = office.post(f"/employmentchangeview/approve/{change_id}", data={"home_unit": "keep"},
                           follow_redirects=True)
    assert "Status: endringen er allerede behandlet." in text_of(response)
    assert dbs.get(EmploymentChange, change_id).status == RequestStatus.rejected
    assert len(dbs.scalars(select(Employment).where(Employment.member_id == world.members["inside"].id)).all()) == 1


def test_the_service_keeps_the_member_when_told(app_ctx, world):
    change = db.session.get(EmploymentChange, _report_change(app_ctx, world))
    mypage.approve_employment_change(change, None, home_unit=home_unit_moves.KEEP)
    assert db.session.get(Member, world.members["inside"].id).home_unit_id == world.units["AV1"].id


# ------------------------------------------------------------------ the employment screen


def _employment_form(world, member_key: str, workplace_key: str, start: str, pct: str = "100", end: str = "") -> dict:
    return {"member": str(world.members[member_key].id), "workplace": str(world.workplaces[workplace_key].id),
            "start_date": start, "end_date": end, "position_pct": pct, "on_deduction": "y"}


def test_adding_and_editing_an_employment_moves_the_member_and_says_so(office, world, dbs):
    member_id = world.members["lf1_direct"].id  # in LF1, without a job
    start = TODAY.replace(day=1).isoformat()
    response = office.post("/employmentview/add", data=_employment_form(world, "lf1_direct", "W1", start),
                           follow_redirects=True)
    assert "Hjemmeenhet endret fra Landsforening én til Avdeling Øst." in text_of(response)
    assert home_unit(dbs, member_id) == world.units["AV1"].id
    employment_id = dbs.scalar(select(Employment.id).where(Employment.member_id == member_id))
    response = office.post(f"/employmentview/edit/{employment_id}",
                           data=_employment_form(world, "lf1_direct", "W1b", start), follow_redirects=True)
    assert "Hjemmeenhet endret fra Avdeling Øst til Klubb Ås." in text_of(response)
    assert home_unit(dbs, member_id) == world.units["KL1"].id
    assert [(m["to_unit_id"], m["source"]) for m in moves(dbs, member_id)] == [
        (world.units["AV1"].id, "workplace"), (world.units["KL1"].id, "workplace")]
    # Changing what does not move anybody (deduction) moves nobody.
    office.post(f"/employmentview/edit/{employment_id}",
                data={**_employment_form(world, "lf1_direct", "W1b", start), "on_deduction": ""})
    assert len(moves(dbs, member_id)) == 2


def test_an_employment_that_is_not_the_main_one_or_has_ended_moves_nobody(office, world, dbs):
    member_id = world.members["inside"].id  # 100 % at W1 (AV1) since 2020
    response = office.post("/employmentview/add",
                           data=_employment_form(world, "inside", "W2", TODAY.replace(day=1).isoformat(), pct="40"),
                           follow_redirects=True)
    assert "Hjemmeenhet endret" not in text_of(response)
    office.post("/employmentview/add", data=_employment_form(world, "inside", "W2", "2010-01-01", end="2012-12-31"))
    assert home_unit(dbs, member_id) == world.units["AV1"].id
    assert moves(dbs, member_id) == []
    assert len(dbs.scalars(select(Employment).where(Employment.member_id == member_id)).all()) == 3


def test_the_office_still_sets_any_unit_on_the_member_screen(office, world, dbs):
    member = world.members["inside"]
    data = member_form(world, "AV2", member_no=member.member_no, national_id=member.national_id,
                       first_name=member.first_name, last_name=member.last_name, email_private=member.email_private,
                       joined_on=member.joined_on.isoformat())
    office.post(f"/memberview/edit/{member.id}", data=data)
    assert home_unit(dbs, member.id) == world.units["AV2"].id


def test_a_member_data_admin_moves_members_inside_the_scope(client, world, dbs):
    login_as(client, world.logins["member_data_admin"], "member_data_admin")
    member_id = world.members["lf1_direct"].id
    response = client.post("/employmentview/add",
                           data=_employment_form(world, "lf1_direct", "W1b", TODAY.replace(day=1).isoformat()),
                           follow_redirects=True)
    assert "Hjemmeenhet endret fra Landsforening én til Klubb Ås." in text_of(response)
    assert home_unit(dbs, member_id) == world.units["KL1"].id


def test_a_move_outside_the_writers_scope_is_left_to_the_office(app_ctx, rules):
    """The rule the employment screen gives a narrower writer: the mapping's unit outside their scope moves nobody
    (the screen tells them to ask the union office)."""
    w = rules
    member = db.session.get(Member, w.members["lf1_direct"].id)
    employment = Employment(member_id=member.id, employer_id=w.employers["E2"].id, workplace_id=w.workplaces["W2"].id,
                            start_date=TODAY.replace(day=1), position_pct=100, on_deduction=True)
    db.session.add(employment)
    db.session.flush()
    outcome = home_unit_moves.follow_saved_employment(employment, "test", may_move_to=lambda unit_id: False)
    assert (outcome.moved, outcome.refused_unit_id) == (False, w.units["AV2"].id)
    assert member.home_unit_id == w.units["LF1"].id
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "home_unit_moved")) is None
    inside_scope = {w.units["AV2"].id}
    outcome = home_unit_moves.follow_saved_employment(employment, "test", may_move_to=inside_scope.__contains__)
    assert outcome.moved and member.home_unit_id == w.units["AV2"].id
