"""The member's own page: personal and membership data edited in place, employments, positions, documents."""

from __future__ import annotations

import datetime as dt
import io
import json

from pypdf import PdfReader
from sqlalchemy import select

from tests.factories import add_initial_rate
from tests.helpers import login, login_as
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    DeductionBasis,
    DeductionBasisLine,
    Employment,
    EmploymentChange,
    Member,
    MemberDocument,
    Position,
)
from webapp.models.choices import ContactChoice, DocumentKind, PositionType, RequestStatus
from webapp.services import deduction_basis
from webapp.services.deduction_basis import TRAVEL_STOPPED
from webapp.services.periods import Month

PERSONAL = {
    "address": "Storgata 1", "postcode": "0155", "city": "Oslo",
    "email_work": "", "email_private": "kari@example.no", "email_to": "private",
    "mobile_work": "", "mobile_private": "", "preferred_mobile": "",
}


def as_member(client, world):
    login_as(client, world.logins["member"], "member")
    return client


def test_page_shows_the_members_own_sections(client, world):
    page = as_member(client, world).get("/minside/").get_data(as_text=True)
    for section in ("personal", "membership", "messages", "employments", "positions", "courses", "recruitments",
                    "documents"):
        assert f'id="{section}"' in page
    assert "Kari Nordmann" in page and world.members["inside"].member_no in page
    assert "Virksomhet E1" in page and "Arbeidssted W1" in page
    assert "Utenfor" not in page
    nid = world.members["inside"].national_id
    assert nid not in page and nid[:6] + "*****" in page


def test_personal_details_are_saved_normalised_and_audited(client, world, dbs):
    as_member(client, world)
    form = {**PERSONAL, "email_work": "Kari@Jobb.no", "email_to": "work", "mobile_private": "91 23 45 67",
            "preferred_mobile": "private"}
    response = client.post("/minside/edit/personal", data=form)
    assert response.status_code == 302
    member = dbs.get(Member, world.members["inside"].id)
    assert (member.address, member.postcode, member.email_to) == ("Storgata 1", "0155", ContactChoice.work)
    assert member.email_work == "Kari@jobb.no" and member.mobile_private == "+4791234567"
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "update_own_data")).one()
    assert entry.member_id == member.id and entry.username == world.logins["member"]
    assert json.loads(entry.details)["fields"]["email_to"] == ["private", "work"]


def test_send_email_to_an_empty_field_is_refused_with_a_clear_message(client, world, dbs):
    as_member(client, world)
    message = translated(client.application, "Send e-mail to: must point to an e-mail address that is filled in.")
    # Only the private address is filled in, but "send e-mail to" says work.
    response = client.post("/minside/edit/personal", data={**PERSONAL, "address": "Ny vei 2", "email_to": "work"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'data-field="email_to"' in page
    # Or no choice at all while an address is filled in.
    response = client.post("/minside/edit/personal", data={**PERSONAL, "email_to": ""})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    member = dbs.get(Member, world.members["inside"].id)
    assert member.address is None and member.email_to == ContactChoice.private  # nothing was written
    assert dbs.scalars(select(AuditEntry)).all() == []


def test_preferred_mobile_must_point_at_a_filled_number(client, world, dbs):
    as_member(client, world)
    response = client.post("/minside/edit/personal",
                           data={**PERSONAL, "mobile_work": "91234567", "preferred_mobile": "private"})
    assert response.status_code == 422
    refusal = translated(client.application, "Preferred mobile: must point to a mobile number that is filled in.")
    assert refusal in response.get_data(as_text=True)
    response = client.post("/minside/edit/personal", data={**PERSONAL, "mobile_work": "12", "preferred_mobile": "work"})
    assert response.status_code == 422
    assert translated(client.application, "Mobile: not a valid phone number.") in response.get_data(as_text=True)
    assert dbs.get(Member, world.members["inside"].id).mobile_work is None


def test_magazine_and_travel_insurance_take_effect_from_the_next_basis(client, clean_app, world, dbs):
    today = dt.date.today()
    next_month = Month.of(today).next
    with clean_app.app_context():
        add_initial_rate()
        deduction_basis.generate(next_month)  # the next basis has gone out already
        db.session.remove()
    as_member(client, world)
    response = client.post("/minside/edit/membership", data={"magazine": "1"},
                           follow_redirects=True)  # insurance unticked
    page = response.get_data(as_text=True)
    member = dbs.get(Member, world.members["inside"].id)
    assert member.magazine is True and member.travel_insurance is False
    effective = next_month.next
    assert effective.label in page
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "change_travel_insurance")).one()
    details = json.loads(entry.details)
    assert details["effective_period"] == str(effective) and details["changed_on"] == today.isoformat()
    assert 'id="insurance-change"' in client.get("/minside/").get_data(as_text=True)

    # The basis already made is as it was; the next one generated stops the insurance.
    line = dbs.scalars(select(DeductionBasisLine).join(DeductionBasis).where(
        DeductionBasis.period == str(next_month), DeductionBasisLine.member_id == member.id)).one()
    assert line.travel_insurance is True
    dbs.remove()
    with clean_app.app_context():
        deduction_basis.generate(effective)
        line = db.session.scalars(select(DeductionBasisLine).join(DeductionBasis).where(
            DeductionBasis.period == str(effective), DeductionBasisLine.member_id == member.id)).one()
        assert line.travel_insurance is False and TRAVEL_STOPPED in line.change_detail


