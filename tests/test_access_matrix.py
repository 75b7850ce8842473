"""Every role against every screen and API, for a row inside its scope and one outside it.

The expectations are written out here, from DOMAIN.md, independently of
webapp/security/roles.py: a change to the roles that breaks them fails here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from tests.concurrency import api_session, fire_together, postgres_only
from tests.helpers import api_token, login_as
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import Employment, Member, Position

VIEWS = {
    "MemberView": "/memberview",
    "EmploymentView": "/employmentview",
    "PositionView": "/positionview",
    "OrgUnitView": "/orgunitview",
    "EmployerView": "/employerview",
    "WorkplaceView": "/workplaceview",
    "DeductionContactView": "/deductioncontactview",
}
APIS = {
    "MemberView": "/api/v1/member",
    "EmploymentView": "/api/v1/employment",
    "PositionView": "/api/v1/position",
    "OrgUnitView": "/api/v1/org_unit",
    "EmployerView": "/api/v1/employer",
    "WorkplaceView": "/api/v1/workplace",
}

# role -> view -> rights (l)ist/(s)how, (c)reate, (u)pdate, (d)elete
EXPECTED = {
    "office": {v: "lscud" for v in VIEWS},
    "leader": {"MemberView": "ls", "EmploymentView": "ls", "PositionView": "lscud", "OrgUnitView": "ls",
               "EmployerView": "ls", "WorkplaceView": "ls"},
    "treasurer": {"MemberView": "ls", "EmploymentView": "ls", "PositionView": "ls", "OrgUnitView": "ls",
                  "EmployerView": "ls", "WorkplaceView": "ls"},
    "member_data_admin": {"MemberView": "lscu", "EmploymentView": "lscud", "PositionView": "ls", "OrgUnitView": "ls",
                          "EmployerView": "ls", "WorkplaceView": "ls"},
    "workplace_trustee": {"MemberView": "ls", "WorkplaceView": "ls"},
    "deduction_contact": {"EmployerView": "ls", "WorkplaceView": "ls"},
    "member": {},
    "analyst": {"OrgUnitView": "ls", "EmployerView": "ls"},
}

# role -> view -> (key of a row inside the scope, key of a row outside it or None when all rows are inside)
ROWS = {
    "office": {v: (None, None) for v in VIEWS},
    "leader": {"MemberView": ("m:inside", "m:outside"), "EmploymentView": ("e:inside", "e:outside"),
               "PositionView": ("p:leader", "p:outside"), "OrgUnitView": ("u:AV1", "u:AV2"),
               "EmployerView": ("r:E1", "r:E2"), "WorkplaceView": ("w:W1", "w:W2")},
    "workplace_trustee": {"MemberView": ("m:inside", "m:club"), "WorkplaceView": ("w:W1", "w:W1b")},
    "deduction_contact": {"EmployerView": ("r:E1", "r:E2"), "WorkplaceView": ("w:W1", "w:W2")},
    "analyst": {"OrgUnitView": ("u:AV2", None), "EmployerView": ("r:E2", None)},
}
ROWS["treasurer"] = ROWS["leader"]
ROWS["member_data_admin"] = {**ROWS["leader"], "OrgUnitView": ("u:LF1", "u:AV2")}

CASES = [(role, view) for role in EXPECTED for view in VIEWS]


def row_id(world, key: str | None) -> int | None:
    if key is None:
        return None
    kind, name = key.split(":")
    table = {"m": world.members, "e": world.employments, "p": world.positions, "u": world.units,
             "r": world.employers, "w": world.workplaces}[kind]
    return table[name].id


def sample_row(view: str, world) -> int:
    return {
        "MemberView": world.members["outside"].id,
        "EmploymentView": world.employments["outside"].id,
        "PositionView": world.positions["outside"].id,
        "OrgUnitView": world.units["AV2"].id,
        "EmployerView": world.employers["E2"].id,
        "WorkplaceView": world.workplaces["W2"].id,
        "DeductionContactView": 1,
    }[view]


def denied(response) -> bool:
    """FAB answers a missing permission with a redirect to login (browser) or 401/403."""
    return response.status_code in (302, 401, 403, 404)


@pytest.mark.parametrize("role,view", CASES)
def test_screen_access(client, world, role, view):
    login_as(client, world.logins[role], role)
    rights = EXPECTED[role].get(view, "")
    base = VIEWS[view]
    if "l" not in rights:
        assert denied(client.get(f"{base}/list/"))
        assert denied(client.get(f"{base}/show/{sample_row(view, world)}"))
        return
    inside_key, outside_key = ROWS[role][view]
    assert client.get(f"{base}/list/").status_code == 200
    if inside_key:
        assert client.get(f"{base}/show/{row_id(world, inside_key)}").status_code == 200
    if outside_key:
        outside = row_id(world, outside_key)
        assert client.get(f"{base}/show/{outside}").status_code == 404
        assert client.get(f"{base}/edit/{outside}").status_code in (302, 403, 404)
        assert client.post(f"{base}/delete/{outside}").status_code in (302, 403, 404, 405)
        assert client.post(f"{base}/action_post", data={"action": "muldelete", "rowid": [outside]}).status_code in (
            302, 403, 404,
        )
    if "u" not in rights and inside_key:
        assert denied(client.get(f"{base}/edit/{row_id(world, inside_key)}"))
    if "c" not in rights:
        assert denied(client.get(f"{base}/add"))


# Over the API a user acts in all their roles at once; officers are members too,
# so they also read their own member, employment and position rows.
OWN_ROWS_VIA_MEMBERSHIP = {"MemberView", "EmploymentView", "PositionView"}
MEMBER_LOGINS = {"leader", "treasurer", "member_data_admin", "workplace_trustee", "member"}


def own_rows(world, role: str, view: str) -> set[int]:
    member = world.members["inside"] if role == "member" else world.members[role]
    if view == "MemberView":
        return {member.id}
    rows = world.employments if view == "EmploymentView" else world.positions
    return {row.id for row in rows.values() if row.member_id == member.id}


@pytest.mark.parametrize("role,view", [(r, v) for r, v in CASES if v in APIS])
def test_api_access(client, world, role, view):
    headers = api_token(client, world.logins[role])
    rights = EXPECTED[role].get(view, "")
    base = APIS[view]
    listing = client.get(f"{base}/?q=(page_size:100)", headers=headers)
    via_membership = role in MEMBER_LOGINS and view in OWN_ROWS_VIA_MEMBERSHIP
    if "l" not in rights and not via_membership:
        assert listing.status_code in (401, 403)
        assert client.get(f"{base}/{sample_row(view, world)}", headers=headers).status_code in (401, 403, 404)
        return
    assert listing.status_code == 200
    listed = set(listing.json["ids"])
    if "l" not in rights:
        assert listed == own_rows(world, role, view)
        return
    inside_key, outside_key = ROWS.get(role, {}).get(view, (None, None))
    if inside_key:
        assert row_id(world, inside_key) in listed
    if outside_key:
        outside = row_id(world, outside_key)
        assert outside not in listed
        assert client.get(f"{base}/{outside}", headers=headers).status_code == 404
        assert client.put(f"{base}/{outside}", json={}, headers=headers).status_code in (403, 404)
        assert client.delete(f"{base}/{outside}", headers=headers).status_code in (403, 404)


def test_member_api_shows_only_self(client, world):
    headers = api_token(client, world.logins["member"])
    response = client.get("/api/v1/member/", headers=headers)
    assert response.status_code == 200
    assert response.json["ids"] == [world.members["inside"].id]
    assert client.get(f"/api/v1/member/{world.members['outside'].id}", headers=headers).status_code == 404
    assert client.put(f"/api/v1/member/{world.members['inside'].id}", json={"first_name": "X"},
                      headers=headers).status_code in (401, 403)


def test_treasurer_sees_exactly_the_branch_subtree(client, world, dbs):
    headers = api_token(client, world.logins["treasurer"])
    response = client.get("/api/v1/member/?q=(page_size:100)", headers=headers)
    subtree = {world.units["AV1"].id, world.units["KL1"].id}
    expected = {m.id for m in dbs.query(Member).filter(Member.home_unit_id.in_(subtree))}
    assert set(response.json["ids"]) == expected
    assert world.members["club"].id in expected and world.members["outside"].id not in expected


def test_screen_list_of_treasurer_shows_subtree_members_only(client, world):
    login_as(client, world.logins["treasurer"], "treasurer")
    page = client.get("/memberview/list/?psize_MemberView=100").get_data(as_text=True)
    assert "Nordmann" in page and "Æsøy" in page
    assert "Utenfor" not in page
    assert "Taushetsplikt" in page


# ------------------------------------------------------------------ writes into foreign units


def member_form(world, unit_key: str, **overrides) -> dict:
    data = {
        "member_no": "7599001",
        "national_id": "15108695088",
        "first_name": "Ny",
        "last_name": "Person",
        "email_private": "ny@example.no",
        "email_to": "private",
        "category": "ordinary",
        "home_unit": str(world.units[unit_key].id),
        "joined_on": "2024-03-01",
        "magazine": "y",
        "travel_insurance": "y",
        "contents_insurance": "y",
    }
    data.update(overrides)
    return data


def member_payload(world, unit_key: str, **overrides) -> dict:
    """The member form as API JSON."""
    payload = {k: v for k, v in member_form(world, unit_key).items()
               if k not in ("magazine", "travel_insurance", "contents_insurance")}
    return {**payload, "home_unit": world.units[unit_key].id, **overrides}


def test_member_data_admin_cannot_add_member_into_foreign_unit(client, world, dbs):
    login_as(client, world.logins["member_data_admin"], "member_data_admin")
    client.post("/memberview/add", data=member_form(world, "AV2"))
    assert dbs.query(Member).filter_by(member_no="7599001").count() == 0
    client.post("/memberview/add", data=member_form(world, "AV1"))
    assert dbs.query(Member).filter_by(member_no="7599001").count() == 1


def test_member_data_admin_cannot_move_member_out_of_scope(client, world, dbs):
    login_as(client, world.logins["member_data_admin"], "member_data_admin")
    member = world.members["inside"]
    data = member_form(world, "AV2", member_no=member.member_no, national_id=member.national_id,
                       email_private=member.email_private)
    client.post(f"/memberview/edit/{member.id}", data=data)
    dbs.expire_all()
    assert dbs.get(Member, member.id).home_unit_id == world.units["AV1"].id


def test_api_cannot_add_or_move_member_into_foreign_unit(client, world, dbs):
    headers = api_token(client, world.logins["member_data_admin"])
    payload = member_payload(world, "AV2")
    response = client.post("/api/v1/member/", json=payload, headers=headers)
    assert response.status_code in (403, 422)
    assert dbs.query(Member).filter_by(member_no="7599001").count() == 0
    member = world.members["inside"]
    response = client.put(f"/api/v1/member/{member.id}", json={"home_unit": world.units["AV2"].id}, headers=headers)
    assert response.status_code in (403, 422)
    dbs.expire_all()
    assert dbs.get(Member, member.id).home_unit_id == world.units["AV1"].id


# ------------------------------------------------------------------ a duplicate outside the scope tells nothing

NEUTRAL_DUPLICATE = "%(field)s: cannot be registered here. Contact the union office."


def neutral_duplicate(app, field: str) -> str:
    return translated(app, NEUTRAL_DUPLICATE, field=translated(app, field))


def test_member_data_admin_registering_someone_outside_the_scope_learns_nothing(client, world, dbs):
    login_as(client, world.logins["member_data_admin"], "member_data_admin")
    outside = world.members["outside"]
    for field, overrides in (("National identity number", {"national_id": outside.national_id}),
                             ("Membership number", {"member_no": outside.member_no})):
        page = client.post("/memberview/add", data=member_form(world, "AV1", **overrides), follow_redirects=True)
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert neutral_duplicate(client.application, field) in text
        assert "finnes allerede" not in text.lower() and outside.last_name not in text
    assert dbs.query(Member).filter_by(first_name="Ny").count() == 0
    # Inside the scope the duplicate may say so.
    club = world.members["club"]
    text = client.post("/memberview/add", data=member_form(world, "AV1", national_id=club.national_id),
                       follow_redirects=True).get_data(as_text=True)
    assert "finnes allerede" in text.lower()
    assert dbs.query(Member).filter_by(first_name="Ny").count() == 0


def test_api_member_data_admin_registering_someone_outside_the_scope_learns_nothing(client, world, dbs):
    headers = api_token(client, world.logins["member_data_admin"])
    payload = member_payload(world, "AV1")
    outside, club = world.members["outside"], world.members["club"]
    neutral = {"national_id": [neutral_duplicate(client.application, "National identity number")]}
    response = client.post("/api/v1/member/", json={**payload, "national_id": outside.national_id}, headers=headers)
    assert response.status_code == 422
    assert response.json["message"] == neutral
    inside = world.members["inside"]
    response = client.put(f"/api/v1/member/{inside.id}", json={"national_id": outside.national_id}, headers=headers)
    assert response.status_code == 422
    assert response.json["message"] == neutral
    response = client.post("/api/v1/member/", json={**payload, "national_id": club.national_id}, headers=headers)
    assert response.status_code == 422
    assert "finnes allerede" in response.json["message"]["national_id"][0]
    assert dbs.query(Member).filter_by(first_name="Ny").count() == 0
    dbs.expire_all()
    assert dbs.get(Member, inside.id).national_id == inside.national_id


def test_office_is_told_a_duplicate_exists_anywhere(client, world, dbs):
    headers = api_token(client, world.logins["office"])
    payload = member_payload(world, "AV1")
    response = client.post("/api/v1/member/", json={**payload, "national_id": world.members["outside"].national_id},
                           headers=headers)
    assert response.status_code == 422
    assert "finnes allerede" in response.json["message"]["national_id"][0]


@postgres_only
def test_concurrent_registrations_of_one_national_id_one_wins_and_no_database_text(live_server, world, dbs):
    """The unique index decides between simultaneous writers; the losers get a rule, never the database's words."""
    sessions = [api_session(live_server, world.logins["member_data_admin"]) for _ in range(6)]
    calls = [
        lambda session=session, number=number: session.post(
            f"{live_server}/api/v1/member/", json=member_payload(world, "AV1", member_no=f"759910{number}"))
        for number, session in enumerate(sessions)
    ]
    responses = fire_together(calls)
    assert sorted(response.status_code for response in responses) == [201] + [422] * 5
    for response in responses:
        assert not any(word in response.text for word in ("duplicate key", "UniqueViolation", "DETAIL", "constraint"))
    assert dbs.query(Member).filter_by(national_id=member_form(world, "AV1")["national_id"]).count() == 1


