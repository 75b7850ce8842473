"""A membership's life: online enrollment, transfers between LO unions, and the data the rules read
(the LO unions, the home-unit rules, postcodes, the terms and privacy statement as published)."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import relationship

from webapp.models.choices import (
    EnrollmentStatus,
    HomeUnitRuleKind,
    MemberCategory,
    PolicyKind,
    TransferDirection,
    WorkSituation,
    enum_column_type,
)


class LoUnion(Model):
    """A union in the LO confederation, for transfers in and out (data: seed/data/lo_unions.json)."""

    __tablename__ = "lo_union"

    id = Column(Integer, primary_key=True)
    code = Column(String(20), unique=True, nullable=False)
    name = Column(String(150), unique=True, nullable=False)
    org_number = Column(String(9))
    email = Column(String(254))
    active = Column(Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return self.name


class Postcode(Model):
    """Posten's postcode register: postcode → place, municipality and county."""

    __tablename__ = "postcode"

    code = Column(String(4), primary_key=True)
    place = Column(String(80), nullable=False)
    municipality = Column(String(80))
    county = Column(String(40), index=True)

    def __repr__(self) -> str:
        return f"{self.code} {self.place}"


class HomeUnitRule(Model):
    """Where a new or moving member belongs when their workplace does not say: an employer → a branch,
    a county → a branch (the fallback). A workplace's own unit (Workplace.org_unit_id) always comes first."""

    __tablename__ = "home_unit_rule"

    id = Column(Integer, primary_key=True)
    kind = Column(enum_column_type(HomeUnitRuleKind), nullable=False)
    employer_id = Column(Integer, ForeignKey("employer.id", name="fk_home_unit_rule_employer"), unique=True)
    county = Column(String(40), unique=True)
    org_unit_id = Column(Integer, ForeignKey("org_unit.id", name="fk_home_unit_rule_org_unit"), nullable=False,
                         index=True)

    employer = relationship("Employer")
    org_unit = relationship("OrgUnit")

    __table_args__ = (
        CheckConstraint(
            "(kind = 'employer' AND employer_id IS NOT NULL AND county IS NULL)"
            " OR (kind = 'county' AND county IS NOT NULL AND employer_id IS NULL)",
            name="ck_home_unit_rule_target",
        ),
    )

    def __repr__(self) -> str:
        return f"{self.employer or self.county} → {self.org_unit}"


class PolicyText(Model):
    """A published version of the membership terms or the privacy statement; the newest published one is
    shown on the enrollment page, and an application records the versions the applicant consented to."""

    __tablename__ = "policy_text"

    id = Column(Integer, primary_key=True)
    kind = Column(enum_column_type(PolicyKind), nullable=False)
    version = Column(String(20), nullable=False)
    published_on = Column(Date, nullable=False)
    title = Column(String(200), nullable=False)
    body = Column(Text, nullable=False)

    __table_args__ = (UniqueConstraint("kind", "version", name="uq_policy_text_kind_version"),)

    def __repr__(self) -> str:
        return f"{self.title} ({self.version})"


class NumberCounter(Model):
    """The last number handed out in a series (the member numbers), locked by whoever takes the next one."""

    __tablename__ = "number_counter"

    name = Column(String(40), primary_key=True)
    last_value = Column(BigInteger, nullable=False)


class MembershipApplication(Model):
    """An online enrollment (/innmelding) as the applicant typed it, until the office approves or rejects it."""

    __tablename__ = "membership_application"

    id = Column(Integer, primary_key=True)
    status = Column(enum_column_type(EnrollmentStatus), nullable=False, default=EnrollmentStatus.pending,
                    index=True)
    submitted_at = Column(DateTime, nullable=False, index=True)
    first_name = Column(String(80), nullable=False)
    last_name = Column(String(80), nullable=False)
    national_id = Column(String(11), nullable=False, index=True)
    address = Column(String(150), nullable=False)
    postcode = Column(String(4), nullable=False)
    city = Column(String(80), nullable=False)
    email = Column(String(254), nullable=False)
    mobile = Column(String(20))
    work_situation = Column(enum_column_type(WorkSituation), nullable=False)
    employer_id = Column(Integer, ForeignKey("employer.id", name="fk_application_employer"), index=True)
    workplace_id = Column(Integer, ForeignKey("workplace.id", name="fk_application_workplace"), index=True)
    # An employer the applicant could not find in the list, as typed.
    employer_text = Column(String(150))
    position_pct = Column(Numeric(5, 2))
    category = Column(enum_column_type(MemberCategory), nullable=False)
    travel_insurance = Column(Boolean, nullable=False, default=True)
    magazine = Column(Boolean, nullable=False, default=True)
    # "I come from another LO union": which, and since when (the seniority the member keeps).
    from_lo_union_id = Column(Integer, ForeignKey("lo_union.id", name="fk_application_lo_union"), index=True)
    from_union_since = Column(Date)
    terms_id = Column(Integer, ForeignKey("policy_text.id", name="fk_application_terms"), nullable=False)
    privacy_id = Column(Integer, ForeignKey("policy_text.id", name="fk_application_privacy"), nullable=False)
    # Flags for the office: a member with this national id (current = duplicate; left = re-join candidate).
    existing_member_id = Column(Integer, ForeignKey("member.id", name="fk_application_existing_member"), index=True)
    decided_at = Column(DateTime)
    decided_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_application_decided_by"))
    reject_reason = Column(String(500))
    member_id = Column(Integer, ForeignKey("member.id", name="fk_application_member"), index=True)

    employer = relationship("Employer")
    workplace = relationship("Workplace")
    from_lo_union = relationship("LoUnion")
    terms = relationship("PolicyText", foreign_keys=[terms_id])
    privacy = relationship("PolicyText", foreign_keys=[privacy_id])
    existing_member = relationship("Member", foreign_keys=[existing_member_id])
    member = relationship("Member", foreign_keys=[member_id])
    decided_by = relationship(User)

    __table_args__ = (
        Index("ix_application_status_submitted", "status", "submitted_at"),
        # The same person with the same address waits once: a form sent twice at the same moment makes one row.
        Index("uq_application_pending_person", "national_id", func.lower(email), unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __repr__(self) -> str:
        return f"{self.full_name} ({self.submitted_at:%d.%m.%Y})" if self.submitted_at else self.full_name


class MembershipTransfer(Model):
    """A membership moved between this union and another LO union.

    Incoming: the member keeps the seniority from the other union (`other_union_since`, copied to
    Member.seniority_on); `transfer_on` is the day the membership here began. Outgoing: the membership ends
    at the end of the month of `transfer_on` (Member.left_on, reason transferred)."""

    __tablename__ = "membership_transfer"

    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id", name="fk_transfer_member"), nullable=False, index=True)
    direction = Column(enum_column_type(TransferDirection), nullable=False)
    lo_union_id = Column(Integer, ForeignKey("lo_union.id", name="fk_transfer_lo_union"), nullable=False,
                         index=True)
    transfer_on = Column(Date, nullable=False, index=True)
    other_union_since = Column(Date)
    reference = Column(String(100))
    application_id = Column(Integer, ForeignKey("membership_application.id", name="fk_transfer_application"),
                            unique=True)
    registered_at = Column(DateTime, nullable=False)
    registered_by_id = Column(Integer, ForeignKey("ab_user.id", name="fk_transfer_registered_by"))

    member = relationship("Member", backref="transfers")
    lo_union = relationship("LoUnion")
    application = relationship("MembershipApplication")
    registered_by = relationship(User)

    def __repr__(self) -> str:
        return f"{self.member}: {self.direction} {self.lo_union}"
