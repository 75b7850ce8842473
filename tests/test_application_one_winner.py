"""Concurrent approvals of enrollments over real HTTP, on PostgreSQL: member numbers stay unique, and one
application (or one person) becomes exactly one member however many office tabs approve it at once.

N office sessions release their requests together against the live server (tests/concurrency.py); the
member numbers come from a counter row locked by each approval (webapp/services/member_numbers.py) and the
application's status is claimed by a conditional update (webapp/services/applications.py).
"""

from __future__ import annotations

import datetime as dt
import html
import json

import pytest
from sqlalchemy import func, select

from tests.concurrency import browser_session, fire_together, postgres_only
from tests.factories import make_application
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    Member,
    MemberDocument,
    MembershipApplication,
    NumberCounter,
    OutboxMail,
)
from webapp.models.choices import EnrollmentStatus

pytestmark = postgres_only

N = 6


def in_app(app, work):
    with app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def add_applications(app, count: int, **fields) -> list[int]:
    def make():
        ids = [make_application(**fields).id for _ in range(count)]
        db.session.commit()
        return ids

    return in_app(app, make)


def approvals(live_server: str, world, application_ids: list[int]) -> list:
    """One office session per application id, all posting their approval at once; the responses."""
    sessions = [browser_session(live_server, world.logins["office"]) for _ in application_ids]
    form = {"member_from": dt.date.today().isoformat(), "home_unit_id": str(world.units["AV1"].id)}
    return fire_together([
        lambda s=s, a=a: s.post(f"{live_server}/applications/{a}/approve", data=form, allow_redirects=False)
        for s, a in zip(sessions, application_ids)
    ])


def register(app) -> dict:
    def read():
        user_model = app.appbuilder.sm.user_model
        return {
            "members": db.session.scalars(select(Member.member_no).order_by(Member.id)).all(),
            "counter": db.session.scalar(select(NumberCounter.last_value)),
            "logins": db.session.scalar(select(func.count(user_model.id)).where(user_model.username.like("75%"))),
            "letters": db.session.scalar(select(func.count(MemberDocument.id))),
            "mails": db.session.scalar(select(func.count(OutboxMail.id))),
            "approved": db.session.scalars(select(AuditEntry.details)
                                           .where(AuditEntry.action == "application_approved")).all(),
            "statuses": db.session.scalars(select(MembershipApplication.status)).all(),
        }

    return in_app(app, read)


def test_concurrent_approvals_of_different_applications_get_distinct_member_numbers(live_server, clean_app, world):
    ids = add_applications(clean_app, N)
    before = register(clean_app)
    responses = approvals(live_server, world, ids)
    assert [r.status_code for r in responses] == [302] * N, [r.text[-2000:] for r in responses if r.status_code != 302]
    after = register(clean_app)
    new_numbers = after["members"][len(before["members"]):]
    assert len(new_numbers) == len(set(new_numbers)) == N
    # The next N numbers of the series after the register's highest (75000008), each handed out once.
    assert sorted(new_numbers) == [str(75000009 + k) for k in range(N)]
    assert after["counter"] == 75000008 + N
    assert after["logins"] - before["logins"] == N and after["letters"] == N and after["mails"] == N
    assert after["statuses"] == [EnrollmentStatus.approved] * N


@pytest.mark.parametrize("counter_exists", [True, False])
def test_concurrent_approvals_of_one_application_make_one_member(live_server, clean_app, world, counter_exists):
    if counter_exists:  # otherwise the racing approvals also race to make the counter row
        in_app(clean_app, lambda: (db.session.add(NumberCounter(name="member_no", last_value=75000008)),
                                   db.session.commit()))
    [application_id] = add_applications(clean_app, 1)
    before = register(clean_app)
    responses = approvals(live_server, world, [application_id] * N)
    codes = sorted(r.status_code for r in responses)
    assert codes == [302] + [422] * (N - 1), codes
    refusals = {translated(clean_app, "Status: someone else decided the application just now; reload the page."),
                translated(clean_app, "Status: the application is already decided (%(status)s).",
                           status=translated(clean_app, "Approved"))}
    for response in (r for r in responses if r.status_code == 422):
        assert any(refusal in html.unescape(response.text) for refusal in refusals), response.text[-2000:]
    after = register(clean_app)
    assert len(after["members"]) == len(before["members"]) + 1
    assert after["members"][-1] == "75000009" and after["counter"] == 75000009
    assert (after["logins"] - before["logins"], after["letters"], after["mails"]) == (1, 1, 1)
    [details] = after["approved"]
    assert json.loads(details)["member_no"] == "75000009"


def test_concurrent_approvals_of_two_applications_of_one_person_make_one_member(live_server, clean_app, world):
    def make():
        first = make_application()
        second = make_application(national_id=first.national_id, email="samme.person@example.no")
        db.session.commit()
        return [first.id, second.id]

    ids = in_app(clean_app, make)
    responses = approvals(live_server, world, ids * (N // 2))
    assert sorted(r.status_code for r in responses) == [302] + [422] * (N - 1)
    after = register(clean_app)
    assert len(after["members"]) == 9 and after["letters"] == 1 and after["mails"] == 1
    assert sorted(s.name for s in after["statuses"]) == ["approved", "pending"]
    # Losers of the same application are told it was decided; losers of the other one that the person became a
    # member meanwhile (the national id's unique index decides), or, when they came later, that they are one.
    refusals = [translated(clean_app, "Status: someone else decided the application just now; reload the page."),
                translated(clean_app, "Application: another approval took the same national id, membership number "
                                      "or login at the same time; reload the page and try again."),
                translated(clean_app, "Status: the application is already decided (%(status)s).",
                           status=translated(clean_app, "Approved")),
                translated(clean_app, "National id: %(name)s is already a member (membership number %(number)s); "
                                      "reject the application instead.", name=in_app(clean_app, lambda: db.session
                                      .scalars(select(Member).where(Member.member_no == "75000009")).one().full_name),
                           number="75000009")]
    for response in (r for r in responses if r.status_code == 422):
        page = html.unescape(response.text)
        assert any(refusal in page for refusal in refusals), page[-2000:]
        assert "IntegrityError" not in page and "duplicate key" not in page
