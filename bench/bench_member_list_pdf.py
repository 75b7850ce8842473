"""The refund member list of a large unit as PDF (and as CSV and XLSX) at 30,000 and 350,000 rows.

    python bench/bench_member_list_pdf.py [--db URL] [--members 100000] [--rows 30000,350000] [--runs 3]

No unit of the 100,000-member dataset counts 350,000 members, so the rows are synthesised in the database: for
each size a refund run of its own (quarters 2000-Q1, 2000-Q2, ...: no real run uses them) gets a copy of the
organisation tree as its units and the dataset's members as its counted members, repeated until there are
`--rows` of them (member numbers and names repeat; home units are the members' own). The list is that of the
top unit (every home unit is a section of it), rendered through `reports.refunds.render_member_list` as the job
does. The SQL baseline is the one statement reading the same rows in list order: the PDF has no SQL equivalent,
so the ratio is what laying out and writing the document costs beyond fetching its rows. The synthetic runs are
deleted at the end. Targets (issue 18): 30,000 rows under 3 s, 350,000 under 30 s, memory flat. A second table
gives each size's PDF alone in a process of its own: seconds, CPU seconds and peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import Operation, add_only_argument, bench_app, bench_arguments, compare_operations, peak_rss_mib


def quarter_for(index: int) -> str:
    return f"2000-Q{index + 1}"


def make_run(quarter: str, rows: int) -> None:
    """An approved refund run of `quarter` whose top unit counts `rows` members (the dataset's, repeated): approved,
    so that its lists read the members stored here (a draft's count the register)."""
    from sqlalchemy import func, select, text

    from webapp.extensions import db
    from webapp.models import Member, RefundRun
    from webapp.models.choices import RefundStatus

    run = RefundRun(quarter=quarter, status=RefundStatus.approved, pool_ore=0, pool_source="bench",
                    policy_valid_from="2000-Q1", calculated_at=dt.datetime.now(), calculated_by="bench",
                    approved_at=dt.datetime.now(), approved_by="bench")
    db.session.add(run)
    db.session.flush()
    members = db.session.scalar(select(func.count(Member.id)))
    db.session.execute(text(
        "INSERT INTO refund_unit (run_id, org_unit_id, parent_unit_id, code, name, level, receives_refunds, "
        "member_count, member_months, weighted_months, level_share_percent, level_pool_ore, level_weighted_months, "
        "amount_ore) SELECT :run, id, parent_id, code, name, level, receives_refunds, 0, 0, 0, 0, 0, 0, 0 "
        "FROM org_unit"), {"run": run.id})
    db.session.execute(text(
        "WITH RECURSIVE copies(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM copies WHERE n < :copies) "
        "INSERT INTO refund_member (run_id, unit_id, member_id, member_no, name, category, months) "
        "SELECT :run, m.home_unit_id, m.id, m.member_no, m.last_name || ', ' || m.first_name, m.category, "
        "1 + m.id % 3 FROM member m CROSS JOIN copies ORDER BY copies.n, m.id LIMIT :rows"),
        {"run": run.id, "copies": -(-rows // members), "rows": rows})
    db.session.commit()


def drop_runs(quarters: list[str]) -> None:
    from sqlalchemy import delete, select

    from webapp.extensions import db
    from webapp.models import RefundMember, RefundRun, RefundUnit

    run_ids = list(db.session.scalars(select(RefundRun.id).where(RefundRun.quarter.in_(quarters))))
    if run_ids:
        db.session.execute(delete(RefundMember).where(RefundMember.run_id.in_(run_ids)))
        db.session.execute(delete(RefundUnit).where(RefundUnit.run_id.in_(run_ids)))
        db.session.execute(delete(RefundRun).where(RefundRun.id.in_(run_ids)))
    db.session.commit()


def top_unit(quarter: str):
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import RefundRun, RefundUnit

    return db.session.scalars(select(RefundUnit).join(RefundRun, RefundRun.id == RefundUnit.run_id)
                              .where(RefundRun.quarter == quarter, RefundUnit.parent_unit_id.is_(None))
                              .order_by(RefundUnit.code)).first()


def sql_rows(quarter: str) -> int:
    """The one statement: the counted members of the top unit's run (its subtree is the whole run) in list order,
    streamed as the list reads them (so its memory is not the process's peak); the number of rows."""
    from sqlalchemy import text

    from webapp.extensions import db

    return sum(1 for _ in db.session.connection().execution_options(stream_results=True).execute(text(
        "SELECT u.code, u.name, m.member_no, m.name, m.category, m.months FROM refund_member m "
        "JOIN refund_unit u ON u.run_id = m.run_id AND u.org_unit_id = m.unit_id "
        "JOIN refund_run r ON r.id = m.run_id WHERE r.quarter = :quarter "
        "ORDER BY u.code, m.name, m.member_no"), {"quarter": quarter}))


def operations(sizes: list[int]) -> list[Operation]:
    from reports.refunds import member_list_csv, member_list_xlsx, render_member_list

    found = []
    for index, rows in enumerate(sizes):
        quarter = quarter_for(index)
        found.append(Operation(f"member list PDF, {rows:,} rows", lambda q=quarter: render_member_list(top_unit(q)),
                               lambda q=quarter: sql_rows(q)))
        found.append(Operation(f"member list CSV, {rows:,} rows", lambda q=quarter: member_list_csv(top_unit(q)),
                               lambda q=quarter: sql_rows(q)))
        found.append(Operation(f"member list XLSX, {rows:,} rows", lambda q=quarter: member_list_xlsx(top_unit(q)),
                               lambda q=quarter: sql_rows(q)))
    return found


def measure(sizes: list[int], args) -> None:
    """Each list size's PDF once more, in a process of its own: rows | seconds | CPU seconds | peak RSS (the CPU
    time tells the work apart from waiting when the machine is shared)."""
    if args.measure is not None:
        from reports.refunds import render_member_list

        app = bench_app(args.db, args.members, args.employers)
        with app.app_context():
            unit = top_unit(quarter_for(args.measure))
            started, cpu = time.perf_counter(), time.process_time()
            size = len(render_member_list(unit))
            print(json.dumps({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                              "rss": peak_rss_mib(), "kib": size // 1024}))
        return
    print("\n| rows | seconds | CPU seconds | peak RSS | PDF |")
    print("|---|---|---|---|---|")
    for index, rows in enumerate(sizes):
        argv = [sys.executable, __file__, *sys.argv[1:], "--measure", str(index)]
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {rows:,} | {r['seconds']:.2f} s | {r['cpu']:.2f} s | {r['rss']:.0f} MiB | {r['kib']:,} KiB |")


def main() -> int:
    parser = bench_arguments(runs=3)
    parser.add_argument("--rows", default="30000,350000", help="list sizes, comma-separated")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    add_only_argument(parser)
    args = parser.parse_args()
    sizes = [int(size) for size in args.rows.split(",")]
    if args.measure is not None:
        measure(sizes, args)
        return 0
    app = bench_app(args.db, args.members, args.employers)
    if args.only:
        return compare_operations(app, operations(sizes), args, script=__file__)
    quarters = [quarter_for(index) for index in range(len(sizes))]
    with app.app_context():
        drop_runs(quarters)  # left by an interrupted run
        for quarter, rows in zip(quarters, sizes, strict=True):
            make_run(quarter, rows)
    try:
        status = compare_operations(app, operations(sizes), args, script=__file__)
        measure(sizes, args)
        return status
    finally:
        with app.app_context():
            drop_runs(quarters)


if __name__ == "__main__":
    raise SystemExit(main())
