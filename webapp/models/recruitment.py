"""Recruitment: who recruited whom, the points it earns, and the prize shop."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from webapp.models.choices import OrderStatus, enum_column_type


class Recruitment(Model):
    __tablename__ = "recruitment"

    id = Column(Integer, primary_key=True)
    recruiter_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    # Empty for a lump entry (recruitments from before the register kept them one by one).
    recruit_id = Column(Integer, ForeignKey("member.id"), unique=True)
    recruited_on = Column(Date, nullable=False)
    # Points of a lump entry; other recruitments earn the configured points once the recruit has paid.
    fixed_points = Column(Integer)
    note = Column(String(200))
    registered_at = Column(DateTime, nullable=False)
    registered_by_id = Column(Integer, ForeignKey("ab_user.id"))

    recruiter = relationship("Member", foreign_keys=[recruiter_id])
    recruit = relationship("Member", foreign_keys=[recruit_id])
    registered_by = relationship(User)

    def __repr__(self) -> str:
        return f"{self.recruiter} → {self.recruit or self.note or ''}"


class Prize(Model):
    __tablename__ = "prize"

    id = Column(Integer, primary_key=True)
    name = Column(String(150), nullable=False)
    description = Column(Text)
    points = Column(Integer, nullable=False)
    active = Column(Boolean, nullable=False, default=True)

    __table_args__ = (CheckConstraint("points > 0", name="ck_prize_points_positive"),)

    def __repr__(self) -> str:
        return self.name


class PointsAccount(Model):
    """One row per member: the points spent. Orders lock it, so two orders cannot both spend the same points."""

    __tablename__ = "points_account"

    member_id = Column(Integer, ForeignKey("member.id"), primary_key=True)
    spent_points = Column(Integer, nullable=False, default=0)

    __table_args__ = (CheckConstraint("spent_points >= 0", name="ck_points_account_spent"),)


class PrizeOrder(Model):
    __tablename__ = "prize_order"

    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    prize_id = Column(Integer, ForeignKey("prize.id"), nullable=False, index=True)
    quantity = Column(Integer, nullable=False)
    points = Column(Integer, nullable=False)
    ordered_at = Column(DateTime, nullable=False)
    status = Column(enum_column_type(OrderStatus), nullable=False, default=OrderStatus.ordered)

    member = relationship("Member")
    prize = relationship("Prize")

    __table_args__ = (CheckConstraint("quantity > 0", name="ck_prize_order_quantity"),)

    def __repr__(self) -> str:
        return f"{self.quantity} × {self.prize}"
