"""Public pages: choose a password from an e-mailed link, and ask for access as a deduction contact."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.utils.limit import Limit
from flask_appbuilder.validators import PasswordComplexityValidationError, default_password_complexity
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from webapp.extensions import db
from webapp.security.manager import login_limits
from webapp.services import accounts
from webapp.services.bounds import bounded_text
from webapp.services.validation import FieldError


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


# The fields of the public access request: each refused (never cut) when longer than its column holds.
ACCESS_REQUEST_FIELDS = {
    "name": (_l("Name"), 160),
    "email": (_l("E-mail"), 320),
    "phone": (_l("Mobile"), 20),
    "org_number": (_l("Organisation number of the employer"), 20),  # typed with spaces; stored as 9 digits
}


def bounded_access_request(form) -> dict[str, str]:
    """The typed fields, each checked for NUL bytes and length; FieldError names the first field that breaks."""
    return {name: bounded_text(label, length)(form.get(name, ""))
            for name, (label, length) in ACCESS_REQUEST_FIELDS.items()}


def post_limits(setting: str, default: str, exempt_when=None) -> list[Limit]:
    """A public form that creates rows the office must read is sent a few times per address (the limit in the
    setting `setting`, read per request); reading the form is not limited. Flask-Limiter's RATELIMIT_ENABLED
    switches every limit off (the tests); `exempt_when` switches this one off too."""
    return [Limit(
        limit_value=lambda: current_app.config.get(setting, default),
        key_func=get_remote_address,
        methods=("POST",),
        exempt_when=exempt_when,
    )]


def access_request_limits() -> list[Limit]:
    """A few requests per address and hour (ACCESS_REQUEST_RATE_LIMIT), when rate limits are on
    (AUTH_RATE_LIMITED), as for the login."""
    return post_limits("ACCESS_REQUEST_RATE_LIMIT", "10 per hour",
                       exempt_when=lambda: not current_app.config.get("AUTH_RATE_LIMITED"))


class AccessRequestFormView(BaseView):
    """Someone not yet registered asks for access as a deduction contact."""

    route_base = "/access"
    default_view = "request_access"

    limits = access_request_limits()

    @expose("/request", methods=["GET", "POST"])
    def request_access(self):
        if request.method == "POST":
            try:
                typed = bounded_access_request(request.form)
                accounts.request_access(typed["name"], typed["email"], typed["phone"], typed["org_number"])
            except (accounts.AccountError, FieldError) as exc:
                db.session.rollback()
                return self.render_template("accounts/request_access.html", error=str(exc), form=request.form)
            flash(_("Thank you. The union office will handle your request and send you a login by e-mail."), "success")
            return redirect(url_for("AccessRequestFormView.request_access"))
        return self.render_template("accounts/request_access.html", error=None, form={})
