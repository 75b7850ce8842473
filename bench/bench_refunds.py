"""A quarter's refund calculation and its largest documents, on the 100,000-member dataset.

    python bench/bench_refunds.py [--db URL] [--runs 5] [--quarter YYYY-Qn] [--approve]

Times `refunds calculate` (the service the CLI and the office's screen call:
the snapshot of counted members, the grouped member-months, the split and the
stored figures) as a draft calculated again and again, then renders, from the
stored figures as an officer's download does, the letter and the member list
of the unit with the most counted members. The draft is removed afterwards,
unless --approve: then the quarter is approved and the largest list is
downloaded twice (the first renders and keeps it, the second reads it back).
Target (issue 4): the calculation under 5 s.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import bench_app, bench_arguments


def main() -> int:
    parser = bench_arguments(runs=5)
    parser.add_argument("--quarter", help="a quarter that is not approved (default: the last complete quarter)")
    parser.add_argument("--approve", action="store_true",
                        help="then approve the quarter (it stays approved in the bench database) and time the largest "
                             "list's first download (rendered and kept) and a second one (read back)")
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from sqlalchemy import func, select

    from reports.refunds import member_list_pdf, render_letter, render_member_list
    from seed.refunds import ensure_default_policy, last_quarters
    from webapp.extensions import db
    from webapp.models import Member, RefundUnit
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
        members = db.session.scalar(select(func.count(Member.id)))
        seconds = []
        for _ in range(args.runs):
            started = time.perf_counter()
            run = refunds.calculate(quarter, pool_ore=members * 65_00, actor="bench")
            seconds.append(time.perf_counter() - started)
        largest = db.session.scalars(
            select(RefundUnit).where(RefundUnit.run_id == run.id, RefundUnit.receives_refunds.is_(True))
            .order_by(RefundUnit.member_count.desc())
        ).first()
        units = db.session.scalar(select(func.count(RefundUnit.id)).where(RefundUnit.run_id == run.id))
        started = time.perf_counter()
        letter = render_letter(largest)
        letter_s = time.perf_counter() - started
        started = time.perf_counter()
        member_list = render_member_list(largest)
        list_s = time.perf_counter() - started
        engine = db.engine.dialect.name
        print(f"refund calculation {quarter}, {members} members ({run.member_count} counted, {run.member_months} "
              f"member-months), {units} units, {engine}, {args.runs} runs")
        print(f"  calculate (draft, stored)        median {statistics.median(seconds):6.2f} s   "
              f"min {min(seconds):6.2f} s   max {max(seconds):6.2f} s")
        print(f"  letter of {largest.code:<10}             {letter_s:6.2f} s   ({len(letter):,} bytes)")
        print(f"  member list of {largest.code:<10} ({largest.member_count} members)  {list_s:6.2f} s   "
              f"({len(member_list):,} bytes)")
        if not args.approve:
            refunds.discard_draft(quarter)
            return 0
        refunds.approve(quarter, actor="bench")
        for label in ("first download (rendered, kept)", "second download (kept)"):
            started = time.perf_counter()
            kept = member_list_pdf(largest)
            print(f"  approved list, {label:<32} {time.perf_counter() - started:8.3f} s   ({len(kept):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