def test_leader_cannot_add_position_in_foreign_unit(client, world, dbs):
    login_as(client, world.logins["leader"], "leader")
    before = dbs.query(Position).count()
    data = {"member": str(world.members["inside"].id), "type": "treasurer", "org_unit": str(world.units["AV2"].id),
            "start_date": dt.date.today().isoformat()}
    client.post("/positionview/add", data=data)
    assert dbs.query(Position).count() == before
    data["org_unit"] = str(world.units["KL1"].id)
    client.post("/positionview/add", data=data)
    assert dbs.query(Position).count() == before + 1


def test_api_leader_cannot_add_position_in_foreign_unit(client, world, dbs):
    headers = api_token(client, world.logins["leader"])
    before = dbs.query(Position).count()
    payload = {"member": world.members["inside"].id, "type": "treasurer", "org_unit": world.units["AV2"].id,
               "start_date": dt.date.today().isoformat()}
    assert client.post("/api/v1/position/", json=payload, headers=headers).status_code in (403, 422)
    assert dbs.query(Position).count() == before


def test_member_data_admin_cannot_register_employment_for_foreign_member(client, world, dbs):
    login_as(client, world.logins["member_data_admin"], "member_data_admin")
    before = dbs.query(Employment).count()
    data = {"member": str(world.members["outside"].id), "workplace": str(world.workplaces["W1"].id),
            "start_date": "2024-01-01", "position_pct": "100", "on_deduction": "y"}
    client.post("/employmentview/add", data=data)
    assert dbs.query(Employment).count() == before
    data["member"] = str(world.members["inside"].id)
    client.post("/employmentview/add", data=data)
    assert dbs.query(Employment).count() == before + 1


