"""Forgot password: ask for a one-time link by e-mail or SMS. Public, and silent about who exists."""

from __future__ import annotations

import logging

from flask import copy_current_request_context, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _

from webapp.security.manager import login_limits
from webapp.services import password_reset

log = logging.getLogger(__name__)


def after_response(response, work):
    """Run `work` (in a copy of this request's context) once the answer has been sent.

    The answer then costs the same whether or not the username exists and whether or not a link is
    mailed, so its timing tells nothing; a failure is logged, the visitor's answer stands.
    """
    work_in_context = copy_current_request_context(work)

    def run() -> None:
        try:
            work_in_context()
        except Exception:  # the answer is sent: nothing left to tell the visitor
            log.exception("deferred password reset request failed")

    response.call_on_close(run)
    return response


class ForgotPasswordView(BaseView):
    route_base = "/password"
    default_view = "forgot"
    limits = login_limits()

    @expose("/forgot", methods=["GET", "POST"])
    def forgot(self):
        if request.method == "POST":
            channel = password_reset.SMS if request.form.get("channel") == password_reset.SMS else password_reset.EMAIL
            username = request.form.get("username", "")
            # The same answer, at the same time, whether or not the username exists.
            flash(_("If the username is registered with us, a link to choose a new password is on its way. "
                    "The link works once and expires in 24 hours."), "info")
            response = redirect(url_for("ForgotPasswordView.forgot"))
            if username.strip():
                after_response(response, lambda: password_reset.request_reset(username, channel))
            return response
        return self.render_template("accounts/forgot_password.html")
