"""The officers' duty of confidentiality, confirmed before the first member list."""

from __future__ import annotations

import datetime as dt

from flask import redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectField

from webapp.extensions import db
from webapp.models import AuditEntry, ConfidentialityDeclaration
from webapp.security import roles
from webapp.security.redirects import safe_next
from webapp.security.scope import get_scope
from webapp.services import audit
from webapp.views import audit_labels, subject_access_pdf
from webapp.views.scoped_interface import ScopedInterface
from webapp.views.scoped_views import ScopedModelView

DECLARATION_VERSION = "2026-1"
DECLARATION_TEXT = _l(
    "As an elected officer I get access to information about membership of a trade union, which is a special "
    "category of personal data. I will keep it confidential, use it only for my work as an officer, not pass it on, "
    "not keep copies longer than the work needs, and follow the union's privacy guide for officers. The duty of "
    "confidentiality continues after my position ends."
)


def needs_declaration() -> bool:
    """Roles that see member lists (the role table's `declares`) confirm the declaration first; the office never."""
    scope = get_scope()
    if not current_user.is_authenticated or not scope.has_role(*roles.DECLARING_ROLES) or scope.has_role(roles.OFFICE):
        return False
    return db.session.scalar(
        select(ConfidentialityDeclaration.id).where(ConfidentialityDeclaration.user_id == current_user.id)
    ) is None


class ConfidentialityView(BaseView):
    route_base = "/confidentiality"
    default_view = "declare"

    @expose("/", methods=["GET", "POST"])
    def declare(self):
        if not current_user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        next_url = safe_next(request.values.get("next"), url_for("HomeView.index"))
        if request.method == "POST" and request.form.get("confirm") == "yes":
            if needs_declaration():
                db.session.add(ConfidentialityDeclaration(
                    user_id=current_user.id, confirmed_at=dt.datetime.now(), text_version=DECLARATION_VERSION
                ))
                audit.record("confidentiality_declared", "user", current_user.id, version=DECLARATION_VERSION)
                db.session.commit()
            return redirect(next_url)
        return self.render_template("privacy/declaration.html", text=DECLARATION_TEXT, next_url=next_url,
                                    version=DECLARATION_VERSION)


class AuditLogView(ScopedModelView):
    """The audit log for the office: searchable, never editable or deletable through the app."""

    datamodel = ScopedInterface(AuditEntry)
    list_title = show_title = _l("Audit log")
    base_permissions = ["can_list", "can_show"]
    label_columns = {
        "at": _l("Time"), "username": _l("User"), "role": _l("Role"), "scope": _l("Unit"), "action": _l("Action"),
        "object_type": _l("Object"), "object_id": _l("Object id"), "member_id": _l("Member id"),
        "details": _l("Details"),
    }
    list_columns = ["at", "username", "role", "scope", "action", "object_type", "object_id", "member_id"]
    show_columns = list(label_columns)
    search_columns = ["member_id", "username", "at", "action", "object_type"]
    base_order = ("at", "desc")
    # The log stores codes; the screen shows and searches them by label.
    formatters_columns = {"action": audit_labels.action_label, "object_type": audit_labels.object_label,
                          "details": subject_access_pdf.audit_details,
                          "role": lambda codes: ", ".join(roles.role_label(code) for code in (codes or "").split(",")
                                                          if code)}
    search_form_extra_fields = {
        "action": SelectField(_l("Action"), choices=lambda: audit_labels.choices(audit_labels.ACTION_LABELS),
                              widget=Select2Widget()),
        "object_type": SelectField(_l("Object"), choices=lambda: audit_labels.choices(audit_labels.OBJECT_LABELS),
                                   widget=Select2Widget()),
    }
