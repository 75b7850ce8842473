"""Course participant lists and special needs: each list carries exactly the fields of its kind, only applications
with a seat are on them, the office alone downloads them and sees the special needs, the member gives, changes and
removes them until the deadline, and the privacy purge deletes them on time."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.concurrency import browser_session, fire_together, postgres_only
from tests.helpers import login, login_as
from tests.mypage_helpers import add_course, translated
from webapp.extensions import db
from webapp.models import AuditEntry, Course, CourseApplication, Employment, Member
from webapp.models.choices import ApplicationStatus, ContactChoice
from webapp.services import course_lists, courses, retention
from webapp.services.validation import RecordInvalid

NEEDS = "Glutenfri kost; trenger rullestolplass"
FULL_HEADER = ["Navn", "E-post", "Mobil", "Adresse", "Arbeidsgiver", "Særskilte behov"]
PARTICIPANTS_HEADER = ["Navn", "Arbeidssted", "E-post"]
NON_OFFICE = ("leader", "treasurer", "member_data_admin", "workplace_trustee", "deduction_contact", "member",
              "analyst")


@pytest.fixture()
def course(clean_app, world):
    """A course ahead with four applications: Kari Nordmann with special needs (a current 50 % job at E2 beside her
    main job at E1, and an ended full-time one), Per Utenfor without (attendance complete), Ola Æsøy withdrawn,
    Lise Landsen without an employment."""
    with clean_app.app_context():
        course_id = add_course(title="Tariffkurs for tillitsvalgte", place="Sørmarka kurssenter")
        inside = db.session.get(Member, world.members["inside"].id)
        inside.address, inside.postcode, inside.city = "Storgata 1", "0155", "Oslo"
        inside.mobile_private, inside.mobile_work, inside.preferred_mobile = "91234567", "47000000", ContactChoice.work
        inside.email_work, inside.email_to = "kari@jobb.example", ContactChoice.work
        e2, w2 = world.employers["E2"].id, world.workplaces["W2"].id
        db.session.add_all([
            Employment(member_id=inside.id, employer_id=e2, workplace_id=w2, start_date=dt.date(2021, 1, 1),
                       position_pct=50, on_deduction=True),
            Employment(member_id=inside.id, employer_id=e2, workplace_id=w2, start_date=dt.date(2010, 1, 1),
                       end_date=dt.date(2019, 12, 31), position_pct=100, on_deduction=True),
        ])
        db.session.commit()
        given = dt.datetime(2026, 1, 5, 10, 0)
        courses.apply(inside.id, course_id, now=given, special_needs=f"  {NEEDS}  ")
        completed = courses.apply(world.members["outside"].id, course_id)
        courses.mark_completed([completed.id])
        withdrawn = courses.apply(world.members["club"].id, course_id, special_needs="Vegetar")
        courses.withdraw(withdrawn)
        courses.apply(world.members["lf1_direct"].id, course_id)
        db.session.remove()
    return course_id


def _lists(app, course_id):
    with app.test_request_context():
        row = db.session.get(Course, course_id)
        return course_lists.full_list(row), course_lists.participants_list(row)


def test_the_full_list_holds_name_contact_address_employer_and_the_needs_given(clean_app, course):
    full, _participants = _lists(clean_app, course)
    assert full.header == FULL_HEADER
    assert full.rows == [
        ["Lise Landsen", "m4@example.no", "", "", "", ""],
        ["Kari Nordmann", "kari@jobb.example", "47000000", "Storgata 1, 0155 Oslo", "Virksomhet E1",
         f"{NEEDS} (oppgitt av medlemmet 05.01.2026)"],
        ["Per Utenfor", "m3@example.no", "", "", "Virksomhet E2", ""],
    ]
    assert all("Æsøy" not in cell and "Vegetar" not in cell for row in full.rows for cell in row)  # withdrawn


def test_the_participants_list_holds_name_workplace_and_email_only(clean_app, course):
    _full, participants = _lists(clean_app, course)
    assert participants.header == PARTICIPANTS_HEADER
    assert participants.rows == [
        ["Lise Landsen", "", "m4@example.no"],
        ["Kari Nordmann", "Arbeidssted W1", "kari@jobb.example"],
        ["Per Utenfor", "Arbeidssted W2", "m3@example.no"],
    ]
    text = repr(participants.rows)
    for withheld in ("47000000", "91234567", "Storgata", "Virksomhet", "Glutenfri", "oppgitt", "Æsøy"):
        assert withheld not in text


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a byte-order mark, so Excel reads æøå
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_office_downloads_each_list_as_csv_and_pdf_and_each_download_is_audited(client, world, dbs, course):
    login(client, world.logins["office"])
    response = client.get(f"/courseview/lists/{course}/full.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="deltakerliste-full-{course}.csv"' in response.headers["Content-Disposition"]
    rows = _csv_rows(response.data)
    assert rows[0] == FULL_HEADER and len(rows) == 4
    assert rows[2][5] == f"{NEEDS} (oppgitt av medlemmet 05.01.2026)"

    response = client.get(f"/courseview/lists/{course}/participants.csv")
    assert f'filename="deltakerliste-{course}.csv"' in response.headers["Content-Disposition"]
    rows = _csv_rows(response.data)
    assert rows[0] == PARTICIPANTS_HEADER and {len(row) for row in rows} == {3} and len(rows) == 4

    response = client.get(f"/courseview/lists/{course}/full.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f'filename="deltakerliste-full-{course}.pdf"' in response.headers["Content-Disposition"]
    text = _pdf_text(response.data)
    starts_on = dt.date.today() + dt.timedelta(days=30)
    for expected in ("Tariffkurs for tillitsvalgte", "Sørmarka kurssenter", starts_on.strftime("%d.%m.%Y"),
                     "Taushetsplikt", "Personopplysninger – ikke del videre", "Kari Nordmann", "47000000",
                     "Storgata 1, 0155 Oslo", "Virksomhet E1", "Glutenfri kost", "oppgitt av medlemmet",
                     "Per Utenfor", "Lise Landsen"):
        assert expected in text, expected
    assert "Æsøy" not in text

    response = client.get(f"/courseview/lists/{course}/participants.pdf")
    assert f'filename="deltakerliste-{course}.pdf"' in response.headers["Content-Disposition"]
    text = _pdf_text(response.data)
    for expected in ("Tariffkurs for tillitsvalgte", "Sørmarka kurssenter", "Kari Nordmann", "Arbeidssted W1",
                     "kari@jobb.example"):
        assert expected in text, expected
    for withheld in ("47000000", "Storgata", "Virksomhet E1", "Glutenfri", "oppgitt av medlemmet", "Taushetsplikt",
                     "Æsøy"):
        assert withheld not in text, withheld

    entries = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "download", AuditEntry.object_type == "course")
                          .order_by(AuditEntry.id)).all()
    assert [(entry.object_id, json.loads(entry.details)["file"]) for entry in entries] == [
        (course, f"deltakerliste-full-{course}.csv"), (course, f"deltakerliste-{course}.csv"),
        (course, f"deltakerliste-full-{course}.pdf"), (course, f"deltakerliste-{course}.pdf"),
    ]
    assert {entry.username for entry in entries} == {"kontor"}


def test_a_list_of_no_kind_or_no_format_or_no_course_is_404(client, world, course):
    login(client, world.logins["office"])
    for url in (f"/courseview/lists/{course}/secret.csv", f"/courseview/lists/{course}/full.xlsx",
                "/courseview/lists/999999/full.csv"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("role", NON_OFFICE)
def test_the_lists_and_the_course_page_are_the_offices_alone(client, world, dbs, course, role):
    login_as(client, world.logins[role], role)
    for kind in course_lists.KINDS:
        for fmt in ("pdf", "csv"):
            response = client.get(f"/courseview/lists/{course}/{kind}.{fmt}")
            assert response.status_code == 403, (kind, fmt, response.status_code)
            assert response.mimetype not in ("application/pdf", "text/csv")
    page = client.get(f"/courseview/show/{course}")
    assert page.status_code in (302, 403) and NEEDS not in page.get_data(as_text=True)
    page = client.get("/courseapplicationview/list/")
    assert page.status_code in (302, 403) and NEEDS not in page.get_data(as_text=True)
    assert dbs.scalar(select(AuditEntry.id).where(AuditEntry.action == "download")) is None


def test_the_office_sees_the_special_needs_marked_as_given_by_the_member(client, world, dbs, course):
    login(client, world.logins["office"])
    page = client.get(f"/courseview/show/{course}").get_data(as_text=True)
    assert f"{NEEDS} (oppgitt av medlemmet 05.01.2026)" in page
    assert f"/courseview/lists/{course}/full.pdf" in page and f"/courseview/lists/{course}/participants.csv" in page
    application = dbs.scalars(select(CourseApplication)
                              .where(CourseApplication.member_id == world.members["inside"].id)).one()
    page = client.get(f"/courseapplicationview/show/{application.id}").get_data(as_text=True)
    assert NEEDS in page and "Særskilte behov oppgitt av medlemmet" in page


@pytest.mark.parametrize("role", ["leader", "treasurer", "workplace_trustee", "member_data_admin"])
def test_officers_never_see_special_needs_on_the_members_page(client, world, course, role):
    login_as(client, world.logins[role], role)
    page = client.get(f"/memberview/show/{world.members['inside'].id}")
    assert page.status_code == 200  # Kari Nordmann is in their scope
    assert NEEDS not in page.get_data(as_text=True) and "Glutenfri" not in page.get_data(as_text=True)


def test_other_members_never_see_someone_elses_special_needs(client, world, dbs, course):
    login_as(client, world.members["outside"].member_no, "member")
    assert "Glutenfri" not in client.get("/minside/").get_data(as_text=True)
    theirs = dbs.scalars(select(CourseApplication.id)
                         .where(CourseApplication.member_id == world.members["inside"].id)).one()
    response = client.get(f"/minside/applications/{theirs}/needs")
    assert response.status_code == 404 and "Glutenfri" not in response.get_data(as_text=True)
    assert client.post(f"/minside/applications/{theirs}/needs", data={"special_needs": "x"}).status_code == 404
    assert dbs.get(CourseApplication, theirs).special_needs == NEEDS


# ------------------------------------------------------------------ the member's side


def _application(dbs, member_id) -> CourseApplication:
    dbs.expire_all()
    return dbs.scalars(select(CourseApplication).where(CourseApplication.member_id == member_id)).one()


@pytest.fixture()
def open_course(clean_app):
    with clean_app.app_context():
        course_id = add_course()
        db.session.remove()
    return course_id


def test_member_gives_changes_and_removes_special_needs_until_the_deadline(client, world, dbs, open_course):
    login_as(client, world.logins["member"], "member")
    form = client.get(f"/minside/courses/{open_course}/apply").get_data(as_text=True)
    assert 'name="special_needs"' in form
    assert translated(client.application, "Special needs (optional)") in form
    assert "frivillig" in form and "Bare forbundskontoret" in form  # voluntary; who sees them
    assert client.post(f"/minside/courses/{open_course}/apply", data={"special_needs": NEEDS}).status_code == 302
    member_id = world.members["inside"].id
    application = _application(dbs, member_id)
    assert application.status == ApplicationStatus.applied and application.special_needs == NEEDS
    assert application.special_needs_given_at.date() == dt.date.today()
    page = client.get("/minside/").get_data(as_text=True)
    assert NEEDS in page and f"oppgitt av deg {dt.date.today():%d.%m.%Y}" in page

    client.post(f"/minside/applications/{application.id}/needs", data={"special_needs": "Vegetar"})
    assert _application(dbs, member_id).special_needs == "Vegetar"
    client.post(f"/minside/applications/{application.id}/needs", data={"special_needs": "  "})
    removed = _application(dbs, member_id)
    assert (removed.special_needs, removed.special_needs_given_at) == (None, None)
    actions = dbs.scalars(select(AuditEntry.details).where(AuditEntry.action == "course_special_needs")
                          .order_by(AuditEntry.id)).all()
    assert [json.loads(details)["special_needs"] for details in actions] == [True, False]
    assert not any("Vegetar" in details or "Glutenfri" in details for details in actions)  # never the text

    client.post(f"/minside/applications/{application.id}/needs", data={"special_needs": "Vegetar"})
    course = dbs.get(Course, open_course)
    course.application_deadline = dt.date.today() - dt.timedelta(days=1)
    dbs.commit()
    page = client.post(f"/minside/applications/{application.id}/needs", data={"special_needs": "Noe annet"},
                       follow_redirects=True).get_data(as_text=True)
    assert translated(client.application, "Special needs: the application deadline (%(date)s) has passed, so they "
                      "can no longer be changed here. Contact the union office.",
                      date=course.application_deadline.strftime("%d.%m.%Y")) in page
    assert _application(dbs, member_id).special_needs == "Vegetar"


def test_withdrawing_drops_the_special_needs(client, world, dbs, open_course):
    login_as(client, world.logins["member"], "member")
    client.post(f"/minside/courses/{open_course}/apply", data={"special_needs": NEEDS})
    application = _application(dbs, world.members["inside"].id)
    client.post(f"/minside/applications/{application.id}/withdraw")
    withdrawn = _application(dbs, world.members["inside"].id)
    assert (withdrawn.status, withdrawn.special_needs, withdrawn.special_needs_given_at) == (
        ApplicationStatus.withdrawn, None, None)


def test_too_long_special_needs_are_refused_naming_the_field_and_nothing_is_saved(client, world, dbs, open_course):
    app = client.application
    message = translated(app, "%(field)s: at most %(count)s characters.", field=translated(app, "Special needs"),
                         count=1000)
    assert message == "Særskilte behov: høyst 1000 tegn."
    login_as(client, world.logins["member"], "member")
    response = client.post(f"/minside/courses/{open_course}/apply", data={"special_needs": "x" * 1001})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page and "x" * 1001 in page  # the text is kept to shorten
    assert dbs.scalars(select(CourseApplication)).all() == []
    assert dbs.scalar(select(AuditEntry.id).where(AuditEntry.action == "apply_course")) is None

    client.post(f"/minside/courses/{open_course}/apply", data={"special_needs": "x" * 1000})  # the limit itself
    application = _application(dbs, world.members["inside"].id)
    assert len(application.special_needs) == 1000
    response = client.post(f"/minside/applications/{application.id}/needs", data={"special_needs": "y" * 1001})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    kept = _application(dbs, world.members["inside"].id)
    assert (kept.special_needs, kept.special_needs_given_at) == ("x" * 1000, application.special_needs_given_at)


def test_a_nul_byte_in_special_needs_is_refused_and_nothing_is_saved(client, app_ctx, world, open_course):
    login_as(client, world.logins["member"], "member")
    response = client.post(f"/minside/courses/{open_course}/apply", data={"special_needs": "Vegetar\x00"})
    assert response.status_code == 400 and "special_needs" in response.get_data(as_text=True)
    assert db.session.scalars(select(CourseApplication)).all() == []
    # The service refuses it too, whoever calls it, naming the field as the screen does.
    with app_ctx.test_request_context(), pytest.raises(RecordInvalid) as refused:
        courses.apply(world.members["inside"].id, open_course, special_needs="Vegetar\x00")
    assert refused.value.errors == {"special_needs": ["Særskilte behov: inneholder et tegn som ikke er tillatt (NUL)."]}
    db.session.rollback()
    assert db.session.scalars(select(CourseApplication)).all() == []


def test_applying_for_a_course_nobody_has_tells_so(client, world, dbs):
    login_as(client, world.logins["member"], "member")
    for method in ("GET", "POST"):
        page = client.open("/minside/courses/999999/apply", method=method, follow_redirects=True)
        assert translated(client.application, "Course: no such course.") in page.get_data(as_text=True)
    assert client.get("/minside/courses/99999999999999999999999/apply").status_code == 404  # beyond 64 bits
    assert dbs.scalars(select(CourseApplication)).all() == []


# ------------------------------------------------------------------ the purge


def test_the_purge_deletes_special_needs_the_day_after_the_keeping_days(app_ctx, world, course):
    keep = int(app_ctx.config["COURSE_SPECIAL_NEEDS_KEEP_DAYS"])
    assert keep == 30
    ends_on = db.session.get(Course, course).ends_on

    def needs() -> list[str | None]:
        db.session.expire_all()
        return [a.special_needs for a in db.session.scalars(
            select(CourseApplication).where(CourseApplication.special_needs.is_not(None)))]

    last_day = ends_on + dt.timedelta(days=keep)
    kept = retention.purge(today=last_day)
    assert kept.special_needs_forgotten == 0 and needs() == [NEEDS]
    dry = retention.purge(dry_run=True, today=last_day + dt.timedelta(days=1))
    assert dry.special_needs_forgotten == 1 and "would blank 1" in dry.summary()
    assert needs() == [NEEDS]

    result = retention.purge(today=last_day + dt.timedelta(days=1))
    assert result.special_needs_forgotten == 1 and result.special_needs_before == ends_on + dt.timedelta(days=1)
    assert f"ended before {ends_on + dt.timedelta(days=1):%Y-%m-%d}: blanked 1" in result.summary()
    assert needs() == []
    inside = db.session.scalars(select(CourseApplication)
                                .where(CourseApplication.member_id == world.members["inside"].id)).one()
    assert inside.special_needs_given_at is None and inside.status == ApplicationStatus.applied  # the seat stays
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "purge_special_needs")).one()
    assert json.loads(entry.details)["count"] == 1
    assert retention.purge(today=last_day + dt.timedelta(days=2)).special_needs_forgotten == 0  # nothing twice


# ------------------------------------------------------------------ the demo data


def test_the_demo_has_special_needs_on_courses_ahead_only_given_before_today(app_ctx, world):
    from seed.mypage import SPECIAL_NEEDS, seed_member_page

    today = dt.date(2026, 3, 1)
    seed_member_page(today=today)
    rows = db.session.execute(
        select(CourseApplication.special_needs, CourseApplication.special_needs_given_at, CourseApplication.applied_at,
               Course.starts_on)
        .join(Course, Course.id == CourseApplication.course_id)
        .where(CourseApplication.special_needs.is_not(None))
    ).all()
    assert 3 <= len(rows) <= 20 and {needs for needs, *_rest in rows} <= set(SPECIAL_NEEDS)
    for _needs, given_at, applied_at, starts_on in rows:
        assert starts_on > today and given_at == applied_at and given_at < dt.datetime.combine(today, dt.time())
    # A course ahead in the demo lists them for the office, marked as given by the member.
    course = db.session.get(Course, db.session.scalar(
        select(CourseApplication.course_id).where(CourseApplication.special_needs.is_not(None)).limit(1)))
    with app_ctx.test_request_context():
        cells = [row[5] for row in course_lists.full_list(course, today).rows if row[5]]
    assert cells and all("(oppgitt av medlemmet " in cell for cell in cells)


@postgres_only
def test_a_change_of_needs_racing_a_withdrawal_never_leaves_needs_on_a_withdrawn_application(live_server, world, dbs,
                                                                                              open_course):
    """One winner: whichever comes first, a withdrawn application keeps no special needs."""
    member_id = world.members["inside"].id
    for round_number in range(6):
        application = courses.apply(member_id, open_course, special_needs=f"Runde {round_number}")
        sessions = [browser_session(live_server, world.logins["member"]) for _ in range(2)]
        url = f"{live_server}/minside/applications/{application.id}"
        withdraw, change = sessions
        responses = fire_together([
            lambda s=withdraw, u=url: s.post(f"{u}/withdraw", allow_redirects=False),
            lambda s=change, u=url: s.post(f"{u}/needs", data={"special_needs": "Ny tekst"}, allow_redirects=False),
        ])
        assert [response.status_code for response in responses] == [302, 302]
        final = _application(dbs, member_id)
        assert (final.status, final.special_needs, final.special_needs_given_at) == (
            ApplicationStatus.withdrawn, None, None), round_number
