"""A quarter's refund calculation beside one hand-written SQL statement, on the 100,000-member dataset.

    python bench/bench_refunds.py [--db URL] [--members N] [--runs 3] [--quarter YYYY-Qn]

The project: `refunds.calculate` (the service the CLI and the office's screen call): the snapshot of the counted
members stored in refund_member, the member-months grouped per home unit and category, the split and the stored
figures per unit. The SQL: one grouped SELECT computing what the calculation distributes, the counted members and
member-months per home unit and category in the quarter (`refunds.month_counts` of the run). Before each run the
quarter's draft is removed (on PostgreSQL refund_member vacuumed), and at the end; the first run checks that the
SELECT gives the run's month counts. Refused for a quarter that is approved.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import Operation, add_only_argument, bench_app, bench_arguments, compare_operations

COUNTS_SQL = """
SELECT home_unit_id, category, count(*), sum(months)
FROM (
    SELECT m.home_unit_id, m.category,
           CASE WHEN m.joined_on <= :m1 AND (m.left_on IS NULL OR m.left_on >= :m1) THEN 1 ELSE 0 END
         + CASE WHEN m.joined_on <= :m2 AND (m.left_on IS NULL OR m.left_on >= :m2) THEN 1 ELSE 0 END
         + CASE WHEN m.joined_on <= :m3 AND (m.left_on IS NULL OR m.left_on >= :m3) THEN 1 ELSE 0 END AS months
    FROM member m
    WHERE m.category IN ({categories}) AND m.joined_on <= :m3 AND (m.left_on IS NULL OR m.left_on >= :m1)
) counted
WHERE months > 0
GROUP BY home_unit_id, category
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
    from webapp.models import Member
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
        counts = text(COUNTS_SQL.format(categories=categories))
        months = {f"m{n}": month.first_day for n, month in enumerate(quarter.months, start=1)}

    def sql() -> list:
        return db.session.execute(counts, months).all()

    def project() -> None:
        run = refunds.calculate(quarter, pool_ore=pool, actor="bench")
        if not checked:
            checked.append(True)
            expected = sorted((count.unit_id, count.category.name, count.members, count.member_months)
                              for count in refunds.month_counts(run.id))
            got = sorted((unit_id, str(category).split(".")[-1], int(n), int(m)) for unit_id, category, n, m in sql())
            if got != expected:
                raise SystemExit("the SQL baseline does not give the run's month counts")

    checked: list[bool] = []

    def no_draft() -> None:
        """Remove the quarter's draft; on PostgreSQL vacuum its snapshot's rows away (autovacuum is off on the bench
        server, and every run leaves some 100,000 dead rows in refund_member that the next insert would wade
        through)."""
        refunds.discard_draft(quarter)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM refund_member"))

    operations = [
        Operation(f"refund calculation for {quarter}",
                  project, sql, before_each=no_draft),
    ]
    status = compare_operations(app, operations, args, script=__file__)
    with app.app_context():
        no_draft()
    return status


if __name__ == "__main__":
    sys.exit(main())
