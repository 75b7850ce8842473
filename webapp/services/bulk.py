"""Many rows into one table in the session's transaction, the quickest way each database offers; and the rows
matching many values (`select_in`), read the same way.

The rows go straight through the database driver: PostgreSQL takes them through COPY (for the 100,000 rows of a
billing run, several times quicker than the INSERT per row that executemany sends), SQLite through the driver's
executemany of tuples (SQLAlchemy's executemany of dicts spent more on preparing each row's parameters than
SQLite spent storing it). Each value goes through its column type's bind processing (an enum becomes its stored
name, a date SQLite's text), and columns the rows leave out get the model's scalar default, so the rows are stored
as an insert through SQLAlchemy stores them.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Date, DateTime, Select, Table, bindparam, text
from sqlalchemy.engine import Compiled
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db


def insert_rows(table: Table, rows: Sequence[dict]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`; a unique violation raises IntegrityError."""
    if not rows:
        return
    given = tuple(rows[0])
    columns, tail = with_defaults(table, given)
    write_tuples(table, columns, (tuple(row[name] for name in given) + tail for row in rows))


def with_defaults(table: Table, given: tuple[str, ...]) -> tuple[tuple[str, ...], tuple]:
    """The columns to write for rows that give `given`: those, then the columns left out that have a default; and
    those defaults' values, to put after each row's own. A default computed per row (a timestamp, say) is the
    caller's to give: a column left out with one raises ValueError."""
    defaults = {column.name: _default(column) for column in table.columns if column.name not in given}
    filled = {name: value for name, value in defaults.items() if value is not None}
    return given + tuple(filled), tuple(filled.values())


