"""Bad input answers a clear 400, 404, 413 or a form message naming the field and the rule, never a 500.

List arguments of the screens (sort, page, page size, filters), ids beyond 64 bits, the API's bodies and
`q=`, dates outside 1900-2100, months and quarters outside the register's window, and the public access
request form (NUL bytes, over-long text, rate limit). Texts are read in Norwegian, the default language.
"""

from __future__ import annotations

import datetime as dt
import json

import prison
import pytest

from tests.helpers import api_token, login_as
from webapp.models import AccessRequest, Employment, Member, RefundPool
from webapp.services.periods import Month, PeriodError, PeriodOutOfRange, Quarter

HUGE = "99999999999999999999"


def page_text(response) -> str:
    return response.get_data(as_text=True)


def member_numbers_in_order(page: str, world) -> list[str]:
    numbers = [m.member_no for m in world.members.values()]
    return sorted((n for n in numbers if n in page), key=page.index)


# ------------------------------------------------------------------ list arguments of the screens


@pytest.mark.parametrize("query,message", [
    ({"_oc_MemberView": "no_such_column", "_od_MemberView": "asc"},
     "_oc_MemberView: listen kan ikke sorteres etter no_such_column."),
    ({"page_MemberView": "abc"}, "page_MemberView: må være et heltall fra 0 til 1000000."),
    ({"page_MemberView": "-1"}, "page_MemberView: må være et heltall fra 0 til 1000000."),
    ({"psize_MemberView": str(10**9)}, "psize_MemberView: må være et heltall fra 1 til 100."),
    ({"psize_MemberView": "0"}, "psize_MemberView: må være et heltall fra 1 til 100."),
    ({"_flt_9_joined_on": "2020-01-01"}, "_flt_9_joined_on: denne kolonnen har ikke et slikt filter."),
    ({"_flt_0_home_unit": "abc"}, "_flt_0_home_unit: må være id-en til en rad."),
    ({"_flt_0_home_unit": HUGE}, "_flt_0_home_unit: må være id-en til en rad."),
    ({"_flt_0_joined_on": "notadate"}, "_flt_0_joined_on: må være en dato på formen ÅÅÅÅ-MM-DD fra 01.01.1900"),
    ({"_flt_0_last_name": "a\x00b"}, "_flt_0_last_name: inneholder et tegn som ikke er tillatt (NUL)."),
])
def test_bad_list_arguments_answer_400_naming_the_argument(client, world, query, message):
    login_as(client, world.logins["office"], "office")
    response = client.get("/memberview/list/", query_string=query)
    assert response.status_code == 400
    page = page_text(response)
    assert message in page and 'id="acting-role"' in page  # the error page inside the layout


def test_valid_list_arguments_still_sort_page_and_filter(client, world):
    login_as(client, world.logins["office"], "office")
    response = client.get("/memberview/list/", query_string={
        "_oc_MemberView": "first_name", "_od_MemberView": "desc", "page_MemberView": "0", "psize_MemberView": "50",
        "_flt_0_joined_on": "2015-01-01"})
    assert response.status_code == 200
    assert world.members["inside"].member_no in page_text(response)


def test_a_masked_role_cannot_order_members_by_national_id(client, world):
    """The leader sees national ids masked: ordering by them would leak the order of the hidden digits."""
    login_as(client, world.logins["leader"], "leader")
    by_national_id = client.get("/memberview/list/", query_string={"_oc_MemberView": "national_id",
                                                                    "_od_MemberView": "asc"})
    assert by_national_id.status_code == 400
    assert "listen kan ikke sorteres etter national_id" in page_text(by_national_id)
    shown = client.get("/memberview/list/", query_string={"_oc_MemberView": "last_name", "_od_MemberView": "asc"})
    assert shown.status_code == 200 and len(member_numbers_in_order(page_text(shown), world)) >= 2

    headers = api_token(client, world.logins["leader"])
    api = client.get("/api/v1/member/", headers=headers,
                     query_string={"q": prison.dumps({"order_column": "national_id", "order_direction": "asc"})})
    assert api.status_code == 400 and api.is_json


@pytest.mark.parametrize("url", [f"/memberview/show/{HUGE}", f"/memberview/edit/{HUGE}", f"/employmentview/show/{HUGE}",
                                 "/memberview/show/abc", f"/refunds/{HUGE}/letter.pdf"])
def test_an_id_no_row_can_have_is_not_found(client, world, url):
    login_as(client, world.logins["office"], "office")
    response = client.get(url)
    assert response.status_code == 404 and "Ikke funnet" in page_text(response)


