"""Deduction contacts: logins at an employer's payroll office, one row per employer."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship


class DeductionContact(Model):
    __tablename__ = "deduction_contact"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    employer_id = Column(Integer, ForeignKey("employer.id"), nullable=False, index=True)
    phone = Column(String(20))
    start_date = Column(Date, nullable=False)
    # Set when the contact hands over; the row stays as history.
    end_date = Column(Date)
    added_by_id = Column(Integer, ForeignKey("ab_user.id"))

    user = relationship(User, foreign_keys=[user_id])
    employer = relationship("Employer", backref="contacts")
    added_by = relationship(User, foreign_keys=[added_by_id])

    def __repr__(self) -> str:
        return f"{self.user.username if self.user else self.user_id} @ {self.employer}"


class AccessRequest(Model):
    """Someone not yet registered asks to become a deduction contact; the office decides."""

    __tablename__ = "access_request"

    id = Column(Integer, primary_key=True)
    name = Column(String(160), nullable=False)
    email = Column(String(320), nullable=False)
    phone = Column(String(20))
    org_number = Column(String(9), nullable=False)
    employer_id = Column(Integer, ForeignKey("employer.id"), index=True)
    requested_at = Column(DateTime, nullable=False)
    # pending, approved or rejected
    status = Column(String(10), nullable=False, default="pending", index=True)
    decided_at = Column(DateTime)
    decided_by_id = Column(Integer, ForeignKey("ab_user.id"))
    user_id = Column(Integer, ForeignKey("ab_user.id"))

    employer = relationship("Employer")
    decided_by = relationship(User, foreign_keys=[decided_by_id])
    user = relationship(User, foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"{self.name} ({self.org_number})"
