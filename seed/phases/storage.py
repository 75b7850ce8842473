"""Phases that write what the others built in memory, and move PostgreSQL's sequences past it."""

from __future__ import annotations

from sqlalchemy import bindparam, update

from seed.context import OUR_TABLES, SeedContext, insert_rows
from webapp.extensions import db
from webapp.models import DeductionContact, Member, Position
from webapp.services.database import reset_sequences


def write_people(ctx: SeedContext) -> None:
    """The later phases' changes to the members (written by the members phase), then positions and deduction
    contacts (after the users they link to)."""
    _write_member_changes(ctx.member_changes)
    insert_rows(Position.__table__, ctx.position_rows)
    insert_rows(DeductionContact.__table__, ctx.contact_rows)
    ctx.result.positions = len(ctx.position_rows)
    ctx.result.deduction_contacts = len(ctx.contact_rows)


def move_sequences(ctx: SeedContext) -> None:
    """PostgreSQL: move the id sequences past the ids written here."""
    from flask_appbuilder import Model

    reset_sequences(Model.metadata.tables[name] for name in (*OUR_TABLES, "ab_user"))


def _write_member_changes(changes: dict[int, dict]) -> None:
    """One executemany UPDATE per set of changed columns (a moved home unit; a login's user and e-mail)."""
    by_columns: dict[tuple[str, ...], list[dict]] = {}
    for member_id, values in sorted(changes.items()):
        row = {"member_id": member_id, **{f"new_{name}": value for name, value in values.items()}}
        by_columns.setdefault(tuple(sorted(values)), []).append(row)
    table = Member.__table__
    for columns, rows in by_columns.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("member_id"))
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        db.session.execute(statement, rows)
