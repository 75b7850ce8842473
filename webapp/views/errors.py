"""Error pages in the user's language, inside the usual layout.

The REST API keeps its own JSON answers, and an error raised under /api/ answers
JSON too. A 404 never says whether a row exists outside the user's scope: the
text is the same for both. A refused argument (RefusedArgument) also says which
argument and which rule.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from werkzeug.exceptions import BadRequest, HTTPException

from webapp.extensions import db

log = logging.getLogger(__name__)

PAGES = {
    400: (_l("The request could not be used"),
          _l("Something in the request was missing or wrong. Go back and try again.")),
    403: (_l("No access"),
          _l("The role you act in does not give access to this page. Change role in the menu at the top right, "
             "or go back.")),
    404: (_l("Not found"), _l("The page does not exist, or it is outside what you have access to.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way. Go back and try again.")),
    410: (_l("No longer valid"), _l("The link has expired or has already been used.")),
    413: (_l("Too large"), _l("The file or the form is too large.")),
    429: (_l("Too many attempts"), _l("There were too many attempts in a short time. Wait a little and try again.")),
    500: (_l("Something went wrong"),
          _l("An error occurred on our side and has been logged. Try again later, or contact "
             "the union office.")),
}
# Headers of the original answer that still apply to the page.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class RefusedArgument(BadRequest):
    """A request argument broke a rule; the description names the argument and the rule for the user."""


def error_page(error: HTTPException):
    if error.response is not None:
        return error
    code = error.code or 500
    title, text = PAGES[code]
    detail = error.description if isinstance(error, RefusedArgument) else None
    headers = {name: value for name, value in error.get_headers() if name in KEPT_HEADERS}
    if code >= 500:
        db.session.rollback()
    if request.path.startswith("/api/"):
        return jsonify(message=str(detail or title)), code, headers
    try:
        appbuilder = current_app.appbuilder
        body = render_template("errors/error.html", code=code, title=title, text=text, detail=detail,
                               base_template=appbuilder.base_template, appbuilder=appbuilder)
    except Exception:  # the layout itself failed (the database is down, say): a bare page still answers
        log.exception("error page %s could not be rendered in the layout", code)
        body = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(text)}</p>"
    return body, code, headers


def register_error_pages(app: Flask) -> None:
    for code in PAGES:
        app.register_error_handler(code, error_page)
