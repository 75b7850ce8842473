"""Many rows into one table in the session's transaction, the quickest way each database offers.

PostgreSQL takes them through COPY: for the 100,000 rows of a billing run, several times quicker than the
INSERT per row that executemany sends. Elsewhere (SQLite) executemany, which is quick there. Column defaults
of the model are filled in for columns the rows leave out, and each value goes through its column type's bind
processing (an enum becomes its stored name), so both ways store the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db


def insert_rows(table: Table, rows: Sequence[dict]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`; a unique violation raises IntegrityError."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    _copy(connection, table, rows)


def _copy(connection, table: Table, rows: Sequence[dict]) -> None:
    import psycopg

    given = set(rows[0])
    columns = [c for c in table.columns if c.name in given or _scalar_default(c) is not None]
    processors = [c.type.bind_processor(connection.dialect) for c in columns]
    names = ", ".join(connection.dialect.identifier_preparer.quote(c.name) for c in columns)
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([
                    _value(row[c.name] if c.name in row else _scalar_default(c), processor)
                    for c, processor in zip(columns, processors, strict=True)
                ])
    except psycopg.errors.IntegrityError as exc:
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc
    finally:
        cursor.close()


def _scalar_default(column):
    default = column.default
    return default.arg if default is not None and default.is_scalar else None


def _value(value, processor):
    return processor(value) if processor is not None and value is not None else value
