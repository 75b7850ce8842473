"""Helpers for the tests of the member's own page: rows it shows, made directly."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext

from webapp.extensions import db
from webapp.models import Course, DeductionList, DeductionListLine, Member
from webapp.models.choices import ListKind, ListStatus


def translated(app, msgid: str, **values) -> str:
    """A msgid as the page shows it (the request's default language)."""
    with app.test_request_context():
        return gettext(msgid, **values)


def add_course(title: str = "Lønnsforhandlinger på Ås", starts_in: int = 30, deadline_in: int = 10, capacity: int = 10,
               place: str = "Ås") -> int:
    today = dt.date.today()
    course = Course(title=title, place=place, starts_on=today + dt.timedelta(days=starts_in),
                    ends_on=today + dt.timedelta(days=starts_in + 1),
                    application_deadline=today + dt.timedelta(days=deadline_in), capacity=capacity,
                    description="Forberedelse og krav")
    db.session.add(course)
    db.session.commit()
    return course.id


def deliver_list(employer_id: int, period: str, amounts: dict[int, int | None], status=ListStatus.delivered) -> int:
    """A deduction list for the month with {member_id: amount in øre (None = a deviation)}."""
    now = dt.datetime.now()
    deduction_list = DeductionList(employer_id=employer_id, period=period, kind=ListKind.main, status=status,
                                   created_at=now, delivered_at=now if status == ListStatus.delivered else None)
    db.session.add(deduction_list)
    db.session.flush()
    for member_id, amount in amounts.items():
        member = db.session.get(Member, member_id)
        db.session.add(DeductionListLine(list_id=deduction_list.id, member_id=member_id, national_id=member.national_id,
                                         name=member.full_name, amount_ore=amount))
    db.session.commit()
    return deduction_list.id