def test_member_searches_any_employer_and_its_workplaces_by_name(client, world):
    """A deliberate choice: employer and workplace names are public register data."""
    as_member(client, world)
    assert client.get("/typeahead/employer?q=Virksomhet").json["results"] == []  # the scoped search: nothing
    found = client.get("/typeahead/employer_register?q=Virksomhet E2").json["results"]
    assert found == [{"id": world.employers["E2"].id, "text": "Virksomhet E2"}]
    by_number = client.get(f"/typeahead/employer_register?q={world.employers['E1'].org_number}").json["results"]
    assert by_number[0]["id"] == world.employers["E1"].id
    workplaces = client.get(f"/typeahead/workplace_register?employer_id={world.employers['E1'].id}").json["results"]
    assert {w["text"] for w in workplaces} == {"Arbeidssted W1", "Arbeidssted W1b"}
    assert client.get("/typeahead/workplace_register?q=Arbeidssted").json["results"] == []  # only per employer
    assert set(client.get("/typeahead/employer_register?q=Virksomhet").json["results"][0]) == {"id", "text"}


def test_employment_change_is_reported_and_carried_out_by_the_office(client, world, dbs):
    as_member(client, world)
    old = world.employments["inside"]
    start = dt.date.today().replace(day=15)
    form = {"employer_id": world.employers["E2"].id, "workplace_id": world.workplaces["W1"].id,
            "start_date": start.isoformat(), "position_pct": "80", "employment_id": old.id}
    response = client.post("/minside/employment", data=form)
    assert response.status_code == 422
    refusal = translated(client.application, "Workplace: the workplace does not belong to the selected employer.")
    assert refusal in response.get_data(as_text=True)
    response = client.post("/minside/employment", data={**form, "position_pct": "120"})
    assert response.status_code == 422
    assert dbs.scalars(select(EmploymentChange)).all() == []

    response = client.post("/minside/employment", data={**form, "workplace_id": world.workplaces["W2"].id})
    assert response.status_code == 302
    change = dbs.scalars(select(EmploymentChange)).one()
    assert (change.status, change.employer_id, change.employment_id) == (RequestStatus.pending,
                                                                         world.employers["E2"].id, old.id)
    assert "Arbeidssted W2" in client.get("/minside/").get_data(as_text=True)
    dbs.remove()

    client.get("/logout/")
    login(client, world.logins["office"])
    assert "Kari Nordmann" in client.get("/employmentchangeview/list/").get_data(as_text=True)
    assert client.post("/employmentchangeview/action_post",
                       data={"action": "approve", "rowid": [change.id]}).status_code == 302
    change = dbs.get(EmploymentChange, change.id)
    new = dbs.get(Employment, change.new_employment_id)
    assert change.status == RequestStatus.approved
    assert (new.workplace_id, new.start_date, float(new.position_pct)) == (world.workplaces["W2"].id, start, 80.0)
    assert dbs.get(Employment, old.id).end_date == start - dt.timedelta(days=1)
    # A second approval changes nothing.
    client.post("/employmentchangeview/action_post", data={"action": "approve", "rowid": [change.id]})
    assert len(dbs.scalars(select(Employment).where(Employment.member_id == world.members["inside"].id)).all()) == 2


