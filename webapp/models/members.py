"""Members, their employments and the positions (offices) they hold."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, Numeric, String, true
from sqlalchemy.orm import relationship

from webapp.models.choices import (
    ContactChoice,
    Gender,
    LeaveReason,
    MemberCategory,
    PositionType,
    enum_column_type,
)


class Member(Model):
    __tablename__ = "member"

    id = Column(Integer, primary_key=True)
    member_no = Column(String(8), unique=True, nullable=False)
    national_id = Column(String(11), unique=True, nullable=False)
    # Derived from national_id on save, so reports can group without parsing ids.
    birth_date = Column(Date)
    gender = Column(enum_column_type(Gender))
    first_name = Column(String(80), nullable=False)
    last_name = Column(String(80), nullable=False)
    address = Column(String(150))
    postcode = Column(String(4))
    city = Column(String(80))
    email_work = Column(String(254))
    email_private = Column(String(254))
    email_to = Column(enum_column_type(ContactChoice))
    mobile_work = Column(String(20))
    mobile_private = Column(String(20))
    preferred_mobile = Column(enum_column_type(ContactChoice))
    magazine = Column(Boolean, nullable=False, default=True)
    category = Column(enum_column_type(MemberCategory), nullable=False, default=MemberCategory.ordinary)
    home_unit_id = Column(Integer, ForeignKey("org_unit.id"), nullable=False, index=True)
    joined_on = Column(Date, nullable=False)
    left_on = Column(Date)
    leave_reason = Column(enum_column_type(LeaveReason))
    # The seniority date: joined_on, or earlier for a member who came from another LO union and kept it.
    seniority_on = Column(Date)
    travel_insurance = Column(Boolean, nullable=False, default=True)
    contents_insurance = Column(Boolean, nullable=False, default=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), unique=True)
    # Declared by the member on Min side; sets the direct dues of an ordinary member paying directly.
    income_band_id = Column(Integer, ForeignKey("income_band.id"))
    income_band_declared_on = Column(Date)
    # What the member wants from the union's send-outs, per channel (Min side, and the link in every e-mail).
    info_by_email = Column(Boolean, nullable=False, default=True, server_default=true())
    info_by_sms = Column(Boolean, nullable=False, default=True, server_default=true())
    surveys = Column(Boolean, nullable=False, default=True, server_default=true())
    # Set when the retention purge has removed name, contact data and national id.
    anonymised_at = Column(Date)

    home_unit = relationship("OrgUnit")
    user = relationship(User)
    income_band = relationship("IncomeBand")

    __table_args__ = (
        Index("ix_member_last_first", "last_name", "first_name"),
        Index("ix_member_unit_last_first", "home_unit_id", "last_name", "first_name"),
        # The member lists sort by these columns with the id as tie-breaker (migration a18b00000001, which also
        # adds the name search: trigram indexes on PostgreSQL, the FTS5 table member_name_search on SQLite).
        Index("ix_member_last_id", "last_name", "id"),
        Index("ix_member_first_id", "first_name", "id"),
        Index("ix_member_joined_id", "joined_on", "id"),
        Index("ix_member_left_id", "left_on", "id"),
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def seniority_date(self):
        """Member since, for seniority: the date kept from another LO union, else the join date."""
        return self.seniority_on or self.joined_on

    def __repr__(self) -> str:
        return f"{self.member_no} {self.full_name}"


class Employment(Model):
    __tablename__ = "employment"

    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    employer_id = Column(Integer, ForeignKey("employer.id"), nullable=False, index=True)
    workplace_id = Column(Integer, ForeignKey("workplace.id"), nullable=False, index=True)
    start_date = Column(Date, nullable=False)
    end_date = Column(Date)
    position_pct = Column(Numeric(5, 2), nullable=False, default=100)
    on_deduction = Column(Boolean, nullable=False, default=True)

    member = relationship("Member", backref="employments")
    employer = relationship("Employer")
    workplace = relationship("Workplace")

    def __repr__(self) -> str:
        return f"{self.member} @ {self.workplace}"


class Position(Model):
    __tablename__ = "position"

    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    type = Column(enum_column_type(PositionType), nullable=False)
    # An org unit for unit offices, a workplace for workplace trustees; or, for either, an employer's
    # region or operating unit (every workplace below it).
    org_unit_id = Column(Integer, ForeignKey("org_unit.id"), index=True)
    workplace_id = Column(Integer, ForeignKey("workplace.id"), index=True)
    operating_unit_id = Column(Integer, ForeignKey("operating_unit.id"), index=True)
    start_date = Column(Date, nullable=False)
    end_date = Column(Date)

    member = relationship("Member", backref="positions")
    org_unit = relationship("OrgUnit")
    workplace = relationship("Workplace")
    operating_unit = relationship("OperatingUnit")

    def __repr__(self) -> str:
        return f"{self.type} {self.org_unit or self.workplace or self.operating_unit}"
