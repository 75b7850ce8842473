"""The monthly deduction cycle: rates, basis, notices, deduction lists and payments.

Money is integer øre throughout.
"""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    BigInteger,
    Boolean,
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
    false,
)
from sqlalchemy.orm import relationship

from webapp.models.choices import (
    BasisChange,
    DeviationReason,
    ListKind,
    ListStatus,
    PaymentFileKind,
    ReconciliationStatus,
    enum_column_type,
)


class DuesRate(Model):
    """The dues rules in force from `valid_from` (until the next rate starts)."""

    __tablename__ = "dues_rate"

    id = Column(Integer, primary_key=True)
    valid_from = Column(Date, nullable=False, unique=True)
    percent = Column(Numeric(6, 3), nullable=False)
    monthly_min_ore = Column(BigInteger)
    monthly_max_ore = Column(BigInteger)
    contents_insurance_ore = Column(BigInteger, nullable=False)
    travel_insurance_ore = Column(BigInteger, nullable=False)
    apprentice_flat_ore = Column(BigInteger, nullable=False)
    note = Column(String(200))

    def __repr__(self) -> str:
        return f"{self.valid_from:%d.%m.%Y}: {self.percent} %"


class DeductionBasis(Model):
    """Per employer and month: who is to be deducted what. Also the reconciliation summary."""

    __tablename__ = "deduction_basis"

    id = Column(Integer, primary_key=True)
    employer_id = Column(Integer, ForeignKey("employer.id"), nullable=False, index=True)
    period = Column(String(7), nullable=False, index=True)
    kid = Column(String(16), nullable=False, unique=True)
    rate_id = Column(Integer, ForeignKey("dues_rate.id"), nullable=False)
    generated_at = Column(DateTime, nullable=False)
    notified_at = Column(DateTime)
    member_count = Column(Integer, nullable=False, default=0)
    change_count = Column(Integer, nullable=False, default=0)
    fixed_total_ore = Column(BigInteger, nullable=False, default=0)
    # Reconciliation, kept up to date when lists are delivered and payments imported.
    list_count = Column(Integer, nullable=False, default=0)
    delivered = Column(Boolean, nullable=False, default=False)
    reported_total_ore = Column(BigInteger, nullable=False, default=0)
    paid_total_ore = Column(BigInteger, nullable=False, default=0)
    not_reported_count = Column(Integer, nullable=False, default=0)
    unknown_reported_count = Column(Integer, nullable=False, default=0)
    deviation_count = Column(Integer, nullable=False, default=0)
    reconciliation_status = Column(enum_column_type(ReconciliationStatus), nullable=False,
                                   default=ReconciliationStatus.no_list)
    reconciliation_flags = Column(String(200), nullable=False, default="")

    employer = relationship("Employer")
    rate = relationship("DuesRate")
    lines = relationship("DeductionBasisLine", back_populates="basis", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("employer_id", "period", name="uq_deduction_basis_employer_period"),)

    def __repr__(self) -> str:
        return f"{self.employer.name if self.employer else self.employer_id} {self.period}"


