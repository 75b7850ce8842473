"""Direct payment: the dues of members who pay the union themselves, by invoice or AvtaleGiro.

Money is integer øre throughout. A payment from the bank is a `Payment` (webapp.models.deductions); what of
it goes to which invoice is a `PaymentAllocation`; what of a member's payment no invoice took is the member's
credit.
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
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from webapp.models.choices import (
    InvoiceAdjustmentKind,
    InvoiceDelivery,
    InvoiceStatus,
    MemberCategory,
    PaymentMethod,
    enum_column_type,
)


class IncomeBand(Model):
    """A band of yearly income that an ordinary member paying directly declares; the dues depend on it."""

    __tablename__ = "income_band"

    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False, unique=True)
    lower_ore = Column(BigInteger, nullable=False)
    # Empty for the top band.
    upper_ore = Column(BigInteger)
    # The band used for an ordinary member who has declared none.
    is_default = Column(Boolean, nullable=False, default=False)

    def __repr__(self) -> str:
        lower = _whole_kroner(self.lower_ore)
        if self.upper_ore is None:
            return f"{lower} kr –"
        return f"{lower} – {_whole_kroner(self.upper_ore)} kr"


def _whole_kroner(ore: int) -> str:
    return f"{ore // 100:,}".replace(",", "\u00a0")


class DirectDuesRate(Model):
    """The monthly dues of a category (and, for ordinary members, an income band) from `valid_from`."""

    __tablename__ = "direct_dues_rate"

    id = Column(Integer, primary_key=True)
    valid_from = Column(Date, nullable=False, index=True)
    category = Column(enum_column_type(MemberCategory), nullable=False)
    income_band_id = Column(Integer, ForeignKey("income_band.id"), index=True)
    monthly_ore = Column(BigInteger, nullable=False)
    note = Column(String(200))

    income_band = relationship("IncomeBand")

    __table_args__ = (
        UniqueConstraint("valid_from", "category", "income_band_id", name="uq_direct_dues_rate"),
    )


class Invoice(Model):
    """A member's dues for a billing period (a quarter, or a month under AvtaleGiro), with its KID.

    `paid_ore`, `credited_ore` and `written_off_ore` are kept up to date with the allocations and
    adjustments in the same transaction, so that lists and the arrears filter read them without summing.
    """

    __tablename__ = "invoice"

    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    # "2027-Q1" or "2027-01"; first_month and month_count say which months it bills.
    period = Column(String(7), nullable=False, index=True)
    first_month = Column(String(7), nullable=False)
    month_count = Column(Integer, nullable=False)
    kid = Column(String(16), nullable=False, unique=True)
    method = Column(enum_column_type(PaymentMethod), nullable=False)
    issued_on = Column(Date, nullable=False)
    due_date = Column(Date, nullable=False, index=True)
    dues_ore = Column(BigInteger, nullable=False, default=0)
    contents_insurance_ore = Column(BigInteger, nullable=False, default=0)
    travel_insurance_ore = Column(BigInteger, nullable=False, default=0)
    amount_ore = Column(BigInteger, nullable=False)
    paid_ore = Column(BigInteger, nullable=False, default=0)
    credited_ore = Column(BigInteger, nullable=False, default=0)
    written_off_ore = Column(BigInteger, nullable=False, default=0)
    # open, partly_paid, paid, credited or written_off; "overdue" is derived from the due date.
    status = Column(enum_column_type(InvoiceStatus), nullable=False, default=InvoiceStatus.open)
    created_at = Column(DateTime, nullable=False)
    sent_at = Column(DateTime)
    delivery = Column(enum_column_type(InvoiceDelivery))
    sent_to = Column(String(254))
    first_reminder_on = Column(Date)
    second_reminder_on = Column(Date)

    member = relationship("Member")
    adjustments = relationship("InvoiceAdjustment", back_populates="invoice", order_by="InvoiceAdjustment.id")

    __table_args__ = (
        UniqueConstraint("member_id", "first_month", name="uq_invoice_member_first_month"),
        Index("ix_invoice_status_due", "status", "due_date"),
        # A period's invoices of one method (claims file, sending, recomputing), and the member-months they cover
        # (an invoice run's months billed already): member and month count are in the index, so that run reads a
        # range of the index and not a row of the table per invoice.
        Index("ix_invoice_first_month_method", "first_month", "method", "member_id", "month_count"),
    )

    @property
    def outstanding_ore(self) -> int:
        return self.amount_ore - self.credited_ore - self.written_off_ore - self.paid_ore

    def __repr__(self) -> str:
        return f"{self.period} {self.kid}"


class InvoiceAdjustment(Model):
    """A credit note or a write-off by the office, with its reason."""

    __tablename__ = "invoice_adjustment"

    id = Column(Integer, primary_key=True)
    invoice_id = Column(Integer, ForeignKey("invoice.id"), nullable=False, index=True)
    kind = Column(enum_column_type(InvoiceAdjustmentKind), nullable=False)
    amount_ore = Column(BigInteger, nullable=False)
    reason = Column(String(500), nullable=False)
    created_at = Column(DateTime, nullable=False)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))

    invoice = relationship("Invoice", back_populates="adjustments")
    created_by = relationship(User)


class AvtaleGiroMandate(Model):
    """A member's AvtaleGiro mandate as the bank reported it in an agreements file."""

    __tablename__ = "avtalegiro_mandate"

    id = Column(Integer, primary_key=True)
    # The KID the mandate was registered with; empty member when it names no member of ours.
    kid = Column(String(25), nullable=False, unique=True)
    member_id = Column(Integer, ForeignKey("member.id"), index=True)
    # The member asked the bank for notice of each claim.
    notify = Column(Boolean, nullable=False, default=False)
    active = Column(Boolean, nullable=False, default=True)
    registered_at = Column(DateTime, nullable=False)
    changed_at = Column(DateTime)
    deleted_at = Column(DateTime)
    import_id = Column(Integer, ForeignKey("payment_import.id"), index=True)

    member = relationship("Member")

    __table_args__ = (Index("ix_avtalegiro_mandate_member_active", "member_id", "active"),)


class PaymentAllocation(Model):
    """What of a member's payment went to an invoice (negative for a reversal taking it back)."""

    __tablename__ = "payment_allocation"

    id = Column(Integer, primary_key=True)
    payment_id = Column(Integer, ForeignKey("payment.id"), nullable=False, index=True)
    invoice_id = Column(Integer, ForeignKey("invoice.id"), nullable=False, index=True)
    amount_ore = Column(BigInteger, nullable=False)
    created_at = Column(DateTime, nullable=False)

    payment = relationship("Payment", backref="allocations")
    invoice = relationship("Invoice", backref="allocations")
