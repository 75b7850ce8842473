"""A seeded year of direct billing: it reconciles to the øre, and every screen has something to show.

The module seeds one database (a SQLite file, or the PostgreSQL database in TEST_DATABASE_URL) with the
register, the deduction cycle and the year of direct billing, as `flask --app run seed` does. The money is
then summed from the raw rows with plain SQL, each table on its own, independently of the services (and of
webapp.services.direct_reconciliation, which is compared with those sums too).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict

import pytest
from sqlalchemy import text

from seed.cycle import play_cycle
from seed.generator import generate
from seed.phases import direct_bank
from seed.phases.direct_billing import play_direct_billing
from tests.helpers import fresh_app
from webapp.extensions import db
from webapp.services import arrears, direct_reconciliation, invoice_ledger, invoices
from webapp.services.invoices import covered_months
from webapp.services.periods import Month

MEMBERS, EMPLOYERS, SEED, MONTHS = 1500, 120, 5, 12
TODAY = dt.date.today()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    app = fresh_app(tmp_path_factory, "direct", INVOICE_PRINT_DIR=str(tmp_path_factory.mktemp("print")))
    with app.app_context():
        generate(members=MEMBERS, employers=EMPLOYERS, seed=SEED, reset=False, progress=False)
        play_cycle(MONTHS, SEED)
        app.direct_result = play_direct_billing(SEED, MONTHS)
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def session(seeded):
    with seeded.app_context():
        yield db.session
        db.session.remove()


def _one(session, sql: str) -> int:
    return int(session.execute(text(sql)).scalar() or 0)


def _rows(session, sql: str) -> list:
    return session.execute(text(sql)).all()


def _moment(value) -> dt.datetime:
    """A timestamp read by plain SQL (SQLite gives it as text)."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _day(value) -> dt.date:
    """A date read by plain SQL (SQLite gives it as text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


# ------------------------------------------------------------------ the money, from the raw rows


def test_every_ore_of_the_year_is_explained(session):
    total = _one(session, "SELECT SUM(amount_ore) FROM payment")
    employer = _one(session, "SELECT SUM(amount_ore) FROM payment "
                             "WHERE employer_id IS NOT NULL AND returned_at IS NULL")
    member = _one(session, "SELECT SUM(amount_ore) FROM payment WHERE member_id IS NOT NULL AND returned_at IS NULL")
    unmatched = _one(session, "SELECT SUM(amount_ore) FROM payment "
                              "WHERE employer_id IS NULL AND member_id IS NULL AND returned_at IS NULL")
    returned = _one(session, "SELECT SUM(amount_ore) FROM payment WHERE returned_at IS NOT NULL")
    allocated = _one(session, "SELECT SUM(amount_ore) FROM payment_allocation")
    allocated_to_member_payments = _one(session, (
        "SELECT SUM(a.amount_ore) FROM payment_allocation a JOIN payment p ON p.id = a.payment_id "
        "WHERE p.member_id IS NOT NULL AND p.returned_at IS NULL"))
    credit = member - allocated_to_member_payments
    assert total == employer + allocated + credit + unmatched + returned  # 0 øre unexplained
    assert allocated == allocated_to_member_payments  # no allocation left on a payment that is not a member's
    assert _one(session, "SELECT COUNT(*) FROM payment WHERE employer_id IS NOT NULL AND member_id IS NOT NULL") == 0
    # The service says the same.
    figures = direct_reconciliation.payment_figures()
    assert (figures.total_ore, figures.employer_ore, figures.allocated_ore, figures.credit_ore,
            figures.unmatched_ore, figures.returned_ore) == (total, employer, allocated, credit, unmatched, returned)
    assert figures.unexplained_ore == 0
    assert allocated > 0 and credit > 0 and unmatched > 0 and returned > 0


def test_every_invoice_owes_its_amount_less_what_is_matched_to_it(session):
    """The kept sums and status of every invoice are what invoice_ledger.refresh computes from the raw rows, though
    the bank files' imports kept them without it (invoice_ledger.store_paid)."""
    amounts = {row[0]: row[1:] for row in _rows(session, (
        "SELECT id, amount_ore, paid_ore, credited_ore, written_off_ore, period, status FROM invoice"))}
    paid = dict(_rows(session, "SELECT invoice_id, SUM(amount_ore) FROM payment_allocation GROUP BY invoice_id"))
    adjusted = defaultdict(int)
    for invoice_id, kind, amount in _rows(session, "SELECT invoice_id, kind, amount_ore FROM invoice_adjustment"):
        adjusted[(invoice_id, kind)] += int(amount)
    per_period: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for invoice_id, (amount, kept_paid, kept_credited, kept_written_off, period, status) in amounts.items():
        raw = (int(paid.get(invoice_id) or 0), adjusted[(invoice_id, "credit_note")],
               adjusted[(invoice_id, "write_off")])
        assert (kept_paid, kept_credited, kept_written_off) == raw, invoice_id
        assert status == invoice_ledger.stored_status(amount, *raw).value, invoice_id
        outstanding = amount - sum(raw)
        assert 0 <= outstanding <= amount, invoice_id  # never paid beyond its amount, never below nothing
        for index, value in enumerate((1, amount, *raw, outstanding)):
            per_period[period][index] += value
    got = {row.period: [row.invoices, row.billed_ore, row.paid_ore, row.credited_ore, row.written_off_ore,
                        row.outstanding_ore] for row in direct_reconciliation.by_period(TODAY)}
    assert got == dict(per_period)


