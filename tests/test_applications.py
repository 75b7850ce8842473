"""The office's queue of online enrollments (*Medlemskap → Innmeldinger*): approving makes exactly one member
with its employment, login, welcome letter and welcome e-mail; re-joins keep the member number; duplicates
are refused; rejecting needs a reason and mails it; every bad input of the two forms is refused with a message
naming the field and nothing written; no other role sees the queue."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re

import pytest
from flask import current_app
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.factories import add_lo_union, make_application, make_user
from tests.helpers import login, login_as
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    Employment,
    HomeUnitRule,
    Member,
    MemberDocument,
    MembershipApplication,
    MembershipTransfer,
    NumberCounter,
    OrgUnit,
    OutboxMail,
    Postcode,
)
from webapp.models.choices import (
    ContactChoice,
    DocumentKind,
    EnrollmentStatus,
    HomeUnitRuleKind,
    LeaveReason,
    MemberCategory,
    TransferDirection,
    WorkSituation,
)
from webapp.services import applications, documents
from webapp.services.periods import Month, period_label
from webapp.services.validation import person_facts

LINK = re.compile(r"http\S+/password/set/\S+")
NEW_PASSWORD = "Velkommen-Passord-2027!x"
HUGE = str(2**70)
TODAY = dt.date.today()


# ------------------------------------------------------------------ helpers


def add_application(app, **fields) -> int:
    with app.app_context():
        application_id = make_application(**fields).id
        db.session.commit()
        db.session.remove()
    return application_id


def employed_at(world, key: str = "W1", **fields) -> dict:
    workplace = world.workplaces[key]
    return {"work_situation": WorkSituation.employed, "workplace_id": workplace.id,
            "employer_id": workplace.employer_id, **fields}


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def approve_form(dbs, application_id: int, **form) -> dict:
    application = dbs.get(MembershipApplication, application_id)
    proposal = applications.proposal(application)
    # Without a rule that matches, the office picks AV1.
    unit = proposal["unit"] or dbs.scalars(select(OrgUnit).where(OrgUnit.code == "AV1")).one()
    defaults = {"member_from": proposal["member_from"].isoformat(), "home_unit_id": str(unit.id)}
    dbs.rollback()
    return {**defaults, **form}


def approve(client, dbs, application_id: int, **form):
    return client.post(f"/applications/{application_id}/approve", data=approve_form(dbs, application_id, **form))


def snapshot(dbs) -> dict:
    """Everything an approval or a rejection writes."""
    dbs.expire_all()
    user_model = current_app.appbuilder.sm.user_model
    count = lambda model: dbs.scalar(select(func.count()).select_from(model))  # noqa: E731
    return {
        "members": sorted((m.id, m.member_no, m.joined_on, m.left_on) for m in dbs.scalars(select(Member))),
        "employments": count(Employment), "documents": count(MemberDocument), "transfers": count(MembershipTransfer),
        "users": count(user_model), "mails": count(OutboxMail),
        "audit": sorted(a.action for a in dbs.scalars(select(AuditEntry)) if a.action.startswith(("application",
                                                                                                 "rejoin", "home"))),
        "applications": sorted((a.id, a.status.name, a.member_id, a.reject_reason)
                               for a in dbs.scalars(select(MembershipApplication))),
        "counter": dbs.scalar(select(NumberCounter.last_value)),
    }


def new_member_of(dbs, application_id: int) -> Member:
    dbs.expire_all()
    return dbs.get(Member, dbs.get(MembershipApplication, application_id).member_id)


@pytest.fixture()
def office(client, world):
    login_as(client, world.logins["office"])
    return client


def pdf_text(data: bytes) -> str:
    return " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


# ------------------------------------------------------------------ approving


def test_approval_makes_the_member_the_login_the_letter_and_the_mail_and_the_link_works(
        office, clean_app, world, dbs, smtp_server):
    application_id = add_application(clean_app, **employed_at(world, position_pct=80, mobile="+4791234567"))
    before = snapshot(dbs)
    response = approve(office, dbs, application_id)
    assert response.status_code == 302, text_of(response)[:3000]
    page = text_of(office.get(response.headers["Location"]))

    member = new_member_of(dbs, application_id)
    assert member.member_no == "75000009"  # the world's members are 75000001 to 75000008
    assert member.member_no in page and 'id="new-member"' in page
    application = dbs.get(MembershipApplication, application_id)
    assert (application.status, application.decided_by.username) == (EnrollmentStatus.approved, "kontor")
    assert (member.national_id, member.first_name, member.joined_on) == (
        application.national_id, application.first_name, application.submitted_at.date())
    assert (member.birth_date, member.gender) == (dt.date(1990, 3, 1), person_facts(application.national_id)[1])
    assert (member.email_private, member.email_to, member.mobile_private, member.preferred_mobile) == (
        application.email, ContactChoice.private, "+4791234567", ContactChoice.private)
    assert (member.home_unit.code, member.category, member.contents_insurance, member.seniority_on,
            member.left_on) == ("AV1", MemberCategory.ordinary, True, None, None)
    [employment] = dbs.scalars(select(Employment).where(Employment.member_id == member.id)).all()
    assert (employment.workplace_id, employment.start_date, float(employment.position_pct),
            employment.on_deduction) == (world.workplaces["W1"].id, member.joined_on, 80.0, True)
    user = member.user
    assert (user.username, user.email, user.active, user.password, user.roles) == (
        member.member_no, application.email, True, "", [])

    after = snapshot(dbs)
    assert after["employments"] - before["employments"] == 1
    assert after["documents"] - before["documents"] == 1 and after["transfers"] == before["transfers"]
    assert after["users"] - before["users"] == 1 and after["mails"] - before["mails"] == 1
    assert after["audit"] == ["application_approved"]

    [letter] = dbs.scalars(select(MemberDocument).where(MemberDocument.member_id == member.id)).all()
    assert (letter.kind, letter.title) == (DocumentKind.letter, "Velkommen som medlem")
    assert "Arbeidsgiveren din, Virksomhet E1, trekker kontingenten" in letter.body
    with clean_app.test_request_context():
        text = pdf_text(documents.document_pdf(letter))
    assert "Velkommen som medlem" in text and member.member_no in text and "Avdeling Øst" in text
    assert member.joined_on.strftime("%d.%m.%Y") in text

    [mail] = smtp_server.messages
    assert mail["to"] == [application.email]
    body = smtp_server.bodies()[0]
    assert f"Medlemsnummeret ditt er {member.member_no}" in body
    path = LINK.search(body).group(0).split("127.0.0.1:5000", 1)[-1]
    office.get("/logout/")
    assert office.get(path).status_code == 200
    assert office.post(path, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}).status_code == 302
    landed = login(office, member.member_no, NEW_PASSWORD)
    assert landed.status_code == 302 and "/login" not in landed.headers["Location"]
    mypage = office.get("/minside/", follow_redirects=True)
    assert mypage.status_code == 200 and member.member_no in text_of(mypage)


def test_a_member_without_a_workplace_pays_directly_and_the_letter_says_so(office, clean_app, world, dbs):
    application_id = add_application(clean_app, submitted_at=dt.datetime.combine(TODAY, dt.time(0, 1)))
    with clean_app.app_context():
        db.session.add(HomeUnitRule(kind=HomeUnitRuleKind.county, county="Oslo", org_unit_id=world.units["AV2"].id))
        db.session.add(Postcode(code="0150", place="Oslo", municipality="Oslo", county="Oslo"))
        db.session.commit()
    assert approve(office, dbs, application_id).status_code == 302
    member = new_member_of(dbs, application_id)
    assert member.home_unit.code == "AV2"
    assert dbs.scalar(select(func.count(Employment.id)).where(Employment.member_id == member.id)) == 0
    letter = dbs.scalars(select(MemberDocument).where(MemberDocument.member_id == member.id)).one()
    first_month = Month.of(TODAY) if TODAY.day == 1 else Month.of(TODAY).next
    with clean_app.test_request_context(), force_locale("nb"):
        month = period_label(first_month)
    assert f"Du betaler kontingenten direkte til forbundet, med faktura, fra {month}." in letter.body


def test_a_transfer_in_keeps_the_seniority_with_a_reference(office, clean_app, world, dbs):
    with clean_app.app_context():
        union_id = add_lo_union().id
        db.session.commit()
    since = dt.date(2011, 9, 1)
    first = add_application(clean_app, from_lo_union_id=union_id, from_union_since=since)
    second = add_application(clean_app, from_lo_union_id=union_id, from_union_since=since)
    listing = text_of(office.get("/applications/"))
    assert listing.count("Fra Fellesforbundet") == 2
    assert approve(office, dbs, first).status_code == 302
    assert approve(office, dbs, second, reference="FF-2026-77").status_code == 302
    for application_id, reference in ((first, f"Innmelding {first}"), (second, "FF-2026-77")):
        member = new_member_of(dbs, application_id)
        transfer = dbs.scalars(select(MembershipTransfer).where(MembershipTransfer.member_id == member.id)).one()
        assert (transfer.direction, transfer.lo_union_id, transfer.other_union_since, transfer.transfer_on,
                transfer.reference, transfer.application_id) == (
            TransferDirection.incoming, union_id, since, member.joined_on, reference, application_id)
        assert member.seniority_on == since and member.seniority_date == since
        letter = dbs.scalars(select(MemberDocument).where(MemberDocument.member_id == member.id)).one()
        assert "Du beholder ansienniteten fra Fellesforbundet: medlem siden 01.09.2011." in letter.body


def test_a_transfer_in_with_a_bad_since_date_is_refused_whole(office, clean_app, world, dbs):
    with clean_app.app_context():
        union_id = add_lo_union().id
        db.session.commit()
    application_id = add_application(clean_app, from_lo_union_id=union_id,
                                     from_union_since=TODAY + dt.timedelta(days=40))
    before = snapshot(dbs)
    response = approve(office, dbs, application_id)
    assert response.status_code == 422
    assert translated(clean_app, "%(field)s: cannot be in the future.",
                      field=translated(clean_app, "Member of the other union since")) in text_of(response)
    assert snapshot(dbs) == before


# ------------------------------------------------------------------ the home unit: the mapping, or the office's choice


def _rules(world):
    db.session.add_all([
        HomeUnitRule(kind=HomeUnitRuleKind.employer, employer_id=world.employers["E2"].id,
                     org_unit_id=world.units["AV2"].id),
        HomeUnitRule(kind=HomeUnitRuleKind.county, county="Vestland", org_unit_id=world.units["LF2"].id),
        Postcode(code="5003", place="Bergen", municipality="Bergen", county="Vestland"),
    ])
    db.session.commit()


@pytest.mark.parametrize("case,unit,source", [
    ("workplace", "KL1", "workplace"),  # W1b belongs to the club, whatever the employer or county say
    ("employer", "AV2", "employer"),
    ("county", "LF2", "county"),
])
def test_the_proposal_and_the_approval_follow_the_mapping(office, clean_app, world, dbs, case, unit, source):
    with clean_app.app_context():
        _rules(world)
    fields = {
        "workplace": employed_at(world, "W1b", postcode="5003"),
        "employer": {"work_situation": WorkSituation.employed, "employer_id": world.employers["E2"].id,
                     "postcode": "5003"},
        "county": {"postcode": "5003", "city": "Bergen"},
    }[case]
    application_id = add_application(clean_app, **fields)
    page = text_of(office.get(f"/applications/{application_id}"))
    unit_id = world.units[unit].id
    assert f'<option value="{unit_id}" selected>' in page
    explanation = {"workplace": "Arbeidsstedet Arbeidssted W1b hører til Klubb Ås.",
                   "employer": "Hjemmeenhetsregelen for arbeidsgiveren Virksomhet E2 gir Avdeling Vest.",
                   "county": "Hjemmeenhetsregelen for fylket Vestland (postnummer 5003) gir Landsforening to."}[case]
    assert explanation in page
    assert approve(office, dbs, application_id).status_code == 302
    member = new_member_of(dbs, application_id)
    assert member.home_unit_id == unit_id
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "application_approved")).one()
    assert json.loads(entry.details)["home_unit_source"] == source


def test_no_rule_matches_the_office_must_choose_and_may_override(office, clean_app, world, dbs):
    application_id = add_application(clean_app, postcode="9999", city="Ingensteds")
    page = text_of(office.get(f"/applications/{application_id}"))
    assert translated(clean_app, "No rule matches the workplace, the employer or the county of the postcode: "
                                 "choose the home unit.") in page
    assert "selected>" not in page.split('id="home_unit_id"')[1].split("</select>")[0]
    before = snapshot(dbs)
    response = approve(office, dbs, application_id, home_unit_id="")
    assert response.status_code == 422
    assert translated(clean_app, "Home unit: choose the unit the member belongs to.") in text_of(response)
    assert snapshot(dbs) == before
    assert approve(office, dbs, application_id, home_unit_id=str(world.units["AV2"].id)).status_code == 302
    assert new_member_of(dbs, application_id).home_unit.code == "AV2"
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "application_approved")).one()
    assert json.loads(entry.details)["home_unit_source"] == "override"


# ------------------------------------------------------------------ re-join and duplicates


def _leave(member_id: int, left_on: dt.date) -> None:
    member = db.session.get(Member, member_id)
    member.left_on, member.leave_reason = left_on, LeaveReason.new_job
    db.session.commit()


def test_a_rejoin_reopens_the_same_member_with_the_same_number_and_login(office, clean_app, world, dbs, smtp_server):
    old = world.members["inside"]  # has a login
    with clean_app.app_context():
        _leave(old.id, dt.date(2022, 6, 30))
    application_id = add_application(clean_app, national_id=old.national_id, first_name="Kari", last_name="Nyberg",
                                     email="kari.ny@example.no", **employed_at(world, "W1"))
    listing = text_of(office.get("/applications/"))
    assert f"Gjeninnmelding: medlem {old.member_no} gikk ut 30.06.2022" in listing
    page = text_of(office.get(f"/applications/{application_id}"))
    assert 'id="rejoin-note"' in page and old.member_no in page
    members_before = snapshot(dbs)["members"]
    assert approve(office, dbs, application_id).status_code == 302

    member = new_member_of(dbs, application_id)
    assert member.id == old.id and member.member_no == old.member_no
    assert (member.last_name, member.left_on, member.leave_reason, member.email_private) == (
        "Nyberg", None, None, "kari.ny@example.no")
    assert member.joined_on == dbs.get(MembershipApplication, application_id).submitted_at.date()
    assert len(snapshot(dbs)["members"]) == len(members_before)
    assert member.user.username == old.member_no and member.user_id == old.user_id  # the login it had
    rejoin = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "rejoin")).one()
    assert json.loads(rejoin.details)["before"]["left_on"] == "2022-06-30"
    # The job left open when the old membership ended ends with it; the new one starts with the re-join.
    jobs = dbs.scalars(select(Employment).where(Employment.member_id == member.id).order_by(Employment.id)).all()
    assert [(job.start_date, job.end_date) for job in jobs] == [(dt.date(2020, 1, 1), dt.date(2022, 6, 30)),
                                                               (member.joined_on, None)]
    assert smtp_server.messages[0]["to"] == ["kari.ny@example.no"]


def test_a_rejoin_cannot_start_before_the_old_membership_ended(office, clean_app, world, dbs):
    old = world.members["outside"]
    left_on = TODAY - dt.timedelta(days=1)
    with clean_app.app_context():
        _leave(old.id, left_on)
    application_id = add_application(clean_app, national_id=old.national_id,
                                     submitted_at=dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(9)))
    before = snapshot(dbs)
    response = approve(office, dbs, application_id)  # the default: the day it came in, before the leave
    assert response.status_code == 422
    assert translated(clean_app, "Member from: must be after the earlier membership ended (%(date)s).",
                      date=left_on.strftime("%d.%m.%Y")) in text_of(response)
    assert snapshot(dbs) == before
    assert approve(office, dbs, application_id, member_from=TODAY.isoformat()).status_code == 302
    assert new_member_of(dbs, application_id).id == old.id


@pytest.mark.parametrize("left_on", [None, TODAY + dt.timedelta(days=20)])
def test_a_current_member_is_a_duplicate_approval_is_refused(office, clean_app, world, dbs, left_on):
    current = world.members["club"]
    if left_on is not None:  # a leave registered that has not taken effect: still a member
        with clean_app.app_context():
            _leave(current.id, left_on)
    application_id = add_application(clean_app, national_id=current.national_id)
    listing = text_of(office.get("/applications/"))
    assert f"Allerede medlem ({current.member_no})" in listing
    page = text_of(office.get(f"/applications/{application_id}"))
    assert 'id="duplicate-note"' in page and 'id="approve-form"' not in page and 'id="reject-form"' in page
    before = snapshot(dbs)
    response = approve(office, dbs, application_id, home_unit_id=str(world.units["AV1"].id))
    assert response.status_code == 422
    assert translated(clean_app, "National id: %(name)s is already a member (membership number %(number)s); "
                                 "reject the application instead.", name=current.full_name,
                      number=current.member_no) in text_of(response)
    assert snapshot(dbs) == before


# ------------------------------------------------------------------ the login


def test_an_email_another_user_has_gets_the_fallback_address_and_the_mail_still_goes_to_the_applicant(
        office, clean_app, world, dbs, smtp_server):
    application_id = add_application(clean_app, email="kontor@test.invalid")  # the office user's address
    assert approve(office, dbs, application_id).status_code == 302
    member = new_member_of(dbs, application_id)
    assert member.user.email == f"{member.member_no}@brukere.forbundet.example"
    assert member.email_private == "kontor@test.invalid"
    assert smtp_server.messages[0]["to"] == ["kontor@test.invalid"]


def test_a_username_taken_by_another_user_is_refused_and_nothing_is_written(office, clean_app, world, dbs):
    with clean_app.app_context():
        make_user("75000009", "Gammel", "Bruker")  # the number the approval would hand out
        db.session.commit()
    application_id = add_application(clean_app)
    before = snapshot(dbs)
    response = approve(office, dbs, application_id)
    assert response.status_code == 422
    assert translated(clean_app, "Login: the username %(username)s belongs to another user already.",
                      username="75000009") in text_of(response)
    assert snapshot(dbs) == before


# ------------------------------------------------------------------ bad input of the approval form


def _bad_approvals(world) -> list[tuple[dict, str, dict]]:
    latest = Month.of(TODAY).next.last_day
    return [
        ({"member_from": ""}, "Member from: give a date (DD.MM.YYYY).", {}),
        ({"member_from": "i morgen"}, "Member from: give a date (DD.MM.YYYY).", {}),
        ({"member_from": "2026-02-30"}, "Member from: give a date (DD.MM.YYYY).", {}),
        ({"member_from": "99999-01-01"}, "Member from: give a date (DD.MM.YYYY).", {}),
        ({"member_from": "2020-01-01"}, "Member from: cannot be before the application came in (%(date)s).",
         {"date": "SUBMITTED"}),
        ({"member_from": (latest + dt.timedelta(days=1)).isoformat()},
         "Member from: at the latest %(date)s (the end of next month).", {"date": latest.strftime("%d.%m.%Y")}),
        ({"home_unit_id": ""}, "Home unit: choose the unit the member belongs to.", {}),
        ({"home_unit_id": "abc"}, "Home unit: choose the unit the member belongs to.", {}),
        ({"home_unit_id": HUGE}, "Home unit: choose the unit the member belongs to.", {}),
        ({"home_unit_id": "999999"}, "Home unit: choose the unit the member belongs to.", {}),
        ({"reference": "x" * 101}, "%(field)s: at most %(count)s characters.", {"field": "Referanse", "count": 100}),
    ]


def test_every_bad_input_of_the_approval_form_is_refused_naming_the_field(office, clean_app, world, dbs):
    with clean_app.app_context():
        union_id = add_lo_union().id
        db.session.commit()
    application_id = add_application(clean_app, from_lo_union_id=union_id, from_union_since=dt.date(2015, 1, 1))
    submitted = dbs.get(MembershipApplication, application_id).submitted_at.date().strftime("%d.%m.%Y")
    dbs.rollback()
    before = snapshot(dbs)
    for form, msgid, values in _bad_approvals(world):
        values = {k: (submitted if v == "SUBMITTED" else v) for k, v in values.items()}
        response = approve(office, dbs, application_id, **form)
        assert response.status_code == 422, form
        assert translated(clean_app, msgid, **values) in text_of(response), (form, text_of(response)[-3000:])
        assert 'class="help-block field-error"' in response.get_data(as_text=True), form
        assert snapshot(dbs) == before, form
    assert approve(office, dbs, application_id, reference="ok").status_code == 302


def test_a_decided_application_cannot_be_decided_again(office, clean_app, world, dbs):
    application_id = add_application(clean_app)
    form = approve_form(dbs, application_id)
    assert office.post(f"/applications/{application_id}/approve", data=form).status_code == 302
    after_first = snapshot(dbs)
    again = office.post(f"/applications/{application_id}/approve", data=form)  # a second tab's stale form
    assert again.status_code == 422
    status = translated(clean_app, "Approved")
    assert translated(clean_app, "Status: the application is already decided (%(status)s).",
                      status=status) in text_of(again)
    rejected = office.post(f"/applications/{application_id}/reject", data={"reason": "For sent"})
    assert rejected.status_code == 422
    assert snapshot(dbs) == after_first
    assert len(after_first["members"]) == 9


def test_the_service_refuses_a_race_loser_in_plain_words(app_ctx, world, monkeypatch):
    """Between the loser's check and its claim the winner decided: the claim finds no pending row."""
    application_id = make_application().id
    db.session.commit()
    from webapp.services import transitions

    real_claim = transitions.claim

    def winner_first(model, row_id, expected, **values):
        db.session.execute(db.update(model).where(model.id == row_id).values(status=EnrollmentStatus.rejected,
                                                                             reject_reason="Vinneren"))
        return real_claim(model, row_id, expected, **values)

    monkeypatch.setattr(transitions, "claim", winner_first)
    unit_id = world.units["AV1"].id
    with pytest.raises(applications.ApplicationError) as refused:
        applications.approve(application_id, None, TODAY, unit_id)
    assert refused.value.message == translated(app_ctx, "Status: someone else decided the application just now; "
                                                        "reload the page.")
    assert db.session.scalar(select(func.count(Member.id))) == 8
    assert db.session.get(MembershipApplication, application_id).status == EnrollmentStatus.pending  # rolled back