def test_an_action_on_an_id_no_row_can_have_is_not_found(client, world):
    login_as(client, world.logins["office"], "office")
    assert client.post("/deductionlistview/action_post", data={"action": "reopen", "rowid": [HUGE]}).status_code == 404
    assert client.post(f"/prizeorderview/action/cancel/{HUGE}").status_code == 404


# ------------------------------------------------------------------ the REST API


def test_api_huge_id_and_bad_query_answer_json(client, world):
    headers = api_token(client, world.logins["office"])
    for method in ("get", "put", "delete"):
        response = getattr(client, method)(f"/api/v1/member/{HUGE}", headers=headers,
                                           json={} if method == "put" else None)
        assert response.status_code == 404 and response.is_json, method
    negative_page = client.get("/api/v1/member/", headers=headers, query_string={"q": prison.dumps({"page": -1})})
    assert negative_page.status_code == 400 and "q.page" in negative_page.json["message"]
    wrong_type = client.get("/api/v1/employment/", headers=headers, query_string={"q": prison.dumps(
        {"filters": [{"col": "member", "opr": "rel_o_m", "value": HUGE}]})})
    assert wrong_type.status_code == 400 and "q.filters[0].value" in wrong_type.json["message"]


@pytest.mark.parametrize("body,message", [
    ("[1, 2]", "body: må være et JSON-objekt."),
    ("{not json", "body: er ikke gyldig JSON."),
    ('{"first_name": "A\\u0000B"}', "first_name: inneholder et tegn som ikke er tillatt (NUL)."),
    ('{"position_pct": 1e400}', "position_pct: tallet er for stort."),
])
def test_api_bodies_that_are_no_record_answer_400(client, world, dbs, body, message):
    headers = {**api_token(client, world.logins["office"]), "Content-Type": "application/json"}
    before = dbs.query(Member).count()
    for response in (client.post("/api/v1/member/", data=body, headers=headers),
                     client.put(f"/api/v1/member/{world.members['inside'].id}", data=body, headers=headers)):
        assert response.status_code == 400 and response.is_json
        assert response.json["message"] == message
    assert dbs.query(Member).count() == before


def test_api_over_size_body_answers_413_json(client, world):
    headers = {**api_token(client, world.logins["office"]), "Content-Type": "application/json"}
    body = json.dumps({"first_name": "x" * (2 * 1024 * 1024)})
    response = client.post("/api/v1/member/", data=body, headers=headers)
    assert response.status_code == 413 and response.is_json and response.json["message"] == "For stor"


# ------------------------------------------------------------------ dates, months and quarters


def test_api_refuses_dates_before_1900_naming_the_field(client, world, dbs):
    headers = api_token(client, world.logins["office"])
    payload = {"member_no": "7599002", "national_id": "15108695088", "first_name": "Ny", "last_name": "Person",
               "email_private": "ny@example.no", "email_to": "private", "category": "ordinary",
               "home_unit": world.units["AV1"].id, "joined_on": "1899-12-31"}
    response = client.post("/api/v1/member/", json=payload, headers=headers)
    assert response.status_code == 422
    assert response.json["message"]["joined_on"] == ["joined_on: må være en dato fra 01.01.1900 til 31.12.2100."]
    assert dbs.query(Member).filter_by(first_name="Ny").count() == 0


def test_form_refuses_a_date_after_2100_naming_the_field(client, world, dbs):
    login_as(client, world.logins["office"], "office")
    before = dbs.query(Employment).count()
    response = client.post("/employmentview/add", data={
        "member": str(world.members["inside"].id), "workplace": str(world.workplaces["W1"].id),
        "start_date": "2101-01-01", "position_pct": "100"})
    assert response.status_code == 200
    assert "Startdato: må være en dato fra 01.01.1900 til 31.12.2100." in page_text(response)
    assert dbs.query(Employment).count() == before


def test_report_screen_refuses_a_date_before_1900(client, world):
    login_as(client, world.logins["office"], "office")
    page = page_text(client.get("/reports/?report=lo&date=1899-12-31"))
    assert "Dato: må være en dato på formen ÅÅÅÅ-MM-DD fra 01.01.1900 til i dag." in page
    assert 'id="report-total"' not in page
    assert client.get("/reports/download/lo/1899-12-31.pdf").status_code == 404


def test_months_and_quarters_outside_the_window_are_refused():
    last_year = dt.date.today().year + 2
    assert Month.parse("2000-01") == Month(2000, 1) and Quarter.parse(f"{last_year}-Q4") == Quarter(last_year, 4)
    for parse, text in ((Month.parse, "1999-12"), (Month.parse, f"{last_year + 1}-01"), (Quarter.parse, "0001-Q1"),
                        (Quarter.parse, "9999-Q4")):
        with pytest.raises(PeriodOutOfRange, match=f"must lie in the years 2000 to {last_year}"):
            parse(text)
    with pytest.raises(PeriodError, match="YYYY-MM"):
        Month.parse("2026-13")


