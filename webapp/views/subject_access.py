"""A member downloads everything held about them; the office can produce it for any member."""

from __future__ import annotations

import json

from flask import abort, current_app, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from webapp.models import Member
from webapp.security import roles
from webapp.security import scope as sc
from webapp.security.rowfilters import scoped_get
from webapp.security.scope import get_scope
from webapp.services import subject_access
from webapp.services.pdf import render_pdf
from webapp.views import subject_access_pdf
from webapp.views.downloads import download


def _member_id() -> int:
    """Oneself as member; any member for the office (?member_id=)."""
    scope = get_scope()
    if scope.active and scope.active.kind == sc.MEMBERS:
        return scope.active.target_id
    if scope.has_role(roles.OFFICE):
        return scoped_get(Member, request.args.get("member_id", type=int)).id
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
        return download(json.dumps(data, ensure_ascii=False, indent=2), f"innsyn-{member_id}.json", "application/json",
                        object_type="subject_access", object_id=member_id, member_id=member_id)

    @expose("/data.pdf")
    @has_access
    def as_pdf(self):
        member_id, data = self._data()
        pdf = render_pdf("pdf/subject_access.html", data=data, sections=subject_access_pdf.sections(data),
                         generated_at=subject_access_pdf.generated_at(data),
                         union_name=current_app.config["UNION_NAME"])
        return download(pdf, f"innsyn-{member_id}.pdf", "application/pdf", object_type="subject_access",
                        object_id=member_id, member_id=member_id)
