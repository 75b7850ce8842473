"""Forgot password: ask for a one-time link by e-mail or SMS. Public, and silent about who exists."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _

from webapp.services import password_reset


class ForgotPasswordView(BaseView):
    route_base = "/password"
    default_view = "forgot"

    @expose("/forgot", methods=["GET", "POST"])
    def forgot(self):
        if request.method == "POST":
            channel = password_reset.SMS if request.form.get("channel") == password_reset.SMS else password_reset.EMAIL
            username = request.form.get("username", "")
            if username.strip():
                password_reset.request_reset(username, channel)
            # The same answer whether or not the username exists.
            flash(_("If the username is registered with us, a link to choose a new password is on its way. "
                    "The link works once and expires in 24 hours."), "info")
            return redirect(url_for("ForgotPasswordView.forgot"))
        return self.render_template("accounts/forgot_password.html")