# ------------------------------------------------------------------ rejecting


def test_rejecting_needs_a_reason_and_mails_it(office, clean_app, world, dbs, smtp_server):
    application_id = add_application(clean_app, email="soker@example.no")
    before = snapshot(dbs)
    for reason, msgid, values in (
            ("", "%(field)s: is required.", {"field": translated(clean_app, "Reason")}),
            ("   ", "%(field)s: is required.", {"field": translated(clean_app, "Reason")}),
            ("x" * 501, "%(field)s: at most %(count)s characters.", {"field": translated(clean_app, "Reason"),
                                                                      "count": 500})):
        response = office.post(f"/applications/{application_id}/reject", data={"reason": reason})
        assert response.status_code == 422, reason
        assert translated(clean_app, msgid, **values) in text_of(response)
        assert 'data-field="reason"' in response.get_data(as_text=True)
        assert snapshot(dbs) == before
    assert smtp_server.messages == []

    reason = "Du står allerede i et annet forbund utenfor LO."
    response = office.post(f"/applications/{application_id}/reject", data={"reason": reason})
    assert response.status_code == 302
    application = dbs.get(MembershipApplication, application_id)
    assert (application.status, application.reject_reason, application.member_id) == (
        EnrollmentStatus.rejected, reason, None)
    assert application.decided_at is not None and application.decided_by.username == "kontor"
    [mail] = smtp_server.messages
    assert mail["to"] == ["soker@example.no"] and "Innmeldingen din i" in mail["message"]["Subject"]
    assert reason in smtp_server.bodies()[0]
    assert snapshot(dbs)["audit"] == ["application_rejected"]
    assert snapshot(dbs)["members"] == before["members"]
    page = text_of(office.get(f"/applications/{application_id}"))
    assert reason in page and 'id="reject-form"' not in page