def test_another_members_employment_cannot_be_changed(client, world, dbs):
    as_member(client, world)
    outside = world.employments["outside"]
    assert client.get(f"/minside/employment?employment_id={outside.id}").status_code == 404
    response = client.post("/minside/employment", data={
        "employer_id": world.employers["E2"].id, "workplace_id": world.workplaces["W2"].id,
        "start_date": "2026-01-01", "position_pct": "100", "employment_id": outside.id})
    assert response.status_code == 404
    assert dbs.scalars(select(EmploymentChange)).all() == []


def test_a_new_position_gives_the_officer_role_at_next_login(client, clean_app, world):
    member = world.members["inside"]
    login_as(client, world.logins["member"], "member")
    assert client.get("/unit/").status_code in (302, 403)
    with clean_app.app_context():
        db.session.add(Position(member_id=member.id, type=PositionType.treasurer, org_unit_id=world.units["KL1"].id,
                                start_date=dt.date.today()))
        db.session.commit()
        db.session.remove()
    page = client.get("/minside/").get_data(as_text=True)
    assert "Klubb Ås" in page  # listed under my positions
    client.get("/logout/")
    login(client, world.logins["member"])
    assert 'data-role="treasurer"' in client.get("/acting/choose").get_data(as_text=True)
    login_as(client, world.logins["member"], "treasurer")
    unit_page = client.get("/unit/")
    assert unit_page.status_code == 200 and "Klubb Ås" in unit_page.get_data(as_text=True)


def test_documents_are_listed_and_open_as_pdf(client, clean_app, world):
    member = world.members["inside"]
    with clean_app.app_context():
        db.session.add(MemberDocument(member_id=member.id, kind=DocumentKind.invoice, title="Faktura for høsten",
                                      created_at=dt.datetime.now(), amount_ore=45000, due_date=dt.date.today(),
                                      body="Kontingent for tre måneder."))
        db.session.commit()
        document_id = db.session.scalars(select(MemberDocument.id)).one()
        db.session.remove()
    as_member(client, world)
    assert "Faktura for høsten" in client.get("/minside/").get_data(as_text=True)
    response = client.get(f"/minside/documents/{document_id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Kari Nordmann" in text and "Faktura for høsten" in text and "450,00" in text
    # A document stored as a PDF is handed out as stored.
    with clean_app.app_context():
        stored = MemberDocument(member_id=member.id, kind=DocumentKind.letter, title="Skannet brev",
                                created_at=dt.datetime.now(), pdf=b"%PDF-1.4 stored letter")
        db.session.add(stored)
        db.session.commit()
        stored_id = stored.id
        db.session.remove()
    assert client.get(f"/minside/documents/{stored_id}").data == b"%PDF-1.4 stored letter"


def test_office_uploads_a_scanned_letter_to_a_members_documents(client, clean_app, world, dbs):
    from xhtml2pdf import pisa

    buffer = io.BytesIO()
    pisa.CreatePDF("<p>Bekreftelse av permisjon (skann-5521)</p>", dest=buffer)
    scanned = buffer.getvalue()
    member = world.members["inside"]
    login(client, world.logins["office"])
    form = {"member": member.id, "kind": "letter", "title": "Skannet brev", "body": "", "amount_ore": "",
            "due_date": ""}
    refused = client.post("/memberdocumentview/add", data={**form, "pdf": (io.BytesIO(b"just text"), "brev.txt")},
                          content_type="multipart/form-data")
    assert refused.status_code == 200
    assert translated(clean_app, "PDF file: not a PDF file.") in refused.get_data(as_text=True)
    assert dbs.scalar(select(db.func.count(MemberDocument.id))) == 0  # nothing half-written
    added = client.post("/memberdocumentview/add", data={**form, "pdf": (io.BytesIO(scanned), "brev.pdf")},
                        content_type="multipart/form-data")
    assert added.status_code == 302
    document = dbs.scalars(select(MemberDocument)).one()
    assert document.member_id == member.id and document.pdf == scanned
    client.get("/logout/")

    as_member(client, world)
    assert "Skannet brev" in client.get("/minside/").get_data(as_text=True)
    response = client.get(f"/minside/documents/{document.id}")
    assert response.status_code == 200 and response.data == scanned
    assert "skann-5521" in PdfReader(io.BytesIO(response.data)).pages[0].extract_text()


def test_office_registers_a_recruitment_with_an_audit_entry(client, world, dbs):
    login(client, world.logins["office"])
    form = {"recruiter": world.members["inside"].id, "recruit": world.members["club"].id, "recruited_on": "2026-02-01",
            "fixed_points": "", "note": ""}
    assert client.post("/recruitmentview/add", data=form).status_code == 302
    page = client.post("/recruitmentview/add", data={**form, "recruiter": world.members["club"].id},
                       follow_redirects=True).get_data(as_text=True)
    assert translated(client.application, "Recruit: a member cannot recruit themselves.") in page
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "register_recruitment")).one()
    assert entry.member_id == world.members["inside"].id and entry.username == world.logins["office"]


