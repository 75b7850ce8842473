"""Roles, scope and row filters. `init_security(app)` wires the per-request parts."""

from flask import g, redirect, request, session, url_for
from flask_login import user_logged_in

from webapp.security.scope import SESSION_KEY, get_scope

# Pages that work before a role is chosen.
_OPEN_ENDPOINTS = {
    "static",
    "appbuilder.static",
    "ActingRoleView.choose",
    "ActingRoleView.switch",
    "AuthDBView.login",
    "AuthDBView.logout",
    "LocaleView.index",
}


def _require_acting_choice():
    g.pop("scope", None)  # resolved afresh for every request
    session.permanent = True  # idle sessions expire after PERMANENT_SESSION_LIFETIME
    if request.endpoint is None or request.endpoint in _OPEN_ENDPOINTS or request.path.startswith("/api/"):
        return None
    if request.endpoint.endswith(".static") or request.path.startswith("/static/"):
        return None
    if get_scope().needs_choice:
        return redirect(url_for("ActingRoleView.choose"))
    return None


def _forget_acting_choice(_app, **_kwargs):
    session.pop(SESSION_KEY, None)


def init_security(app) -> None:
    from webapp.security.headers import init_headers

    init_headers(app)
    app.before_request(_require_acting_choice)
    user_logged_in.connect(_forget_acting_choice, app)

    @app.context_processor
    def acting_scope():
        return {"acting_scope": get_scope()}
