"""The quarterly refund of dues to org units: the policy, the pools, and the frozen runs.

A run holds everything its documents show (per unit: the figures of the
calculation, copied when calculated; per member: the months counted, copied
when approved), so that later changes to the register or the policy never
alter an approved quarter's letters or lists.
"""

from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from webapp.models.choices import (
    MemberCategory,
    OrgLevel,
    RefundStatus,
    enum_column_type,
)

# The levels that share the pool, in the order the documents show them.
REFUND_LEVELS = (OrgLevel.national_association, OrgLevel.branch, OrgLevel.club)


class RefundPolicy(Model):
    """How a quarter's pool is found and split, in force from `valid_from` (a quarter) until the next policy."""

    __tablename__ = "refund_policy"

    id = Column(Integer, primary_key=True)
    valid_from = Column(String(7), nullable=False, unique=True)
    # The pool when no amount is set for the quarter: a fixed amount, or a share of the dues paid in the quarter.
    pool_ore = Column(BigInteger)
    pool_percent = Column(Numeric(5, 2))
    share_national_association = Column(Numeric(5, 2), nullable=False, default=Decimal(40))
    share_branch = Column(Numeric(5, 2), nullable=False, default=Decimal(60))
    share_club = Column(Numeric(5, 2), nullable=False, default=Decimal(0))
    weight_ordinary = Column(Numeric(4, 2), nullable=False, default=Decimal(1))
    weight_apprentice = Column(Numeric(4, 2), nullable=False, default=Decimal(1))
    weight_student = Column(Numeric(4, 2), nullable=False, default=Decimal(1))
    weight_retired = Column(Numeric(4, 2), nullable=False, default=Decimal(0))
    weight_unemployed = Column(Numeric(4, 2), nullable=False, default=Decimal(1))
    note = Column(String(200))

    def share_for(self, level: OrgLevel) -> Decimal:
        return Decimal(getattr(self, f"share_{level.name}") or 0)

    def weight_for(self, category: MemberCategory) -> Decimal:
        return Decimal(getattr(self, f"weight_{category.name}") or 0)

    def __repr__(self) -> str:
        return str(self.valid_from)


class RefundPool(Model):
    """The pool of one quarter, set by the office; it takes precedence over the policy's rule."""

    __tablename__ = "refund_pool"

    id = Column(Integer, primary_key=True)
    quarter = Column(String(7), nullable=False, unique=True)
    pool_ore = Column(BigInteger, nullable=False)
    note = Column(String(200))

    def __repr__(self) -> str:
        return str(self.quarter)


class RefundRun(Model):
    """One quarter's calculation: a draft until approved, then frozen."""

    __tablename__ = "refund_run"

    id = Column(Integer, primary_key=True)
    quarter = Column(String(7), nullable=False, unique=True)
    status = Column(enum_column_type(RefundStatus), nullable=False, default=RefundStatus.draft)
    pool_ore = Column(BigInteger, nullable=False)
    # Where the pool came from (see services.refunds.POOL_SOURCES) and, for a share, what was paid.
    pool_source = Column(String(20), nullable=False)
    paid_ore = Column(BigInteger)
    policy_valid_from = Column(String(7), nullable=False)
    member_count = Column(Integer, nullable=False, default=0)
    member_months = Column(Integer, nullable=False, default=0)
    calculated_at = Column(DateTime, nullable=False)
    calculated_by = Column(String(128))
    approved_at = Column(DateTime)
    approved_by = Column(String(128))

    units = relationship("RefundUnit", back_populates="run", cascade="all, delete-orphan", passive_deletes=True)

    def __repr__(self) -> str:
        return str(self.quarter)


