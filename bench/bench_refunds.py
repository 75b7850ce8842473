"""A quarter's refund calculation and approval, each beside one hand-written SQL statement, on the 100,000-member
dataset.

    python bench/bench_refunds.py [--db URL] [--members N] [--runs 3] [--quarter YYYY-Qn]

"refund calculation": `refunds.calculate` (the service the CLI and the office's screen call): the counted members
and member-months grouped per home unit and category, the split and the stored figures per unit (a draft stores no
members). Its SQL: one grouped SELECT computing what the calculation distributes (COUNTS_SQL). Before each run the
quarter's draft is removed; the first run checks that the SELECT gives the draft's month counts.

"refund approval (snapshot)": `refunds.approve`: the counted members stored in refund_member (the snapshot the
approved quarter's member lists are printed from) and checked against the draft's figures. Its SQL: the
hand-written INSERT ... SELECT of the counted members into refund_member (SNAPSHOT_SQL). Before each run the
quarter is put back to a calculated draft without snapshot rows (on PostgreSQL refund_member vacuumed); the first
run checks that the snapshot holds the rows the SQL's SELECT gives.

At the end the quarter's draft is removed. Refused for a quarter that someone else than the benchmark approved.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, select, text

from bench.common import Operation, add_only_argument, bench_app, bench_arguments, compare_operations
from webapp.services.periods import Quarter

COUNTED_MEMBERS_SQL = """
SELECT home_unit_id, id, member_no, last_name || ', ' || first_name, category, months
FROM (
    SELECT m.home_unit_id, m.id, m.member_no, m.last_name, m.first_name, m.category,
           CASE WHEN m.joined_on <= :m1 AND (m.left_on IS NULL OR m.left_on >= :m1) THEN 1 ELSE 0 END
         + CASE WHEN m.joined_on <= :m2 AND (m.left_on IS NULL OR m.left_on >= :m2) THEN 1 ELSE 0 END
         + CASE WHEN m.joined_on <= :m3 AND (m.left_on IS NULL OR m.left_on >= :m3) THEN 1 ELSE 0 END AS months
    FROM member m
    WHERE m.category IN ({categories}) AND m.joined_on <= :m3 AND (m.left_on IS NULL OR m.left_on >= :m1)
) counted
WHERE months > 0
"""

COUNTS_SQL = ("SELECT home_unit_id, category, count(*), sum(months) FROM ("
              + COUNTED_MEMBERS_SQL + ") counted GROUP BY home_unit_id, category")

SNAPSHOT_SQL = ("INSERT INTO refund_member (run_id, unit_id, member_id, member_no, name, category, months)"
                + COUNTED_MEMBERS_SQL.replace("SELECT home_unit_id", "SELECT :run, home_unit_id", 1))

BENCH_ACTOR = "bench"


def reopen(run_id: int) -> None:
    """Put an approved run back to a draft without snapshot rows: the benchmark's (and its test's) back door, which
    the product does not have."""
    from sqlalchemy import delete, update

    from webapp.extensions import db
    from webapp.models import RefundMember, RefundRun
    from webapp.models.choices import RefundStatus

    db.session.execute(delete(RefundMember).where(RefundMember.run_id == run_id))
    db.session.execute(update(RefundRun).where(RefundRun.id == run_id)
                       .values(status=RefundStatus.draft, approved_at=None, approved_by=None))
    db.session.commit()
    db.session.expire_all()


@dataclass
class Setup:
    """What both operations work on: the quarter, its pool and the SQL's parameters."""

    quarter: Quarter
    pool_ore: int
    categories: str
    months: dict[str, dt.date]

    def statement(self, sql: str):
        return text(sql.format(categories=self.categories))


def no_draft(quarter: Quarter) -> None:
    """Remove the quarter's draft (after the approval's benchmark: its approval too)."""
    from webapp.models.choices import RefundStatus
    from webapp.services import refunds

    run = refunds.get_run(quarter)
    if run is not None and run.status == RefundStatus.approved:
        reopen(run.id)
    refunds.discard_draft(quarter)