def test_refund_pool_form_refuses_a_quarter_outside_the_window(client, world, dbs):
    login_as(client, world.logins["office"], "office")
    response = client.post("/refundpoolview/add", data={"quarter": "1999-Q4", "pool_ore": "100000"})
    last_year = dt.date.today().year + 2
    assert f"må være et kvartal fra 2000-Q1 til {last_year}-Q4." in page_text(response)
    assert dbs.query(RefundPool).count() == 0


# ------------------------------------------------------------------ the public access request form


def access_request(**overrides) -> dict:
    return {"name": "Nina Lønn", "email": "nina@example.no", "phone": "", "org_number": "974760673", **overrides}


@pytest.mark.parametrize("field,value,message", [
    ("name", "Nina " + "L" * 160, "Navn: høyst 160 tegn."),
    ("phone", "9" * 21, "Mobil: høyst 20 tegn."),
    ("email", "n" * 320 + "@example.no", "E-post: høyst 320 tegn."),
])
def test_access_request_refuses_over_long_text_naming_the_field(client, world, dbs, field, value, message):
    response = client.post("/access/request", data=access_request(**{field: value}))
    assert response.status_code == 200 and message in page_text(response)
    assert dbs.query(AccessRequest).count() == 0


def test_access_request_refuses_nul_bytes_naming_the_field(client, world, dbs):
    response = client.post("/access/request", data=access_request(name="Nina\x00 Lønn"))
    assert response.status_code == 400
    assert "name: inneholder et tegn som ikke er tillatt (NUL)." in page_text(response)
    assert dbs.query(AccessRequest).count() == 0


def test_access_request_still_accepts_a_good_request(client, world, dbs):
    assert client.post("/access/request", data=access_request()).status_code == 302
    assert dbs.query(AccessRequest).one().name == "Nina Lønn"


def test_access_requests_from_one_address_are_limited(app, world):
    from webapp import create_app

    limited = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         RATELIMIT_ENABLED=True, AUTH_RATE_LIMITED=True, ACCESS_REQUEST_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    statuses = [client.post("/access/request", data=access_request(email=f"n{i}@example.no")).status_code
                for i in range(4)]
    assert statuses[:2] == [302, 302] and statuses[2:] == [429, 429]
    assert client.get("/access/request").status_code == 200  # reading the form is not limited


# ------------------------------------------------------------------ absurd amounts in forms


def test_form_refuses_absurd_amounts_naming_the_field_without_database_text(client, world, dbs):
    from webapp.models import DuesRate

    login_as(client, world.logins["office"], "office")
    response = client.post("/duesrateview/add", data={
        "valid_from": "2026-01-01", "percent": "1e400", "monthly_min_ore": HUGE, "contents_insurance_ore": "0",
        "travel_insurance_ore": "0", "apprentice_flat_ore": "0"})
    page = page_text(response)
    assert response.status_code == 200
    assert "Kontingent (% av lønn): tallet er for stort." in page
    assert "Minstebeløp per måned (kr): tallet er for stort." in page
    assert not any(word in page for word in ("psycopg", "SQL", "OverflowError", "out of range"))
    assert dbs.query(DuesRate).count() == 0


def test_a_form_error_naming_a_percent_field_renders(client, world, dbs):
    """FAB formats form errors with %: a label such as "Share of dues paid (%)" once failed the page."""
    login_as(client, world.logins["office"], "office")
    response = client.post("/refundpolicyview/add", data={
        "valid_from": "2026-Q1", "pool_percent": "1e400", "share_national_association": "30", "share_branch": "40",
        "share_club": "30", "weight_ordinary": "1", "weight_apprentice": "1", "weight_student": "1",
        "weight_retired": "0", "weight_unemployed": "1"})
    assert response.status_code == 200
    assert "Andel av innbetalt kontingent (%): må være et tall fra 0 til 100." in page_text(response)


@pytest.mark.parametrize("member_id", [HUGE, "-1", "abc", ""])
def test_the_offices_subject_access_for_a_member_id_nobody_can_have_is_not_found(client, world, member_id):
    login_as(client, world.logins["office"])
    assert client.get("/subject-access/data.json", query_string={"member_id": member_id}).status_code == 404
    real = world.members["outside"].id  # the parameter still reaches every member for the office
    assert client.get("/subject-access/data.json", query_string={"member_id": real}).status_code == 200
