"""Every membership report, figures and files, beside one hand-written SQL statement each, on the
100,000-member dataset.

    python bench/bench_reports.py [--db URL] [--members N] [--runs 3] [--date YYYY-MM-DD]

The project: the LO / LO Stat report (`build_report` and its PDF, CSV and XLSX, `files_for`), each employer
association's report with its files, and the membership development over 24 months by category and national
association that the notebook shows. The SQL: the grouped statement computing the same figures (the LO report's
one row per combination of its dimensions with the main employment ranked by a window; the members per
enterprise of the association; members, joins and leaves per month by category and home unit in one pass).
"""

from __future__ import annotations

import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import Operation, add_only_argument, bench_app, bench_arguments, compare_operations

COUNTED = "{t}.{start} <= :first AND ({t}.{end} IS NULL OR {t}.{end} >= :first)"

LO_SQL = f"""
WITH ranked AS (
    SELECT e.member_id, w.county, er.sector,
           row_number() OVER (PARTITION BY e.member_id ORDER BY e.position_pct DESC, e.start_date, e.id) AS rank
    FROM employment e JOIN workplace w ON w.id = e.workplace_id JOIN employer er ON er.id = e.employer_id
    WHERE {COUNTED.format(t="e", start="start_date", end="end_date")}
)
SELECT m.category, m.gender,
       CASE WHEN m.birth_date IS NULL THEN 'unknown' WHEN m.birth_date <= :age67 THEN '67_plus'
            WHEN m.birth_date <= :age60 THEN '60_66' WHEN m.birth_date <= :age50 THEN '50_59'
            WHEN m.birth_date <= :age40 THEN '40_49' WHEN m.birth_date <= :age30 THEN '30_39'
            WHEN m.birth_date <= :age20 THEN '20_29' ELSE 'under_20' END AS age_band,
       r.county, r.sector, m.home_unit_id, count(*)
FROM member m LEFT JOIN ranked r ON r.member_id = m.id AND r.rank = 1
WHERE {COUNTED.format(t="m", start="joined_on", end="left_on")}
GROUP BY 1, 2, 3, 4, 5, 6
"""

ASSOCIATION_SQL = f"""
SELECT er.org_number, er.name, count(DISTINCT e.member_id)
FROM employer er
LEFT JOIN employment e ON e.employer_id = er.id AND {COUNTED.format(t="e", start="start_date", end="end_date")}
     AND EXISTS (SELECT 1 FROM member m WHERE m.id = e.member_id
                 AND {COUNTED.format(t="m", start="joined_on", end="left_on")})
WHERE er.association = :association
GROUP BY er.id, er.org_number, er.name
ORDER BY er.name, er.org_number
"""

# Per home unit and category, one pass over the members: for each month (its first day :dN, the month before's
# :pN) the members counted, those who joined and those who left, as in reports.membership.membership_development.
DEVELOPMENT_MONTH = """
     , sum(CASE WHEN joined_on <= :d{n} AND (left_on IS NULL OR left_on >= :d{n}) THEN 1 ELSE 0 END)
     , sum(CASE WHEN joined_on <= :d{n} AND (left_on IS NULL OR left_on >= :d{n}) AND joined_on > :p{n}
                THEN 1 ELSE 0 END)
     , sum(CASE WHEN joined_on <= :p{n} AND left_on >= :p{n} AND left_on < :d{n} THEN 1 ELSE 0 END)"""
DEVELOPMENT_SQL = """
SELECT category, home_unit_id{months}
FROM member
WHERE joined_on <= :last AND (left_on IS NULL OR left_on >= :before)
GROUP BY category, home_unit_id
"""


def development_sql(months) -> tuple[str, dict]:
    """The development statement for `months` (consecutive) and its parameters."""
    columns = "".join(DEVELOPMENT_MONTH.format(n=n) for n in range(len(months)))
    params = {"last": months[-1].first_day, "before": months[0].previous.first_day}
    for n, month in enumerate(months):
        params |= {f"d{n}": month.first_day, f"p{n}": month.previous.first_day}
    return DEVELOPMENT_SQL.format(months=columns), params


def load_file_writers() -> None:
    """The libraries that write the report files, imported once as a worker has them after its first report (the
    CLI loads them lazily: about a second, which a single run in a fresh process would count against the report)."""
    import openpyxl  # noqa: F401
    import reportlab.platypus  # noqa: F401
    from xhtml2pdf import pisa  # noqa: F401


def main() -> int:
    parser = bench_arguments(runs=3)
    parser.add_argument("--date", default=dt.date.today().isoformat())
    add_only_argument(parser)
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from sqlalchemy import text

    from reports import exports
    from reports.membership import AGE_BANDS, _years_before, membership_development
    from webapp.extensions import db
    from webapp.services.periods import Month

    day = dt.date.fromisoformat(args.date)
    first = Month.of(day).first_day
    last_month = Month.of(day)
    first_month = last_month.shift(-23)
    months = [first_month.shift(n) for n in range(24)]
    ages = {f"age{low}": _years_before(day, low) for low, _code, _label in AGE_BANDS[1:]}

    def report_with_files(spec):
        return lambda: exports.files_for(exports.build_report(spec, day))

    def sql(statement: str, params: dict | None = None, **more):
        return lambda: db.session.execute(text(statement), (params or {}) | more).all()

    operations = [Operation("LO report with files", report_with_files(exports.LO), sql(LO_SQL, first=first, **ages),
                            warm_up=load_file_writers)]
    operations += [
        Operation(f"{spec.code} report with files", report_with_files(spec),
                  sql(ASSOCIATION_SQL, first=first, association=spec.association.name), warm_up=load_file_writers)
        for spec in exports.all_specs() if spec != exports.LO
    ]
    operations.append(Operation("membership development, 24 months",
                                lambda: membership_development(first_month, last_month),
                                sql(*development_sql(months))))
    return compare_operations(app, operations, args, script=__file__)


if __name__ == "__main__":
    sys.exit(main())
