"""Direct billing at 100,000 direct payers: a quarter's invoices, a month's AvtaleGiro claims file and the import
of a 100,000-transaction OCR file.

    python bench/bench_direct_billing.py [--db URL] [--runs 2] [--members 100000]

Targets (issue 13), on SQLite and PostgreSQL: invoices for a quarter under 10 s (`invoices generate`), a
claims file for 100,000 mandates under 10 s (`avtalegiro claims`: the month's AvtaleGiro rows generated, the
Nets file built, the claims marked sent), importing a 100,000-transaction OCR file under 20 s (`payments
import`: read, stored, matched to the invoices by KID, allocated, the invoices' sums kept). Each is timed
through the service its CLI command calls, `--runs` times (the step's rows removed between runs), and its peak
Python memory taken in a run of its own (tracemalloc slows Python down several times); the process's max RSS
closes the report.

The dataset is its own database (default: SQLite file instance/bench_direct_100k.db; for PostgreSQL pass
--db): the benchmark register (seed.generator) with every member active and no employment on payroll
deduction, so that every member pays directly, and the demo's direct dues rates. The setup (not timed) also
imports an AvtaleGiro agreements file with a mandate for every member, after the quarter's invoices are made.
On PostgreSQL the tables are analysed after every bulk change of the setup and between runs, as autovacuum
does in production (`--no-analyze` leaves the statistics as they are: on a server with autovacuum off, the
planner then works from the statistics of the empty tables).
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import bench_app, bench_arguments

DEFAULT_DB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance",
                          "bench_direct_100k.db")
TARGETS = {"invoices": 10.0, "claims": 10.0, "import": 20.0}


ANALYZE = True


def analyze() -> None:
    """Fresh planner statistics on PostgreSQL (autovacuum's job in production)."""
    from sqlalchemy import text

    from webapp.extensions import db

    db.session.commit()
    if ANALYZE and db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def measure(step: Callable[[], object], reset: Callable[[], None], runs: int) -> tuple[list[float], float, object]:
    """`step` timed `runs` times after `reset`, then once more under tracemalloc: seconds, peak MiB, last result."""
    seconds, result = [], None
    for _ in range(runs):
        analyze()  # the deletes of `reset` after a bulk step need fresh statistics too
        reset()
        analyze()
        started = time.perf_counter()
        result = step()
        seconds.append(time.perf_counter() - started)
    analyze()
    reset()
    analyze()
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, result


def report(name: str, seconds: list[float], peak: float, detail: str = "") -> None:
    median = statistics.median(seconds)
    verdict = "within" if median < TARGETS[name] else "OVER"
    print(f"  {name}: median {median:.2f} s ({', '.join(f'{s:.2f}' for s in seconds)}), {verdict} the "
          f"{TARGETS[name]:.0f} s target; peak Python memory {peak:.0f} MiB{detail}")


def prepare(today: dt.date) -> int:
    """Every member active and paying directly; the direct dues rates; no billing rows left from a run before."""
    from sqlalchemy import delete, func, select, update

    from seed.cycle import ensure_rate
    from seed.phases.direct_billing import ensure_direct_rates
    from webapp.extensions import db
    from webapp.models import (
        AvtaleGiroMandate,
        DeductionBasis,
        Employment,
        Invoice,
        InvoiceAdjustment,
        Member,
        Payment,
        PaymentAllocation,
        PaymentImport,
    )

    for model in (PaymentAllocation, InvoiceAdjustment, Invoice, Payment, AvtaleGiroMandate, PaymentImport):
        db.session.execute(delete(model))
    db.session.execute(update(Member).values(left_on=None, leave_reason=None))
    db.session.execute(update(Employment).values(on_deduction=False))
    db.session.commit()
    ensure_rate()
    ensure_direct_rates(today)
    analyze()
    assert db.session.scalar(select(func.count(DeductionBasis.id))) == 0, "the bench database has deduction bases"
    return int(db.session.scalar(select(func.count(Member.id))))


def bench_invoices(quarter, today: dt.date, runs: int) -> None:
    from sqlalchemy import delete

    from webapp.extensions import db
    from webapp.models import Invoice
    from webapp.services import invoices

    def reset():
        db.session.execute(delete(Invoice).where(Invoice.period == str(quarter)))
        db.session.commit()

    seconds, peak, result = measure(lambda: invoices.generate(quarter, today=today), reset, runs)
    report("invoices", seconds, peak, f"; {result.summary()}")


def import_mandates(month, today: dt.date) -> None:
    """Every member signs an AvtaleGiro mandate: one agreements file from the bank (setup, timed apart)."""
    from sqlalchemy import select

    from seed.phases.direct_bank import NEW_OR_CHANGED, agreements_file
    from webapp.extensions import db
    from webapp.models import Member
    from webapp.services import payments
    from webapp.services.kid import member_kid_for

    numbers = db.session.scalars(select(Member.member_no).order_by(Member.id)).all()
    data = agreements_file([(member_kid_for(number, month), NEW_OR_CHANGED, index % 3 == 0)
                            for index, number in enumerate(numbers)], today, 1)
    started = time.perf_counter()
    result = payments.import_file("AVTALEGIRO.bench.txt", data, imported_by="bench")
    analyze()
    print(f"  setup: agreements file with {len(numbers):,} mandates imported in {time.perf_counter() - started:.2f} s "
          f"({result.summary()})")


def bench_claims(month, today: dt.date, runs: int) -> None:
    from sqlalchemy import delete

    from webapp.extensions import db
    from webapp.models import Invoice
    from webapp.services import avtalegiro, invoices

    parts: dict[str, list[float]] = {"rows": [], "file": []}

    def reset():
        db.session.execute(delete(Invoice).where(Invoice.period == str(month)))
        db.session.commit()

    def claims():
        # As `flask --app run avtalegiro claims MONTH --out FILE` does.
        started = time.perf_counter()
        invoices.generate_avtalegiro_month(month, today=today)
        built = time.perf_counter()
        made = avtalegiro.build_claims(month, today)
        avtalegiro.mark_claimed(made.invoice_ids)
        db.session.commit()
        parts["rows"].append(built - started)
        parts["file"].append(time.perf_counter() - built)
        return made

    seconds, peak, made = measure(claims, reset, runs)
    report("claims", seconds, peak, f"; {made.summary()}, {len(made.data) / 2**20:.1f} MiB; of which the rows "
           f"{statistics.median(parts['rows'][:runs]):.2f} s, the file and marking "
           f"{statistics.median(parts['file'][:runs]):.2f} s")


def bench_import(quarter, runs: int) -> None:
    from flask import current_app
    from sqlalchemy import delete, select

    from webapp.extensions import db
    from webapp.models import Invoice, Payment, PaymentAllocation, PaymentImport
    from webapp.services import invoice_ledger, payments

    rows = db.session.execute(select(Invoice.id, Invoice.kid, Invoice.amount_ore, Invoice.due_date)
                              .where(Invoice.period == str(quarter)).order_by(Invoice.id)).all()
    started = time.perf_counter()
    data = payments.build_ocr_file([(kid, amount, due - dt.timedelta(days=2)) for _id, kid, amount, due in rows],
                                   current_app.config["UNION_ACCOUNT_NUMBER"], file_number=4242)
    print(f"  setup: OCR file with {len(rows):,} payments built in {time.perf_counter() - started:.2f} s "
          f"({len(data) / 2**20:.1f} MiB)")
    invoice_ids = [row[0] for row in rows]

    def reset():
        batch = select(PaymentImport.id).where(PaymentImport.filename == "OCR.bench.txt")
        paid = select(Payment.id).where(Payment.import_id.in_(batch))
        db.session.execute(delete(PaymentAllocation).where(PaymentAllocation.payment_id.in_(paid)))
        db.session.execute(delete(Payment).where(Payment.import_id.in_(batch)))
        db.session.execute(delete(PaymentImport).where(PaymentImport.filename == "OCR.bench.txt"))
        invoice_ledger.refresh(invoice_ids)
        db.session.commit()

    seconds, peak, result = measure(lambda: payments.import_file("OCR.bench.txt", data, imported_by="bench"),
                                    reset, runs)
    report("import", seconds, peak, f"; {result.summary()}")


def main() -> int:
    global ANALYZE
    parser = bench_arguments(runs=2)
    parser.add_argument("--no-analyze", action="store_true", help="never ANALYZE (PostgreSQL)")
    args = parser.parse_args()
    ANALYZE = not args.no_analyze
    app = bench_app(args.db or "sqlite:///" + DEFAULT_DB, args.members, args.employers)

    from webapp.extensions import db
    from webapp.services.periods import Month

    today = dt.date.today()
    quarter = Month.of(today).shift(3).quarter  # no basis and no invoice yet
    month = quarter.months[-1].shift(4)  # AvtaleGiro claims in a month of a later quarter
    with app.app_context():
        members = prepare(today)
        print(f"direct billing, {members:,} members (all active, none on payroll deduction), {db.engine.dialect.name}, "
              f"invoices {quarter}, claims {month}, {args.runs} runs each:")
        bench_invoices(quarter, today, args.runs)
        import_mandates(month.previous, today)
        bench_claims(month, today, args.runs)
        bench_import(quarter, args.runs)
    print(f"  process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
