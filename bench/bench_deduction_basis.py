"""Generating one month's deduction basis for every employer, on the 100,000-member dataset.

    python bench/bench_deduction_basis.py [--db URL] [--runs 3]

Times `deductions generate` for a month (the service the CLI calls) and its
peak Python memory (tracemalloc), removing the month's bases between runs.
Target (issue 3): under 10 s on SQLite for 100,000 members and 3,000 employers.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import bench_app, bench_arguments


def main() -> int:
    parser = bench_arguments(runs=3)
    args = parser.parse_args()

    app = bench_app(args.db, args.members, args.employers)
    from sqlalchemy import delete, func, select

    from seed.cycle import ensure_rate
    from webapp.extensions import db
    from webapp.models import DeductionBasis, DeductionBasisLine, Member
    from webapp.services.deduction_basis import generate
    from webapp.services.periods import Month

    month = Month.of(__import__("datetime").date.today()).next
    seconds, peaks = [], []
    with app.app_context():
        ensure_rate()
        members = db.session.scalar(select(func.count(Member.id)))
        def clear_month():
            stale = select(DeductionBasis.id).where(DeductionBasis.period == str(month))
            db.session.execute(delete(DeductionBasisLine).where(DeductionBasisLine.basis_id.in_(stale)))
            db.session.execute(delete(DeductionBasis).where(DeductionBasis.period == str(month)))
            db.session.commit()

        for _ in range(args.runs):
            clear_month()
            started = time.perf_counter()
            result = generate(month)
            seconds.append(time.perf_counter() - started)
        # Memory in a run of its own: tracemalloc slows Python down several times.
        clear_month()
        tracemalloc.start()
        generate(month)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
        engine = db.engine.dialect.name
    print(f"deduction basis for {month}, {members} members, {engine}: {result.summary()}")
    print(f"  time: median {statistics.median(seconds):.2f} s (runs: {', '.join(f'{s:.2f}' for s in seconds)})")
    print(f"  peak Python memory (tracemalloc): {max(peaks):.0f} MiB; process max RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
