"""The monthly deduction basis for every employer, beside one hand-written SQL statement computing its lines.

    python bench/bench_deduction_basis.py [--db URL] [--members 100000] [--runs 3]

Operations (each in a process of its own, see bench.common.compare_operations):

- "deduction basis for a month": `deductions generate` for next month (the service the CLI calls), the month's
  bases removed before each run;
- "deduction basis --refresh": the same month remade over bases already there (`generate(refresh=True)`).

The SQL baseline of both is one SELECT of every line of the month: the employments ranked by a window function,
the components, and START/STOP/CHANGE against last month (as told, or computed for employers not told). The
month's bases are removed again at the end, so the dataset is left as it was found.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import Operation, add_only_argument, bench_app, bench_arguments, compare_operations

# One month's components per member and employer: the employments ranked by a window function, the member's
# main one carrying the fixed amounts. {first}, {contents}, {travel}, {flat}: the month's first day and its rate's
# amounts (bind names); {only}: a further condition on the employment e.
PARTS_SQL = """
    SELECT employer_id, member_id, employment_id, position_pct,
           category <> 'apprentice' AS ordinary_dues,
           category <> 'apprentice' AND member_rank = 1 AND contents_insurance AS contents_insurance,
           category <> 'apprentice' AND member_rank = 1 AND travel_insurance AS travel_insurance,
           category = 'apprentice' AS apprentice,
           CASE WHEN category = 'apprentice' THEN CASE WHEN member_rank = 1 THEN :{flat} ELSE 0 END
                ELSE CASE WHEN member_rank = 1 AND contents_insurance THEN :{contents} ELSE 0 END
                   + CASE WHEN member_rank = 1 AND travel_insurance THEN :{travel} ELSE 0 END
           END AS fixed_amount_ore
    FROM (
        SELECT e.id AS employment_id, e.member_id, e.employer_id, e.position_pct, m.category,
               m.contents_insurance, m.travel_insurance,
               row_number() OVER (PARTITION BY e.member_id
                                  ORDER BY e.position_pct DESC, e.start_date, e.id) AS member_rank,
               row_number() OVER (PARTITION BY e.member_id, e.employer_id
                                  ORDER BY e.position_pct DESC, e.start_date, e.id) AS employer_rank
        FROM employment e
        JOIN member m ON m.id = e.member_id
        JOIN employer r ON r.id = e.employer_id
        WHERE r.has_deduction_agreement AND e.on_deduction AND m.category IN ('ordinary', 'apprentice')
          AND e.start_date <= :{first} AND (e.end_date IS NULL OR e.end_date >= :{first})
          AND m.joined_on <= :{first} AND (m.left_on IS NULL OR m.left_on >= :{first}) {only}
    ) AS ranked
    WHERE employer_rank = 1
"""

# Every line of the month's bases (what generate writes), in one statement: START/CHANGE/unchanged against last
# month as told (its lines on deduction), or as computed now for employers not told last month, and STOP lines.
LINES_SQL = """
WITH cur AS ({current}),
prev AS (
    SELECT b.employer_id, l.member_id, l.employment_id, l.position_pct, l.ordinary_dues, l.contents_insurance,
           l.travel_insurance, l.apprentice, l.fixed_amount_ore
    FROM deduction_basis b JOIN deduction_basis_line l ON l.basis_id = b.id
    WHERE b.period = :previous_period AND l.on_deduction
    UNION ALL
    {previous}
)
SELECT c.employer_id, c.member_id, c.employment_id, TRUE AS on_deduction, c.ordinary_dues, c.contents_insurance,
       c.travel_insurance, c.apprentice, c.fixed_amount_ore, c.position_pct,
       CASE WHEN p.member_id IS NULL THEN 'start'
            WHEN p.ordinary_dues <> c.ordinary_dues OR p.contents_insurance <> c.contents_insurance
              OR p.travel_insurance <> c.travel_insurance OR p.apprentice <> c.apprentice
              OR p.fixed_amount_ore <> c.fixed_amount_ore THEN 'change' END AS change,
       CASE WHEN p.member_id IS NULL THEN NULL
            WHEN p.apprentice AND NOT c.apprentice THEN 'apprentice_to_ordinary'
            WHEN c.apprentice AND NOT p.apprentice THEN 'ordinary_to_apprentice'
            WHEN p.travel_insurance <> c.travel_insurance AND p.contents_insurance <> c.contents_insurance THEN
                 CASE WHEN c.travel_insurance THEN 'travel_insurance_started' ELSE 'travel_insurance_stopped' END
                 || ',' ||
                 CASE WHEN c.contents_insurance THEN 'contents_insurance_started' ELSE 'contents_insurance_stopped' END
            WHEN p.travel_insurance <> c.travel_insurance THEN
                 CASE WHEN c.travel_insurance THEN 'travel_insurance_started' ELSE 'travel_insurance_stopped' END
            WHEN p.contents_insurance <> c.contents_insurance THEN
                 CASE WHEN c.contents_insurance THEN 'contents_insurance_started' ELSE 'contents_insurance_stopped' END
            WHEN p.fixed_amount_ore <> c.fixed_amount_ore THEN 'insurance_moved'
            WHEN p.ordinary_dues <> c.ordinary_dues THEN '' END AS change_detail