def write_tuples(table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert `rows` (tuples of values in the order of `columns`) into `table`; returns how many were written.
    A unique violation raises IntegrityError."""
    connection = db.session.connection()
    dialect = connection.dialect
    processors = _bind_processors(table, columns, dialect)
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    if processors:
        rows = (_processed(row, processors) for row in rows)
    driver = connection.connection.driver_connection
    cursor = driver.cursor()
    written = 0
    try:
        if dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        else:
            rows = list(rows)
            cursor.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' for _ in columns)})",
                               rows)
            written = len(rows)
    except _integrity_errors(dialect.name) as exc:
        raise IntegrityError(f"INSERT INTO {table.name}", None, exc) from exc
    finally:
        cursor.close()
    return written


def update_rows(table: Table, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Set `columns` of the rows of `table` whose id is each row's first value to the row's other values, by one
    statement: on PostgreSQL an UPDATE ... FROM unnest() of an array per column (its executemany is a statement
    per row), on SQLite the driver's executemany. Values go through their column type's bind processing."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    keyed = ("id", *columns)
    processors = _bind_processors(table, keyed, dialect)
    values = [_processed(row, processors) for row in rows] if processors else rows
    quote = dialect.identifier_preparer.quote
    cursor = connection.connection.driver_connection.cursor()
    try:
        if dialect.name == "postgresql":
            arrays = ", ".join(f"CAST(%s AS {table.c[name].type.compile(dialect=dialect)}[])" for name in keyed)
            settings = ", ".join(f"{quote(name)} = given.{quote(name)}" for name in columns)
            cursor.execute(f"UPDATE {table.name} SET {settings} FROM unnest({arrays}) "
                           f"AS given({', '.join(quote(name) for name in keyed)}) WHERE {table.name}.id = given.id",
                           [list(column) for column in zip(*values)])
        else:
            settings = ", ".join(f"{quote(name)} = ?" for name in columns)
            cursor.executemany(f"UPDATE {table.name} SET {settings} WHERE id = ?",
                               [(*row[1:], row[0]) for row in values])
    finally:
        cursor.close()


def _default(column):
    default = column.default
    if default is None:
        return None
    if not default.is_scalar:
        raise ValueError(f"{column.table.name}.{column.name}: a default computed per row must be given")
    return default.arg


# The values a lookup query names at a time (SQLite's default limit of bound parameters was 999).
LOOKUP_CHUNK = 900


def select_in(statement: Select, column, values: Sequence) -> Iterator[tuple]:
    """The rows of `statement` whose `column` is one of `values`, LOOKUP_CHUNK values a query, in the session's
    transaction (what it holds is flushed first).

    The statement is compiled once per chunk size and run on the driver's own cursor, and its rows come as the
    driver gives them (plain tuples; no type's result processing, so an enum comes back as its stored name): for
    100,000 values about three times quicker than SQLAlchemy's execution, which renders the IN list and wraps
    every row each time."""
    db.session.flush()
    connection = db.session.connection()
    dialect = connection.dialect
    base = statement.compile(dialect=dialect)
    base_key = (dialect.name, base.string, repr(sorted(base.params.items())), column.table.name, column.name)
    cursor = connection.connection.driver_connection.cursor()
    try:
        for start in range(0, len(values), LOOKUP_CHUNK):
            chunk = values[start : start + LOOKUP_CHUNK]
            compiled, processors = _lookup_statement(base_key, statement, column, len(chunk), dialect)
            params = compiled.construct_params({f"in_{k}": value for k, value in enumerate(chunk)})
            for name, processor in processors:
                if params[name] is not None:
                    params[name] = processor(params[name])
            if compiled.positional:
                params = [params[name] for name in compiled.positiontup]
            cursor.execute(compiled.string, params)
            yield from cursor.fetchall()
    finally:
        cursor.close()


# Lookup statements compiled with an IN list of so many parameters, by the statement's SQL and bound values, the
# column and the count, each with its parameters' bind processors (an enum's to its stored name, a date's to
# SQLite's text): compiling 900 parameters takes longer than running the query.
_LOOKUP_STATEMENTS: dict[tuple, tuple[Compiled, list]] = {}


def _lookup_statement(base_key: tuple, statement: Select, column, size: int, dialect) -> tuple[Compiled, list]:
    key = (*base_key, size)
    found = _LOOKUP_STATEMENTS.get(key)
    if found is None:
        if len(_LOOKUP_STATEMENTS) > 256:  # the last chunks' odd sizes: kept few
            _LOOKUP_STATEMENTS.clear()
        compiled = statement.where(column.in_([bindparam(f"in_{k}") for k in range(size)])).compile(dialect=dialect)
        processors = [(name, processor) for bind, name in compiled.bind_names.items()
                      if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None]
        found = _LOOKUP_STATEMENTS[key] = (compiled, processors)
    return found


# The cyclic garbage collector's first threshold during a bulk job (Python's default: 700).
BULK_JOB_GC_THRESHOLD = 100_000
_gc_lock = threading.Lock()
_gc_jobs = 0
_gc_thresholds: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run a bulk job with the cyclic garbage collector's first threshold raised to BULK_JOB_GC_THRESHOLD, and put
    back when the last such job in the process ends.

    A job that reads a bank file of 100,000 payments, or refreshes the sums of as many invoices, makes millions of
    short-lived tuples, lists and rows and keeps tens of thousands of them a while, and few reference cycles; by
    default the collector runs every 700 allocations, and now and then passes over every object of the app: a third
    of the import's time, two fifths of the refresh's. Reference counting still frees everything that is not a
    cycle at once."""
    global _gc_jobs, _gc_thresholds
    with _gc_lock:
        if _gc_jobs == 0:
            _gc_thresholds = gc.get_threshold()
            gc.set_threshold(max(BULK_JOB_GC_THRESHOLD, _gc_thresholds[0]), *_gc_thresholds[1:])
        _gc_jobs += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_jobs -= 1
            if _gc_jobs == 0:
                gc.set_threshold(*_gc_thresholds)


def plan_each_statement() -> None:
    """For the rest of the transaction, PostgreSQL plans every statement for its own values (elsewhere: nothing).

    psycopg prepares a statement once it has run five times, and PostgreSQL may then keep one generic plan for it. A
    bulk job that writes a table and reads it back, a chunk at a time, would keep the plan made while the table held
    few of its rows: a sequential scan, matching each row against a list of 900 values, that takes seconds once the
    job has written 100,000 rows. Planned each time, the statement takes the index."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _bind_processors(table: Table, columns: Sequence[str], dialect) -> list[tuple[int, object]]:
    """(position, bind processor) of the columns whose type converts values for this database: the dialect's own
    type's processor (SQLite's DATETIME writes the text SQLAlchemy reads and compares, not the driver's). A date's
    or a timestamp's is remembered per value: a batch's rows share a few (a run's or an import's moment)."""
    processors = []
    for k, name in enumerate(columns):
        column_type = table.c[name].type
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            if isinstance(column_type, (Date, DateTime)):
                processor = functools.lru_cache(maxsize=1024)(processor)
            processors.append((k, processor))
    return processors


def _processed(row: tuple, processors: list) -> list:
    values = list(row)
    for k, processor in processors:
        if values[k] is not None:
            values[k] = processor(values[k])
    return values


def _integrity_errors(dialect_name: str) -> tuple:
    if dialect_name == "postgresql":
        import psycopg

        return (psycopg.errors.IntegrityError,)
    import sqlite3

    return (sqlite3.IntegrityError,)
