"""Type-ahead search for the select boxes of big tables, inside the acting scope.

Members (a million of them, issue 18): each typed term must be in the member number, first name or last name
(ILIKE '%term%'), and the first 20 by last name, first name and id are shown (the id breaks ties, which the order
once left to the engine). Read in that order with the terms as a filter, a rare name or a member number read every
member; so after a short look at the start of the order, the members the terms may be in are found by index
(first_candidates) and only those sorted, unless they are too many.
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
# The members looked at from the start of the name order before the index is asked (walked_first).
MEMBER_WALK = 2_000


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
    """The first LIMIT members in the acting scope with every term of `text` in their number or a name: read off the
    start of the name order when they are found there (walked_first), else found by index first when there are not
    too many of them (first_candidates), else the name order walked to the end as it comes."""
    terms = [t for t in text.split() if t]
    scope = visible_clause(Member, get_scope().grants)
    ids = walked_first(scope, terms)
    if ids is None:
        conditions = [scope, *term_matches(Member, terms)]
        ids = first_candidates([t for t in terms if len(t) >= SHORTEST_INDEXED], conditions)
        if ids is None:
            ids = db.session.scalars(select(Member.id).where(*conditions).order_by(*MEMBER_ORDER).limit(LIMIT)).all()
    rows = {row.id: row for row in db.session.scalars(select(Member).where(Member.id.in_(ids)))} if ids else {}
    return [{"id": pk, "text": str(rows[pk])} for pk in ids]


def term_matches(columns, terms: list[str]) -> list:
    """Each term in the member number, first name or last name of `columns` (Member, or a CTE's columns).

    The member number is searched as lower(member_no), the expression its trigram index on PostgreSQL is built on
    (migration a18b00000006: an index on the column itself served the equality lookups of member numbers too, and
    badly)."""
    _, names, _ = SEARCHES["member"]
    searched = [func.lower(columns.member_no) if name == "member_no" else getattr(columns, name) for name in names]
    return [or_(*(column.ilike(_like(term), escape="\\") for column in searched)) for term in terms]


def walked_first(scope, terms: list[str]) -> list[int] | None:
    """The ids of the first LIMIT members with the terms, when the first MEMBER_WALK members of the scope in the
    name order hold them all (LIMIT of them, or the whole scope); else None.

    The members before the last one kept were all looked at, so these are the first LIMIT of all: a common text
    (a short one, a frequent name, the start of a member number) is answered here at the cost of at most
    MEMBER_WALK rows, whatever the index would have found."""
    walk = (select(Member.id, Member.member_no, Member.first_name, Member.last_name).where(scope)
            .order_by(*MEMBER_ORDER).limit(MEMBER_WALK).cte("walk").prefix_with("MATERIALIZED"))
    first = db.session.execute(select(walk.c.id, select(func.count()).select_from(walk).scalar_subquery())
                               .where(*term_matches(walk.c, terms))
                               .order_by(*(walk.c[column.key] for column in MEMBER_ORDER)).limit(LIMIT)).all()
    if len(first) == LIMIT or (first and first[0][1] < MEMBER_WALK):
        return [row[0] for row in first]
    return None


def first_candidates(terms: list[str], conditions: list) -> list[int] | None:
    """The ids of the first LIMIT members the conditions keep, found by index and then sorted, when there are at
    most MEMBER_CANDIDATES of them; else None (and None without a term long enough for a trigram index).

    Whether there are that many is asked cheaply first: on SQLite the FTS5 trigram table member_name_search (which
    holds member_no, first_name and last_name) counts the members with every term (each a quoted phrase, in any
    column) from its index alone, a superset of the rows LIKE keeps (the trigram match folds case more widely);
    on PostgreSQL the planner estimates the rows from the trigram statistics. Then one statement: the members
    (id and names, the trigram GIN indexes serving the ILIKEs on PostgreSQL, the FTS5 rowids on SQLite) in a
    materialized CTE capped at MEMBER_CANDIDATES + 1, their count, and the first LIMIT of them in the order; an
    estimate short of the truth is caught by the cap."""
    if not terms:
        return None
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        phrases = " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)
        found = select(literal_column("rowid")).select_from(table(NAME_SEARCH_TABLE)).where(
            literal_column(NAME_SEARCH_TABLE).op("MATCH")(phrases))
        if db.session.scalar(select(func.count()).select_from(found.limit(MEMBER_CANDIDATES + 1).subquery())) \
                > MEMBER_CANDIDATES:
            return None
        conditions = [*conditions, Member.id.in_(found)]
    elif dialect == "postgresql":
        if estimated_rows(select(Member.id).where(*conditions)) > MEMBER_CANDIDATES:
            return None
    else:
        return None
    found = (select(Member.id, Member.last_name, Member.first_name).where(*conditions)
             .limit(MEMBER_CANDIDATES + 1).cte("found").prefix_with("MATERIALIZED"))
    first = db.session.execute(select(found.c.id, select(func.count()).select_from(found).scalar_subquery())
                               .order_by(*(found.c[column.key] for column in MEMBER_ORDER)).limit(LIMIT)).all()
    if first and first[0][1] > MEMBER_CANDIDATES:
        return None
    return [row[0] for row in first]


def estimated_rows(statement) -> float:
    """The rows PostgreSQL's planner expects the statement to return (EXPLAIN, which runs nothing)."""
    compiled = statement.compile(dialect=db.session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
    plan = db.session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return plan[0]["Plan"]["Plan Rows"]


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
