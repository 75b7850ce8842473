"""Membership reports sent to LO and the employer associations: what went to whom, when, with which files."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from webapp.models.choices import EmployerAssociation, ReportKind, enum_column_type


class ReportDispatch(Model):
    """One sending of a report (all its files in one e-mail). A second sending for the same date is forced."""

    __tablename__ = "report_dispatch"

    id = Column(Integer, primary_key=True)
    kind = Column(enum_column_type(ReportKind), nullable=False)
    # Set for employer-association reports only.
    association = Column(enum_column_type(EmployerAssociation))
    report_date = Column(Date, nullable=False)
    member_total = Column(Integer, nullable=False)
    recipients = Column(String(1000), nullable=False)
    subject = Column(String(200), nullable=False)
    sent_at = Column(DateTime, nullable=False, index=True)
    sent_by = Column(String(128), nullable=False)
    user_id = Column(Integer, ForeignKey("ab_user.id"), index=True)
    forced = Column(Boolean, nullable=False, default=False)
    # JSON: [{"name": ..., "sha256": ..., "bytes": ...}] of the attachments, in the order sent.
    files = Column(Text, nullable=False)

    user = relationship(User)

    __table_args__ = (Index("ix_report_dispatch_report", "kind", "association", "report_date"),)

    def __repr__(self) -> str:
        return f"{self.kind} {self.association or ''} {self.report_date}"
