"""Course participant lists, for the union office to hand on (the privacy statement names both uses).

- The full list, for the venue and the course holder: name, the member's chosen e-mail and mobile, address,
  employer (of the main employment current on the day the list is made) and the special needs the member chose
  to give on the application, marked as given by the member and when.
- The participants' list, for the other participants: name, workplace and e-mail. Nothing else: no phone, no
  address, no employer, never special needs.

Both hold the applications that have a seat (applied or completed), never the withdrawn ones, sorted by name.
Each is a PDF (services/pdf) and a CSV (the reports' writer, in the view): one `CourseList` feeds both, so the
two files of a list cannot differ in what they hold. Only the office downloads them, every download audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.models import Course, CourseApplication, Employer, Employment, Member, Workplace
from webapp.services.courses import HOLDING_SEAT
from webapp.services.membership import main_employment_rank
from webapp.services.mypage import chosen_email, chosen_mobile
from webapp.services.pdf import render_pdf
from webapp.services.periods import current_on_clause

FULL = "full"
PARTICIPANTS = "participants"
KINDS = (FULL, PARTICIPANTS)


@dataclass(frozen=True)
class Participant:
    """One application with a seat, with what either list may show of its member."""

    application: CourseApplication
    member: Member
    employer: str | None
    workplace: str | None


@dataclass(frozen=True)
class CourseList:
    course: Course
    kind: str
    made_on: dt.date
    header: list[str]
    rows: list[list[str]]

    @property
    def title(self) -> str:
        if self.kind == FULL:
            return _("Participant list for the venue and the course holder")
        return _("Participant list for the participants")

    def file_name(self, extension: str) -> str:
        stem = "deltakerliste-full" if self.kind == FULL else "deltakerliste"
        return f"{stem}-{self.course.id}.{extension}"


def participants(course: Course, day: dt.date | None = None) -> list[Participant]:
    """The course's applications with a seat, by name; each member's employer and workplace from their main
    employment current on `day` (today), in one query."""
    day = day or dt.date.today()
    ranked = (
        select(Employment.member_id, Employment.employer_id, Employment.workplace_id,
               main_employment_rank().label("rank"))
        .where(current_on_clause(Employment.start_date, Employment.end_date, day),
               Employment.member_id.in_(select(CourseApplication.member_id)
                                        .where(CourseApplication.course_id == course.id)))
        .subquery()
    )
    rows = db.session.execute(
        select(CourseApplication, Employer.name, Workplace.name)
        .join(Member, Member.id == CourseApplication.member_id)
        .outerjoin(ranked, (ranked.c.member_id == Member.id) & (ranked.c.rank == 1))
        .outerjoin(Employer, Employer.id == ranked.c.employer_id)
        .outerjoin(Workplace, Workplace.id == ranked.c.workplace_id)
        .where(CourseApplication.course_id == course.id, CourseApplication.status.in_(HOLDING_SEAT))
        .options(joinedload(CourseApplication.member).joinedload(Member.user))
        .order_by(Member.last_name, Member.first_name, Member.id)
    ).all()
    return [Participant(application, application.member, employer, workplace)
            for application, employer, workplace in rows]


def address_of(member: Member) -> str:
    place = " ".join(part for part in (member.postcode, member.city) if part)
    return ", ".join(part for part in (member.address, place) if part)


def special_needs_cell(application: CourseApplication) -> str:
    """The special needs as the office and the venue read them: marked as the member's own, with the date."""
    if not application.special_needs:
        return ""
    given = application.special_needs_given_at
    return _("%(needs)s (given by the member %(date)s)", needs=application.special_needs,
             date=given.strftime("%d.%m.%Y") if given else "–")


def full_list(course: Course, day: dt.date | None = None) -> CourseList:
    """For the venue and the course holder: name, e-mail, mobile, address, employer, special needs."""
    day = day or dt.date.today()
    header = [_("Name"), _("E-mail"), _("Mobile"), _("Address"), _("Employer"), _("Special needs")]
    rows = [
        [p.member.full_name, chosen_email(p.member) or "", chosen_mobile(p.member) or "", address_of(p.member),
         p.employer or "", special_needs_cell(p.application)]
        for p in participants(course, day)
    ]
    return CourseList(course, FULL, day, header, rows)


def participants_list(course: Course, day: dt.date | None = None) -> CourseList:
    """For the participants: name, workplace and e-mail only."""
    day = day or dt.date.today()
    header = [_("Name"), _("Workplace"), _("E-mail")]
    rows = [[p.member.full_name, p.workplace or "", chosen_email(p.member) or ""] for p in participants(course, day)]
    return CourseList(course, PARTICIPANTS, day, header, rows)


def course_list(course: Course, kind: str, day: dt.date | None = None) -> CourseList:
    """The list of `kind` (FULL or PARTICIPANTS); KeyError for any other."""
    return {FULL: full_list, PARTICIPANTS: participants_list}[kind](course, day)


def list_pdf(course_list: CourseList) -> bytes:
    """The list as a PDF: the course's title, place and dates; the full list landscape, marked confidential."""
    return render_pdf("pdf/course_list.html", course_list=course_list, course=course_list.course,
                      confidential=course_list.kind == FULL, union_name=current_app.config["UNION_NAME"])