# ------------------------------------------------------------------ the queue


def test_the_queue_shows_pending_first_oldest_first_and_filters_and_searches(office, clean_app, world, dbs):
    now = dt.datetime.now()
    newest = add_application(clean_app, first_name="Nina", last_name="Nyest", submitted_at=now - dt.timedelta(hours=1))
    oldest = add_application(clean_app, first_name="Olav", last_name="Eldst", submitted_at=now - dt.timedelta(days=3))
    rejected = add_application(clean_app, first_name="Rolf", last_name="Avvist",
                               submitted_at=now - dt.timedelta(days=9), status=EnrollmentStatus.rejected,
                               reject_reason="Nei")
    page = text_of(office.get("/applications/"))
    assert page.index("Olav Eldst") < page.index("Nina Nyest") and "Rolf Avvist" not in page
    everything = text_of(office.get("/applications/?status=all"))
    assert everything.index("Olav Eldst") < everything.index("Nina Nyest") < everything.index("Rolf Avvist")
    only_rejected = text_of(office.get("/applications/?status=rejected"))
    assert "Rolf Avvist" in only_rejected and "Nina Nyest" not in only_rejected
    found = text_of(office.get("/applications/?status=all&q=nyes"))
    assert "Nina Nyest" in found and "Olav Eldst" not in found
    assert "Olav Eldst" not in text_of(office.get("/applications/?q=%25"))  # a wildcard is a character
    for bad in ("?status=deleted", "?page=abc", "?page=-1", f"?page={HUGE}"):
        assert office.get("/applications/" + bad).status_code == 400, bad
    assert office.get(f"/applications/{HUGE}").status_code == 404
    assert office.get("/applications/999999").status_code == 404
    for application_id in (newest, oldest, rejected):
        assert office.get(f"/applications/{application_id}").status_code == 200