def test_typeahead_is_scoped(client, world):
    login_as(client, world.logins["treasurer"], "treasurer")
    found = client.get("/typeahead/member?q=Utenfor").json["results"]
    assert found == []
    found = client.get("/typeahead/member?q=Nordmann").json["results"]
    assert [r["id"] for r in found] == [world.members["inside"].id]


def test_national_id_masked_for_leader_whole_for_member_data_admin(client, world):
    nid = world.members["inside"].national_id
    login_as(client, world.logins["leader"], "leader")
    page = client.get(f"/memberview/show/{world.members['inside'].id}").get_data(as_text=True)
    assert nid not in page and nid[:6] + "*****" in page
    client.get("/logout/")
    login_as(client, world.logins["member_data_admin"], "member_data_admin")
    page = client.get(f"/memberview/show/{world.members['inside'].id}").get_data(as_text=True)
    assert nid in page


def test_api_national_id_masked_for_treasurer(client, world):
    headers = api_token(client, world.logins["treasurer"])
    member = world.members["inside"]
    body = client.get(f"/api/v1/member/{member.id}", headers=headers).json["result"]
    assert body["national_id"] == member.national_id[:6] + "*****"
    headers = api_token(client, world.logins["office"])
    body = client.get(f"/api/v1/member/{member.id}", headers=headers).json["result"]
    assert body["national_id"] == member.national_id


