"""One winner per state change (engineering rule 12).

Two ways to make a change of state safe against concurrent requests, both inside the
caller's transaction (the caller commits, or rolls back when it refuses):

- `claim` moves a row from the expected status to a new one in one conditional UPDATE.
  A concurrent UPDATE of the same row waits for the first to commit and then finds the
  status changed, so exactly one caller gets a row count of 1.
- `lock` reads a row afresh under SELECT ... FOR UPDATE, for changes that must read the
  row's children before deciding (the lines of a deduction list, the figures of a refund run).
  The caller re-checks the status on what `lock` returns.

SQLite has no row locks (FOR UPDATE is left out); it serializes writers on the whole
file instead, and `claim` holds there as well.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select, update

from webapp.extensions import db

Row = TypeVar("Row")


def claim(model: type, row_id: int, expected: Any, **values: Any) -> bool:
    """Set `values` on the row when its status is still `expected`; True when this caller made the change."""
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == expected)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def lock(model: type[Row], row_id: int) -> Row | None:
    """The row with this id as committed now, locked until the transaction ends; see `lock_key`."""
    return lock_key(model, model.id, row_id)


def lock_key(model: type[Row], key_column, key: Any) -> Row | None:
    """The row whose `key_column` is `key`, as committed now, locked until the transaction ends; None when it
    was deleted meanwhile.

    Everything the session read before may be stale by the time the lock is granted, so it is
    expired first (after writing out any pending change, which expiring would drop): the row's
    children (a list's lines, say) are read again after the lock."""
    db.session.flush()
    db.session.expire_all()
    return db.session.scalars(
        select(model).where(key_column == key).with_for_update().execution_options(populate_existing=True)
    ).first()