FROM cur c LEFT JOIN prev p ON p.employer_id = c.employer_id AND p.member_id = c.member_id
UNION ALL
SELECT p.employer_id, p.member_id, p.employment_id, FALSE, FALSE, FALSE, FALSE, FALSE, 0, p.position_pct, 'stop', NULL
FROM prev p JOIN employer r ON r.id = p.employer_id AND r.has_deduction_agreement
WHERE NOT EXISTS (SELECT 1 FROM cur c WHERE c.employer_id = p.employer_id AND c.member_id = p.member_id)
""".format(
    current=PARTS_SQL.format(first="first", contents="contents", travel="travel", flat="flat", only=""),
    previous=PARTS_SQL.format(
        first="previous_first", contents="prev_contents", travel="prev_travel", flat="prev_flat",
        only="AND e.employer_id IN (SELECT employer_id FROM cur) AND e.employer_id NOT IN ("
             "SELECT employer_id FROM deduction_basis WHERE period = :previous_period)"),
)


def lines_sql(month) -> list:
    """Every line of `month`'s bases by LINES_SQL, fetched (the baseline; in an app context)."""
    from sqlalchemy import Date, bindparam, text

    from webapp.extensions import db
    from webapp.services.deduction_basis import rate_for, rate_for_or_none

    rate = rate_for(month)
    previous_rate = rate_for_or_none(month.previous) or rate
    statement = text(LINES_SQL).bindparams(bindparam("first", type_=Date), bindparam("previous_first", type_=Date))
    return db.session.execute(statement, {
        "first": month.first_day, "previous_first": month.previous.first_day,
        "previous_period": str(month.previous),
        "contents": rate.contents_insurance_ore, "travel": rate.travel_insurance_ore,
        "flat": rate.apprentice_flat_ore, "prev_contents": previous_rate.contents_insurance_ore,
        "prev_travel": previous_rate.travel_insurance_ore, "prev_flat": previous_rate.apprentice_flat_ore,
    }).all()


def main() -> int:
    parser = bench_arguments(runs=3)
    add_only_argument(parser)
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from sqlalchemy import delete, select

    from seed.cycle import ensure_rate
    from webapp.extensions import db
    from webapp.models import DeductionBasis, DeductionBasisLine
    from webapp.services.deduction_basis import generate
    from webapp.services.periods import Month

    month = Month.of(dt.date.today()).next

    def clear_month():
        # By id: a join to the bases can be planned badly on PostgreSQL before the new rows are analyzed.
        stale = list(db.session.scalars(select(DeductionBasis.id).where(DeductionBasis.period == str(month))))
        for start in range(0, len(stale), 5000):
            chunk = stale[start : start + 5000]
            db.session.execute(delete(DeductionBasisLine).where(DeductionBasisLine.basis_id.in_(chunk)))
            db.session.execute(delete(DeductionBasis).where(DeductionBasis.id.in_(chunk)))
        db.session.commit()

    def month_made():
        if db.session.scalar(select(DeductionBasis.id).where(DeductionBasis.period == str(month)).limit(1)) is None:
            generate(month)

    with app.app_context():
        had_month = db.session.scalar(
            select(DeductionBasis.id).where(DeductionBasis.period == str(month)).limit(1)) is not None
        if had_month:
            print(f"{month} already has bases in this dataset; the benchmark would replace them", file=sys.stderr)
            return 1
        ensure_rate()
        db.session.commit()
    operations = [
        Operation("deduction basis for a month", lambda: generate(month), lambda: lines_sql(month),
                  before_each=clear_month),
        Operation("deduction basis --refresh", lambda: generate(month, refresh=True), lambda: lines_sql(month),
                  before_each=month_made),
    ]
    try:
        return compare_operations(app, operations, args, script=__file__)
    finally:
        with app.app_context():
            clear_month()


if __name__ == "__main__":
    sys.exit(main())