# ---------------------------------------------------------- every route that takes an id, for someone else's row
#
# The portal, Min side, the messages and the documents take row ids (or a month) in the URL. Each case
# asks as the role that uses the route for a row of another employer or another member (E2, "Per Utenfor",
# AV2) and must get 404 (or 403, or a denial) with nothing of that row on the page and nothing changed.
# The table is checked against the app's url_map: a new route with a URL parameter fails
# test_every_route_with_a_url_parameter_is_in_the_matrix until it has a case here or a reason below.

PERIOD, E2_ONLY_PERIOD = "2026-03", "2026-04"
# What of the foreign rows must never show: names, national id, customer number, subjects, titles.
FOREIGN_MARKERS = ("Utenfor", "Virksomhet E2", "00080000", "Avdeling Vest", "Brev til Per", "Saken til",
                   "Behovet til Per")


@dataclass(frozen=True)
class ForeignCase:
    endpoint: str
    method: str
    role: str
    url: str  # formatted with the ids of the `foreign` fixture
    data: dict | None = None
    api: bool = False
    expected: tuple[int, ...] = (404,)


DENIED = (302, 401, 403, 404)
FOREIGN_CASES = [
    ForeignCase("PortalView.basis", "GET", "deduction_contact", "/portal/basis/" + E2_ONLY_PERIOD),
    # A month only E2 has a basis for: the E1 contact is told there is no basis, and no list is made.
    ForeignCase("PortalView.new_list", "POST", "deduction_contact", "/portal/lists/new/" + E2_ONLY_PERIOD,
                expected=(302,)),
    ForeignCase("PortalView.edit_list", "GET", "deduction_contact", "/portal/lists/{e2_draft}"),
    ForeignCase("PortalView.edit_list", "POST", "deduction_contact", "/portal/lists/{e2_draft}", {"action": "delete"}),
    ForeignCase("PortalView.edit_list", "POST", "deduction_contact", "/portal/lists/{e2_draft}", {"action": "approve"}),
    ForeignCase("PortalView.edit_list", "GET", "deduction_contact", "/portal/lists/{e2_delivered}"),
    ForeignCase("PortalView.show_list", "GET", "deduction_contact", "/portal/lists/{e2_delivered}/show"),
    ForeignCase("PortalView.list_pdf", "GET", "deduction_contact", "/portal/lists/{e2_delivered}/pdf"),
    ForeignCase("PortalView.list_template", "GET", "deduction_contact", "/portal/lists/{e2_draft}/template.csv"),
    ForeignCase("PortalView.approve_list", "GET", "deduction_contact", "/portal/lists/{e2_draft}/approve"),
    ForeignCase("PortalView.approve_list", "POST", "deduction_contact", "/portal/lists/{e2_draft}/approve"),
    ForeignCase("PortalView.remove_contact", "GET", "deduction_contact", "/portal/contacts/{e2_contact}/remove"),
    ForeignCase("MyPageView.document", "GET", "member", "/minside/documents/{other_document}"),
    ForeignCase("MyPageView.withdraw", "POST", "member", "/minside/applications/{other_application}/withdraw"),
    # Courses are offered to every member: the id to try is one nobody has.
    ForeignCase("MyPageView.apply", "POST", "member", "/minside/courses/{no_course}/apply", expected=(302,)),
    ForeignCase("MyPageView.apply", "GET", "member", "/minside/courses/{no_course}/apply", expected=(302,)),
    # The special needs of someone else's application: neither shown nor changed.
    ForeignCase("MyPageView.special_needs", "GET", "member", "/minside/applications/{other_application}/needs"),
    ForeignCase("MyPageView.special_needs", "POST", "member", "/minside/applications/{other_application}/needs",
                {"special_needs": ""}),
    # Course participant lists are the office's (tests/test_course_lists.py: every other role 403).
    ForeignCase("CourseView.participant_list", "GET", "leader", "/courseview/lists/{a_course}/full.csv",
                expected=DENIED),
    ForeignCase("CourseView.participant_list", "GET", "member", "/courseview/lists/{a_course}/participants.pdf",
                expected=DENIED),
    ForeignCase("MyPageView.employment", "GET", "member", "/minside/employment?employment_id={other_employment}"),
    ForeignCase("MessagesView.thread", "GET", "member", "/messages/{member_thread}"),
    ForeignCase("MessagesView.thread", "GET", "deduction_contact", "/messages/{employer_thread}"),
    ForeignCase("MessagesView.reply", "POST", "member", "/messages/{member_thread}/reply", {"body": "Hei"}),
    ForeignCase("MessagesView.reply", "POST", "deduction_contact", "/messages/{employer_thread}/reply",
                {"body": "Hei"}),
    ForeignCase("RefundDocumentView.letter", "GET", "leader", "/refunds/{av2_refund}/letter.pdf"),
    ForeignCase("RefundDocumentView.member_list", "GET", "leader", "/refunds/{av2_refund}/list.pdf"),
    ForeignCase("RefundDocumentView.member_list_files", "GET", "leader", "/refunds/{av2_refund}/list-files"),
    ForeignCase("RefundApi.letter", "GET", "leader", "/api/v1/refund/{av2_refund}/letter", api=True),
    ForeignCase("RefundApi.member_list", "GET", "leader", "/api/v1/refund/{av2_refund}/list", api=True),
    # The office's own routes: every other role is turned away.
    ForeignCase("MemberDocumentView.pdf", "GET", "member", "/memberdocumentview/pdf/{other_document}", expected=DENIED),
    ForeignCase("RefundRunView.show", "GET", "leader", "/refundruns/2026-Q1", expected=DENIED),
    ForeignCase("RefundRunView.approve", "POST", "leader", "/refundruns/2026-Q2/approve", expected=DENIED),
    ForeignCase("MembershipReportView.download", "GET", "member", "/reports/download/lo/2026-03-31.csv",
                expected=DENIED),
    ForeignCase("UserStatsChartView.chart", "GET", "deduction_contact", "/userstatschartview/chart/role",
                expected=DENIED),
    # Direct payment: a member reaches their own invoices only; the billing screens are the office's.
    ForeignCase("MyPageView.invoice_pdf", "GET", "member", "/minside/invoices/{other_invoice}.pdf"),
    ForeignCase("InvoiceApi.pdf", "GET", "member", "/api/v1/invoice/{other_invoice}/pdf", api=True),
    ForeignCase("InvoiceView.pdf", "GET", "member", "/invoiceview/pdf/{other_invoice}", expected=DENIED),
    ForeignCase("InvoiceView.adjust", "POST", "leader", "/invoiceview/adjust/{other_invoice}",
                {"kind": "write_off", "reason": "x"}, expected=DENIED),
    ForeignCase("PaymentQueueView.payment", "GET", "deduction_contact", "/payments/{a_payment}", expected=DENIED),
    ForeignCase("PaymentQueueView.match_invoice", "POST", "deduction_contact", "/payments/{a_payment}/invoice",
                {"invoice": "1"}, expected=DENIED),
    ForeignCase("PaymentQueueView.match_employer_month", "POST", "deduction_contact",
                "/payments/{a_payment}/employer-month", {"employer_id": "1", "period": "2026-03"}, expected=DENIED),
    ForeignCase("PaymentQueueView.return_payment", "POST", "deduction_contact", "/payments/{a_payment}/return",
                {"reason": "x"}, expected=DENIED),
    ForeignCase("PaymentQueueView.undo", "POST", "member", "/payments/{a_payment}/undo", expected=DENIED),
    ForeignCase("ArrearsView.end_membership", "GET", "leader", "/arrears/{outside_member}/end", expected=DENIED),
    ForeignCase("ArrearsView.end_membership", "POST", "treasurer", "/arrears/{outside_member}/end", {"reason": "x"},
                expected=DENIED),
    # The approval page of a reported employment change (the home-unit choice) is the office's.
    ForeignCase("EmploymentChangeView.approve_form", "GET", "leader", "/employmentchangeview/approve/1",
                expected=DENIED),
    ForeignCase("EmploymentChangeView.approve_form", "POST", "member_data_admin", "/employmentchangeview/approve/1",
                {"home_unit": "keep"}, expected=DENIED),
    # Enrollment applications are the office's: every other role is turned away (tests/test_applications.py).
    ForeignCase("ApplicationView.show", "GET", "leader", "/applications/1", expected=DENIED),
    ForeignCase("ApplicationView.approve", "POST", "member_data_admin", "/applications/1/approve",
                {"member_from": "2026-01-01", "home_unit_id": "1"}, expected=DENIED),
    ForeignCase("ApplicationView.reject", "POST", "treasurer", "/applications/1/reject", {"reason": "x"},
                expected=DENIED),
    # Transfers between LO unions and resignations from a letter are the office's (tests/test_transfers.py).
    ForeignCase("TransferView.confirmation", "GET", "member", "/transfers/1/confirmation.pdf", expected=DENIED),
    ForeignCase("TransferView.report_file", "GET", "analyst", "/transfers/report/2026-Q1/overforinger-2026-Q1.csv",
                expected=DENIED),
    ForeignCase("TransferView.resign", "GET", "leader", "/transfers/member/{outside_member}/resign", expected=DENIED),
    ForeignCase("TransferView.resign", "POST", "member_data_admin", "/transfers/member/{outside_member}/resign",
                {"reason": "other", "letter_date": "2026-01-15"}, expected=DENIED),
    ForeignCase("TransferView.transfer_out", "GET", "treasurer", "/transfers/member/{outside_member}/out",
                expected=DENIED),
    ForeignCase("TransferView.transfer_out", "POST", "member", "/transfers/member/{outside_member}/out",
                {"lo_union": "1", "on": "2026-01-15"}, expected=DENIED),
    ForeignCase("TransferView.transfer_in", "GET", "workplace_trustee", "/transfers/member/{outside_member}/in",
                expected=DENIED),
    ForeignCase("TransferView.transfer_in", "POST", "leader", "/transfers/member/{outside_member}/in",
                {"lo_union": "1", "since": "2010-01-01"}, expected=DENIED),
    # Ballots are the office's: every other role is turned away (tests/test_ballots.py).
    ForeignCase("BallotView.show", "GET", "leader", "/ballots/1", expected=DENIED),
    ForeignCase("BallotView.lock", "POST", "member_data_admin", "/ballots/1/lock", expected=DENIED),
    ForeignCase("BallotView.export", "GET", "member", "/ballots/1/velgerliste.csv", expected=DENIED),
]

