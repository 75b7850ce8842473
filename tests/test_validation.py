"""Bad input is refused with the field named, in the rules, the forms and the API."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import api_token, login_as
from webapp.models import Employer, Employment, Member, OrgUnit, Position
from webapp.services import validation as v

VALID_MEMBER = {
    "member_no": "7512345",
    "national_id": "15108695088",
    "first_name": "Ny",
    "last_name": "Person",
    "email_private": "ny@example.no",
    "email_to": "private",
    "joined_on": dt.date(2024, 1, 1),
}


@pytest.mark.parametrize(
    "field,value,fragment",
    [
        ("national_id", "1510869508", "11 siffer"),
        ("national_id", "15108695089", "kontrollsifrene"),
        ("member_no", "7412345", "starte med 75"),
        ("member_no", "75", "3 til 8 siffer"),
        ("member_no", "751234567", "3 til 8 siffer"),
        ("email_private", "ikke-en-adresse", "E-post"),
        ("mobile_private", "12", "Mobil"),
        ("postcode", "12345", "Postnummer"),
    ],
)
def test_member_field_rules_name_the_field(app_ctx, field, value, fragment):
    with pytest.raises(v.RecordInvalid) as caught:
        v.validate_record(Member, {**VALID_MEMBER, field: value})
    assert field in caught.value.errors
    assert fragment in " ".join(caught.value.errors[field])


def test_valid_member_passes_and_is_normalised(app_ctx):
    cleaned = v.validate_record(Member,
                                {**VALID_MEMBER, "mobile_private": "912 34 567", "preferred_mobile": "private",
                                 "national_id": "151086 95088"})
    assert cleaned["mobile_private"] == "+4791234567"
    assert cleaned["national_id"] == "15108695088"


def d_number(birth: dt.date) -> str:
    """A valid D-number (day + 40) for a birth date."""
    w1, w2 = [3, 7, 6, 1, 8, 9, 4, 5, 2], [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
    for individual in range(100, 500):
        base = f"{birth.day + 40:02d}{birth:%m%y}{individual:03d}"
        k1 = (11 - sum(int(a) * b for a, b in zip(base, w1)) % 11) % 11
        k2 = (11 - sum(int(a) * b for a, b in zip(base + str(k1 % 10), w2)) % 11) % 11
        if k1 < 10 and k2 < 10:
            return f"{base}{k1}{k2}"
    raise AssertionError("no D-number found")


def test_d_number_is_accepted_and_gives_birth_date(app_ctx):
    number = d_number(dt.date(1986, 10, 15))
    assert v.national_id(number) == number
    assert v.person_facts(number)[0] == dt.date(1986, 10, 15)


@pytest.mark.parametrize(
    "values,field",
    [
        ({"email_work": None, "email_private": "a@example.no", "email_to": "work"}, "email_to"),
        ({"email_work": "a@example.no", "email_private": None, "email_to": None}, "email_to"),
        ({"mobile_work": "+4791234567", "mobile_private": None, "preferred_mobile": "private"}, "preferred_mobile"),
        ({"left_on": dt.date(2023, 1, 1)}, "left_on"),
    ],
)
def test_member_record_rules(app_ctx, values, field):
    with pytest.raises(v.RecordInvalid) as caught:
        v.validate_record(Member, {**VALID_MEMBER, **values})
    assert field in caught.value.errors


@pytest.mark.parametrize(
    "model,values,field",
    [
        (Employer, {"org_number": "974760674", "name": "X", "customer_no": "12345678"}, "org_number"),
        (Employer, {"org_number": "974760673", "name": "X", "customer_no": "1234567"}, "customer_no"),
        (OrgUnit, {"code": "X", "name": "Y", "bank_account": "90010741505"}, "bank_account"),
        (Employment, {"start_date": dt.date(2024, 2, 1), "end_date": dt.date(2024, 1, 1), "position_pct": 100},
         "end_date"),
        (Employment, {"start_date": dt.date(2024, 2, 1), "position_pct": 120}, "position_pct"),
        (Position, {"type": "leader", "org_unit": None, "workplace": None, "start_date": dt.date(2024, 1, 1)},
         "org_unit"),
    ],
)
def test_other_rules(app_ctx, model, values, field):
    with pytest.raises(v.RecordInvalid) as caught:
        v.validate_record(model, values)
    assert field in caught.value.errors


def _form(world, **overrides):
    data = {
        "member_no": "7599002", "national_id": "15108695088", "first_name": "Ny", "last_name": "Person",
        "email_private": "ny@example.no", "email_to": "private", "category": "ordinary",
        "home_unit": str(world.units["AV1"].id), "joined_on": "2024-03-01",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("national_id", "15108695089", "Fødselsnummer"),
        ("member_no", "8812345", "Medlemsnummer"),
        ("email_private", "x@", "E-post"),
        ("email_to", "work", "E-post sendes til"),
    ],
)
def test_form_refuses_bad_member_with_field_named(client, world, dbs, field, value, message):
    login_as(client, world.logins["office"])
    response = client.post("/memberview/add", data=_form(world, **{field: value}))
    assert response.status_code == 200  # the form again, with the message at the field
    assert message in response.get_data(as_text=True)
    assert dbs.query(Member).filter_by(first_name="Ny").count() == 0


def test_form_refuses_duplicate_member_number(client, world, dbs):
    login_as(client, world.logins["office"])
    client.post("/memberview/add", data=_form(world, member_no=world.members["inside"].member_no))
    assert dbs.query(Member).filter_by(first_name="Ny").count() == 0


def test_form_refuses_bad_employer_and_account(client, world, dbs):
    login_as(client, world.logins["office"])
    page = client.post("/employerview/add", data={
        "org_number": "123456789", "name": "Feil AS", "association": "nho", "sector": "private",
        "customer_no": "99999999",
    }).get_data(as_text=True)
    assert "Organisasjonsnummer" in page
    page = client.post("/orgunitview/add", data={
        "code": "ZZ", "name": "Feil", "level": "club", "bank_account": "1234",
    }).get_data(as_text=True)
    assert "Kontonummer" in page
    assert dbs.query(Employer).filter_by(name="Feil AS").count() == 0
    assert dbs.query(OrgUnit).filter_by(code="ZZ").count() == 0


@pytest.mark.parametrize(
    "field,value",
    [
        ("national_id", "15108695089"),
        ("member_no", "8812345"),
        ("email_private", "x@"),
        ("mobile_work", "123"),
    ],
)
def test_api_refuses_bad_member_with_422_naming_the_field(client, world, dbs, field, value):
    headers = api_token(client, world.logins["office"])
    payload = {**_form(world), "home_unit": world.units["AV1"].id, field: value}
    response = client.post("/api/v1/member/", json=payload, headers=headers)
    assert response.status_code == 422, response.json
    assert field in response.json["message"]
    assert dbs.query(Member).filter_by(first_name="Ny").count() == 0


def test_api_refuses_bad_employer(client, world, dbs):
    headers = api_token(client, world.logins["office"])
    response = client.post("/api/v1/employer/", json={
        "org_number": "974760674", "name": "Feil AS", "association": "nho", "sector": "private",
        "customer_no": "12345678",
    }, headers=headers)
    assert response.status_code == 422
    assert "org_number" in response.json["message"]


def test_api_accepts_valid_member(client, world, dbs):
    headers = api_token(client, world.logins["office"])
    payload = {**_form(world), "home_unit": world.units["AV1"].id, "mobile_private": "912 34 567",
               "preferred_mobile": "private"}
    response = client.post("/api/v1/member/", json=payload, headers=headers)
    assert response.status_code == 201, response.json
    member = dbs.get(Member, response.json["id"])
    assert member.mobile_private == "+4791234567"
    assert member.gender.name == "female" and member.birth_date == dt.date(1986, 10, 15)


def test_org_unit_cannot_be_moved_under_its_own_descendant(client, world, dbs):
    headers = api_token(client, world.logins["office"])
    response = client.put(f"/api/v1/org_unit/{world.units['LF1'].id}", json={"parent": world.units["KL1"].id},
                          headers=headers)
    assert response.status_code == 422
    assert "parent" in response.json["message"] or "level" in response.json["message"]
    assert dbs.get(OrgUnit, world.units["LF1"].id).parent_id == world.units["NTF"].id


def test_org_unit_level_must_be_below_parent(client, world, dbs):
    headers = api_token(client, world.logins["office"])
    response = client.post("/api/v1/org_unit/", json={
        "code": "X1", "name": "Feil nivå", "level": "national_association", "parent": world.units["AV1"].id,
        "receives_refunds": True,
    }, headers=headers)
    assert response.status_code == 422
    assert "level" in response.json["message"]