def test_allocations_of_payments_stay_within_them(session):
    """A payment's allocations have its sign and never exceed it (the rest is the member's credit)."""
    rows = _rows(session, (
        "SELECT p.id, p.amount_ore, SUM(a.amount_ore), MIN(a.amount_ore), MAX(a.amount_ore) "
        "FROM payment p JOIN payment_allocation a ON a.payment_id = p.id GROUP BY p.id, p.amount_ore"))
    assert rows
    for payment_id, amount, allocated, smallest, largest in rows:
        if amount >= 0:
            assert 0 <= smallest and allocated <= amount, payment_id
        else:
            assert largest <= 0 and allocated >= amount, payment_id


# ------------------------------------------------------------------ every screen has something to show


def test_invoices_of_every_status(session):
    statuses = dict(_rows(session, "SELECT status, COUNT(*) FROM invoice GROUP BY status"))
    assert {"open", "partly_paid", "paid", "credited", "written_off"} <= set(statuses)
    unsettled = "status IN ('open', 'partly_paid')"
    assert _one(session, f"SELECT COUNT(*) FROM invoice WHERE {unsettled} AND due_date < :today".replace(
        ":today", f"'{TODAY.isoformat()}'")) > 0  # overdue
    assert _one(session, f"SELECT COUNT(*) FROM invoice WHERE {unsettled} AND due_date >= '{TODAY.isoformat()}'") > 0
    methods = dict(_rows(session, "SELECT method, COUNT(*) FROM invoice GROUP BY method"))
    assert methods.get("invoice", 0) > 0 and methods.get("avtalegiro", 0) > 0
    deliveries = dict(_rows(session, "SELECT delivery, COUNT(*) FROM invoice WHERE sent_at IS NOT NULL "
                                     "GROUP BY delivery"))
    assert {"email", "print", "avtalegiro"} <= set(deliveries)
    assert _one(session, "SELECT COUNT(*) FROM invoice WHERE first_reminder_on IS NOT NULL") > 0
    assert _one(session, "SELECT COUNT(*) FROM invoice WHERE second_reminder_on IS NOT NULL") > 0
    assert _one(session, "SELECT COUNT(*) FROM invoice WHERE paid_ore > 0 AND amount_ore > paid_ore") > 0


