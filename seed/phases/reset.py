"""Phase: delete the register's rows and every user, children first. Tables are never dropped."""

from __future__ import annotations

from sqlalchemy import MetaData, or_, update

from seed.context import OUR_TABLES, SeedContext
from webapp.extensions import db


def reset(ctx: SeedContext | None) -> None:
    """The tables are read from the database, so tables added later that point at ours are handled too:
    a table with a required link to deleted rows is emptied; a table with only optional links loses the
    rows that use them (rows without such links, e.g. reference data, stay)."""
    meta = MetaData()
    meta.reflect(bind=db.session.connection())
    doomed = _doomed_tables(meta)
    partial = _optional_links(meta, doomed)
    _clear_links_inside(meta, doomed)
    for table in reversed(meta.sorted_tables):
        if table.name in doomed:
            db.session.execute(table.delete())
        elif table.name in partial:
            condition = or_(*(table.c[column].isnot(None) for column in partial[table.name]))
            db.session.execute(table.delete().where(condition))


# Not written by the generator, but the demo's: the bank files the seeded cycles imported. Kept, a reseeded
# cycle's files would be taken for ones already imported (their checksums are the same).
BANK_FILES = ("payment_import",)
# The life cycle's reference data (seed/phases/lifecycle.py): the LO unions, the postcode register, the terms and
# privacy texts (and with them the applications that consented to them), and the member-number counter. They link
# to none of our tables, so only naming them empties them.
LIFECYCLE_DATA = ("lo_union", "postcode", "policy_text", "number_counter")
# Collective agreements (seed/phases/outreach.py) may link to no employer (an association's counterpart): named
# here, they go, and with them their employers, categories, ballots and voter lists.
OUTREACH_DATA = ("collective_agreement",)


def _doomed_tables(meta: MetaData) -> set[str]:
    """Our tables, FAB's users, the bank files, and every table with a required link to one of them
    (transitively)."""
    doomed = {name for name in (*OUR_TABLES, *BANK_FILES, *LIFECYCLE_DATA, *OUTREACH_DATA, "ab_user", "ab_user_role")
              if name in meta.tables}
    changed = True
    while changed:
        changed = False
        for table in meta.sorted_tables:
            if table.name not in doomed and any(
                fk.column.table.name in doomed and not fk.parent.nullable for fk in table.foreign_keys
            ):
                doomed.add(table.name)
                changed = True
    return doomed


def _optional_links(meta: MetaData, doomed: set[str]) -> dict[str, list[str]]:
    """Other tables -> their columns that point at doomed rows (all optional, else they would be doomed)."""
    partial: dict[str, list] = {}
    for table in meta.sorted_tables:
        if table.name not in doomed:
            columns = sorted({fk.parent.name for fk in table.foreign_keys if fk.column.table.name in doomed})
            if columns:
                partial[table.name] = columns
    return partial


def _clear_links_inside(meta: MetaData, doomed: set[str]) -> None:
    """Links inside the doomed tables that are optional (parent unit, created_by, member.user_id) go first."""
    for name in sorted(doomed):
        table = meta.tables[name]
        own = sorted(
            {fk.parent.name for fk in table.foreign_keys if fk.column.table.name == name and fk.parent.nullable}
        )
        if own:
            db.session.execute(update(table).values({column: None for column in own}))
