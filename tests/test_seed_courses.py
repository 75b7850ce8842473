"""The demo courses: applications are dated in the past, before each course's deadline, also for courses ahead."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from seed.mypage import seed_member_page
from webapp.extensions import db
from webapp.models import Course, CourseApplication


def test_demo_applications_are_dated_in_the_past(app_ctx, world):
    today = dt.date(2026, 3, 1)
    seed_member_page(today=today)
    now = dt.datetime.combine(today, dt.time(9))
    rows = db.session.execute(select(CourseApplication.applied_at, Course.application_deadline, Course.starts_on)
                              .join(Course, Course.id == CourseApplication.course_id)).all()
    assert any(starts_on > today for _applied, _deadline, starts_on in rows)  # courses ahead have applicants too
    for applied_at, deadline, _starts_on in rows:
        assert applied_at < now and applied_at.date() <= deadline
