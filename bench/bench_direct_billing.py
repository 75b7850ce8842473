"""Direct billing at 100,000 direct payers, each bulk operation beside one hand-written SQL statement computing the
same rows (bench.common.compare_operations): a quarter's invoices, a month's AvtaleGiro claim rows, and the
month's AvtaleGiro claims file.

    python bench/bench_direct_billing.py [--db URL] [--runs 3] [--members 100000] [--only-like "claims file"]

- invoices: `invoices.generate(quarter)` (`flask --app run invoices generate`) beside one INSERT ... SELECT of the
  same invoice rows (members paying directly in each month, the rates in force, the KID with its MOD10 digit);
- avtalegiro rows: `invoices.generate_avtalegiro_month(month)` (the first step of `avtalegiro claims`) beside
  the same INSERT ... SELECT for one month and the members with a mandate;
- avtalegiro file: `avtalegiro.build_claims` and `mark_claimed` (the Nets file built, the claims marked sent)
  beside one UPDATE ... RETURNING that marks the claims sent and returns the figures the file is written from;
  and the file alone (`build_claims`) beside the one SELECT of those figures;
- bank file: the bank's OCR giro file paying every invoice of the quarter, imported by `payments.import_file`
  (`flask --app run payments import`: read, stored, matched by KID, allocated, the invoices' sums kept) beside
  three statements writing the same rows: the payments (INSERT ... SELECT from the invoices), their allocations
  (INSERT ... SELECT joining the payments to the invoices by KID) and the invoices' paid sums and status (one
  UPDATE from the allocations). The file is built once, outside the timing;
- invoice sums: `invoice_ledger.refresh` of the invoices that file paid, each allocation made smaller by up to
  9.99 kr first (payments in part, so the invoices' new figures differ), beside one UPDATE of their paid sums
  and status.

Each operation's rows are removed (or unmarked) before every run of either. The reminder run is not here: it
renders a PDF and queues a mail per invoice (invoice_documents.remind), work no SQL statement does.

The dataset is its own database (default: SQLite file instance/bench_direct_100k.db, or bench_direct_<N>.db for
--members N; for PostgreSQL pass --db, e.g. postgresql+psycopg://postgres@127.0.0.1/bench_direct_100000), since the
setup changes the register: the benchmark register (seed.generator) with every member active and no employment on
payroll deduction, so that every member pays directly, the demo's direct dues rates, and an AvtaleGiro mandate for
every member (one agreements file imported), registered after the invoiced quarter and before the claims month. On
PostgreSQL the tables are analysed after the setup, as autovacuum does in production.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import INSTANCE, Operation, add_only_argument, bench_app, bench_arguments, compare_operations


def default_db(members: int) -> str:
    """The SQLite file of the direct-payer dataset: instance/bench_direct_100k.db, or bench_direct_<members>.db."""
    name = "bench_direct_100k.db" if members == 100_000 else f"bench_direct_{members}.db"
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "instance", name)


def analyze() -> None:
    """Fresh planner statistics on PostgreSQL (autovacuum's job in production)."""
    from sqlalchemy import text

    from webapp.extensions import db

    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def vacuum(table: str) -> None:
    """On PostgreSQL, the table's dead rows cleared and its statistics fresh (autovacuum's job in production)."""
    from sqlalchemy import text

    from webapp.extensions import db

    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM ANALYZE {table}"))


def prepare(today: dt.date, mandates_registered: dt.datetime) -> None:
    """Every member active and paying directly, the direct dues rates, a mandate for every member registered at
    `mandates_registered`, no billing rows left from a run before. Skipped when the database is so already."""
    from sqlalchemy import delete, func, select, update

    from seed.cycle import ensure_rate
    from seed.phases.direct_bank import NEW_OR_CHANGED, agreements_file
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
    from webapp.services import payments
    from webapp.services.kid import member_kid_for
    from webapp.services.periods import Month

    members = db.session.scalar(select(func.count(Member.id)))
    ready = (db.session.scalar(select(func.count(AvtaleGiroMandate.id))
                               .where(AvtaleGiroMandate.registered_at == mandates_registered)) == members
             and db.session.scalar(select(func.count(Employment.id)).where(Employment.on_deduction.is_(True))) == 0
             and db.session.scalar(select(func.count(Member.id)).where(Member.left_on.is_not(None))) == 0)
    if ready:
        return
    started = time.perf_counter()
    for model in (PaymentAllocation, InvoiceAdjustment, Invoice, Payment, AvtaleGiroMandate, PaymentImport):
        db.session.execute(delete(model))
    db.session.execute(update(Member).values(left_on=None, leave_reason=None))
    db.session.execute(update(Employment).values(on_deduction=False))
    db.session.commit()
    ensure_rate()
    ensure_direct_rates(today)
    assert db.session.scalar(select(func.count(DeductionBasis.id))) == 0, "the bench database has deduction bases"
    numbers = db.session.scalars(select(Member.member_no).order_by(Member.id)).all()
    month = Month.of(mandates_registered.date())
    data = agreements_file([(member_kid_for(number, month), NEW_OR_CHANGED, index % 3 == 0)
                            for index, number in enumerate(numbers)], today, 1)
    payments.import_file("AVTALEGIRO.bench.txt", data, imported_by="bench")
    db.session.execute(update(AvtaleGiroMandate).values(registered_at=mandates_registered))
    analyze()
    print(f"setup: {members:,} members paying directly, each with a mandate, in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)


# ------------------------------------------------------------------ the hand-written SQL


def _luhn_sql(body: str, length: int) -> str:
    """SQL: the MOD10 check digit of the `length`-digit text `body` (every second digit from the right doubled)."""
    terms = []
    for position in range(1, length + 1):
        digit = f"CAST(SUBSTR({body}, {position}, 1) AS INTEGER)"
        terms.append(f"(2 * {digit} - 9 * ({digit} / 5))" if (length - position) % 2 == 0 else digit)
    return f"((10 - ({' + '.join(terms)}) % 10) % 10)"


def invoice_rows_sql(months, method: str, today: dt.date, now: dt.datetime):
    """ONE statement inserting the invoices of `months` (one billing period) for the members paying by `method`
    in them: the months a member pays directly are consecutive here (a membership's span), so one invoice each."""
    from sqlalchemy import text

    from webapp.models.choices import PaymentMethod
    from webapp.services.deduction_basis import PAYROLL_CATEGORIES
    from webapp.services.invoices import billing_period_of, billing_unit, due_date
    from webapp.services.payment_methods import mandate_cutoff

    params: dict[str, object] = {"today": today, "now": now, "true": True,
                                 "period": billing_period_of(months[0], billing_unit(PaymentMethod[method]))}
    payroll = ", ".join(f"'{category.name}'" for category in PAYROLL_CATEGORIES)
    mandate = "EXISTS" if method == "avtalegiro" else "NOT EXISTS"
    direct, first_month, yymm, due = [], [], [], []
    for k, month in enumerate(months, 1):
        params.update({f"f{k}": month.first_day, f"c{k}": mandate_cutoff(month), f"m{k}": str(month),
                       f"y{k}": f"{month.year % 100:02d}{month.month:02d}",
                       f"d{k}": due_date(PaymentMethod[method], month, today)})
        direct.append(f"""CASE WHEN m.joined_on <= :f{k} AND (m.left_on IS NULL OR m.left_on >= :f{k})
            AND NOT EXISTS (SELECT 1 FROM employment e JOIN employer er ON er.id = e.employer_id
                WHERE e.member_id = m.id AND er.has_deduction_agreement = :true AND e.on_deduction = :true
                  AND e.start_date <= :f{k} AND (e.end_date IS NULL OR e.end_date >= :f{k})
                  AND m.category IN ({payroll}))
            AND {mandate} (SELECT 1 FROM avtalegiro_mandate a WHERE a.member_id = m.id AND a.active = :true
                AND a.registered_at < :c{k}) THEN {2 ** (k - 1)} ELSE 0 END""")
        first_month.append(f"WHEN {2 ** (k - 1)} THEN :m{k}")
        yymm.append(f"WHEN {2 ** (k - 1)} THEN :y{k}")
        due.append(f"WHEN {2 ** (k - 1)} THEN :d{k}")
    params["f0"] = months[0].first_day
    # the months paid (bits), how many, and the first (the lowest bit set)
    count = " + ".join(f"(a.bits / {2 ** k}) % 2" for k in range(len(months)))
    statement = f"""
    WITH paying AS MATERIALIZED (
        SELECT m.id, TRIM(m.member_no) AS no, m.category, m.income_band_id, m.contents_insurance,
            m.travel_insurance, {' + '.join(direct)} AS bits
        FROM member m
    )
    INSERT INTO invoice (member_id, period, first_month, month_count, kid, method, issued_on, due_date, dues_ore,
        contents_insurance_ore, travel_insurance_ore, amount_ore, paid_ore, credited_ore, written_off_ore, status,
        created_at)
    SELECT c.id, :period, c.first_month, c.n, c.body || CAST({_luhn_sql("c.body", 15)} AS VARCHAR), '{method}',
        :today, c.due, c.dues, c.contents, c.travel, c.dues + c.contents + c.travel, 0, 0, 0, 'open', :now
    FROM (
        SELECT b.id, b.n, CASE b.low {' '.join(first_month)} END AS first_month,
            '902' || SUBSTR('00000000' || b.no, LENGTH(b.no) + 1) || CASE b.low {' '.join(yymm)} END AS body,
            CASE b.low {' '.join(due)} END AS due,
            b.n * r.monthly_ore AS dues,
            CASE WHEN b.category = 'ordinary' AND b.contents_insurance = :true
                THEN b.n * (SELECT d.contents_insurance_ore FROM dues_rate d WHERE d.valid_from <= :f0
                            ORDER BY d.valid_from DESC LIMIT 1) ELSE 0 END AS contents,
            CASE WHEN b.category = 'ordinary' AND b.travel_insurance = :true
                THEN b.n * (SELECT d.travel_insurance_ore FROM dues_rate d WHERE d.valid_from <= :f0
                            ORDER BY d.valid_from DESC LIMIT 1) ELSE 0 END AS travel
        FROM (
            SELECT a.*, {count} AS n, a.bits & (-a.bits) AS low FROM paying a WHERE a.bits > 0
        ) b
        JOIN direct_dues_rate r ON r.category = b.category
            AND ((b.category = 'ordinary' AND r.income_band_id = COALESCE(b.income_band_id,
                    (SELECT i.id FROM income_band i WHERE i.is_default = :true)))
                 OR (b.category <> 'ordinary' AND r.income_band_id IS NULL))
            AND r.valid_from = (SELECT MAX(r2.valid_from) FROM direct_dues_rate r2 WHERE r2.category = r.category
                AND COALESCE(r2.income_band_id, -1) = COALESCE(r.income_band_id, -1) AND r2.valid_from <= :f0)
    ) c
    ORDER BY c.id"""
    return text(statement), params


def claims_sql(month):
    """ONE statement: the month's claims with what the file needs (KID, due date, amount, payer, notice)."""
    from sqlalchemy import text

    return text("""
        SELECT i.id, i.kid, i.due_date, i.amount_ore - i.credited_ore - i.written_off_ore - i.paid_ore,
            m.member_no, m.first_name, m.last_name, a.notify
        FROM invoice i JOIN member m ON m.id = i.member_id
        JOIN avtalegiro_mandate a ON a.member_id = i.member_id AND a.active = :true
        WHERE i.method = 'avtalegiro' AND i.first_month = :month AND i.sent_at IS NULL
          AND i.amount_ore - i.credited_ore - i.written_off_ore - i.paid_ore > 0
        ORDER BY i.id"""), {"month": str(month), "true": True}


def claims_marked_sql(month, now: dt.datetime, dialect: str):
    """ONE statement marking the month's claims sent and returning what the file needs (the claims file and
    mark_claimed together). SQLite's RETURNING names neither an alias nor the FROM tables: it asks them per row."""
    from sqlalchemy import text

    outstanding = "invoice.amount_ore - invoice.credited_ore - invoice.written_off_ore - invoice.paid_ore"
    mark = f"""UPDATE invoice SET sent_at = :now, delivery = 'avtalegiro', sent_to = 'AvtaleGiro'
        WHERE invoice.method = 'avtalegiro' AND invoice.first_month = :month AND invoice.sent_at IS NULL
          AND {outstanding} > 0"""
    if dialect == "postgresql":
        statement = f"""{mark.replace("WHERE", "FROM member m, avtalegiro_mandate a WHERE", 1)}
          AND m.id = invoice.member_id AND a.member_id = invoice.member_id AND a.active = :true
        RETURNING invoice.id, invoice.kid, invoice.due_date, {outstanding}, m.member_no, m.first_name, m.last_name,
            a.notify"""
    else:
        statement = f"""{mark}
          AND invoice.member_id IN (SELECT a.member_id FROM avtalegiro_mandate a WHERE a.active = :true)
        RETURNING invoice.id, invoice.kid, invoice.due_date, {outstanding},
            (SELECT m.member_no FROM member m WHERE m.id = invoice.member_id),
            (SELECT m.first_name FROM member m WHERE m.id = invoice.member_id),
            (SELECT m.last_name FROM member m WHERE m.id = invoice.member_id),
            (SELECT a.notify FROM avtalegiro_mandate a WHERE a.member_id = invoice.member_id AND a.active = :true
             ORDER BY a.registered_at DESC, a.id DESC LIMIT 1)"""
    return text(statement), {"month": str(month), "true": True, "now": now}


BANK_FILE = "OCR.bench.txt"


def bank_file_sql(quarter, paid_on: dt.date, now: dt.datetime):
    """THREE statements writing what importing the bank file writes: its payments (one per invoice of the
    quarter, matched to the member), their allocations, and the invoices' kept sums and status."""
    from sqlalchemy import text

    params = {"period": str(quarter), "day": paid_on, "now": now, "file": BANK_FILE + ".sql"}
    return [
        (text("""INSERT INTO payment_import (filename, kind, mandate_count, sha256, imported_at, imported_by,
                    transaction_count, matched_count, total_ore)
                 SELECT :file, 'ocr', 0, :file, :now, 'bench', COUNT(*), COUNT(*), SUM(amount_ore)
                 FROM invoice WHERE period = :period AND method = 'invoice'"""), params),
        (text("""INSERT INTO payment (import_id, bank_reference, kid, transaction_type, amount_ore, paid_on,
                    payer_account, member_id, matched_manually, matched_at)
                 SELECT (SELECT id FROM payment_import WHERE filename = :file), :file || '-' || i.id, i.kid, 21,
                    i.amount_ore, :day, '12345678903', i.member_id, false, :now
                 FROM invoice i WHERE i.period = :period AND i.method = 'invoice' ORDER BY i.id"""), params),
        (text("""INSERT INTO payment_allocation (payment_id, invoice_id, amount_ore, created_at)
                 SELECT p.id, i.id, p.amount_ore, :now FROM payment p JOIN invoice i ON i.kid = p.kid
                 WHERE p.import_id = (SELECT id FROM payment_import WHERE filename = :file)
                 ORDER BY p.id"""), params),
        (text("""UPDATE invoice SET paid_ore = (SELECT SUM(a.amount_ore) FROM payment_allocation a
                                                WHERE a.invoice_id = invoice.id),
                    status = 'paid'
                 WHERE period = :period AND method = 'invoice'"""), params),
    ]


# ------------------------------------------------------------------ the operations


def operations(quarter, month, today: dt.date) -> list[Operation]:
    from sqlalchemy import delete, select, update

    from webapp.extensions import db
    from webapp.models import Invoice, PaymentAllocation
    from webapp.services import avtalegiro, invoices

    now = dt.datetime.combine(today, dt.time(12))

    def remove(periods):
        def reset():
            billed = select(Invoice.id).where(Invoice.period.in_(periods))
            # No session to keep in step: without this SQLAlchemy fetches the ids of every row deleted (a million).
            db.session.execute(delete(PaymentAllocation).where(PaymentAllocation.invoice_id.in_(billed))
                               .execution_options(synchronize_session=False))
            db.session.execute(delete(Invoice).where(Invoice.period.in_(periods)))
            db.session.commit()
        return reset

    def run_sql(statement):
        def run():
            sql, params = statement()
            db.session.execute(sql, params)
            db.session.commit()
        return run

    def unclaimed():
        if db.session.scalar(select(Invoice.id).where(Invoice.first_month == str(month)).limit(1)) is None:
            invoices.generate_avtalegiro_month(month, today=today)
        db.session.execute(update(Invoice).where(Invoice.first_month == str(month))
                           .values(sent_at=None, delivery=None, sent_to=None))
        db.session.commit()
        vacuum("invoice")  # the unmarking's dead rows (autovacuum is off on the bench server)

    def claims_file():
        made = avtalegiro.build_claims(month, today)
        avtalegiro.mark_claimed(made.invoice_ids)
        db.session.commit()

    def claims_rows():
        sql, params = claims_sql(month)
        db.session.execute(sql, params).all()

    def claims_marked():
        sql, params = claims_marked_sql(month, now, db.engine.dialect.name)
        db.session.execute(sql, params).all()
        db.session.commit()

    quarter_periods = [str(quarter)] + [str(m) for m in quarter.months]
    return [
        Operation("invoices for a quarter", lambda: invoices.generate(quarter, today=today),
                  run_sql(lambda: invoice_rows_sql(list(quarter.months), "invoice", today, now)),
                  remove(quarter_periods)),
        Operation("AvtaleGiro claim rows for a month", lambda: invoices.generate_avtalegiro_month(month, today=today),
                  run_sql(lambda: invoice_rows_sql([month], "avtalegiro", today, now)), remove([str(month)])),
        Operation("AvtaleGiro claims file", claims_file, claims_marked, unclaimed),
        Operation("AvtaleGiro claims file, not marked sent", lambda: avtalegiro.build_claims(month, today),
                  claims_rows, unclaimed),
        *BankFile(quarter, today, now).operations(),
    ]


class BankFile:
    """The bank file paying every invoice of the quarter, imported, beside bank_file_sql; and the invoices' kept
    sums and status after payments in part (invoice_ledger.refresh), beside one UPDATE of them."""

    def __init__(self, quarter, today: dt.date, now: dt.datetime):
        self.quarter, self.today, self.now = quarter, today, now
        self.paid_on = quarter.months[0].first_day.replace(day=20)
        self.data: bytes | None = None

    def operations(self) -> list[Operation]:
        return [Operation("bank file paying a quarter's invoices", self.import_file, self.import_sql, self.unpaid),
                Operation("invoice sums after payments in part", self.refresh, self.refresh_sql, self.paid_in_part)]

    def unpaid(self) -> None:
        """The quarter's invoices (made once), none paid, and the bank file paying each in full (built once)."""
        from sqlalchemy import delete, select, update

        from webapp.extensions import db
        from webapp.models import Invoice, Payment, PaymentAllocation, PaymentImport
        from webapp.models.choices import InvoiceStatus
        from webapp.services import invoices

        quarter = str(self.quarter)
        if db.session.scalar(select(Invoice.id).where(Invoice.period == quarter).limit(1)) is None:
            invoices.generate(self.quarter, today=self.today)
        bench_imports = select(PaymentImport.id).where(PaymentImport.filename.like(BANK_FILE + "%"))
        db.session.execute(delete(PaymentAllocation))
        # No session to keep in step: without this SQLAlchemy fetches the ids of every payment deleted (a million),
        # which was the peak memory of the project's process at 1M after its first run.
        db.session.execute(delete(Payment).where(Payment.import_id.in_(bench_imports))
                           .execution_options(synchronize_session=False))
        db.session.execute(delete(PaymentImport).where(PaymentImport.filename.like(BANK_FILE + "%")))
        db.session.execute(update(Invoice).where(Invoice.period == quarter).values(paid_ore=0,
                                                                                    status=InvoiceStatus.open))
        db.session.commit()
        for table in ("invoice", "payment", "payment_allocation"):
            vacuum(table)
        if self.data is None:
            self.data = self.built_file()

    def built_file(self) -> bytes:
        """The bank file paying each of the quarter's invoices, built once per dataset and kept under instance/ (by
        the SQL side, which runs first), so the project's process reads it and its peak memory is the import's
        and the file's, not the building's."""
        from flask import current_app
        from sqlalchemy import func, select

        from webapp.extensions import db
        from webapp.models import Invoice
        from webapp.models.choices import PaymentMethod
        from webapp.services import payments

        quarter = (Invoice.period == str(self.quarter), Invoice.method == PaymentMethod.invoice)
        count, total = db.session.execute(select(func.count(), func.sum(Invoice.amount_ore)).where(*quarter)).one()
        engine = db.engine.url
        path = os.path.join(INSTANCE, f"bench_ocr_{engine.get_backend_name()}_{engine.database.rsplit('/', 1)[-1]}"
                                      f"_{self.quarter}_{count}_{total}.txt")
        if not os.path.exists(path):
            owed = db.session.execute(select(Invoice.kid, Invoice.amount_ore).where(*quarter)
                                      .order_by(Invoice.id)).all()
            data = payments.build_ocr_file([(kid, amount, self.paid_on) for kid, amount in owed],
                                           current_app.config["UNION_ACCOUNT_NUMBER"])
            with open(path + ".part", "wb") as part:
                part.write(data)
            os.replace(path + ".part", path)
        with open(path, "rb") as built:
            return built.read()

    def import_file(self) -> None:
        from webapp.services import payments

        payments.import_file(BANK_FILE, self.data, imported_by="bench")

    def import_sql(self) -> None:
        from webapp.extensions import db

        for sql, params in bank_file_sql(self.quarter, self.paid_on, self.now):
            db.session.execute(sql, params)
        db.session.commit()

    def paid_in_part(self) -> None:
        """The bank file imported anew, each allocation made smaller by up to 9.99 kr (so the invoices' figures
        differ), and the invoices' kept sums and status put back to unpaid."""
        from sqlalchemy import update

        from webapp.extensions import db
        from webapp.models import Invoice, PaymentAllocation
        from webapp.models.choices import InvoiceStatus

        self.unpaid()
        self.import_file()
        db.session.execute(update(PaymentAllocation).values(
            amount_ore=PaymentAllocation.amount_ore - PaymentAllocation.invoice_id % 1000))
        db.session.execute(update(Invoice).where(Invoice.period == str(self.quarter))
                           .values(paid_ore=0, status=InvoiceStatus.open))
        db.session.commit()
        vacuum("invoice")

    def refresh(self) -> None:
        from sqlalchemy import select

        from webapp.extensions import db
        from webapp.models import PaymentAllocation
        from webapp.services import invoice_ledger

        invoice_ledger.refresh(db.session.scalars(select(PaymentAllocation.invoice_id)).all())
        db.session.commit()

    def refresh_sql(self) -> None:
        from sqlalchemy import text

        from webapp.extensions import db

        db.session.execute(text("""UPDATE invoice SET
                paid_ore = (SELECT SUM(a.amount_ore) FROM payment_allocation a WHERE a.invoice_id = invoice.id),
                status = 'partly_paid'
            WHERE id IN (SELECT invoice_id FROM payment_allocation)"""))
        db.session.commit()


def main() -> int:
    parser = bench_arguments(runs=3)
    add_only_argument(parser)
    parser.add_argument("--only-like", metavar="TEXT", help="run only the operations whose name contains TEXT")
    args = parser.parse_args()
    app = bench_app(args.db or "sqlite:///" + default_db(args.members), args.members, args.employers)

    from webapp.services.periods import Month

    today = dt.date.today()
    quarter = Month.of(today).shift(3).quarter  # no basis and no invoice yet
    month = quarter.months[-1].shift(4)  # AvtaleGiro claims in a month of a later quarter
    registered = dt.datetime.combine(month.previous.first_day, dt.time(9))  # after the quarter, before the month
    with app.app_context():
        prepare(today, registered)
    chosen = [op for op in operations(quarter, month, today) if (args.only_like or "").lower() in op.name.lower()]
    return compare_operations(app, chosen, args, script=__file__)


if __name__ == "__main__":
    sys.exit(main())
