"""Recruitment points (earned once the recruit has paid three months) and the prize shop that cannot overspend."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import select

from tests.helpers import login, login_as
from tests.mypage_helpers import deliver_list, translated
from webapp.extensions import db
from webapp.models import Member, PointsAccount, Prize, PrizeOrder, Recruitment
from webapp.models.choices import ListStatus, MemberCategory, OrderStatus
from webapp.services import recruitment


def recruit(recruiter_id: int, recruit_id: int | None = None, fixed_points: int | None = None) -> None:
    db.session.add(Recruitment(recruiter_id=recruiter_id, recruit_id=recruit_id, fixed_points=fixed_points,
                               recruited_on=dt.date(2026, 1, 1), registered_at=dt.datetime.now(),
                               note=None if recruit_id else "Vervinger før februar 2018"))
    db.session.commit()


def test_points_come_once_the_recruit_has_paid_three_distinct_months(app_ctx, world):
    inside, club = world.members["inside"].id, world.members["club"].id
    e1 = world.employers["E1"].id
    recruit(inside, club)
    deliver_list(e1, "2026-01", {club: 31250})
    deliver_list(e1, "2026-02", {club: 31250})
    deliver_list(e1, "2026-02", {club: 1000})  # a supplementary list: the same month
    deliver_list(e1, "2026-03", {club: None})  # a deviation: not paid
    deliver_list(e1, "2026-04", {club: 31250}, status=ListStatus.draft)  # not delivered
    deliver_list(e1, "2026-05", {inside: 31250})  # someone else
    [row] = recruitment.recruitments_of(inside)
    assert (row.months_paid, row.status, row.points) == (2, recruitment.WAITING, 0)
    deliver_list(e1, "2026-06", {club: 31250})
    [row] = recruitment.recruitments_of(inside)
    assert (row.months_paid, row.status, row.points) == (3, recruitment.EARNED, 100)
    assert recruitment.balance(inside) == 100


def test_months_and_points_are_configurable_and_students_excepted(app_ctx, world, monkeypatch):
    inside, outside = world.members["inside"].id, world.members["outside"].id
    member = db.session.get(Member, outside)
    member.category = MemberCategory.student
    db.session.commit()
    recruit(inside, outside)
    for period in ("2026-01", "2026-02", "2026-03"):
        deliver_list(world.employers["E2"].id, period, {outside: 5000})
    assert [r.status for r in recruitment.recruitments_of(inside)] == [recruitment.STUDENT]
    assert recruitment.earned_points(inside) == 0
    monkeypatch.setitem(app_ctx.config, "RECRUITMENT_STUDENTS_EARN", True)
    monkeypatch.setitem(app_ctx.config, "RECRUITMENT_POINTS", 250)
    assert recruitment.earned_points(inside) == 250
    monkeypatch.setitem(app_ctx.config, "RECRUITMENT_PAID_MONTHS", 4)
    assert recruitment.earned_points(inside) == 0


def _shop(app, member_id: int, points: int = 100, price: int = 60) -> int:
    with app.app_context():
        recruit(member_id, fixed_points=points)
        prize = Prize(name="Paraply", points=price, active=True)
        db.session.add(prize)
        db.session.commit()
        prize_id = prize.id
        db.session.remove()
    return prize_id


def test_shop_orders_within_the_points_only(client, clean_app, world, dbs):
    member_id = world.members["inside"].id
    prize_id = _shop(clean_app, member_id)
    login_as(client, world.logins["member"], "member")
    page = client.get("/minside/shop").get_data(as_text=True)
    assert "Paraply" in page
    client.post("/minside/shop/order", data={"prize_id": prize_id, "quantity": "1"})
    page = client.post("/minside/shop/order", data={"prize_id": prize_id, "quantity": "1"},
                       follow_redirects=True).get_data(as_text=True)
    assert translated(clean_app, "Points: the order costs %(cost)s points, but you have %(available)s.", cost=60,
                      available=40) in page
    page = client.post("/minside/shop/order", data={"prize_id": prize_id, "quantity": "0"},
                       follow_redirects=True).get_data(as_text=True)
    assert translated(clean_app, "Quantity: must be a whole number from 1 to %(max)s.", max=100) in page
    assert [o.points for o in dbs.scalars(select(PrizeOrder)).all()] == [60]
    assert dbs.get(PointsAccount, member_id).spent_points == 60
    assert 'id="points-balance">40<' in client.get("/minside/").get_data(as_text=True)


def test_office_cancels_an_order_and_the_points_come_back(client, clean_app, world, dbs):
    member_id = world.members["inside"].id
    prize_id = _shop(clean_app, member_id)
    with clean_app.app_context():
        order = recruitment.order_prize(member_id, prize_id, 1)
        order_id = order.id
        db.session.remove()
    login(client, world.logins["office"])
    assert "Paraply" in client.get("/prizeorderview/list/").get_data(as_text=True)
    client.post("/prizeorderview/action_post", data={"action": "cancel", "rowid": [order_id]})
    assert dbs.get(PrizeOrder, order_id).status == OrderStatus.cancelled
    assert dbs.get(PointsAccount, member_id).spent_points == 0


def test_two_concurrent_orders_over_the_points_exactly_one_succeeds(clean_app, world, monkeypatch):
    """Each order alone fits (60 of 100 points); both together do not. Run on PostgreSQL by CI."""
    member_id = world.members["inside"].id
    prize_id = _shop(clean_app, member_id)
    real_earned = recruitment.earned_points

    def slow_earned(member):  # widen the window between reading the balance and writing the order
        value = real_earned(member)
        time.sleep(0.3)
        return value

    monkeypatch.setattr(recruitment, "earned_points", slow_earned)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def order():
        with clean_app.app_context():
            barrier.wait()
            try:
                recruitment.order_prize(member_id, prize_id, 1)
                outcomes.append("ok")
            except recruitment.ShopError as exc:
                outcomes.append(f"refused: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=order) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    print(outcomes)
    assert sorted(o[:7] for o in outcomes) == ["ok", "refused"], outcomes
    with clean_app.app_context():
        assert db.session.scalar(select(PointsAccount.spent_points).where(PointsAccount.member_id == member_id)) == 60
        assert len(db.session.scalars(select(PrizeOrder)).all()) == 1
        assert recruitment.balance(member_id) == 40
        db.session.remove()