# Jobs: a user's own only (webapp/views/jobs.py); retrying is the office's.
FOREIGN_CASES += [
    ForeignCase("JobView.show", "GET", "member", "/jobs/{other_job}"),
    ForeignCase("JobView.progress", "GET", "member", "/jobs/{other_job}.json"),
    ForeignCase("JobView.file", "GET", "member", "/jobs/{other_job}/files/1"),
    ForeignCase("JobView.retry", "POST", "leader", "/jobs/{other_job}/retry", expected=DENIED),
]

# Send-outs and segments: a leader reaches those of their own unit and the units below (webapp/views/sendouts.py).
FOREIGN_CASES += [
    ForeignCase("SendOutView.show", "GET", "leader", "/sendouts/{av2_send_out}"),
    ForeignCase("SendOutView.edit", "GET", "leader", "/sendouts/{av2_send_out}/edit"),
    ForeignCase("SendOutView.edit", "POST", "leader", "/sendouts/{av2_send_out}/edit",
                {"channel": "email", "subject": "Endret", "body": "Endret", "action": "preview"}),
    ForeignCase("SendOutView.send", "POST", "leader", "/sendouts/{av2_send_out}/send"),
    ForeignCase("SegmentView.delete", "POST", "leader", "/segments/{av2_segment}/delete"),
    ForeignCase("SendOutView.show", "GET", "treasurer", "/sendouts/{av2_send_out}", expected=DENIED),
]

