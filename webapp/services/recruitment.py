"""Recruitment points and the prize shop.

A recruitment earns RECRUITMENT_POINTS once the recruit has paid dues in
RECRUITMENT_PAID_MONTHS different months, where "paid" means an amount on a
delivered deduction list of that month. Students earn nothing unless
RECRUITMENT_STUDENTS_EARN is set. Lump entries (recruitments from before the
register kept them one by one) carry their own points.

Earned points are computed from the register; spent points are kept on one
row per member (PointsAccount). An order locks that row (SELECT ... FOR UPDATE)
and only then compares the cost with what is left, so two orders at once
cannot both spend the same points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import distinct, func, select, update
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import DeductionList, DeductionListLine, Member, PointsAccount, Prize, PrizeOrder, Recruitment
from webapp.models.choices import ListStatus, MemberCategory, OrderStatus
from webapp.services import audit, transitions

MAX_QUANTITY = 100

EARNED, WAITING, STUDENT, LUMP = "earned", "waiting", "student", "lump"


class ShopError(ValueError):
    """An order was refused; the message says why."""


@dataclass(frozen=True)
class RecruitmentRow:
    recruitment: Recruitment
    recruit: Member | None
    months_paid: int
    status: str
    points: int


def settings() -> tuple[int, int, bool]:
    config = current_app.config
    return (int(config.get("RECRUITMENT_POINTS", 100)), int(config.get("RECRUITMENT_PAID_MONTHS", 3)),
            bool(config.get("RECRUITMENT_STUDENTS_EARN", False)))


def paid_months_query(recruit_ids):
    """(member_id, months): the number of distinct months each recruit has paid dues, in one query."""
    return (
        select(DeductionListLine.member_id.label("member_id"),
               func.count(distinct(DeductionList.period)).label("months"))
        .join(DeductionList, DeductionList.id == DeductionListLine.list_id)
        .where(
            DeductionList.status == ListStatus.delivered,
            DeductionListLine.amount_ore > 0,
            DeductionListLine.member_id.in_(recruit_ids),
        )
        .group_by(DeductionListLine.member_id)
    )


def recruitments_of(member_id: int) -> list[RecruitmentRow]:
    points, months_needed, students_earn = settings()
    recruits = select(Recruitment.recruit_id).where(Recruitment.recruiter_id == member_id,
                                                    Recruitment.recruit_id.is_not(None))
    paid = paid_months_query(recruits).subquery()
    rows = db.session.execute(
        select(Recruitment, Member, paid.c.months)
        .outerjoin(Member, Member.id == Recruitment.recruit_id)
        .outerjoin(paid, paid.c.member_id == Recruitment.recruit_id)
        .where(Recruitment.recruiter_id == member_id)
        .order_by(Recruitment.recruited_on.desc(), Recruitment.id.desc())
    ).all()
    result = []
    for recruitment, recruit, months in rows:
        months = months or 0
        if recruit is None:
            status, earned = LUMP, recruitment.fixed_points or 0
        elif recruit.category == MemberCategory.student and not students_earn:
            status, earned = STUDENT, 0
        elif months >= months_needed:
            status, earned = EARNED, points
        else:
            status, earned = WAITING, 0
        result.append(RecruitmentRow(recruitment, recruit, months, status, earned))
    return result


@dataclass(frozen=True)
class Points:
    earned: int
    spent: int

    @property
    def balance(self) -> int:
        return self.earned - self.spent


def points_earned_by(recruitments: list[RecruitmentRow]) -> int:
    return sum(row.points for row in recruitments)


def earned_points(member_id: int) -> int:
    return points_earned_by(recruitments_of(member_id))


def spent_points(member_id: int) -> int:
    return db.session.scalar(select(PointsAccount.spent_points).where(PointsAccount.member_id == member_id)) or 0


def points_of(member_id: int, recruitments: list[RecruitmentRow] | None = None) -> Points:
    """Earned, spent and the balance left to spend (`recruitments`: the member's rows, when the caller has them)."""
    earned = earned_points(member_id) if recruitments is None else points_earned_by(recruitments)
    return Points(earned, spent_points(member_id))


def balance(member_id: int) -> int:
    return points_of(member_id).balance


def orders_of(member_id: int) -> list[PrizeOrder]:
    return db.session.scalars(
        select(PrizeOrder)
        .where(PrizeOrder.member_id == member_id)
        .order_by(PrizeOrder.ordered_at.desc(), PrizeOrder.id.desc())
    ).all()


def prizes() -> list[Prize]:
    return db.session.scalars(select(Prize).where(Prize.active.is_(True)).order_by(Prize.points, Prize.name)).all()


def _ensure_account(member_id: int) -> None:
    if db.session.get(PointsAccount, member_id) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(PointsAccount(member_id=member_id, spent_points=0))
    except IntegrityError:
        pass  # made by a concurrent order a moment ago: fine, it is there now


def _locked_account(member_id: int) -> PointsAccount:
    _ensure_account(member_id)
    return db.session.scalars(
        select(PointsAccount).where(PointsAccount.member_id == member_id)
        .with_for_update().execution_options(populate_existing=True)
    ).one()


def _quantity(value) -> int:
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        quantity = 0
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ShopError(_("Quantity: must be a whole number from 1 to %(max)s.", max=MAX_QUANTITY))
    return quantity


def order_prize(member_id: int, prize_id: int, quantity, now: dt.datetime | None = None) -> PrizeOrder:
    """Order a prize, if the member has the points. Nothing is written when refused."""
    now = now or dt.datetime.now()
    quantity = _quantity(quantity)
    for _attempt in range(3):
        try:
            order = _try_order(member_id, prize_id, quantity, now)
        except Exception:
            db.session.rollback()
            raise
        if order is not None:
            return order
        db.session.rollback()  # the balance changed under us: read it again
    raise ShopError(_("Points: another order changed your points at the same time; try again."))


def _try_order(member_id: int, prize_id: int, quantity: int, now: dt.datetime) -> PrizeOrder | None:
    prize = db.session.get(Prize, prize_id)
    if prize is None or not prize.active:
        raise ShopError(_("Prize: this prize is not in the shop."))
    cost = prize.points * quantity
    account = _locked_account(member_id)
    available = earned_points(member_id) - account.spent_points
    if cost > available:
        raise ShopError(_("Points: the order costs %(cost)s points, but you have %(available)s.",
                          cost=cost, available=max(available, 0)))
    # The row is locked on PostgreSQL; on engines without row locks (SQLite) this compare-and-set
    # refuses a write based on a balance that went stale meanwhile.
    changed = db.session.execute(
        update(PointsAccount)
        .where(PointsAccount.member_id == member_id, PointsAccount.spent_points == account.spent_points)
        .values(spent_points=PointsAccount.spent_points + cost)
    ).rowcount
    if changed != 1:
        return None
    order = PrizeOrder(member_id=member_id, prize_id=prize.id, quantity=quantity, points=cost, ordered_at=now,
                       status=OrderStatus.ordered)
    db.session.add(order)
    db.session.flush()
    audit.record("order_prize", "prize_order", order.id, member_id=member_id, prize=prize.id, quantity=quantity,
                 points=cost)
    db.session.commit()
    return order


def cancel_order(order: PrizeOrder) -> None:
    """The office cancels an order that has not been sent; its points are given back, once.

    The order leaves 'ordered' in one conditional update before the points move: of concurrent
    cancellations (or a cancellation racing 'sent') exactly one wins."""
    try:
        if not transitions.claim(PrizeOrder, order.id, OrderStatus.ordered, status=OrderStatus.cancelled):
            raise ShopError(_("Status: only an order that has not been sent can be cancelled."))
        _locked_account(order.member_id)
        db.session.execute(
            update(PointsAccount).where(PointsAccount.member_id == order.member_id)
            .values(spent_points=PointsAccount.spent_points - order.points)
        )
        audit.record("cancel_prize_order", "prize_order", order.id, member_id=order.member_id, points=order.points)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def mark_sent(order: PrizeOrder) -> None:
    if not transitions.claim(PrizeOrder, order.id, OrderStatus.ordered, status=OrderStatus.sent):
        db.session.rollback()
        raise ShopError(_("Status: only an order that has not been sent can be marked as sent."))
    audit.record("send_prize_order", "prize_order", order.id, member_id=order.member_id)
    db.session.commit()