def test_the_application_page_shows_every_typed_field_and_the_consents(office, clean_app, world, dbs):
    with clean_app.app_context():
        union_id = add_lo_union(code="EL", name="EL og IT Forbundet").id
        db.session.commit()
    application_id = add_application(clean_app, **employed_at(world, position_pct=60), mobile="+4798765432",
                                     from_lo_union_id=union_id, from_union_since=dt.date(2019, 4, 1),
                                     travel_insurance=False, magazine=False, category=MemberCategory.student)
    application = dbs.get(MembershipApplication, application_id)
    page = text_of(office.get(f"/applications/{application_id}"))
    for shown in (application.first_name, application.last_name, application.national_id, application.address,
                  "0150 Oslo", application.email, "+4798765432", "Virksomhet E1", "Arbeidssted W1", "60",
                  "Student", "EL og IT Forbundet", "medlem siden 01.04.2019", "Medlemsvilkår", "Personvernerklæring",
                  "versjon 2026-1 av 01.01.2026"):
        assert shown in page, shown
    facts = page.split('id="application-facts"')[1].split("</table>")[0]
    assert facts.count(">Nei<") == 2  # neither travel insurance nor magazine


def test_the_menu_has_membership_applications_for_the_office(office):
    page = text_of(office.get("/applications/"))
    assert "Medlemskap" in page and 'href="/applications/"' in page