# Routes whose URL parameter names no row of anyone's.
NOT_A_ROW = {
    "LocaleView.index": "a language code",
    "SwaggerView.show": "the API version",
    "OpenApi.get": "the API version",
    "TypeaheadView.search": "a kind of row; what it finds is scoped (test_typeahead_is_scoped)",
    "PasswordView.set_password": "a one-time token (tests/test_password_reset.py)",
    "MyPageView.edit": "a section of the member's own page",
    "GuideView.role": "a role name: the guide is public (tests/test_guide.py)",
    "EnrollmentView.policy": "which published text (terms or privacy): public (tests/test_enrollment_form.py)",
    "EnrollmentView.workplaces": "an employer's workplaces, public register data (tests/test_enrollment_form.py)",
    "EnrollmentView.postcode": "a postcode: public (tests/test_enrollment_form.py)",
    "UnsubscribeView.unsubscribe": "a signed token naming a recipient: public, forged ones change nothing "
                                   "(tests/test_sendouts.py)",
}
# FAB's generic routes of a screen or an API: covered per view by test_screen_access and test_api_access,
# and for every other screen by test_every_other_screen_is_the_offices.
GENERIC_SCREEN_METHODS = {"show", "edit", "delete", "action", "download"}
GENERIC_API_METHODS = {"get", "put", "delete"}


def _view_classes(app) -> dict[str, object]:
    return {type(view).__name__: view for view in app.appbuilder.baseviews}


def _is_generic(view, method: str) -> bool:
    from flask_appbuilder import ModelRestApi, ModelView

    return (isinstance(view, ModelView) and method in GENERIC_SCREEN_METHODS) or (
        isinstance(view, ModelRestApi) and method in GENERIC_API_METHODS
    )


def test_every_route_with_a_url_parameter_is_in_the_matrix(app):
    views = _view_classes(app)
    covered = {(case.endpoint, case.method) for case in FOREIGN_CASES}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint == "static" or rule.endpoint.startswith("appbuilder."):
            continue
        class_name, _, method = rule.endpoint.partition(".")
        if rule.endpoint in NOT_A_ROW or _is_generic(views.get(class_name), method):
            continue
        for http_method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, http_method) not in covered:
                missing.append(f"{http_method} {rule.rule} ({rule.endpoint})")
    assert missing == [], "routes with a URL parameter and no foreign-row case: " + "; ".join(missing)