class RefundUnit(Model):
    """Per run and unit: the unit as it was, the member-months under it, its level's share and its amount."""

    __tablename__ = "refund_unit"

    id = Column(Integer, primary_key=True)
    run_id = Column(Integer, ForeignKey("refund_run.id", ondelete="CASCADE"), nullable=False, index=True)
    org_unit_id = Column(Integer, ForeignKey("org_unit.id"), nullable=False, index=True)
    # The unit's parent at calculation time: the member list of a unit is its subtree as it was then.
    parent_unit_id = Column(Integer)
    code = Column(String(20), nullable=False)
    name = Column(String(150), nullable=False)
    level = Column(enum_column_type(OrgLevel), nullable=False)
    bank_account = Column(String(11))
    receives_refunds = Column(Boolean, nullable=False)
    member_count = Column(Integer, nullable=False, default=0)
    member_months = Column(Integer, nullable=False, default=0)
    weighted_months = Column(Numeric(14, 2), nullable=False, default=0)
    level_share_percent = Column(Numeric(5, 2), nullable=False, default=0)
    level_pool_ore = Column(BigInteger, nullable=False, default=0)
    level_weighted_months = Column(Numeric(14, 2), nullable=False, default=0)
    amount_ore = Column(BigInteger, nullable=False, default=0)

    run = relationship("RefundRun", back_populates="units")
    org_unit = relationship("OrgUnit")
    categories = relationship(
        "RefundUnitCategory", cascade="all, delete-orphan", passive_deletes=True, order_by="RefundUnitCategory.id"
    )

    __table_args__ = (UniqueConstraint("run_id", "org_unit_id", name="uq_refund_unit_run_unit"),)

    @property
    def quarter(self) -> str:
        return self.run.quarter if self.run else ""

    @property
    def status(self):
        return self.run.status if self.run else None

    def __repr__(self) -> str:
        return f"{self.code} {self.quarter}"


class RefundUnitCategory(Model):
    """Member-months of one category under a unit, and the weight they counted with."""

    __tablename__ = "refund_unit_category"

    id = Column(Integer, primary_key=True)
    refund_unit_id = Column(Integer, ForeignKey("refund_unit.id", ondelete="CASCADE"), nullable=False, index=True)
    category = Column(enum_column_type(MemberCategory), nullable=False)
    member_months = Column(Integer, nullable=False)
    weight = Column(Numeric(4, 2), nullable=False)


class RefundMember(Model):
    """A member counted in an approved run, under the home unit they had then, with the months counted (a draft
    has none: its lists read the register)."""

    __tablename__ = "refund_member"

    id = Column(Integer, primary_key=True)
    # No foreign keys: their per-row checks cost more than the snapshot's INSERT ... SELECT itself. The rows are
    # written only by services.refunds.approve, for the run it has just approved and the members' home units,
    # and deleted with their run explicitly (services.refunds._clear_run, seed.refunds).
    run_id = Column(Integer, nullable=False, info={"references": "refund_run"})
    unit_id = Column(Integer, nullable=False, info={"references": "org_unit"})
    # No link to member: the snapshot outlives changes to (or the removal of) the member row.
    member_id = Column(Integer, nullable=False)
    member_no = Column(String(8), nullable=False)
    name = Column(String(160), nullable=False)
    category = Column(enum_column_type(MemberCategory), nullable=False)
    months = Column(Integer, nullable=False)

    __table_args__ = (Index("ix_refund_member_run_unit", "run_id", "unit_id"),)


class RefundDocument(Model):
    """An approved quarter's letter or member list as first rendered, in one language.

    The figures behind it are frozen, so the file is too; it is kept so that a large unit's list
    (tens of thousands of members) is rendered once, not on every download. A privacy purge empties it.
    """

    __tablename__ = "refund_document"

    id = Column(Integer, primary_key=True)
    refund_unit_id = Column(Integer, ForeignKey("refund_unit.id", ondelete="CASCADE"), nullable=False)
    kind = Column(String(10), nullable=False)
    locale = Column(String(10), nullable=False)
    pdf = Column(LargeBinary, nullable=False)
    rendered_at = Column(DateTime, nullable=False)

    __table_args__ = (UniqueConstraint("refund_unit_id", "kind", "locale", name="uq_refund_document"),)
