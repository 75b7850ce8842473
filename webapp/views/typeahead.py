"""Type-ahead search for the select boxes of big tables, inside the acting scope."""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import Employer, Member, OperatingUnit, OrgUnit, Workplace
from webapp.security.rowfilters import visible_clause
from webapp.security.scope import get_scope

LIMIT = 20


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