@pytest.fixture()
def foreign(clean_app, world) -> dict[str, int]:
    """Rows of others than the test logins: E2's lists and a month only E2 has, Per Utenfor's document,
    course application, employment and message thread, E2's thread, AV2's approved refund letter."""
    from decimal import Decimal

    from tests.billing_screen_helpers import add_invoice, add_payment
    from tests.factories import add_initial_rate
    from tests.mypage_helpers import add_course, deliver_list
    from webapp.models import (
        CourseApplication,
        DeductionContact,
        DeductionList,
        Employer,
        MemberDocument,
        RefundPolicy,
        RefundUnit,
    )
    from webapp.models.choices import ApplicationStatus, DocumentKind, ListStatus
    from webapp.services import deduction_basis, messaging, refunds
    from webapp.services.periods import Month, Quarter

    outside, e1, e2 = world.members["outside"].id, world.employers["E1"].id, world.employers["E2"].id
    with clean_app.app_context():
        add_initial_rate()
        deduction_basis.generate(Month.parse(PERIOD))
        db.session.get(Employer, e1).has_deduction_agreement = False  # so the later month has E2's basis only
        db.session.commit()
        deduction_basis.generate(Month.parse(E2_ONLY_PERIOD))
        db.session.get(Employer, e1).has_deduction_agreement = True
        now = dt.datetime.now()
        application = CourseApplication(course_id=add_course(), member_id=outside, status=ApplicationStatus.applied,
                                        applied_at=now, special_needs="Behovet til Per", special_needs_given_at=now)
        document = MemberDocument(member_id=outside, kind=DocumentKind.letter, title="Brev til Per", created_at=now,
                                  body="Brev til Per om kontingent")
        db.session.add_all([application, document])
        db.session.add(RefundPolicy(valid_from="2020-Q1", share_national_association=Decimal(40),
                                    share_branch=Decimal(40), share_club=Decimal(20), weight_retired=Decimal(0)))
        db.session.commit()
        refunds.calculate(Quarter(2026, 1), pool_ore=1000_00)
        refunds.approve(Quarter(2026, 1))
        refunds.calculate(Quarter(2026, 2), pool_ore=1000_00)
        ids = {
            "e2_delivered": deliver_list(e2, PERIOD, {outside: 12345}),
            "e2_draft": deliver_list(e2, E2_ONLY_PERIOD, {outside: 12345}, status=ListStatus.draft),
            "other_document": document.id,
            "other_application": application.id,
            "a_course": application.course_id,
            "no_course": 999999,
            "other_employment": world.employments["outside"].id,
            "member_thread": messaging.start_thread(subject="Saken til Per", body="Hei", author_id=None,
                                                    from_party=True, member_id=outside,
                                                    org_unit_id=world.units["AV2"].id, notify=False).id,
            "employer_thread": messaging.start_thread(subject="Saken til E2", body="Hei", author_id=None,
                                                      from_party=True, employer_id=e2, notify=False).id,
            "av2_refund": db.session.scalar(select(RefundUnit.id).where(RefundUnit.code == "AV2")),
            "other_invoice": add_invoice(outside, "2026-Q1", due_date=dt.date(2026, 1, 15)).id,
            "a_payment": add_payment("9" * 16, 12345).id,
            "outside_member": outside,
            "e2_contact": db.session.scalar(select(DeductionContact.id).where(DeductionContact.employer_id == e2)),
            "other_job": _job_of(world.members["outside"].member_no),
            **_av2_send_out_and_segment(world.units["AV2"].id),
        }
        assert db.session.scalar(select(func.count(DeductionList.id))) == 2
        db.session.remove()
    return ids


def _job_of(username: str) -> int:
    """A failed background job started by this user (Per Utenfor's send-out, say)."""
    from flask_appbuilder.security.sqla.models import User

    from webapp.models.choices import JobStatus
    from webapp.models.outreach import Job

    job = Job(kind="sendout", title="Utsending fra Per Utenfor", status=JobStatus.failed, done=0, attempts=1,
              error="Saken til Per: feil", created_at=dt.datetime.now(),
              created_by_id=db.session.scalar(select(User.id).where(User.username == username)))
    db.session.add(job)
    db.session.commit()
    return job.id


def _av2_send_out_and_segment(unit_id: int) -> dict[str, int]:
    """A draft send-out and a saved segment of AV2's leader."""
    from webapp.models.choices import SendOutChannel, SendOutStatus
    from webapp.models.outreach import Segment, SendOut

    send_out = SendOut(channel=SendOutChannel.email, criteria='{"status": "active"}', unit_id=unit_id,
                       subject="Saken til AV2s medlemmer", body="Hei", status=SendOutStatus.draft,
                       created_at=dt.datetime.now(), sent_count=0)
    segment = Segment(name="Saken til AV2-utvalget", criteria='{"status": "active"}', unit_id=unit_id,
                      created_at=dt.datetime.now())
    db.session.add_all([send_out, segment])
    db.session.commit()
    return {"av2_send_out": send_out.id, "av2_segment": segment.id}


def foreign_state(dbs) -> dict:
    """What a request for someone else's row might change."""
    from webapp.models import (
        CourseApplication,
        DeductionContact,
        DeductionList,
        InvoiceAdjustment,
        Member,
        Message,
        Payment,
        RefundRun,
    )
    from webapp.models.outreach import Job, Segment, SendOut

    dbs.expire_all()
    return {
        "contacts": sorted((row.id, row.end_date) for row in dbs.scalars(select(DeductionContact))),
        "adjustments": dbs.scalar(select(func.count(InvoiceAdjustment.id))),
        "payments": sorted((row.id, row.member_id, row.employer_id, row.returned_at) for row in dbs.scalars(
            select(Payment))),
        "left": sorted((row.id, row.left_on) for row in dbs.scalars(select(Member))),
        "lists": sorted((row.id, row.employer_id, row.status.name) for row in dbs.scalars(select(DeductionList))),
        "messages": dbs.scalar(select(func.count(Message.id))),
        "applications": sorted((row.id, row.status.name, row.special_needs)
                               for row in dbs.scalars(select(CourseApplication))),
        "runs": sorted((row.quarter, row.status.name) for row in dbs.scalars(select(RefundRun))),
        "jobs": sorted((row.id, row.status.name, row.attempts) for row in dbs.scalars(select(Job))),
        "send_outs": sorted((row.id, row.status.name, row.subject) for row in dbs.scalars(select(SendOut))),
        "segments": sorted(row.id for row in dbs.scalars(select(Segment))),
    }


