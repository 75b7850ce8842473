"""Type-ahead search for the select boxes of big tables, inside the acting scope.

Members (a million of them, issue 18): each typed term must be in the member number, first name or last name
(ILIKE '%term%'), and the first 20 by last name, first name and id are shown (the id breaks ties, which the order
once left to the engine). Read in that order with the terms as a filter, a rare name or a member number read every
member; so the members the terms may be in are found first by index (first_candidates) and only those sorted,
unless they are so many that walking the name order finds 20 soon.
"""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, literal_column, or_, select, table

from webapp.extensions import db
from webapp.models import Employer, Member, OperatingUnit, OrgUnit, Workplace
from webapp.security.rowfilters import visible_clause
from webapp.security.scope import get_scope
from webapp.views.member_search import NAME_SEARCH_TABLE, SHORTEST_INDEXED

LIMIT = 20
# Up to this many members the terms may be in are sorted for the first LIMIT; past it, the name order is walked with
# the terms as a filter (the plain query's plan, quick when matches are that common).
MEMBER_CANDIDATES = 20_000
MEMBER_ORDER = (Member.last_name, Member.first_name, Member.id)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# kind -> (model, columns searched, order)
SEARCHES = {
    "member": (Member, ("member_no", "first_name", "last_name"), ("last_name", "first_name")),
    "employer": (Employer, ("name", "org_number"), ("name",)),
    "workplace": (Workplace, ("name",), ("name",)),
    "org_unit": (OrgUnit, ("code", "name"), ("code",)),
    "operating_unit": (OperatingUnit, ("name",), ("name",)),
    "user": (User, ("username", "first_name", "last_name"), ("username",)),
}


# Employer and workplace names are public register data (the Brønnøysund registers), so every
# logged-in user may search them by name, whatever their scope: a member reporting a new job must
# find any employer, and then the workplaces of that one employer. Only id and name are returned.
PUBLIC_SEARCHES = {
    "employer_register": (Employer, ("name", "org_number"), ("name",)),
    "workplace_register": (Workplace, ("name",), ("name",)),
}
# Workplaces are listed per employer only, all of them at once (an employer has a handful).
WORKPLACES_PER_EMPLOYER = 200


def search_rows(kind: str, text: str, employer_id: int | None = None) -> list[dict]:
    if kind in PUBLIC_SEARCHES:
        return public_rows(kind, text, employer_id)
    if kind == "member":
        return member_rows(text)
    model, columns, order = SEARCHES[kind]
    query = db.session.query(model).filter(visible_clause(model, get_scope().grants))
    terms = [t for t in text.split() if t]
    for term in terms:
        pattern = _like(term)
        query = query.filter(or_(*(getattr(model, c).ilike(pattern, escape="\\") for c in columns)))
    if model in (Workplace, OperatingUnit) and employer_id:
        query = query.filter(model.employer_id == employer_id)
    rows = query.order_by(*(getattr(model, c) for c in order)).limit(LIMIT).all()
    return [{"id": row.id, "text": str(row)} for row in rows]


def member_rows(text: str) -> list[dict]:
    """The first LIMIT members in the acting scope with every term of `text` in their number or a name."""
    _, columns, _ = SEARCHES["member"]
    terms = [t for t in text.split() if t]
    conditions = [visible_clause(Member, get_scope().grants)] + [
        or_(*(getattr(Member, c).ilike(_like(term), escape="\\") for c in columns)) for term in terms]
    ids = first_candidates([t for t in terms if len(t) >= SHORTEST_INDEXED], conditions)
    if ids is None:
        ids = db.session.scalars(select(Member.id).where(*conditions).order_by(*MEMBER_ORDER).limit(LIMIT)).all()
    rows = {row.id: row for row in db.session.scalars(select(Member).where(Member.id.in_(ids)))} if ids else {}
    return [{"id": pk, "text": str(rows[pk])} for pk in ids]


def first_candidates(terms: list[str], conditions: list) -> list[int] | None:
    """The ids of the first LIMIT members the conditions keep, found by index and then sorted, when there are at
    most MEMBER_CANDIDATES of them; else None. `terms` are those long enough for a trigram index (at least
    SHORTEST_INDEXED characters); without one, None.

    One statement: the members (id and names) in a materialized CTE capped at MEMBER_CANDIDATES + 1, their count,
    and the first LIMIT of them in the order. PostgreSQL: the trigram GIN indexes on member_no, first_name and
    last_name serve the ILIKEs themselves (a BitmapOr). SQLite: the FTS5 trigram table member_name_search holds
    the three columns; a member with every term (each a quoted phrase, in any column) is a superset of the rows
    LIKE keeps (the trigram match folds case more widely), and the conditions still decide."""
    if not terms:
        return None
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        phrases = " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)
        conditions = [*conditions, Member.id.in_(select(literal_column("rowid")).select_from(table(NAME_SEARCH_TABLE))
                                                 .where(literal_column(NAME_SEARCH_TABLE).op("MATCH")(phrases)))]
    elif dialect != "postgresql":
        return None
    found = (select(Member.id, Member.last_name, Member.first_name).where(*conditions)
             .limit(MEMBER_CANDIDATES + 1).cte("found").prefix_with("MATERIALIZED"))
    first = db.session.execute(select(found.c.id, select(func.count()).select_from(found).scalar_subquery())
                               .order_by(*(found.c[column.key] for column in MEMBER_ORDER)).limit(LIMIT)).all()
    if first and first[0][1] > MEMBER_CANDIDATES:
        return None
    return [row[0] for row in first]


def public_rows(kind: str, text: str, employer_id: int | None) -> list[dict]:
    model, columns, order = PUBLIC_SEARCHES[kind]
    query = select(model.id, model.name)
    if model is Workplace:
        if not employer_id:
            return []
        query = query.where(Workplace.employer_id == employer_id)
    for term in text.split():
        query = query.where(or_(*(getattr(model, c).ilike(_like(term), escape="\\") for c in columns)))
    limit = WORKPLACES_PER_EMPLOYER if model is Workplace else LIMIT
    rows = db.session.execute(query.order_by(*(getattr(model, c) for c in order), model.id).limit(limit)).all()
    return [{"id": row.id, "text": row.name} for row in rows]


class TypeaheadView(BaseView):
    route_base = "/typeahead"
    default_view = "search"

    @expose("/<kind>")
    @has_access
    def search(self, kind: str):
        if kind not in SEARCHES and kind not in PUBLIC_SEARCHES:
            abort(404)
        text = request.args.get("q", "").strip()
        employer_id = request.args.get("employer_id", type=int)
        if len(text) < 2 and not (kind == "workplace_register" and employer_id):
            return jsonify(results=[])
        return jsonify(results=search_rows(kind, text[:80], employer_id))
