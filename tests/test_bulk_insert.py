"""Bulk inserts store the same on every database: COPY on PostgreSQL, executemany elsewhere."""

from __future__ import annotations

import datetime as dt
import gc

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.concurrency import postgres_only
from webapp.extensions import db
from webapp.models import DirectDuesRate, IncomeBand, PaymentImport
from webapp.models.choices import MemberCategory, PaymentFileKind
from webapp.services import bulk


def test_rows_are_stored_with_the_model_defaults_and_enums_by_name(app_ctx):
    bulk.insert_rows(IncomeBand.__table__, [
        {"code": "lav", "lower_ore": 0, "upper_ore": 30_000_000},
        {"code": "hoy", "lower_ore": 30_000_000, "upper_ore": None},
    ])
    bulk.insert_rows(DirectDuesRate.__table__, [
        {"valid_from": dt.date(2027, 1, 1), "category": MemberCategory.student, "income_band_id": None,
         "monthly_ore": 5_000},
    ])
    db.session.commit()

    bands = db.session.scalars(select(IncomeBand).order_by(IncomeBand.lower_ore)).all()
    assert [(b.code, b.upper_ore, b.is_default) for b in bands] == [("lav", 30_000_000, False), ("hoy", None, False)]
    rate = db.session.scalars(select(DirectDuesRate)).one()
    assert (rate.category, rate.monthly_ore, rate.valid_from) == (MemberCategory.student, 5_000, dt.date(2027, 1, 1))


def test_a_timestamp_is_stored_as_sqlalchemy_stores_it_so_sql_finds_it_by_value(app_ctx):
    """On SQLite a timestamp is text: the driver's own conversion leaves out zero microseconds, SQLAlchemy's does
    not, and SQL compares the text."""
    noon = dt.datetime(2026, 12, 2, 12, 0)
    bulk.insert_rows(PaymentImport.__table__, [{"filename": "bulk.txt", "sha256": "a" * 64, "imported_at": noon}])
    db.session.add(PaymentImport(filename="orm.txt", sha256="b" * 64, imported_at=noon))
    db.session.commit()

    found = db.session.scalars(select(PaymentImport.filename).where(PaymentImport.imported_at == noon)
                               .order_by(PaymentImport.filename)).all()
    assert found == ["bulk.txt", "orm.txt"]


def test_a_duplicate_is_an_integrity_error_and_nothing_of_the_batch_stays(app_ctx):
    bulk.insert_rows(IncomeBand.__table__, [{"code": "lav", "lower_ore": 0, "upper_ore": None}])
    db.session.commit()
    with pytest.raises(IntegrityError):
        bulk.insert_rows(IncomeBand.__table__, [{"code": "ny", "lower_ore": 1, "upper_ore": None},
                                                {"code": "lav", "lower_ore": 2, "upper_ore": None}])
    db.session.rollback()
    assert db.session.scalars(select(IncomeBand.code)).all() == ["lav"]


def test_nothing_to_insert_does_nothing(app_ctx):
    bulk.insert_rows(IncomeBand.__table__, [])
    assert db.session.scalar(select(IncomeBand.id)) is None


def test_a_column_left_out_with_a_default_computed_per_row_is_refused(app_ctx):
    """Such a default (a timestamp) would differ row by row: the caller gives it, on every database alike."""
    from sqlalchemy import Column, DateTime, Integer, MetaData, Table

    stamped = Table("stamped", MetaData(), Column("id", Integer, primary_key=True),
                    Column("at", DateTime, default=dt.datetime.now))
    with pytest.raises(ValueError, match=r"stamped\.at: a default computed per row"):
        bulk.insert_rows(stamped, [{"id": 1}])


