"""As a member, no other member's data, messages, documents or orders can be reached by any URL or API call.

A second member ('outside', with a login of its own) has one of everything; the
'inside' member tries every route of the member's page, of the messages and of
the APIs with those ids.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.helpers import api_token, login_as
from tests.mypage_helpers import add_course
from webapp.extensions import db
from webapp.models import (
    CourseApplication,
    EmploymentChange,
    Member,
    MemberDocument,
    Message,
    MessageThread,
    Prize,
    PrizeOrder,
    Recruitment,
)
from webapp.models.choices import ApplicationStatus, DocumentKind, OrderStatus, RequestStatus
from webapp.services import courses, messaging, recruitment


@pytest.fixture()
def other(clean_app, world):
    """One of everything for the 'outside' member; returns their ids."""
    outside = world.members["outside"]
    with clean_app.app_context():
        course_id = add_course(title="Kurs for Per")
        application = courses.apply(outside.id, course_id)
        db.session.add(MemberDocument(member_id=outside.id, kind=DocumentKind.letter, title="Brev til Per",
                                      created_at=dt.datetime.now(), body="Hemmelig brev"))
        db.session.add(Recruitment(recruiter_id=outside.id, recruit_id=None, fixed_points=500, note="Pers vervinger",
                                   recruited_on=dt.date(2017, 12, 1), registered_at=dt.datetime.now()))
        prize = Prize(name="Sekk", points=100, active=True)
        db.session.add(prize)
        db.session.add(EmploymentChange(member_id=outside.id, employer_id=world.employers["E2"].id,
                                        workplace_id=world.workplaces["W2"].id, start_date=dt.date(2026, 1, 1),
                                        position_pct=100, status=RequestStatus.pending, reported_at=dt.datetime.now()))
        db.session.commit()
        order = recruitment.order_prize(outside.id, prize.id, 1)
        thread = messaging.start_thread(subject="Pers sak", body="Pers hemmelighet", author_id=outside.user_id,
                                        from_party=True, member_id=outside.id, org_unit_id=None, notify=False)
        ids = {
            "member": outside.id, "employment": world.employments["outside"].id,
            "position": world.positions["outside"].id,
            "application": application.id, "course": course_id, "order": order.id, "prize": prize.id,
            "thread": thread.id,
            "document": db.session.scalar(select(MemberDocument.id).where(MemberDocument.member_id == outside.id)),
            "change": db.session.scalar(select(EmploymentChange.id)),
            "recruitment": db.session.scalar(select(Recruitment.id)),
        }
        db.session.remove()
    return ids


def counts(dbs) -> dict:
    dbs.expire_all()
    return {model.__name__: dbs.scalar(select(func.count()).select_from(model))
            for model in (CourseApplication, MemberDocument, Message, MessageThread, PrizeOrder, EmploymentChange,
                          Recruitment)}


def test_member_pages_never_show_another_members_rows(client, world, other, dbs):
    before = counts(dbs)
    login_as(client, world.logins["member"], "member")
    for url in ("/minside/", "/minside/shop", "/minside/courses", "/messages/"):
        page = client.get(url).get_data(as_text=True)
        for text in ("Per Utenfor", "Brev til Per", "Pers vervinger", "Pers sak", "Pers hemmelighet", "Arbeidssted W2"):
            assert text not in page, (url, text)

    # Direct URLs with the other member's ids.
    assert client.get(f"/minside/documents/{other['document']}").status_code == 404
    assert client.post(f"/minside/applications/{other['application']}/withdraw").status_code == 404
    assert client.get(f"/minside/employment?employment_id={other['employment']}").status_code == 404
    assert client.get(f"/messages/{other['thread']}").status_code == 404
    assert client.post(f"/messages/{other['thread']}/reply", data={"body": "Hei Per"}).status_code == 404
    # The page takes no member id: a forged one is ignored, the change lands on the member's own row.
    client.post("/minside/edit/membership", data={"travel_insurance": "1", "member_id": other["member"]})
    assert dbs.get(Member, other["member"]).magazine is True
    assert dbs.get(Member, world.members["inside"].id).magazine is False

    # Office screens behind the page are closed to members.
    for url in (f"/courseapplicationview/show/{other['application']}", "/courseapplicationview/list/",
                f"/prizeorderview/show/{other['order']}", f"/memberdocumentview/pdf/{other['document']}",
                f"/memberdocumentview/show/{other['document']}", f"/employmentchangeview/show/{other['change']}",
                f"/recruitmentview/show/{other['recruitment']}", "/recruitmentview/list/", "/courseview/list/"):
        assert client.get(url).status_code in (302, 403, 404), url
    assert client.post("/courseapplicationview/action_post",
                       data={"action": "complete", "rowid": [other["application"]]}).status_code in (302, 403, 404)
    assert client.post("/prizeorderview/action_post",
                       data={"action": "cancel", "rowid": [other["order"]]}).status_code in (302, 403, 404)

    # The APIs a member may read answer 404 for the other member's rows and list only the member's own.
    headers = api_token(client, world.logins["member"])
    for resource, key in (("member", "member"), ("employment", "employment"), ("position", "position")):
        assert client.get(f"/api/v1/{resource}/{other[key]}", headers=headers).status_code == 404
        listed = client.get(f"/api/v1/{resource}/", headers=headers).json
        assert other[key] not in listed["ids"]
    assert client.put(f"/api/v1/member/{other['member']}", json={"city": "Bergen"},
                      headers=headers).status_code in (403, 404, 405)

    assert counts(dbs) == before
    assert dbs.get(CourseApplication, other["application"]).status == ApplicationStatus.applied
    assert dbs.get(PrizeOrder, other["order"]).status == OrderStatus.ordered
    assert dbs.get(EmploymentChange, other["change"]).status == RequestStatus.pending


def test_the_other_member_sees_their_own(client, world, other):
    """The same rows are there for their owner (so the 404s above are about scope, not missing rows)."""
    login_as(client, world.members["outside"].member_no, "member")
    page = client.get("/minside/").get_data(as_text=True)
    assert "Brev til Per" in page and "Pers vervinger" in page and "Pers sak" in page and "Kurs for Per" in page
    assert client.get(f"/minside/documents/{other['document']}").status_code == 200
    assert client.get(f"/messages/{other['thread']}").status_code == 200
    assert "Sekk" in client.get("/minside/shop").get_data(as_text=True)
