"""Courses: members apply and withdraw until the deadline; the office marks attendance complete,
which gives each participant a certificate among their documents.

Special needs (diet, accessibility, ...) are the member's own choice to give, on the application: they can be
given, changed or removed until the deadline, are shown to the union office only (and go on the full participant
list for the venue and the course holder, webapp/services/course_lists.py), go when the application is withdrawn,
and are deleted by the privacy purge COURSE_SPECIAL_NEEDS_KEEP_DAYS after the course ends. The audit log records
that they were given or removed, never their text.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update

from webapp.extensions import db
from webapp.models import Course, CourseApplication, MemberDocument
from webapp.models.choices import ApplicationStatus, DocumentKind
from webapp.models.labels import field_label
from webapp.services import audit
from webapp.services.bounds import bounded_text
from webapp.services.pdf import render_pdf
from webapp.services.validation import FieldError, RecordInvalid

# Applications that hold a seat.
HOLDING_SEAT = (ApplicationStatus.applied, ApplicationStatus.completed)
# As long as the column: refused beyond it, never cut.
SPECIAL_NEEDS_MAX_LENGTH = CourseApplication.__table__.columns["special_needs"].type.length


class CourseError(ValueError):
    """An application or withdrawal was refused; the message says why."""


def seats_taken(course_ids: list[int]) -> dict[int, int]:
    if not course_ids:
        return {}
    rows = db.session.execute(
        select(CourseApplication.course_id, func.count(CourseApplication.id))
        .where(CourseApplication.course_id.in_(course_ids), CourseApplication.status.in_(HOLDING_SEAT))
        .group_by(CourseApplication.course_id)
    ).all()
    return dict(rows)


def upcoming_courses(today: dt.date) -> list[Course]:
    return db.session.scalars(select(Course).where(Course.ends_on >= today).order_by(Course.starts_on, Course.id)).all()


def applications_of(member_id: int) -> list[CourseApplication]:
    return db.session.scalars(
        select(CourseApplication).join(Course, Course.id == CourseApplication.course_id)
        .where(CourseApplication.member_id == member_id)
        .order_by(Course.starts_on.desc())
    ).all()


def certificates_of(member_id: int) -> dict[int, int]:
    """The member's course certificates: course application id -> id of its certificate document."""
    return dict(db.session.execute(
        select(MemberDocument.course_application_id, MemberDocument.id)
        .where(MemberDocument.member_id == member_id, MemberDocument.course_application_id.is_not(None))
    ).all())


def _date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def special_needs_text(value) -> str | None:
    """Special needs as the member typed them: stripped, None when blank. Longer than the column or holding a NUL
    byte: RecordInvalid naming the field (nothing is written)."""
    try:
        text = bounded_text(field_label(CourseApplication, "special_needs"), SPECIAL_NEEDS_MAX_LENGTH)(value)
    except FieldError as exc:
        raise RecordInvalid({"special_needs": [exc.message]}) from None
    return text or None


def apply(member_id: int, course_id: int, now: dt.datetime | None = None,
          special_needs: str | None = None) -> CourseApplication:
    """Apply for a seat, with the special needs the member chose to give (optional). The course row is locked, so
    two applications cannot both take the last seat."""
    now = now or dt.datetime.now()
    needs = special_needs_text(special_needs)
    try:
        course = db.session.scalars(select(Course).where(Course.id == course_id).with_for_update()).first()
        if course is None:
            raise CourseError(_("Course: no such course."))
        if now.date() > course.application_deadline:
            raise CourseError(_("Course: the application deadline (%(date)s) has passed.",
                                date=_date(course.application_deadline)))
        application = db.session.scalars(
            select(CourseApplication).where(CourseApplication.course_id == course.id,
                                            CourseApplication.member_id == member_id)
        ).first()
        if application is not None and application.status in HOLDING_SEAT:
            raise CourseError(_("Course: you have already applied for this course."))
        if seats_taken([course.id]).get(course.id, 0) >= course.capacity:
            raise CourseError(_("Course: the course is full."))
        if application is None:
            application = CourseApplication(course_id=course.id, member_id=member_id)
            db.session.add(application)
        application.status = ApplicationStatus.applied
        application.applied_at = now
        application.withdrawn_at = None
        application.special_needs = needs
        application.special_needs_given_at = now if needs else None
        db.session.flush()
        audit.record("apply_course", "course_application", application.id, member_id=member_id, course=course.id,
                     special_needs=needs is not None)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return application