def test_a_change_starting_before_the_replaced_employment_is_left_to_the_office(app_ctx, world):
    from webapp.models import Member as MemberRow
    from webapp.services import mypage

    member = db.session.get(MemberRow, world.members["inside"].id)
    old = world.employments["inside"]
    form = {"employer_id": world.employers["E1"].id, "workplace_id": world.workplaces["W1b"].id,
            "start_date": "01.01.2020", "position_pct": "50", "employment_id": old.id}
    change = mypage.report_employment_change(member, form)
    assert change.start_date == dt.date(2020, 1, 1)
    try:
        mypage.approve_employment_change(change, None)
    except mypage.ChangeError as exc:
        assert str(exc).startswith("Start")
    else:
        raise AssertionError("a change from the replaced employment's own start was approved")
    db.session.rollback()
    mypage.reject_employment_change(change, None)
    assert db.session.get(EmploymentChange, change.id).status == RequestStatus.rejected
    assert db.session.get(Employment, old.id).end_date is None


def _employment_row(page: str, employment_id: int) -> str:
    start = page.index(f'data-employment="{employment_id}"')
    return page[start:page.index("</tr>", start)]


def test_employments_are_current_by_the_one_rule(client, clean_app, world):
    """current_on: an employment ending tomorrow (or today) is current and can be changed; one that ended
    yesterday or starts tomorrow is shown greyed out without the change link."""
    today = dt.date.today()
    spans = {"ends_tomorrow": (today - dt.timedelta(days=30), today + dt.timedelta(days=1)),
             "ends_today": (today - dt.timedelta(days=30), today),
             "ended_yesterday": (today - dt.timedelta(days=30), today - dt.timedelta(days=1)),
             "starts_tomorrow": (today + dt.timedelta(days=1), None)}
    ids = {}
    with clean_app.app_context():
        template = db.session.get(Employment, world.employments["inside"].id)
        for name, (start, end) in spans.items():
            employment = Employment(member_id=template.member_id, employer_id=template.employer_id,
                                    workplace_id=template.workplace_id, start_date=start, end_date=end,
                                    position_pct=50)
            db.session.add(employment)
            db.session.flush()
            ids[name] = employment.id
        db.session.commit()
        db.session.remove()
    page = as_member(client, world).get("/minside/").get_data(as_text=True)
    for name, employment_id in ids.items():
        row = _employment_row(page, employment_id)
        current = name.startswith("ends_")
        assert ('class="text-muted"' not in row) == current, name
        assert (f"employment_id={employment_id}" in row) == current, name
    # Listed current first: the one starting tomorrow (newest) comes after those current today.
    place = {name: page.index(f'data-employment="{employment_id}"') for name, employment_id in ids.items()}
    assert max(place["ends_tomorrow"], place["ends_today"]) < place["starts_tomorrow"]
