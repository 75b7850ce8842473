"""Demo data for the quarterly refunds, made through the real services.

The default policy (national associations 30 %, branches 55 %, clubs 15 %;
retired members not counted, students at half weight), a pool for each of the
last four complete quarters, and those quarters calculated and approved, so
that the units' documents sections are filled at first start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import delete, exists, func, select

from webapp.extensions import db
from webapp.models import Member, RefundMember, RefundPolicy, RefundPool, RefundRun, RefundUnit
from webapp.models.choices import RefundStatus
from webapp.services import refunds
from webapp.services.periods import Month, Quarter, covers_month_clause

DEFAULT_POLICY = {
    "valid_from": "2020-Q1",
    "pool_percent": Decimal(20),
    "share_national_association": Decimal(30),
    "share_branch": Decimal(55),
    "share_club": Decimal(15),
    "weight_ordinary": Decimal(1),
    "weight_apprentice": Decimal(1),
    "weight_student": Decimal("0.5"),
    "weight_retired": Decimal(0),
    "weight_unemployed": Decimal(1),
    "note": "Standard: 20 % av innbetalt kontingent; pensjonister telles ikke",
}


@dataclass
class RefundSeedResult:
    approved: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"refunds: {len(self.approved)} quarters approved ({', '.join(self.approved) or '-'})"
        if self.skipped:
            text += f"; skipped {', '.join(self.skipped)}"
        return text


def last_quarters(today: dt.date, count: int) -> list[Quarter]:
    """The last `count` complete quarters before today's, oldest first."""
    quarter = Month.of(today).quarter
    found = []
    for _ in range(count):
        quarter = quarter.previous
        found.append(quarter)
    return list(reversed(found))


def ensure_default_policy() -> RefundPolicy:
    policy = db.session.scalars(select(RefundPolicy).order_by(RefundPolicy.valid_from)).first()
    if policy is None:
        policy = RefundPolicy(**DEFAULT_POLICY)
        db.session.add(policy)
        db.session.commit()
    return policy


def demo_pool_ore(quarter: Quarter) -> int:
    """A plausible pool: some 60-70 kr per member of the quarter's last month, in whole hundreds of kroner."""
    members = db.session.scalar(
        select(func.count(Member.id)).where(covers_month_clause(Member.joined_on, Member.left_on, quarter.months[-1]))
    )
    per_member_ore = 6000 + 500 * (quarter.number % 3)
    return members * per_member_ore // 10_000 * 10_000


def _drop_orphaned_runs() -> None:
    """A reset of the register (`seed --reset`) empties the runs' unit rows with the units; drop what is left."""
    orphaned = select(RefundRun.id).where(~exists().where(RefundUnit.run_id == RefundRun.id))
    # The counted members have no foreign keys (the reset leaves them): those of runs gone or going go too.
    kept = select(RefundRun.id).where(exists().where(RefundUnit.run_id == RefundRun.id))
    db.session.execute(delete(RefundMember).where(RefundMember.run_id.not_in(kept)))
    db.session.execute(delete(RefundRun).where(RefundRun.id.in_(orphaned)))
    db.session.commit()


def seed_refunds(today: dt.date | None = None, quarters: int = 4) -> RefundSeedResult:
    result = RefundSeedResult()
    _drop_orphaned_runs()
    ensure_default_policy()
    for quarter in last_quarters(today or dt.date.today(), quarters):
        run = refunds.get_run(quarter)
        if run is not None and run.status == RefundStatus.approved:
            result.approved.append(str(quarter))
            continue
        if db.session.scalars(select(RefundPool).where(RefundPool.quarter == str(quarter))).first() is None:
            refunds.set_pool(quarter, demo_pool_ore(quarter), note="Demo")
            db.session.commit()
        try:
            refunds.calculate(quarter, actor="seed")
            refunds.approve(quarter, actor="seed")  # stores the counted members (the snapshot) too
        except refunds.RefundError:
            result.skipped.append(str(quarter))  # e.g. an empty register: nothing to share the pool with
            continue
        result.approved.append(str(quarter))
    return result
