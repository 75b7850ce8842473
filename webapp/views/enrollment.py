"""The public enrollment page (/innmelding): the form, its thank-you page, the terms and the privacy statement,
and the small JSON lookups its script uses (employers, an employer's workplaces, the place of a postcode).

No login. The form works without JavaScript: the server draws it again with every problem next to its field,
with the workplaces of the employer once one is known and the employers matching a typed name to choose from.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _

from webapp.extensions import db
from webapp.models import Employer
from webapp.models.choices import MemberCategory, PolicyKind, WorkSituation
from webapp.services import enrollment
from webapp.services.validation import FieldError, RecordInvalid
from webapp.views.accounts import post_limits

# The largest form body: the fields' own limits add up to well under this (uploads have MAX_CONTENT_LENGTH).
MAX_BODY = 32 * 1024
# Where the error summary's link of a field's problem leads (the field's input), when not to the field itself.
ANCHORS = {"employer_id": "employer_query"}
POLICY_PAGES = {"vilkar": PolicyKind.terms, "personvern": PolicyKind.privacy}


def enrollment_limits():
    """A few sendings per address and hour (ENROLLMENT_RATE_LIMIT) whenever rate limits are on (RATELIMIT_ENABLED)."""
    return post_limits("ENROLLMENT_RATE_LIMIT", "5 per hour")


def _json_error(message: str, status: int = 400):
    response = jsonify(error=str(message))
    response.status_code = status
    return response


class EnrollmentView(BaseView):
    route_base = "/innmelding"
    default_view = "form"
    limits = enrollment_limits()

    # ------------------------------------------------------------ the form

    @expose("/", methods=["GET", "POST"])
    @expose("", methods=["GET", "POST"])  # applied first, so the page's own address is /innmelding
    def form(self):
        now = dt.datetime.now()
        if request.method == "GET":
            return self._render({"magazine": "y"}, now)
        if (request.content_length or 0) > MAX_BODY:
            abort(413)
        try:
            enrollment.submit(request.form, now)
        except RecordInvalid as exc:
            db.session.rollback()
            return self._render(request.form, now, errors=exc.errors), 422
        except enrollment.EnrollmentRefused as exc:
            db.session.rollback()
            return self._render(request.form, now, refusal=exc.message), 422
        return redirect(url_for("EnrollmentView.thanks"))

    def _render(self, values, now: dt.datetime, errors: dict | None = None, refusal: str | None = None):
        token = values.get(enrollment.TOKEN_FIELD, "")
        if not enrollment.token_is_fresh(token, now):
            token = enrollment.form_token(now)
        employer = enrollment.employer_of(values) if values.get("work_situation") == "employed" else None
        return self.render_template(
            "enrollment/form.html", values=values, errors=errors or {}, refusal=refusal, token=token,
            policies=enrollment.current_policies(now.date()), unions=enrollment.lo_unions(),
            situations=list(WorkSituation), categories=list(MemberCategory), employer=employer,
            workplaces=enrollment.workplaces_of(employer.id) if employer else [],
            candidates=self._candidates(values, employer, errors or {}), place=self._place(values),
            error_list=self._error_list(errors or {}), default_categories={
                situation.name: str(category.label) for situation, category in enrollment.DEFAULT_CATEGORY.items()},
            honeypot=enrollment.HONEYPOT_FIELD, token_field=enrollment.TOKEN_FIELD,
            min_age=enrollment.MIN_AGE, today=now.date(),
        )

    @staticmethod
    def _candidates(values, employer, errors) -> list[dict]:
        """Without JavaScript a typed name that is no employer's exact name is offered as the employers matching it."""
        typed = str(values.get("employer_query") or "")
        if employer is not None or "employer_query" not in errors or not typed:
            return []
        try:
            return enrollment.search_employers(typed)
        except FieldError:
            return []

    @staticmethod
    def _place(values) -> str:
        try:
            row = enrollment.place_of(str(values.get("postcode") or ""))
        except FieldError:
            return ""
        return row.place if row else ""

    @staticmethod
    def _error_list(errors: dict) -> list[tuple[str, str]]:
        """(input id, message) in the order of the form, for the summary at the top."""
        order = list(enrollment.FIELDS)
        named = sorted(errors, key=lambda name: order.index(name) if name in order else len(order))
        return [(ANCHORS.get(name, name), message) for name in named for message in errors[name]]

    @expose("/takk")
    def thanks(self):
        return self.render_template("enrollment/thanks.html")

    @expose("/<any(vilkar, personvern):page>")
    def policy(self, page: str):
        text = enrollment.current_policy(POLICY_PAGES[page], dt.date.today())
        if text is None:
            abort(404)
        return self.render_template("enrollment/policy.html", text=text)

    # ------------------------------------------------------------ lookups for the form's script

    @expose("/arbeidsgivere")
    def employers(self):
        try:
            return jsonify(results=enrollment.search_employers(request.args.get("q", "")))
        except FieldError as exc:
            return _json_error(exc.message)

    @expose("/arbeidsgivere/<int:employer_id>/arbeidssteder")
    def workplaces(self, employer_id: int):
        if db.session.get(Employer, employer_id) is None:
            return _json_error(_("Employer: no such employer."), 404)
        return jsonify(results=enrollment.workplaces_of(employer_id))

    @expose("/postnummer/<code>")
    def postcode(self, code: str):
        try:
            row = enrollment.place_of(code)
        except FieldError as exc:
            return _json_error(exc.message)
        if row is None:
            return _json_error(_("Postcode: %(code)s is not a Norwegian postcode.", code=code), 404)
        return jsonify(code=row.code, place=row.place)
