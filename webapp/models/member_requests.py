"""Changes a member reports on their own page, for the union office to carry out."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import relationship

from webapp.models.choices import RequestStatus, enum_column_type


class EmploymentChange(Model):
    """A new employer/workplace as the member reports it.

    Approving it ends the replaced employment and adds the new one."""

    __tablename__ = "employment_change"

    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    # The employment the report corrects or replaces; empty for an additional job.
    employment_id = Column(Integer, ForeignKey("employment.id"), index=True)
    employer_id = Column(Integer, ForeignKey("employer.id"), nullable=False, index=True)
    workplace_id = Column(Integer, ForeignKey("workplace.id"), nullable=False, index=True)
    start_date = Column(Date, nullable=False)
    position_pct = Column(Numeric(5, 2), nullable=False)
    comment = Column(String(500))
    status = Column(enum_column_type(RequestStatus), nullable=False, default=RequestStatus.pending, index=True)
    reported_at = Column(DateTime, nullable=False)
    decided_at = Column(DateTime)
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"))
    new_employment_id = Column(Integer, ForeignKey("employment.id"))

    member = relationship("Member")
    employment = relationship("Employment", foreign_keys=[employment_id])
    new_employment = relationship("Employment", foreign_keys=[new_employment_id])
    employer = relationship("Employer")
    workplace = relationship("Workplace")
    decided_by = relationship(User)

    def __repr__(self) -> str:
        return f"{self.member}: {self.workplace}"
