"""A member downloads everything held about them; the office can produce it for any member."""

from __future__ import annotations

import json

from flask import Response, abort, current_app, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from reports.pdf import render_pdf
from webapp.extensions import db
from webapp.models import Member
from webapp.security import roles
from webapp.security import scope as sc
from webapp.security.scope import get_scope
from webapp.services import audit, subject_access


def _member_id() -> int:
    """Oneself as member; any member for the office (?member_id=)."""
    scope = get_scope()
    if scope.active and scope.active.kind == sc.MEMBERS:
        return scope.active.target_id
    if scope.has_role(roles.OFFICE):
        member_id = request.args.get("member_id", type=int)
        if member_id and db.session.get(Member, member_id):
            return member_id
        abort(404)
    abort(403)


class SubjectAccessView(BaseView):
    route_base = "/subject-access"
    default_view = "as_json"

    def _data(self):
        member_id = _member_id()
        data = subject_access.collect(member_id)
        return member_id, data

    @expose("/data.json")
    @has_access
    def as_json(self):
        member_id, data = self._data()
        audit.record("subject_access_export", "member", member_id, member_id=member_id, format="json")
        db.session.commit()
        body = json.dumps(data, ensure_ascii=False, indent=2)
        return Response(body, mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="innsyn-{member_id}.json"'})

    @expose("/data.pdf")
    @has_access
    def as_pdf(self):
        member_id, data = self._data()
        pdf = render_pdf("pdf/subject_access.html", data=data, union_name=current_app.config["UNION_NAME"])
        audit.record("subject_access_export", "member", member_id, member_id=member_id, format="pdf")
        db.session.commit()
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="innsyn-{member_id}.pdf"'})