def calculation(setup: Setup) -> Operation:
    from webapp.extensions import db
    from webapp.services import refunds

    counts = setup.statement(COUNTS_SQL)
    checked: list[bool] = []

    def sql() -> list:
        return db.session.execute(counts, setup.months).all()

    def project() -> None:
        run = refunds.calculate(setup.quarter, pool_ore=setup.pool_ore, actor=BENCH_ACTOR)
        if not checked:
            checked.append(True)
            expected = sorted((count.unit_id, count.category.name, count.members, count.member_months)
                              for count in refunds.month_counts(refunds.run_members(run)))
            got = sorted((unit_id, str(category).split(".")[-1], int(n), int(m)) for unit_id, category, n, m in sql())
            if got != expected:
                raise SystemExit("the SQL baseline does not give the run's month counts")

    return Operation(f"refund calculation for {setup.quarter}", project, sql,
                     before_each=lambda: no_draft(setup.quarter))


def approval(setup: Setup) -> Operation:
    from webapp.extensions import db
    from webapp.services import refunds

    snapshot = setup.statement(SNAPSHOT_SQL)
    draft: dict[str, int] = {}
    checked: list[bool] = []

    def calculated_draft() -> None:
        """The quarter as a calculated draft without snapshot rows; on PostgreSQL refund_member vacuumed (autovacuum
        is off on the bench server, and every run leaves its rows dead there for the next insert to wade through)."""
        run = refunds.get_run(setup.quarter)
        if run is None:
            run = refunds.calculate(setup.quarter, pool_ore=setup.pool_ore, actor=BENCH_ACTOR)
        else:
            reopen(run.id)
        draft["run"] = run.id
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE refund_member"))

    def sql() -> None:
        db.session.execute(snapshot, {"run": draft["run"], **setup.months})
        db.session.commit()

    def project() -> None:
        run, approved = refunds.approve(setup.quarter, actor=BENCH_ACTOR)
        if not approved:
            raise SystemExit(f"{setup.quarter} was not approved by this run")
        if not checked:
            checked.append(True)
            # Compared in the database: fetching ~900,000 rows twice into Python would be the process's peak memory.
            stored = ("SELECT unit_id, member_id, member_no, name, category, months FROM refund_member "
                      f"WHERE run_id = {run.id}")
            differences = setup.statement(f"SELECT (SELECT count(*) FROM ({stored}) s), "
                                          f"(SELECT count(*) FROM ({COUNTED_MEMBERS_SQL}) c), "
                                          f"(SELECT count(*) FROM ({stored} EXCEPT {COUNTED_MEMBERS_SQL}) d)")
            stored_rows, counted_rows, only_stored = db.session.execute(differences, setup.months).one()
            if stored_rows != counted_rows or only_stored or not counted_rows:
                raise SystemExit("the SQL baseline does not give the members the approval stored")

    return Operation(f"refund approval (snapshot) for {setup.quarter}", project, sql, before_each=calculated_draft)


def main() -> int:
    parser = bench_arguments(runs=3)
    parser.add_argument("--quarter", help="a quarter that is not approved (default: the last complete quarter)")
    add_only_argument(parser)
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from seed.refunds import ensure_default_policy, last_quarters
    from webapp.extensions import db
    from webapp.models import Member
    from webapp.models.choices import RefundStatus
    from webapp.services import refunds

    quarter = Quarter.parse(args.quarter) if args.quarter else last_quarters(dt.date.today(), 1)[0]
    with app.app_context():
        ensure_default_policy()
        existing = refunds.get_run(quarter)
        if existing is not None and existing.status == RefundStatus.approved and existing.approved_by != BENCH_ACTOR:
            print(f"{quarter} is approved in this database; choose another with --quarter", file=sys.stderr)
            return 2
        terms = refunds.Terms.from_policy(refunds.policy_for(quarter))
        setup = Setup(quarter, db.session.scalar(select(func.count(Member.id))) * 65_00,
                      ", ".join(f"'{category.name}'" for category in terms.counted_categories),
                      {f"m{n}": month.first_day for n, month in enumerate(quarter.months, start=1)})

    status = compare_operations(app, [calculation(setup), approval(setup)], args, script=__file__)
    with app.app_context():
        no_draft(quarter)
    return status


if __name__ == "__main__":
    sys.exit(main())