def test_every_route_that_takes_an_id_answers_404_for_a_foreign_row(client, world, foreign, dbs):
    before = foreign_state(dbs)
    for role in sorted({case.role for case in FOREIGN_CASES}):
        login_as(client, world.logins[role], role)
        headers = api_token(client, world.logins[role])
        for case in (case for case in FOREIGN_CASES if case.role == role):
            url = case.url.format(**foreign)
            response = client.open(url, method=case.method, data=case.data, headers=headers if case.api else None,
                                   follow_redirects=True)
            first = response.history[0] if response.history else response
            assert first.status_code in case.expected, f"{case.method} {url} as {role}: {first.status_code}"
            page = response.get_data(as_text=response.mimetype.startswith(("text/", "application/json")))
            if isinstance(page, str):
                shown = [marker for marker in FOREIGN_MARKERS if marker in page]
                assert shown == [], f"{case.method} {url} as {role} shows {shown}"
            else:
                assert response.mimetype not in ("application/pdf", "text/csv"), f"{url} as {role} sent a file"
        client.get("/logout/")
    assert foreign_state(dbs) == before


def test_the_foreign_rows_are_real_their_owners_open_them(client, world, foreign):
    """The control of the matrix above: the same URLs open for the employer or member the rows belong to."""
    owners = {"deduction_contact": "20000002", "member": world.members["outside"].member_no}
    for role, username in owners.items():
        login_as(client, username)
        api_client = client.application.test_client()  # an API client sends its token, not the browser's cookie
        headers = api_token(api_client, username)
        for case in FOREIGN_CASES:
            if case.role != role or case.method != "GET" or case.expected != (404,):
                continue
            response = (api_client if case.api else client).get(case.url.format(**foreign), follow_redirects=True,
                                                                headers=headers if case.api else None)
            assert response.status_code == 200, case.url
            if response.mimetype == "text/html":
                assert any(marker in response.get_data(as_text=True) for marker in FOREIGN_MARKERS), case.url
        client.get("/logout/")


# Screens beyond VIEWS belong to the office; the analyst also reads what reports were sent.
OTHER_SCREEN_READERS = {"ReportDispatchView": {"analyst"}}


def test_every_other_screen_is_the_offices(client, world, app):
    """FAB's generic row routes of every screen not in the matrix above refuse every other role by permission
    (302/401/403, not a 404 that a missing row would also give)."""
    from flask_appbuilder import ModelView

    screens = [view for view in app.appbuilder.baseviews if isinstance(view, ModelView)
               and type(view).__name__ not in VIEWS]
    assert screens
    for role in (role for role in EXPECTED if role != "office"):
        login_as(client, world.logins[role], role)
        for view in screens:
            if role in OTHER_SCREEN_READERS.get(type(view).__name__, ()):
                continue
            for method, action in (("GET", "show"), ("GET", "edit"), ("POST", "delete")):
                response = client.open(f"{view.route_base}/{action}/1", method=method)
                assert response.status_code in (302, 401, 403), f"{role} {method} {view.route_base}/{action}/1"
        client.get("/logout/")


def test_the_runs_page_is_the_offices(client, world, dbs):
    """The Runs page (webapp/views/operations.py) and its forms start the office's runs: every other role is
    refused (403) and starts nothing (tests/test_runs.py tries the forms as the office)."""
    from webapp.models.outreach import Job

    forms = (("/operations/deductions", {"deduction_month": "2026-03"}),
             ("/operations/reminders", {"reminder_month": "2026-03", "which": "20th"}),
             ("/operations/purge", {"mode": "real", "confirm": "SLETT"}))
    for role in EXPECTED:
        login_as(client, world.logins[role], role)
        assert client.get("/operations/").status_code == (200 if role == "office" else 403), role
        if role != "office":
            for url, data in forms:
                assert client.post(url, data=data).status_code == 403, (role, url)
        client.get("/logout/")
    assert dbs.scalar(select(func.count(Job.id))) == 0


def test_the_invoice_runs_and_file_imports_are_the_offices(client, world, dbs):
    """The invoice runs and the file imports (webapp/views/imports.py): every other role is refused (403) and
    starts or stores nothing (tests/test_billing_jobs.py and tests/test_import_jobs.py try them as the office)."""
    import io

    from webapp.models.outreach import Job, JobFile

    nets_start = b"NY000010" + b"0" * 72 + b"\n"
    for role in EXPECTED:
        login_as(client, world.logins[role], role)
        for page in ("/invoiceruns/", "/imports/"):
            assert client.get(page).status_code == (200 if role == "office" else 403), (role, page)
        if role != "office":
            assert client.post("/invoiceruns/invoices", data={"period": "2026-Q1"}).status_code == 403, role
            assert client.post("/invoiceruns/reminders", data={"day": "2026-03-01"}).status_code == 403, role
            for url, field in (("/imports/payments", "bank_file"), ("/imports/postcodes", "postcode_file")):
                response = client.post(url, data={field: (io.BytesIO(nets_start), "fil.txt")},
                                       content_type="multipart/form-data")
                assert response.status_code == 403, (role, url)
        client.get("/logout/")
    assert dbs.scalar(select(func.count(Job.id))) == 0 and dbs.scalar(select(func.count(JobFile.id))) == 0


def test_health_is_public_for_anyone_and_every_role(client, world):
    """/health (webapp/views/health.py) answers a load balancer without a login, and the same to every role:
    its JSON status, never a login page (tests/test_health.py checks its answers)."""
    answers = set()
    for role in (None, *EXPECTED):
        if role:
            login_as(client, world.logins[role], role)
        response = client.get("/health")
        assert response.status_code in (200, 503) and response.mimetype == "application/json", role
        answers.add(response.get_data(as_text=True))
        client.get("/logout/")
    assert len(answers) == 1
