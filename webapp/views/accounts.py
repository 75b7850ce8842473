"""Public pages: choose a password from an e-mailed link, and ask for access as a deduction contact."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.validators import PasswordComplexityValidationError, default_password_complexity
from flask_babel import gettext as _

from webapp.extensions import db
from webapp.security.manager import login_limits
from webapp.services import accounts


class PasswordView(BaseView):
    route_base = "/password"
    default_view = "set_password"
    limits = login_limits()  # the link's token is guessed no faster than a password

    @expose("/set/<token>", methods=["GET", "POST"])
    def set_password(self, token: str):
        user = accounts.user_for_token(token)
        if user is None:
            return self.render_template("accounts/link_invalid.html"), 410
        error = None
        if request.method == "POST":
            password, repeated = request.form.get("password", ""), request.form.get("password_again", "")
            if password != repeated:
                error = _("password: the two passwords differ")
            else:
                try:
                    default_password_complexity(password)
                except PasswordComplexityValidationError as exc:
                    error = _("password: %(rule)s", rule=str(exc))
            if error is None:
                self.appbuilder.sm.reset_password(user.id, password)
                db.session.commit()
                flash(_("Your password is set. Log in with username %(username)s.", username=user.username), "success")
                return redirect(self.appbuilder.get_url_for_login)
        return self.render_template("accounts/set_password.html", user=user, error=error)


class AccessRequestFormView(BaseView):
    """Someone not yet registered asks for access as a deduction contact."""

    route_base = "/access"
    default_view = "request_access"

    @expose("/request", methods=["GET", "POST"])
    def request_access(self):
        if request.method == "POST":
            try:
                accounts.request_access(request.form.get("name", ""), request.form.get("email", ""),
                                        request.form.get("phone", ""), request.form.get("org_number", ""))
            except accounts.AccountError as exc:
                db.session.rollback()
                return self.render_template("accounts/request_access.html", error=str(exc), form=request.form)
            flash(_("Thank you. The union office will handle your request and send you a login by e-mail."), "success")
            return redirect(url_for("AccessRequestFormView.request_access"))
        return self.render_template("accounts/request_access.html", error=None, form={})
