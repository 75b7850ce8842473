"""Phases that write what the others built in memory, and move PostgreSQL's sequences past it."""

from __future__ import annotations

from seed.context import OUR_TABLES, SeedContext, insert_rows
from webapp.models import DeductionContact, Employment, Member, Position
from webapp.services.database import reset_sequences


def write_people(ctx: SeedContext) -> None:
    """Members, employments, positions and deduction contacts (after the users they link to)."""
    insert_rows(Member.__table__, ctx.member_rows)
    insert_rows(Employment.__table__, ctx.employment_rows)
    insert_rows(Position.__table__, ctx.position_rows)
    insert_rows(DeductionContact.__table__, ctx.contact_rows)
    ctx.result.employments = len(ctx.employment_rows)
    ctx.result.positions = len(ctx.position_rows)
    ctx.result.deduction_contacts = len(ctx.contact_rows)


def move_sequences(ctx: SeedContext) -> None:
    """PostgreSQL: move the id sequences past the ids written here."""
    from flask_appbuilder import Model

    reset_sequences(Model.metadata.tables[name] for name in (*OUR_TABLES, "ab_user"))
