"""The member search index, built once after the register is written instead of row by row while it is.

The name and member-number search (webapp/views/member_search.py) has an index of its own: on SQLite the FTS5
trigram table member_name_search, kept by triggers on member; on PostgreSQL trigram GIN indexes on member. Kept
row by row, it is the larger part of writing a million members. `pause` drops the insert trigger (SQLite) or the
trigram indexes (PostgreSQL), remembering their definitions as the database holds them; `rebuild` refills the
FTS5 table from member ('rebuild') and makes them again. Both run inside the seed's one transaction (DDL is
transactional on both engines), so a seed that fails half-way rolls the pause back with the rows.
"""

from __future__ import annotations

from sqlalchemy import text

from seed.context import SeedContext
from webapp.extensions import db
from webapp.views.member_search import NAME_SEARCH_TABLE

SQLITE_INSERT_TRIGGER = f"{NAME_SEARCH_TABLE}_insert"
# Refills the FTS5 table from member (its external content).
SQLITE_REBUILD = f"INSERT INTO {NAME_SEARCH_TABLE}({NAME_SEARCH_TABLE}) VALUES ('rebuild')"


def pause(ctx: SeedContext) -> None:
    ctx.paused_search_index = _definitions()
    kind = "INDEX"
    if db.engine.dialect.name == "sqlite":
        kind = "TRIGGER"
        raw = db.session.connection().connection.dbapi_connection
        if not raw.in_transaction:
            raw.execute("BEGIN")  # the DROP inside the seed's transaction: pysqlite opens one before DML only
    for name in ctx.paused_search_index:
        db.session.execute(text(f"DROP {kind} {name}"))


def rebuild(ctx: SeedContext) -> None:
    if db.engine.dialect.name == "sqlite" and ctx.paused_search_index:
        db.session.execute(text(SQLITE_REBUILD))
    for definition in ctx.paused_search_index.values():
        db.session.execute(text(definition))
    ctx.paused_search_index = {}


def _definitions() -> dict[str, str]:
    """{name: the statement that makes it} of what `pause` drops, as the database holds it."""
    if db.engine.dialect.name == "sqlite":
        rows = db.session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
                                  {"name": SQLITE_INSERT_TRIGGER})
    else:
        rows = db.session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = 'member' AND indexdef LIKE '%gin_trgm_ops%'"))
    return {name: definition for name, definition in rows}
