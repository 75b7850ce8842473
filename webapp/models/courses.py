"""Courses the union office runs, and members' applications to them."""

from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from webapp.models.choices import ApplicationStatus, enum_column_type


class Course(Model):
    __tablename__ = "course"

    id = Column(Integer, primary_key=True)
    title = Column(String(150), nullable=False)
    description = Column(Text)
    place = Column(String(150), nullable=False)
    starts_on = Column(Date, nullable=False, index=True)
    ends_on = Column(Date, nullable=False)
    # Applying and withdrawing are open up to and including this day.
    application_deadline = Column(Date, nullable=False)
    capacity = Column(Integer, nullable=False)

    def __repr__(self) -> str:
        return f"{self.title} ({self.starts_on:%d.%m.%Y})" if self.starts_on else self.title


class CourseApplication(Model):
    __tablename__ = "course_application"

    id = Column(Integer, primary_key=True)
    course_id = Column(Integer, ForeignKey("course.id"), nullable=False, index=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    status = Column(enum_column_type(ApplicationStatus), nullable=False, default=ApplicationStatus.applied)
    applied_at = Column(DateTime, nullable=False)
    withdrawn_at = Column(DateTime)
    # Set when the office marks attendance complete; the certificate is available from then on.
    completed_at = Column(DateTime)
    # Special needs (diet, accessibility, ...) the member chose to give when applying; shown to the office only,
    # deleted by the privacy purge COURSE_SPECIAL_NEEDS_KEEP_DAYS after the course ends.
    special_needs = Column(String(1000))
    special_needs_given_at = Column(DateTime)

    course = relationship("Course", backref="applications")
    member = relationship("Member")

    __table_args__ = (UniqueConstraint("course_id", "member_id", name="uq_course_application_member"),)

    def __repr__(self) -> str:
        return f"{self.member} – {self.course}"
