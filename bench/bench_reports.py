"""Producing every membership report (LO / LO Stat and the five employer associations), figures and files,
on the 100,000-member dataset.

    python bench/bench_reports.py [--db URL] [--runs 3] [--date YYYY-MM-DD]

Times, for each report, the grouped queries (`build_report`) and the PDF, CSV and XLSX (`files_for`), and
the whole set as `flask reports ...` would make it (without writing or sending). Also the membership
development over 24 months that the notebook shows.
Target (issue 6): all reports under 30 s for 100,000 members.
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
    parser = bench_arguments(runs=3)
    parser.add_argument("--date", default=dt.date.today().isoformat())
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from sqlalchemy import func, select

    from reports import exports
    from reports.membership import membership_development
    from webapp.extensions import db
    from webapp.models import Member
    from webapp.services.periods import Month

    day = dt.date.fromisoformat(args.date)
    totals, per_report = [], {}
    with app.app_context():
        members = db.session.scalar(select(func.count(Member.id)))
        engine = db.engine.dialect.name
        for _ in range(args.runs):
            started = time.perf_counter()
            for spec in exports.all_specs():
                t0 = time.perf_counter()
                report = exports.build_report(spec, day)
                t1 = time.perf_counter()
                files = exports.files_for(report)
                t2 = time.perf_counter()
                rows = len(report.group_rows()) if spec.code == "lo" else len(report.rows)
                entry = per_report.setdefault(spec.code,
                                              {"query": [], "files": [], "total": report.total, "rows": rows})
                entry["query"].append(t1 - t0)
                entry["files"].append(t2 - t1)
                entry["bytes"] = sum(len(f.data) for f in files)
            totals.append(time.perf_counter() - started)
        t0 = time.perf_counter()
        last = Month.of(day)
        membership_development(last.shift(-23), last)
        development = time.perf_counter() - t0

    print(f"membership reports at {day}, {members} members, {engine}, {args.runs} runs")
    for code, entry in per_report.items():
        print(f"  {code:<8} query {statistics.median(entry['query']):6.2f} s"
              f"   files {statistics.median(entry['files']):6.2f} s"
              f"   total {entry['total']:>7} members, {entry['rows']:>5} rows, {entry['bytes'] / 1024:7.0f} KiB")
    print(f"  all reports with their files: median {statistics.median(totals):.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in totals)}); target < 30 s")
    print(f"  membership development, 24 months by category and unit: {development:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
