"""Courses: the office manages them; members apply and withdraw until the deadline; certificates after attendance."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.helpers import login, login_as
from tests.mypage_helpers import add_course, translated
from webapp.extensions import db
from webapp.models import Course, CourseApplication, MemberDocument
from webapp.models.choices import ApplicationStatus, DocumentKind
from webapp.services import courses


@pytest.fixture()
def course_id(clean_app, world):
    with clean_app.app_context():
        course = add_course()
        db.session.remove()
    return course


def as_member(client, world, key="inside"):
    login_as(client, world.members[key].member_no if key != "inside" else world.logins["member"], "member")
    return client


def application_of(dbs, member_id) -> CourseApplication:
    dbs.expire_all()
    return dbs.scalars(select(CourseApplication).where(CourseApplication.member_id == member_id)).one()


def test_office_creates_a_course_and_the_rules_hold(client, world, dbs):
    login(client, world.logins["office"])
    today = dt.date.today()
    form = {"title": "Tariffkurs", "place": "Oslo", "starts_on": str(today + dt.timedelta(days=20)),
            "ends_on": str(today + dt.timedelta(days=21)), "application_deadline": str(today + dt.timedelta(days=25)),
            "capacity": "12", "description": ""}
    page = client.post("/courseview/add", data=form, follow_redirects=True).get_data(as_text=True)
    assert translated(client.application, "Start date: cannot be before the application deadline.") in page
    page = client.post("/courseview/add", data={**form, "application_deadline": str(today + dt.timedelta(days=5)),
                                                "capacity": "0"}, follow_redirects=True).get_data(as_text=True)
    assert translated(client.application, "%(field)s: must be a whole number above 0.",
                      field=translated(client.application, "Capacity")) in page
    assert dbs.scalars(select(Course)).all() == []
    client.post("/courseview/add", data={**form, "application_deadline": str(today + dt.timedelta(days=5))})
    assert dbs.scalars(select(Course.title)).all() == ["Tariffkurs"]


def test_member_applies_and_withdraws_before_the_deadline(client, world, dbs, course_id):
    as_member(client, world)
    assert "Lønnsforhandlinger på Ås" in client.get("/minside/courses").get_data(as_text=True)
    assert client.post(f"/minside/courses/{course_id}/apply").status_code == 302
    application = application_of(dbs, world.members["inside"].id)
    assert application.status == ApplicationStatus.applied
    assert "Lønnsforhandlinger på Ås" in client.get("/minside/").get_data(as_text=True)
    assert client.post(f"/minside/applications/{application.id}/withdraw").status_code == 302
    assert application_of(dbs, world.members["inside"].id).status == ApplicationStatus.withdrawn
    # Applying again after withdrawing is fine while the deadline holds.
    client.post(f"/minside/courses/{course_id}/apply")
    assert application_of(dbs, world.members["inside"].id).status == ApplicationStatus.applied


def test_withdrawing_after_the_deadline_is_refused(client, clean_app, world, dbs, course_id):
    as_member(client, world)
    client.post(f"/minside/courses/{course_id}/apply")
    application_id = application_of(dbs, world.members["inside"].id).id
    deadline = dt.date.today() - dt.timedelta(days=1)
    course = dbs.get(Course, course_id)
    course.application_deadline = deadline
    dbs.commit()
    page = client.post(f"/minside/applications/{application_id}/withdraw", follow_redirects=True).get_data(as_text=True)
    message = translated(clean_app,
                         "Withdraw: the application deadline (%(date)s) has passed, so the application can no "
                         "longer be withdrawn. Contact the union office.",
                         date=deadline.strftime("%d.%m.%Y"))
    assert message in page
    assert application_of(dbs, world.members["inside"].id).status == ApplicationStatus.applied
    # Nor can anyone apply any more.
    client.get("/logout/")
    as_member(client, world, "outside")
    page = client.post(f"/minside/courses/{course_id}/apply", follow_redirects=True).get_data(as_text=True)
    assert translated(clean_app, "Course: the application deadline (%(date)s) has passed.",
                      date=deadline.strftime("%d.%m.%Y")) in page
    outsiders = select(CourseApplication).where(CourseApplication.member_id == world.members["outside"].id)
    assert dbs.scalars(outsiders).all() == []


def test_capacity_is_respected(client, clean_app, world, dbs):
    with clean_app.app_context():
        course_id = add_course(capacity=1)
        db.session.remove()
    as_member(client, world)
    client.post(f"/minside/courses/{course_id}/apply")
    client.get("/logout/")
    as_member(client, world, "outside")
    page = client.post(f"/minside/courses/{course_id}/apply", follow_redirects=True).get_data(as_text=True)
    assert translated(clean_app, "Course: the course is full.") in page
    assert len(dbs.scalars(select(CourseApplication)).all()) == 1


def test_certificate_after_attendance_holds_the_members_name_and_the_course(client, world, dbs, course_id):
    as_member(client, world, "outside")  # Per Utenfor: a second member on the same course
    client.post(f"/minside/courses/{course_id}/apply")
    client.get("/logout/")
    as_member(client, world)
    client.post(f"/minside/courses/{course_id}/apply")
    application = application_of(dbs, world.members["inside"].id)
    # No certificate before attendance.
    assert "/minside/documents/" not in client.get("/minside/").get_data(as_text=True)
    client.get("/logout/")

    login(client, world.logins["office"])
    ids = [a.id for a in dbs.scalars(select(CourseApplication)).all()]
    assert client.post("/courseapplicationview/action_post",
                       data={"action": "complete", "rowid": ids}).status_code == 302
    assert courses.mark_completed(ids) == 0  # a second time changes nothing
    client.get("/logout/")

    as_member(client, world)
    document = dbs.scalars(select(MemberDocument).where(MemberDocument.member_id == world.members["inside"].id)).one()
    assert (document.kind, document.course_application_id) == (DocumentKind.certificate, application.id)
    page = client.get("/minside/").get_data(as_text=True)
    assert f"/minside/documents/{document.id}" in page
    response = client.get(f"/minside/documents/{document.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Kari Nordmann" in text and "Lønnsforhandlinger på Ås" in text
    assert "Per Utenfor" not in text
    # The other participant's certificate is not reachable.
    other = dbs.scalars(select(MemberDocument).where(MemberDocument.member_id == world.members["outside"].id)).one()
    assert client.get(f"/minside/documents/{other.id}").status_code == 404