def test_the_rows_carry_the_days_of_the_played_year(session, seeded):
    """The demo clock moved the stamps the services wrote to the simulated days: rows made over the whole year,
    none on the day the demo was seeded but those of today's steps."""
    played = len(seeded.direct_result.months)
    # The invoices are made by each quarter's run; files arrive, payments are matched and allocated and claims
    # sent in (nearly) every month.
    for table, column, least_months in (("invoice", "created_at", played // 3),
                                        ("payment_import", "imported_at", played),
                                        ("payment_allocation", "created_at", played - 1),
                                        ("invoice", "sent_at", played - 1), ("payment", "matched_at", played)):
        stamps = [_moment(value) for (value,) in _rows(session, f"SELECT {column} FROM {table} "
                                                                  f"WHERE {column} IS NOT NULL")]
        months = {(stamp.year, stamp.month) for stamp in stamps}
        assert len(months) >= least_months, (table, column, sorted(months))
        assert max(stamps).date() <= TODAY, (table, column)
    # Changed on days before today (the office's day last month, the agreements files' days): moved from the wall
    # clock to those days.
    for table, column in (("payment", "returned_at"), ("avtalegiro_mandate", "changed_at"),
                          ("avtalegiro_mandate", "deleted_at")):
        stamps = [_moment(value) for (value,) in _rows(session, f"SELECT {column} FROM {table} "
                                                                  f"WHERE {column} IS NOT NULL")]
        assert stamps and max(stamps).date() < TODAY, (table, column, stamps[:3])


def test_mandates_new_changed_and_deleted(session):
    active, with_notice, deleted, changed, without_member = session.execute(text(
        "SELECT SUM(CASE WHEN active THEN 1 ELSE 0 END), SUM(CASE WHEN notify AND active THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END), SUM(CASE WHEN changed_at IS NOT NULL THEN 1 ELSE 0 "
        "END), SUM(CASE WHEN member_id IS NULL THEN 1 ELSE 0 END) FROM avtalegiro_mandate")).one()
    assert active > 0 and with_notice > 0 and deleted == 2 and changed >= 5 and without_member == 0
    # Mandates count from the day their file arrived, months before today.
    assert session.execute(text("SELECT MIN(registered_at) FROM avtalegiro_mandate")).scalar() is not None
    assert _one(session, "SELECT COUNT(*) FROM avtalegiro_mandate WHERE registered_at > :now".replace(
        ":now", f"'{dt.datetime.now().isoformat(sep=' ')}'")) == 0


def test_the_payment_queue_and_the_office(session, seeded):
    from_demo = ("import_id IN (SELECT id FROM payment_import WHERE imported_by = "
                 f"'{direct_bank.IMPORTED_BY}')")
    assert _one(session, f"SELECT COUNT(*) FROM payment WHERE {from_demo} AND employer_id IS NULL "
                         "AND member_id IS NULL AND returned_at IS NULL") == 2
    assert _one(session, "SELECT COUNT(*) FROM payment WHERE returned_at IS NOT NULL AND return_reason <> ''") == 1
    assert _one(session, "SELECT COUNT(*) FROM payment WHERE matched_manually = :yes".replace(
        ":yes", "TRUE" if db.engine.dialect.name == "postgresql" else "1")) == 1
    assert _one(session, f"SELECT COUNT(*) FROM payment WHERE {from_demo} AND amount_ore < 0") == 1  # a reversal
    assert _one(session, f"SELECT COUNT(*) FROM payment WHERE {from_demo} AND transaction_type = 15") > 0
    assert direct_reconciliation.members_with_credit() > 0
    # Two credit notes and a write-off by the office; and a credit note for each invoice of the member ended for
    # non-payment that bills months after the leave (leaving.end_membership credits those months): one in the first
    # two months of a quarter, none in its last month, when the quarter's invoices end with the leave.
    kinds = dict(_rows(session, "SELECT kind, COUNT(*) FROM invoice_adjustment GROUP BY kind"))
    [(ended_id, left_on)] = _rows(session, "SELECT id, left_on FROM member WHERE leave_reason = 'non_payment'")
    left_month = Month.of(_day(left_on))
    billed_after_leave = sum(
        1 for first_month, count in _rows(session, f"SELECT first_month, month_count FROM invoice "
                                                   f"WHERE member_id = {ended_id}")
        if covered_months(first_month, count)[-1] > left_month)
    assert kinds == {"credit_note": 2 + billed_after_leave, "write_off": 1}
    leave_credits = _rows(session, "SELECT i.member_id FROM invoice_adjustment a JOIN invoice i ON i.id = a.invoice_id "
                                   "WHERE a.kind = 'credit_note' AND a.reason NOT LIKE 'Feilfakturert%' "
                                   "AND a.reason NOT LIKE 'Permisjon uten lønn%'")
    assert [member_id for (member_id,) in leave_credits] == [ended_id] * billed_after_leave
    assert _one(session, "SELECT COUNT(*) FROM audit_log WHERE action LIKE '%match%' OR action LIKE '%return%'") >= 2


def test_arrears_and_one_membership_ended_for_non_payment(session):
    rows = arrears.arrears_rows(TODAY)
    assert rows and all(row.outstanding_ore > 0 and row.months_unpaid > 0 for row in rows)
    ended = _rows(session, "SELECT left_on FROM member WHERE leave_reason = 'non_payment'")
    assert len(ended) == 1
    left_on = _day(ended[0][0])
    assert left_on >= TODAY  # the end of this month: the usual periodization


def test_income_bands_rates_and_the_demo_login(session, seeded):
    assert _one(session, "SELECT COUNT(*) FROM income_band WHERE is_default = :yes".replace(
        ":yes", "TRUE" if db.engine.dialect.name == "postgresql" else "1")) == 1
    assert _one(session, "SELECT COUNT(DISTINCT valid_from) FROM direct_dues_rate") == 2
    assert _one(session, "SELECT COUNT(*) FROM member WHERE income_band_id IS NOT NULL") > 0
    assert seeded.direct_result.bands_declared == _one(
        session, "SELECT COUNT(*) FROM member WHERE income_band_declared_on IS NOT NULL")
    [(member_no,)] = _rows(session, "SELECT username FROM demo_account WHERE note LIKE 'Member paying directly%'")
    invoices = _rows(session, "SELECT i.method, i.sent_at FROM invoice i JOIN member m ON m.id = i.member_id "
                              f"WHERE m.member_no = '{member_no}'")
    assert invoices and {method for method, _sent in invoices} == {"invoice"}
    assert _one(session, f"SELECT COUNT(*) FROM member m JOIN ab_user u ON u.id = m.user_id "
                         f"WHERE m.member_no = '{member_no}' AND u.username = '{member_no}'") == 1


def test_no_mail_left_the_machine_and_none_waits(session):
    assert _one(session, "SELECT COUNT(*) FROM mail_outbox") > 0
    assert _one(session, "SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL") == 0
    assert _one(session, "SELECT COUNT(*) FROM mail_outbox_attachment") == 0


def test_the_summary_counts_what_is_there(seeded, session):
    result = seeded.direct_result
    assert result.invoices == _one(session, "SELECT COUNT(*) FROM invoice WHERE method = 'invoice'")
    assert result.in_arrears == len(arrears.arrears_rows(TODAY))
    assert f"{result.invoices} invoices" in result.summary()


def test_the_invoice_runs_the_demo_leaves_out_would_make_nothing(seeded):
    """The demo plays each quarter's invoice run only (seed/phases/direct_billing.py): the office's catch-up run on
    the 1st of every month and the month's AvtaleGiro run before its claims file, played on the seeded year, find
    every member-month billed already."""
    with seeded.app_context():
        for month in map(Month.parse, seeded.direct_result.months):
            assert invoices.generate(month.quarter, today=month.first_day).created == 0, month
            made = invoices.generate_avtalegiro_month(month, today=month.first_day.replace(day=5))
            assert made.created == 0 and made.months_already_billed > 0, month
        db.session.remove()


# ------------------------------------------------------------------ deterministic


def _direct_digest() -> str:
    digest = hashlib.sha256()
    for sql in ("SELECT m.member_no, i.period, i.kid, i.amount_ore, i.paid_ore, i.credited_ore, i.written_off_ore, "
                "i.status, i.due_date FROM invoice i JOIN member m ON m.id = i.member_id ORDER BY i.kid",
                "SELECT p.kid, p.amount_ore, p.paid_on, p.transaction_type, p.member_id, p.returned_at IS NULL "
                "FROM payment p JOIN payment_import f ON f.id = p.import_id "
                f"WHERE f.imported_by = '{direct_bank.IMPORTED_BY}' ORDER BY p.bank_reference",
                "SELECT kid, member_id, notify, active FROM avtalegiro_mandate ORDER BY kid"):
        digest.update(repr([tuple(str(value) for value in row) for row in db.session.execute(text(sql))]).encode())
    return digest.hexdigest()


def test_the_same_seed_gives_the_same_year(tmp_path_factory):
    app = fresh_app(tmp_path_factory, "again", INVOICE_PRINT_DIR=str(tmp_path_factory.mktemp("print-again")))
    digests = []
    with app.app_context():
        for reset in (False, True):
            generate(members=300, employers=30, seed=2, reset=reset, progress=False)
            play_cycle(4, 2)
            play_direct_billing(2, 4)
            digests.append(_direct_digest())
        db.session.remove()
        db.engine.dispose()
    assert digests[0] == digests[1]
