"""Engine housekeeping shared by bulk writers (seed, restore)."""

from __future__ import annotations

from sqlalchemy import Integer, Sequence, text

from webapp.extensions import db


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