def test_update_rows_sets_the_columns_of_the_rows_named_by_id_and_no_others(app_ctx):
    bulk.insert_rows(IncomeBand.__table__, [{"code": "lav", "lower_ore": 0, "upper_ore": None}])
    band = db.session.scalar(select(IncomeBand.id))
    bulk.insert_rows(DirectDuesRate.__table__, [
        {"valid_from": dt.date(2027, 1, 1), "category": category, "income_band_id": band, "monthly_ore": 5_000}
        for category in (MemberCategory.student, MemberCategory.retired, MemberCategory.apprentice)])
    student, retired, apprentice = (db.session.scalar(select(DirectDuesRate.id).where(DirectDuesRate.category == c))
                                    for c in (MemberCategory.student, MemberCategory.retired,
                                              MemberCategory.apprentice))
    bulk.update_rows(DirectDuesRate.__table__, ("category", "monthly_ore", "valid_from", "income_band_id"), [
        (student, MemberCategory.ordinary, 7_000, dt.date(2028, 1, 1), band),
        (apprentice, MemberCategory.apprentice, 0, dt.date(2027, 1, 1), None)])
    db.session.commit()

    rows = {rate.id: (rate.category, rate.monthly_ore, rate.valid_from, rate.income_band_id)
            for rate in db.session.scalars(select(DirectDuesRate))}
    assert rows == {student: (MemberCategory.ordinary, 7_000, dt.date(2028, 1, 1), band),
                    retired: (MemberCategory.retired, 5_000, dt.date(2027, 1, 1), band),
                    apprentice: (MemberCategory.apprentice, 0, dt.date(2027, 1, 1), None)}


@postgres_only
def test_each_statement_is_planned_for_its_values_until_the_transaction_ends(app_ctx):
    """The setting is the transaction's (SET LOCAL): the pooled connection goes back to PostgreSQL's own choice."""
    def mode() -> str:
        return db.session.execute(text("SHOW plan_cache_mode")).scalar()

    assert mode() == "auto"
    bulk.plan_each_statement()
    assert mode() == "force_custom_plan"
    db.session.commit()
    assert mode() == "auto"


def test_select_in_gives_the_rows_sqlalchemy_gives_over_many_chunks_and_a_pending_row(app_ctx):
    """select_in runs the statement on the driver's cursor, LOOKUP_CHUNK values a query (the last chunk shorter),
    with the statement's own bound values, and sees what the session holds but has not flushed."""
    bulk.insert_rows(PaymentImport.__table__, [
        {"filename": f"fil{k}.txt", "sha256": f"{k:064d}", "imported_at": dt.datetime(2026, 12, 2), "kind": kind}
        for k in range(2_000) for kind in [PaymentFileKind.ocr if k % 3 else PaymentFileKind.avtalegiro_agreements]
    ])
    db.session.add(PaymentImport(filename="pending.txt", sha256="p" * 64, imported_at=dt.datetime(2026, 12, 2),
                                 kind=PaymentFileKind.ocr))
    names = [f"fil{k}.txt" for k in range(0, 2_000, 2)] + ["pending.txt", "none.txt"] + [
        f"fil{k}.txt" for k in range(1, 2_000, 2)]
    statement = select(PaymentImport.filename, PaymentImport.kind).where(PaymentImport.kind == PaymentFileKind.ocr)

    for _attempt in range(2):  # the second time from the compiled statements kept
        rows = sorted(bulk.select_in(statement, PaymentImport.filename, names))
        expected = sorted((name, kind.name) for name, kind in db.session.execute(statement))
        assert rows == expected and len(rows) == 1 + 1_333
    assert list(bulk.select_in(statement, PaymentImport.filename, [])) == []


def test_a_bulk_job_raises_the_collectors_threshold_until_the_last_job_ends():
    before = gc.get_threshold()
    with bulk.fewer_collections():
        assert gc.get_threshold() == (bulk.BULK_JOB_GC_THRESHOLD, *before[1:])
        with pytest.raises(RuntimeError), bulk.fewer_collections():  # a second job at once, which fails
            raise RuntimeError("the job failed")
        assert gc.get_threshold()[0] == bulk.BULK_JOB_GC_THRESHOLD  # the first job still runs
    assert gc.get_threshold() == before
