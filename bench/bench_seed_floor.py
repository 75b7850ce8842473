"""What no demo of the same data can go below: two floors measured on a database that bench_seed.py filled.

    python bench/bench_seed_floor.py --db sqlite:////tmp/bench_seed_.../bench.db [--only bases|rows]

- "the bases' SQL": for every month the demo made bases for, oldest first, the hand-written statement that
  bench_deduction_basis.py times as one month's basis (LINES_SQL: the employments ranked, the components, START,
  CHANGE and STOP against last month), its rows fetched but not written. Each month's lines depend on the month
  before, and a demo with 12 months of history holds 12 months of lines: whichever code makes them (the service,
  this statement, a generator of its own), the rule's work is this statement's at least.
- "writing the rows" (SQLite only): every row of the database copied into empty tables of the same schema (a new
  file beside it), one INSERT ... SELECT per table in the order of its ids: storing those rows, computed by
  nothing. Two ways: into the tables with their indexes and the member search table's triggers, as the demo
  writes; and into bare tables, the indexes made and the search table rebuilt afterwards, as a bulk load could.
  The quicker of the two is the floor.

Prints each floor beside the goal of issue 18 for the demo (5 minutes a million members), scaled to the members
in the database. The database is only read; the copy is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.bench_seed import TARGET_SECONDS_PER_MILLION

# Not copied: SQLite's own tables and the migrations' bookkeeping; nor the member search table (NAME_SEARCH_TABLE
# and its shadow tables), which the member table's triggers fill as its rows are copied, or its rebuild.
NOT_COPIED = ("alembic_version", "sqlite_")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a database bench_seed.py (or `flask seed`) filled")
    parser.add_argument("--only", choices=("bases", "rows"))
    args = parser.parse_args(argv)

    from sqlalchemy import func, select

    from webapp import create_app
    from webapp.extensions import db
    from webapp.models import Member

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=args.db)
    with app.app_context():
        members = db.session.scalar(select(func.count(Member.id)))
        engine = db.engine.dialect.name
    goal = TARGET_SECONDS_PER_MILLION * members / 1_000_000
    print(f"{members:,} members ({engine}); the demo's goal: {goal:.0f} s")
    floors = {}
    if args.only in (None, "bases"):
        with app.app_context():
            floors["bases"], lines, months = bases_sql_seconds()
        print(f"the bases' SQL, {months} months, {lines:,} lines: {floors['bases']:.1f} s "
              f"({floors['bases'] / goal:.0%} of the goal)")
    if args.only in (None, "rows"):
        if engine != "sqlite":
            print("writing the rows: measured on SQLite only")
        else:
            writes = []
            for indexes_after, how in ((False, "into the indexes"), (True, "then the indexes made")):
                seconds, rows, slowest = copy_seconds(args.db.removeprefix("sqlite:///"), indexes_after)
                writes.append(seconds)
                print(f"writing the rows ({how}), {rows:,} rows: {seconds:.1f} s ({seconds / goal:.0%} of the goal); "
                      "the slowest: " + ", ".join(f"{name} {count:,} {table_seconds:.1f} s"
                                                  for table_seconds, count, name in slowest), flush=True)
            floors["rows"] = min(writes)
    if len(floors) == 2:
        floor = floors["bases"] + floors["rows"]
        print(f"the floor (the bases' SQL and the quicker writing): {floor:.1f} s ({floor / goal:.0%} of the goal)")
    return 0


def bases_sql_seconds() -> tuple[float, int, int]:
    """The seconds LINES_SQL takes for every month with bases, oldest first; the lines it gave; the months."""
    from sqlalchemy import select

    from bench.bench_deduction_basis import lines_sql
    from webapp.extensions import db
    from webapp.models import DeductionBasis
    from webapp.services.periods import Month

    periods = db.session.scalars(select(DeductionBasis.period).distinct().order_by(DeductionBasis.period)).all()
    total, lines = 0.0, 0
    for period in periods:
        started = time.perf_counter()
        lines += len(lines_sql(Month.parse(period)))
        seconds = time.perf_counter() - started
        print(f"  {period}: {seconds:.1f} s", flush=True)
        total += seconds
    return total, lines, len(periods)


def copy_seconds(path: str, indexes_after: bool) -> tuple[float, int, list[tuple[float, int, str]]]:
    """Every row of the SQLite file at `path` copied into a new file with the app's schema: the seconds, the rows
    and the five slowest steps (seconds, rows, table). With `indexes_after` the indexes and triggers are dropped
    first and made again after the rows (the member search table rebuilt), as a bulk load would; that step is
    the last, named "indexes"."""
    from seed.generator import BULK_LOAD_CACHE_SIZE
    from seed.phases.search_index import SQLITE_REBUILD
    from webapp import create_app
    from webapp.services.database import upgrade_schema
    from webapp.views.member_search import NAME_SEARCH_TABLE

    directory = tempfile.mkdtemp(prefix="bench_seed_floor_", dir=os.path.dirname(os.path.abspath(path)))
    target = os.path.join(directory, "copy.db")
    try:
        with create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI="sqlite:///" + target).app_context():
            upgrade_schema(fresh=True)
        connection = sqlite3.connect(target, isolation_level=None)
        connection.execute("PRAGMA synchronous = OFF")  # as the demo's direct billing writes
        connection.execute(f"PRAGMA cache_size = {BULK_LOAD_CACHE_SIZE}")  # as the demo's register writes
        connection.execute("ATTACH DATABASE ? AS source", (path,))
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM source.sqlite_master WHERE type = 'table' ORDER BY name")
            if not name.startswith((*NOT_COPIED, NAME_SEARCH_TABLE))]
        # Indexes first, then the triggers (made again in that order); a unique constraint's own index stays.
        dropped = connection.execute("SELECT type, name, sql FROM main.sqlite_master WHERE type IN ('index', "
                                     "'trigger') AND sql IS NOT NULL ORDER BY type").fetchall() if indexes_after else []
        timed, rows = [], 0
        started = time.perf_counter()
        for kind, name, _sql in dropped:
            connection.execute(f'DROP {kind.upper()} main."{name}"')
        for table in tables:
            columns = ", ".join(f'"{row[1]}"' for row in connection.execute(f'PRAGMA source.table_info("{table}")'))
            table_started = time.perf_counter()
            connection.execute("BEGIN")
            connection.execute(f'DELETE FROM main."{table}"')  # rows the migrations put there (roles, say)
            count = connection.execute(
                f'INSERT INTO main."{table}" ({columns}) SELECT {columns} FROM source."{table}" ORDER BY rowid'
            ).rowcount
            connection.execute("COMMIT")
            timed.append((time.perf_counter() - table_started, count, table))
            rows += count
        if indexes_after:
            indexes_started = time.perf_counter()
            for _kind, _name, sql in dropped:
                connection.execute(sql)
            connection.execute(SQLITE_REBUILD)
            timed.append((time.perf_counter() - indexes_started, len(dropped), "indexes"))
        seconds = time.perf_counter() - started
        connection.close()
        return seconds, rows, sorted(timed, reverse=True)[:5]
    finally:
        for name in os.listdir(directory):
            os.remove(os.path.join(directory, name))
        os.rmdir(directory)


if __name__ == "__main__":
    sys.exit(main())
