"""FAB's user, role, group and user-statistics screens, speaking the user's language: roles by their label
(never the code `office`), yes/no for flags (never True/False), dates the Norwegian way, and a label for every
column FAB leaves unlabelled. The security manager (webapp.security.manager) registers these in place of FAB's.

Each class keeps the name of FAB's class it replaces: FAB names a view's endpoints and permissions after its
class, and the role table (webapp.security.roles) grants FAB's names.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder.fields import QuerySelectField, QuerySelectMultipleField
from flask_appbuilder.fieldwidgets import Select2ManyWidget, Select2Widget
from flask_appbuilder.security import views as fab
from flask_appbuilder.security.forms import roles_or_groups_required
from flask_babel import lazy_gettext as _l

from webapp.security.roles import role_label


def yes_no(value) -> str:
    if value is None:
        return ""
    return str(_l("Yes") if value else _l("No"))


def when(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    return value.strftime("%d.%m.%Y")


def role_labels(roles) -> str:
    return ", ".join(sorted(role_label(role.name) for role in roles or []))


def names(rows) -> str:
    return ", ".join(sorted(str(row) for row in rows or []))


def _all_roles() -> list:
    from flask import current_app
    from sqlalchemy import select

    from webapp.extensions import db

    role_model = current_app.appbuilder.sm.role_model
    return db.session.scalars(select(role_model).order_by(role_model.name)).all()


def _roles(required: bool = False) -> QuerySelectMultipleField:
    """The roles as FAB's form offers them (their ids posted), each shown by its label."""
    return QuerySelectMultipleField(_l("Roles"), validators=[roles_or_groups_required] if required else [],
                                    query_func=_all_roles, get_pk_func=lambda role: role.id,
                                    get_label=lambda role: role_label(role.name), widget=Select2ManyWidget())


def _role_filter() -> QuerySelectField:
    """The search filter's choice of one role, by label."""
    return QuerySelectField(_l("Role"), query_func=_all_roles, get_pk_func=lambda role: role.id,
                            get_label=lambda role: role_label(role.name), widget=Select2Widget())


def someone(user) -> str:
    return "" if user is None else str(user)


USER_FORMATTERS = {
    "active": yes_no,
    "roles": role_labels,
    "groups": names,
    "last_login": when,
    "created_on": when,
    "changed_on": when,
    "created_by": someone,
    "changed_by": someone,
}


class UserDBModelView(fab.UserDBModelView):
    """FAB's user screen with roles by label, yes/no and Norwegian dates."""

    label_columns = {**fab.UserDBModelView.label_columns, "active": _l("Active"), "roles": _l("Roles"),
                     "conf_password": _l("Confirm Password")}
    formatters_columns = USER_FORMATTERS
    add_form_extra_fields = {**fab.UserDBModelView.add_form_extra_fields, "roles": _roles(required=True)}
    edit_form_extra_fields = {"roles": _roles(required=True)}
    search_form_extra_fields = {"roles": _role_filter()}


class RoleModelView(fab.RoleModelView):
    """FAB's role screen; its list and detail templates (overridden in webapp/templates) show each role by
    its label."""

    label_columns = {"name": _l("Role"), "permissions": _l("Permissions"), "user": _l("Users"),
                     "groups": _l("Groups")}


class UserGroupModelView(fab.UserGroupModelView):
    label_columns = {"name": _l("Name"), "label": _l("Label"), "description": _l("Description"),
                     "users": _l("Users"), "roles": _l("Roles")}
    formatters_columns = {"roles": role_labels, "users": names}
    add_form_extra_fields = edit_form_extra_fields = {"roles": _roles()}
    search_form_extra_fields = {"roles": _role_filter()}


class UserStatsChartView(fab.UserStatsChartView):
    """FAB's user statistics, every label translated (FAB labels three of the columns it searches by)."""

    label_columns = {**UserDBModelView.label_columns, "username": _l("User Name"), "login_count": _l("Login count"),
                     "fail_login_count": _l("Failed login count")}
    search_form_extra_fields = {"roles": _role_filter()}
    definitions = [
        {"label": _l("Login count"), "group": "username", "series": ["login_count"]},
        {"label": _l("Failed login count"), "group": "username", "series": ["fail_login_count"]},
    ]
