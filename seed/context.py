"""What the generator's phases share: the result, the refusal, the context of one run and the bulk insert."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import insert

from webapp.extensions import db
from webapp.services import bulk

# The tables this generator fills (besides FAB's ab_user and ab_user_role).
OUR_TABLES = (
    "org_unit",
    "employer",
    "workplace",
    "member",
    "employment",
    "position",
    "deduction_contact",
    "demo_account",
)

CHUNK = 5000


class SeedRefused(Exception):
    """The generator will not run; the message says why."""


@dataclass
class SeedResult:
    seed: int = 0
    org_units: int = 0
    employers: int = 0
    workplaces: int = 0
    members: int = 0
    active_members: int = 0
    employments: int = 0
    positions: int = 0
    users: int = 0
    deduction_contacts: int = 0
    demo_accounts: int = 0
    seconds: float = 0.0
    reset: bool = False

    @property
    def counts(self) -> dict[str, int]:
        return {
            "org_units": self.org_units,
            "employers": self.employers,
            "workplaces": self.workplaces,
            "members": self.members,
            "employments": self.employments,
            "positions": self.positions,
            "users": self.users,
            "deduction_contacts": self.deduction_contacts,
            "demo_accounts": self.demo_accounts,
        }

    def summary(self) -> str:
        return (
            f"Seeded{' (after reset)' if self.reset else ''} with seed {self.seed}: "
            f"{self.org_units:,} org units, {self.employers:,} employers with {self.workplaces:,} workplaces, "
            f"{self.members:,} members ({self.active_members:,} active), {self.employments:,} employments, "
            f"{self.positions:,} positions, {self.users:,} users, {self.deduction_contacts:,} deduction-contact links "
            f"and {self.demo_accounts:,} demo logins in {self.seconds:.1f} s."
        )


@dataclass
class SeedContext:
    """One run: its arguments, the one random generator every phase draws from, and the rows built so far.

    Rows are plain dicts with their primary keys assigned here (id = index + 1), so the tables link up
    without round trips. The phases draw from `rng` in a fixed order: that order is what makes a seed
    reproducible, so a change to it changes the data."""

    members: int
    employers: int
    seed: int
    reset: bool
    today: dt.date
    rng: random.Random = field(init=False)
    result: SeedResult = field(init=False)

    # Org units: one dict row per unit, id = index + 1.
    units: list[dict] = field(default_factory=list)
    unit_children: dict[int, list[int]] = field(default_factory=dict)
    branch_for: dict[tuple[int, str], int] = field(default_factory=dict)  # (lf, county) -> branch id
    unit_lf: dict[int, int] = field(default_factory=dict)  # unit id -> lf index (None for root)
    lf_ids: list[int] = field(default_factory=list)
    branch_ids: list[int] = field(default_factory=list)
    club_ids: list[int] = field(default_factory=list)

    employer_rows: list[dict] = field(default_factory=list)
    employer_lf: list[int] = field(default_factory=list)
    employer_domain: list[str] = field(default_factory=list)
    workplace_rows: list[dict] = field(default_factory=list)
    workplace_weight: list[float] = field(default_factory=list)

    # The members and employments are written as they are made (seed/phases/members.py); what later phases need
    # of them is kept in `people` (seed.phases.members.People), and their changes to members in `member_changes`
    # (member id -> column -> value), written at the end.
    people: Any = None
    member_changes: dict[int, dict[str, Any]] = field(default_factory=dict)
    position_rows: list[dict] = field(default_factory=list)
    user_rows: list[dict] = field(default_factory=list)
    user_role_rows: list[dict] = field(default_factory=list)
    contact_rows: list[dict] = field(default_factory=list)
    demo_rows: list[dict] = field(default_factory=list)

    user_offset: int = 0
    used_emails: set = field(default_factory=set)
    used_usernames: set = field(default_factory=set)
    demo: dict[str, Any] = field(default_factory=dict)
    # The member search index dropped while the members are written (seed/phases/search_index.py): name -> the
    # statement that makes it again.
    paused_search_index: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.result = SeedResult(seed=self.seed, reset=self.reset)


def insert_rows(table, rows: list[dict], chunk: int = CHUNK) -> None:
    """Set-based insert: one executemany per chunk of rows that all have the same keys."""
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(table), rows[start : start + chunk])


def number_rows(rows: list[dict], key) -> None:
    """Sort the rows by `key` and give them the ids 1, 2, ... in that order."""
    rows.sort(key=key)
    for k, row in enumerate(rows, start=1):
        row["id"] = k


class ChunkWriter:
    """Rows as dicts with the same keys, written through a TupleWriter (COPY or executemany of tuples, in chunks of
    `chunk` rows), filling in the model's defaults of the columns the rows leave out (bulk.with_defaults), as an
    insert through SQLAlchemy does. For the million member and employment rows of a large seed."""

    def __init__(self, table, chunk: int = CHUNK):
        self.table, self.chunk = table, chunk
        self.writer: TupleWriter | None = None

    def add(self, row: dict) -> None:
        if self.writer is None:
            self._start(tuple(row))
        self.writer.add(self.values(row) + self.tail)

    def _start(self, given: tuple[str, ...]) -> None:
        """The columns from the first row's keys, then those with a scalar default the rows leave out."""
        columns, self.tail = bulk.with_defaults(self.table, given)
        self.writer = TupleWriter(self.table, columns, self.chunk)
        self.values = itemgetter(*given) if len(given) > 1 else (lambda row: (row[given[0]],))

    def flush(self) -> None:
        if self.writer is not None:
            self.writer.flush()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.flush()


class TupleWriter:
    """Rows as tuples (values in the order of `columns`) written straight through the database driver, in chunks
    (webapp.services.bulk.write_tuples: PostgreSQL's COPY, SQLite's executemany). For the millions of rows of the
    demo history, where building a dict per row and SQLAlchemy's executemany of dicts cost more than the database's
    own work. Columns left out get the database's default."""

    def __init__(self, table, columns: tuple[str, ...], chunk: int = 20_000):
        self.table, self.columns = table, columns
        self.chunk, self.rows, self.count = chunk, [], 0

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.count += bulk.write_tuples(self.table, self.columns, self.rows)
            self.rows = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.flush()