@pytest.mark.parametrize("role", ["leader", "treasurer", "member_data_admin", "workplace_trustee", "member",
                                  "deduction_contact", "analyst"])
def test_no_other_role_sees_or_decides_applications(client, clean_app, world, dbs, role):
    application_id = add_application(clean_app)
    login_as(client, world.logins[role], role)
    before = snapshot(dbs)
    for method, url, data in (("GET", "/applications/", None), ("GET", f"/applications/{application_id}", None),
                              ("POST", f"/applications/{application_id}/approve",
                               {"member_from": TODAY.isoformat(), "home_unit_id": str(world.units["AV1"].id)}),
                              ("POST", f"/applications/{application_id}/reject", {"reason": "Nei"})):
        response = client.open(url, method=method, data=data)
        assert response.status_code in (302, 403), (role, url, response.status_code)
        assert "Søker" not in text_of(response)
    assert snapshot(dbs) == before
    assert 'href="/applications/"' not in text_of(client.get("/", follow_redirects=True))


def test_the_new_member_is_on_the_deduction_basis_from_the_month_after_joining(office, clean_app, world, dbs):
    from tests.factories import add_initial_rate
    from webapp.models import DeductionBasis, DeductionBasisLine
    from webapp.services import deduction_basis
    from webapp.services.periods import effective_start

    application_id = add_application(clean_app, **employed_at(world, "W1"))
    assert approve(office, dbs, application_id).status_code == 302
    member = new_member_of(dbs, application_id)
    first = Month.of(effective_start(member.joined_on))
    dbs.remove()
    with clean_app.app_context():
        add_initial_rate()
        months = [first.previous, first] if first.previous >= Month.of(member.joined_on) else [first]
        for month in months:
            deduction_basis.generate(month)
        on_basis = {period: db.session.scalar(
            select(DeductionBasisLine.on_deduction).join(DeductionBasis)
            .where(DeductionBasis.period == period, DeductionBasisLine.member_id == member.id))
            for period in (str(month) for month in months)}
        db.session.remove()
    assert on_basis[str(first)] is True
    if len(months) == 2:  # joined after the 1st: not on the basis of the join month
        assert on_basis[str(first.previous)] is None