def withdraw(application: CourseApplication, now: dt.datetime | None = None) -> None:
    """Withdraw an application: allowed up to and including the application deadline."""
    now = now or dt.datetime.now()
    course = application.course
    if application.status != ApplicationStatus.applied:
        raise CourseError(_("Withdraw: only an application that is still open can be withdrawn."))
    if now.date() > course.application_deadline:
        raise CourseError(_(
            "Withdraw: the application deadline (%(date)s) has passed, so the application can no longer be withdrawn. "
            "Contact the union office.", date=_date(course.application_deadline),
        ))
    application.status = ApplicationStatus.withdrawn
    application.withdrawn_at = now
    # Needed for the course only: a withdrawn application keeps none.
    application.special_needs = None
    application.special_needs_given_at = None
    audit.record("withdraw_course", "course_application", application.id, member_id=application.member_id,
                 course=course.id)
    db.session.commit()


def set_special_needs(application: CourseApplication, value, now: dt.datetime | None = None) -> bool:
    """Give, change or (blank) remove the special needs of an open application, up to and including the deadline.
    True when something changed. The update is conditional on the application still being open, so a withdrawal
    at the same moment wins or loses whole."""
    now = now or dt.datetime.now()
    needs = special_needs_text(value)
    course = application.course
    if application.status != ApplicationStatus.applied:
        raise CourseError(_("Special needs: only an application that is still open can be changed."))
    if now.date() > course.application_deadline:
        raise CourseError(_(
            "Special needs: the application deadline (%(date)s) has passed, so they can no longer be changed here. "
            "Contact the union office.", date=_date(course.application_deadline),
        ))
    if needs == application.special_needs:
        return False
    try:
        changed = db.session.execute(
            update(CourseApplication)
            .where(CourseApplication.id == application.id, CourseApplication.status == ApplicationStatus.applied)
            .values(special_needs=needs, special_needs_given_at=now if needs else None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not changed:
            raise CourseError(_("Special needs: only an application that is still open can be changed."))
        audit.record("course_special_needs", "course_application", application.id, member_id=application.member_id,
                     course=course.id, special_needs=needs is not None)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    db.session.refresh(application)
    return True


def mark_completed(application_ids: list[int], now: dt.datetime | None = None) -> int:
    """Mark attendance complete for open applications; each gets a certificate document. Returns how many.

    A second call for the same applications changes nothing.
    """
    now = now or dt.datetime.now()
    rows = db.session.execute(
        select(CourseApplication.id, CourseApplication.member_id, Course.title)
        .join(Course, Course.id == CourseApplication.course_id)
        .where(CourseApplication.id.in_(application_ids), CourseApplication.status == ApplicationStatus.applied)
    ).all()
    if not rows:
        return 0
    ids = [row.id for row in rows]
    try:
        db.session.execute(
            update(CourseApplication).where(CourseApplication.id.in_(ids))
            .values(status=ApplicationStatus.completed, completed_at=now)
        )
        db.session.execute(insert(MemberDocument), [
            {"member_id": row.member_id, "kind": DocumentKind.certificate, "created_at": now,
             "title": row.title, "course_application_id": row.id}
            for row in rows
        ])
        audit.record("complete_course", "course_application", None, applications=ids)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(rows)


def certificate_pdf(application: CourseApplication) -> bytes:
    if application.status != ApplicationStatus.completed:
        raise CourseError(_("Certificate: attendance is not marked complete yet."))
    return render_pdf(
        "pdf/course_certificate.html", member=application.member, course=application.course,
        completed_on=application.completed_at.date(), union_name=current_app.config["UNION_NAME"],
    )