class DeductionBasisLine(Model):
    """One member on an employer's basis for a month; STOP lines say who is no longer to be deducted."""

    __tablename__ = "deduction_basis_line"

    id = Column(Integer, primary_key=True)
    basis_id = Column(Integer, ForeignKey("deduction_basis.id"), nullable=False, index=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    employment_id = Column(Integer, ForeignKey("employment.id"))
    on_deduction = Column(Boolean, nullable=False, default=True)
    ordinary_dues = Column(Boolean, nullable=False, default=False)
    contents_insurance = Column(Boolean, nullable=False, default=False)
    travel_insurance = Column(Boolean, nullable=False, default=False)
    apprentice = Column(Boolean, nullable=False, default=False)
    fixed_amount_ore = Column(BigInteger, nullable=False, default=0)
    position_pct = Column(Numeric(5, 2))
    change = Column(enum_column_type(BasisChange))
    change_detail = Column(String(200))

    basis = relationship("DeductionBasis", back_populates="lines")
    member = relationship("Member")

    __table_args__ = (UniqueConstraint("basis_id", "member_id", name="uq_basis_line_member"),)


class DeductionNotice(Model):
    """An e-mail sent to a deduction contact about a month's basis."""

    __tablename__ = "deduction_notice"

    id = Column(Integer, primary_key=True)
    basis_id = Column(Integer, ForeignKey("deduction_basis.id"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    email = Column(String(320), nullable=False)
    subject = Column(String(200), nullable=False)
    sent_at = Column(DateTime, nullable=False)

    basis = relationship("DeductionBasis")
    user = relationship(User)


class DeductionReminder(Model):
    """A reminder to an employer's deduction contacts that the month's list has not been delivered: once per
    employer, month and kind (the 20th, the last day), by the unique constraint (two runs at once remind once)."""

    __tablename__ = "deduction_reminder"

    id = Column(Integer, primary_key=True)
    # The unique constraint's index starts with employer_id: it serves lookups by employer too.
    employer_id = Column(Integer, ForeignKey("employer.id", name="fk_deduction_reminder_employer"), nullable=False)
    period = Column(String(7), nullable=False)
    kind = Column(String(10), nullable=False)
    sent_at = Column(DateTime, nullable=False)
    # How many contacts the reminder was e-mailed to (the e-mails themselves are in the outbox).
    contact_count = Column(Integer, nullable=False, default=0)

    employer = relationship("Employer")

    __table_args__ = (UniqueConstraint("employer_id", "period", "kind", name="uq_deduction_reminder"),)


class DeductionList(Model):
    """What an employer reports it actually deducted for a month (a main or supplementary list)."""

    __tablename__ = "deduction_list"

    id = Column(Integer, primary_key=True)
    employer_id = Column(Integer, ForeignKey("employer.id"), nullable=False, index=True)
    period = Column(String(7), nullable=False, index=True)
    kind = Column(enum_column_type(ListKind), nullable=False, default=ListKind.main)
    status = Column(enum_column_type(ListStatus), nullable=False, default=ListStatus.draft)
    created_at = Column(DateTime, nullable=False)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    delivered_at = Column(DateTime)
    delivered_by_id = Column(Integer, ForeignKey("ab_user.id"))
    reopened_at = Column(DateTime)
    reopened_by_id = Column(Integer, ForeignKey("ab_user.id"))
    total_ore = Column(BigInteger, nullable=False, default=0)

    employer = relationship("Employer")
    created_by = relationship(User, foreign_keys=[created_by_id])
    delivered_by = relationship(User, foreign_keys=[delivered_by_id])
    reopened_by = relationship(User, foreign_keys=[reopened_by_id])
    lines = relationship(
        "DeductionListLine", back_populates="deduction_list", cascade="all, delete-orphan",
        order_by="DeductionListLine.id"
    )

    __table_args__ = (Index("ix_deduction_list_employer_period", "employer_id", "period"),)

    def __repr__(self) -> str:
        return f"{self.kind} {self.period}"

    @property
    def outside_basis_lines(self) -> str:
        """For the office: the lines of people not on the employer's basis, as the employer typed them."""
        return "; ".join(f"{line.name} ({line.national_id})" for line in self.lines if line.outside_basis)


class DeductionListLine(Model):
    __tablename__ = "deduction_list_line"

    id = Column(Integer, primary_key=True)
    list_id = Column(Integer, ForeignKey("deduction_list.id"), nullable=False, index=True)
    # Empty when the employer reports someone the union does not know.
    member_id = Column(Integer, ForeignKey("member.id"), index=True)
    national_id = Column(String(11), nullable=False)
    name = Column(String(160), nullable=False)
    amount_ore = Column(BigInteger)
    deviation = Column(enum_column_type(DeviationReason))
    comment = Column(String(500))
    # True when the contact reported someone who is not on the employer's basis for the month (a member of
    # another employer, a member paying privately, a stranger): the line holds only what the contact typed,
    # member_id stays empty, and the office resolves it. Kept even if the office links the member later, so
    # that the employer is never shown anything from the register for such a line (engineering rule 13).
    outside_basis = Column(Boolean, nullable=False, default=False, server_default=false())

    deduction_list = relationship("DeductionList", back_populates="lines")
    member = relationship("Member")

    @property
    def on_basis(self) -> bool:
        """True for a line of a member on the employer's basis: the employer may see the register's data of it."""
        return self.member_id is not None and not self.outside_basis

    @property
    def basis_member(self):
        """The member as the employer may see them: only for a line on the employer's basis."""
        return self.member if self.on_basis else None


class PaymentImport(Model):
    """One bank file (OCR giro transactions or AvtaleGiro agreements); its checksum makes a second import a no-op."""

    __tablename__ = "payment_import"

    id = Column(Integer, primary_key=True)
    filename = Column(String(255), nullable=False)
    kind = Column(enum_column_type(PaymentFileKind), nullable=False, default=PaymentFileKind.ocr,
                  server_default=PaymentFileKind.ocr.name)
    mandate_count = Column(Integer, nullable=False, default=0, server_default="0")
    sha256 = Column(String(64), nullable=False, unique=True)
    imported_at = Column(DateTime, nullable=False)
    imported_by = Column(String(128))
    transaction_count = Column(Integer, nullable=False, default=0)
    matched_count = Column(Integer, nullable=False, default=0)
    total_ore = Column(BigInteger, nullable=False, default=0)


class Payment(Model):
    """A bank transaction with KID: matched to an employer-month, or to a member (and their invoices), or not yet.

    The amount is signed: a reversal (Nets transaction types 18 and 20) or a transaction with the minus sign
    is negative. An unmatched payment waits in the office's queue until it is matched by hand or returned.
    """

    __tablename__ = "payment"

    id = Column(Integer, primary_key=True)
    import_id = Column(Integer, ForeignKey("payment_import.id"), nullable=False, index=True)
    bank_reference = Column(String(80), nullable=False, unique=True)
    kid = Column(String(25), nullable=False, index=True)
    transaction_type = Column(Integer)
    amount_ore = Column(BigInteger, nullable=False)
    paid_on = Column(Date)
    payer_account = Column(String(11))
    employer_id = Column(Integer, ForeignKey("employer.id"), index=True)
    period = Column(String(7), index=True)
    # A member's payment: its allocations go to the member's invoices, the rest is the member's credit.
    member_id = Column(Integer, ForeignKey("member.id"), index=True)
    matched_manually = Column(Boolean, nullable=False, default=False, server_default=false())
    matched_at = Column(DateTime)
    matched_by_id = Column(Integer, ForeignKey("ab_user.id"))
    returned_at = Column(DateTime)
    returned_by_id = Column(Integer, ForeignKey("ab_user.id"))
    return_reason = Column(String(500))

    payment_import = relationship("PaymentImport")
    employer = relationship("Employer")
    member = relationship("Member")
    matched_by = relationship(User, foreign_keys=[matched_by_id])
    returned_by = relationship(User, foreign_keys=[returned_by_id])

    __table_args__ = (Index("ix_payment_unmatched", "employer_id", "member_id", "returned_at"),)

    @property
    def matched(self) -> bool:
        return self.employer_id is not None or self.member_id is not None


class AuditEntry(Model):
    """Who did what, when, in which role: append-only through the app."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), index=True)
    username = Column(String(128))
    role = Column(String(32))
    scope = Column(String(64))
    action = Column(String(40), nullable=False)
    object_type = Column(String(40), nullable=False)
    object_id = Column(Integer, index=True)
    member_id = Column(Integer, index=True)
    details = Column(Text)

    user = relationship(User)
