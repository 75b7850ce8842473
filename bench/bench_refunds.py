"""A quarter's refund calculation beside one hand-written SQL statement, on the 100,000-member dataset.

    python bench/bench_refunds.py [--db URL] [--members N] [--runs 3] [--quarter YYYY-Qn]

The project: `refunds.calculate` (the service the CLI and the office's screen call): the snapshot of the counted
members stored in refund_member, the member-months grouped per home unit and category, the split and the stored
figures per unit. The SQL: the one INSERT ... SELECT that stores the same snapshot in refund_member (the bulk of
the result). Before each run the quarter's draft is removed and an empty draft run put in its place (the
snapshot's rows need a run); the draft is removed at the end. Refused for a quarter that is approved.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import Operation, add_only_argument, bench_app, bench_arguments, compare_operations

SNAPSHOT_SQL = """
INSERT INTO refund_member (run_id, unit_id, member_id, member_no, name, category, months)
SELECT :run_id, home_unit_id, id, member_no, last_name || ', ' || first_name, category, months
FROM (
    SELECT m.*,
           CASE WHEN m.joined_on <= :m1 AND (m.left_on IS NULL OR m.left_on >= :m1) THEN 1 ELSE 0 END
         + CASE WHEN m.joined_on <= :m2 AND (m.left_on IS NULL OR m.left_on >= :m2) THEN 1 ELSE 0 END
         + CASE WHEN m.joined_on <= :m3 AND (m.left_on IS NULL OR m.left_on >= :m3) THEN 1 ELSE 0 END AS months
    FROM member m
    WHERE m.category IN ({categories}) AND m.joined_on <= :m3 AND (m.left_on IS NULL OR m.left_on >= :m1)
) counted
WHERE months > 0
"""


def main() -> int:
    parser = bench_arguments(runs=3)
    parser.add_argument("--quarter", help="a quarter that is not approved (default: the last complete quarter)")
    add_only_argument(parser)
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from sqlalchemy import func, select, text

    from seed.refunds import ensure_default_policy, last_quarters
    from webapp.extensions import db
    from webapp.models import Member, RefundRun
    from webapp.models.choices import RefundStatus
    from webapp.services import refunds
    from webapp.services.periods import Quarter

    quarter = Quarter.parse(args.quarter) if args.quarter else last_quarters(dt.date.today(), 1)[0]
    with app.app_context():
        ensure_default_policy()
        existing = refunds.get_run(quarter)
        if existing is not None and existing.status == RefundStatus.approved:
            print(f"{quarter} is approved in this database; choose another with --quarter", file=sys.stderr)
            return 2
        pool = db.session.scalar(select(func.count(Member.id))) * 65_00
        terms = refunds.Terms.from_policy(refunds.policy_for(quarter))
        categories = ", ".join(f"'{category.name}'" for category in terms.counted_categories)
        snapshot = text(SNAPSHOT_SQL.format(categories=categories))
        months = {f"m{n}": month.first_day for n, month in enumerate(quarter.months, start=1)}

    def empty_draft() -> None:
        refunds.discard_draft(quarter)
        db.session.add(RefundRun(quarter=str(quarter), status=RefundStatus.draft, pool_ore=pool,
                                 pool_source="given", policy_valid_from=str(quarter),
                                 calculated_at=dt.datetime.now(), calculated_by="bench"))
        db.session.commit()

    def sql() -> None:
        db.session.execute(snapshot, {"run_id": refunds.get_run(quarter).id, **months})
        db.session.commit()

    operations = [
        Operation(f"refund calculation for {quarter}",
                  lambda: refunds.calculate(quarter, pool_ore=pool, actor="bench"), sql, before_each=empty_draft),
    ]
    status = compare_operations(app, operations, args, script=__file__)
    with app.app_context():
        refunds.discard_draft(quarter)
    return status


if __name__ == "__main__":
    sys.exit(main())
