"""Deterministic demo data: the union's tree, employers, members and the demo logins.

`generate(members, employers, seed, reset, progress)` builds a realistic
Norwegian dataset from `random.Random(seed)`: the same arguments give the same
rows (dates are relative to `today`, the real today unless given, so runs on
the same day match). Rows are built as plain dicts with their primary keys
assigned here, so the tables link up without round trips, and are written with
set-based `INSERT ... executemany` in chunks. Everything happens in one
transaction: on any error nothing is left half-written.

The phases live in seed/phases/ and run in order (see PHASES); the reference
data (names, places, employers) in seed/data/, read by seed/reference.py.
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager

from sqlalchemy import select, text

from seed.context import OUR_TABLES, SeedContext, SeedRefused, SeedResult
from seed.phases.accounts import demo_accounts as _phase_demo_accounts  # noqa: F401 (run by name, see PHASES)
from seed.phases.members import members as _phase_members  # noqa: F401 (run by name, see PHASES)
from seed.phases.organisation import organisation as _phase_organisation  # noqa: F401 (run by name, see PHASES)
from seed.phases.positions import positions as _phase_positions  # noqa: F401 (run by name, see PHASES)
from seed.phases.reset import reset as _phase_reset  # noqa: F401 (run by name, see PHASES)
from seed.phases.search_index import pause as _phase_search_paused  # noqa: F401 (run by name, see PHASES)
from seed.phases.search_index import rebuild as _phase_search_rebuilt  # noqa: F401 (run by name, see PHASES)
from seed.phases.storage import move_sequences as _phase_sequences  # noqa: F401 (run by name, see PHASES)
from seed.phases.storage import write_people as _phase_people  # noqa: F401 (run by name, see PHASES)
from seed.phases.users import users as _phase_users  # noqa: F401 (run by name, see PHASES)
from seed.reference import COUNTIES, MUNICIPALITY_COUNTY
from webapp.extensions import db
from webapp.services.database import ensure_roles

__all__ = [
    "COUNTIES",
    "MAX_MEMBERS",
    "MUNICIPALITY_COUNTY",
    "OUR_TABLES",
    "PHASES",
    "SeedRefused",
    "SeedResult",
    "database_is_empty",
    "generate",
]

# Member numbers: "75" + 6 digits, plus a handful of shorter (older) numbers.
MAX_MEMBERS = 1_000_000

# The phases in order, by their name in this module (imported above): `generate` looks each one up
# when it runs, so a test can replace one (e.g. to fail half-way).
PHASES = (
    "_phase_reset",
    "_phase_organisation",
    "_phase_search_paused",
    "_phase_members",
    "_phase_positions",
    "_phase_users",
    "_phase_people",
    "_phase_search_rebuilt",
    "_phase_demo_accounts",
    "_phase_sequences",
)
PHASE_LABELS = {
    "_phase_reset": "reset",
    "_phase_organisation": "org units and employers",
    "_phase_search_paused": "member search index paused",
    "_phase_members": "members",
    "_phase_positions": "positions",
    "_phase_users": "users and contacts",
    "_phase_people": "writing members",
    "_phase_search_rebuilt": "member search index",
    "_phase_demo_accounts": "demo logins",
    "_phase_sequences": "sequences",
}


def database_is_empty() -> bool:
    """True when none of the register's tables holds a row (users and roles aside).

    That means in particular no org units and no members.
    """
    from flask_appbuilder import Model

    for name in OUR_TABLES:
        table = Model.metadata.tables[name]
        if db.session.execute(select(table.c.id).limit(1)).first() is not None:
            return False
    return True


def generate(
    members: int, employers: int, seed: int, reset: bool, progress: bool, today: dt.date | None = None
) -> SeedResult:
    """Build the demo dataset in one transaction and return what was written.

    Dates are relative to `today` (default: the real today); tests pass a fixed day to pin the rows."""
    if members < 0 or members > MAX_MEMBERS:
        raise SeedRefused(f"members must be between 0 and {MAX_MEMBERS:,} (member numbers are 75 + up to 6 digits)")
    if employers < 1:
        raise SeedRefused("at least one employer is needed")
    started = time.perf_counter()
    ensure_roles()
    if not reset and not database_is_empty():
        db.session.rollback()
        raise SeedRefused("the database is not empty; use --reset to replace its contents")

    ctx = SeedContext(members=members, employers=employers, seed=seed, reset=reset, today=today or dt.date.today())
    with _bulk_load_settings():
        _run_phases(ctx, [name for name in PHASES if reset or name != "_phase_reset"], progress)
    analyze_tables(OUR_TABLES)
    ctx.result.seconds = time.perf_counter() - started
    return ctx.result


def _run_phases(ctx: SeedContext, phases: list[str], progress: bool) -> None:
    """All phases in one transaction, committed at the end, rolled back on any error."""
    from tqdm import tqdm

    bar = tqdm(total=len(phases), desc="seed", unit="step", disable=not progress, leave=True)
    try:
        for name in phases:
            bar.set_description(f"seed: {PHASE_LABELS[name]}")
            globals()[name](ctx)
            bar.update(1)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        bar.close()


# SQLite's page cache while the seed writes: 256 MB (a negative cache_size is in KiB).
BULK_LOAD_CACHE_SIZE = -262144


@contextmanager
def _bulk_load_settings():
    """SQLite: a page cache of 256 MB while the seed writes (the indexes of a million members do not fit in the
    default 2 MB, and every insert would read its index pages from disk), the old size afterwards."""
    if db.session.get_bind().dialect.name != "sqlite":
        yield
        return
    raw = db.session.connection().connection.dbapi_connection  # the pragma holds for this connection only
    old = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = {BULK_LOAD_CACHE_SIZE}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size = {int(old)}")  # frees the pages above the old size


def analyze_tables(names) -> None:
    """Fresh planner statistics after a bulk load (ANALYZE), so the first queries over the data plan well."""
    for name in names:
        db.session.execute(text(f"ANALYZE {name}"))
    db.session.commit()
