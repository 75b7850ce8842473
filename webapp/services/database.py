"""Database setup and engine housekeeping: the schema, the roles defined in code, sequences after bulk writes,
and the reports' reader (a read replica when REPORTS_DATABASE_URL is set).

The CLI, `run.py`, the seed, the benchmarks and the tests all prepare a database through these functions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import Integer, Sequence, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from webapp.extensions import db


def guard_sqlite_transactions() -> None:
    """Make every SQLite write that begins with WITH open its transaction (once per process; create_app calls it).

    Python 3.11's sqlite3 driver opens a transaction before a statement that begins with INSERT, UPDATE, DELETE or
    REPLACE, and runs every other statement in autocommit. SQLAlchemy renders the CTEs of an INSERT ... SELECT
    first ("WITH ... INSERT INTO ..."), so such a statement, when it was the first write of a transaction, was
    committed at once and stayed when the rest rolled back (invoices.generate's run, for one)."""
    if not event.contains(Engine, "before_cursor_execute", _begin_before_a_write_with_ctes):
        event.listen(Engine, "before_cursor_execute", _begin_before_a_write_with_ctes)


def _begin_before_a_write_with_ctes(conn, cursor, statement, parameters, context, executemany) -> None:
    if conn.dialect.name != "sqlite" or context is None:
        return
    if not (context.isinsert or context.isupdate or context.isdelete):
        return
    raw = conn.connection.dbapi_connection
    if not raw.in_transaction and statement.lstrip()[:4].upper() == "WITH":
        cursor.execute("BEGIN")


def ensure_roles() -> list[str]:
    """Create the role rows that exist in code and are missing in the database."""
    from webapp.security.roles import ROLE_GRANTS

    sm = current_app.appbuilder.sm
    created = []
    for name in ROLE_GRANTS:
        if sm.find_role(name) is None:
            sm.add_role(name)
            created.append(name)
    db.session.commit()
    return created


def upgrade_schema(fresh: bool = False) -> None:
    """Bring the schema to the newest migration and create the roles defined in code (in an app context).

    `fresh` first empties a PostgreSQL schema, for tests and benchmarks that start from nothing."""
    from flask_migrate import upgrade

    if fresh and db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.session.commit()
    upgrade()
    ensure_roles()


def reset_sequences(tables) -> None:
    """PostgreSQL: move each table's id sequence past the ids written with explicit values."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in tables:
        column = table.c.get("id")
        if column is None or not isinstance(column.type, Integer):
            continue
        sequence = db.session.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        if sequence is None and isinstance(column.default, Sequence):
            sequence = column.default.name  # FAB's tables name their sequences
        if sequence is None:
            continue
        db.session.execute(
            text(f'SELECT setval(:s, COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'), {"s": sequence}
        )


@contextmanager
def reports_reader() -> Iterator[Session]:
    """Inside the block `db.session` reads from the reports' database: REPORTS_DATABASE_URL (a read replica of
    PostgreSQL, say), or the app's own database when that is not set. Yields the session in use.

    For the reading part of a report, a report job or a notebook: nothing is to be written inside the block
    (a replica refuses writes); the session in use before is back afterwards, as it was."""
    url = current_app.config.get("REPORTS_DATABASE_URL")
    if not url:
        yield db.session()
        return
    registry = db.session.registry
    outer = registry()
    reader = Session(bind=_reports_engine(url), autoflush=False, expire_on_commit=False)
    registry.set(reader)
    try:
        yield reader
    finally:
        reader.rollback()
        reader.close()
        registry.set(outer)


def _reports_engine(url: str):
    """One engine per app and replica URL, made on first use."""
    engines = current_app.extensions.setdefault("reports_engines", {})
    if url not in engines:
        engines[url] = create_engine(url, pool_pre_ping=True)
    return engines[url]
