"""Hostile request arguments answer 400, 404 or 413 before any view reads them, never 500.

Flask-AppBuilder trusts what arrives: its list views turn `page_<View>` and `psize_<View>` into int()
unchecked, sort by any `_oc_<View>` column (also hidden ones, whose order leaks what is hidden), apply
`_flt_<n>_<column>` filters with an index and a value of any type, and look rows up by any `<pk>`; the REST
API's `q=` filters reach the database with any value. PostgreSQL then fails on a NUL byte, an id beyond
64 bits or a text where a number belongs. One `before_request` hook checks all of it for every FAB
screen and REST API, so no view can forget it:

- NUL bytes in a query, form or JSON value: 400 naming the argument.
- Row ids in the URL that no row can have (not a number, beyond 64 bits): 404, as for a missing row.
- List arguments of the screens: page, page size and sort column (only the columns the view sorts by for
  the role), filter index and value type: 400 naming the argument and the rule.
- The API's `q=`: page, filter values; its JSON bodies: an object, valid, at most API_MAX_BODY bytes (413).
"""

from __future__ import annotations

import datetime as dt
import json
import re

import prison
from flask import Flask, abort, current_app, request
from flask_appbuilder import ModelRestApi
from flask_appbuilder.baseviews import BaseCRUDView
from flask_babel import gettext as _

from webapp.services import bounds
from webapp.views.errors import RefusedArgument

# The largest JSON body of the REST API; uploads go through the screens (MAX_CONTENT_LENGTH).
API_MAX_BODY = 1024 * 1024
MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100  # the largest page size FAB's list offers
# The argument patterns exactly as FAB's urltools reads them (re.findall: anywhere in the name).
_PAGE_ARG = re.compile("page_(.*)")
_PAGE_SIZE_ARG = re.compile("psize_(.*)")
_ORDER_ARG = re.compile("_oc_(.*)")
_FILTER_ARG = re.compile(r"_flt_(\d)_(.*)")


def refuse(message: str):
    raise RefusedArgument(description=message)


def sortable_columns(view) -> list[str]:
    """The columns a list may be sorted by for the acting role: the view's own answer, else its order columns."""
    columns = getattr(view, "sortable_columns", None)
    return list(columns() if callable(columns) else view.order_columns or [])


def _views() -> dict[str, object]:
    """Blueprint (= class) name -> view, for every registered view of the app."""
    views = current_app.extensions.get("request_guard_views")
    if views is None:
        views = {type(view).__name__: view for view in current_app.appbuilder.baseviews}
        current_app.extensions["request_guard_views"] = views
    return views


# ------------------------------------------------------------------ NUL bytes


def _refuse_nul(name: str, value) -> None:
    if isinstance(value, str) and "\x00" in value:
        refuse(_("%(field)s: contains a character that is not allowed (NUL).", field=name.replace("\x00", "")))


def check_nul_bytes() -> None:
    for name, value in request.args.items(multi=True):
        _refuse_nul(name, name)
        _refuse_nul(name, value)
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
        "application/x-www-form-urlencoded", "multipart/form-data"
    ):
        for name, value in request.form.items(multi=True):
            _refuse_nul(name, name)
            _refuse_nul(name, value)


def _walk_json(value, path: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(path or "body", key)
            _walk_json(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk_json(item, f"{path}[{index}]")
    else:
        _refuse_nul(path or "body", value)
        if isinstance(value, (int, float)) and not bounds.fits_int64(value):
            refuse(_("%(field)s: the number is too large.", field=path or "body"))


# ------------------------------------------------------------------ ids in the URL


def check_url_ids(view) -> None:
    """An id in the URL no row can have is a row nobody has: 404, never an overflow in the database."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and not bounds.fits_int64(value):
            abort(404)
        if name == "pk" and isinstance(view, (BaseCRUDView, ModelRestApi)) and bounds.row_id(value) is None:
            abort(404)
    if isinstance(view, BaseCRUDView) and request.method == "POST":
        if any(bounds.row_id(pk) is None for pk in request.form.getlist("rowid")):
            abort(404)


# ------------------------------------------------------------------ filter values


def check_filter_value(datamodel, column: str, value, name: str) -> None:
    """A filter value must have the type of its column: FAB would hand it to the database as it is."""
    if isinstance(value, bool) or value is None:
        return
    if datamodel.is_boolean(column) and not isinstance(value, list):
        if value != "y":  # FAB's only spelling of "ticked"; any other text reaches the database as text
            refuse(_("%(field)s: tick the box to filter on this column.", field=name))
        return
    if value == "":
        return
    if isinstance(value, list):
        for item in value:
            check_filter_value(datamodel, column, item, name)
        return
    if isinstance(value, dict):
        refuse(_("%(field)s: must be a single value.", field=name))
    _check_filter_text(datamodel, column, str(value).strip(), name)


def _check_filter_text(datamodel, column: str, text: str, name: str) -> None:
    """One typed value against the type of its column."""
    if datamodel.is_relation(column):
        if bounds.row_id(text) is None:
            refuse(_("%(field)s: must be the id of a row.", field=name))
    elif datamodel.is_integer(column):
        if bounds.whole_number_between(text, -bounds.INT64_MAX, bounds.INT64_MAX) is None:
            refuse(_("%(field)s: must be a whole number.", field=name))
    elif datamodel.is_numeric(column) or datamodel.is_float(column):
        _check_filter_number(text, name)
    elif datamodel.is_date(column) or datamodel.is_datetime(column):
        _check_filter_date(text, name)


def _check_filter_number(text: str, name: str) -> None:
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or not bounds.fits_int64(number):
        refuse(_("%(field)s: must be a number.", field=name))


def _check_filter_date(text: str, name: str) -> None:
    try:
        day = dt.datetime.fromisoformat(text).date()
    except ValueError:
        day = None
    if day is None or not (bounds.FIRST_DATE <= day <= bounds.LAST_DATE):
        refuse(_("%(field)s: must be a date of the form YYYY-MM-DD from %(first)s to %(last)s.", field=name,
                 first=bounds.FIRST_DATE.strftime("%d.%m.%Y"), last=bounds.LAST_DATE.strftime("%d.%m.%Y")))


# ------------------------------------------------------------------ list arguments of the screens


def refuse_outside_range(name: str, low: int, high: int):
    refuse(_("%(field)s: must be a whole number from %(low)s to %(high)s.", field=name, low=low, high=high))


def _check_number_argument(name: str, low: int, high: int) -> None:
    if bounds.whole_number_between(request.args.get(name, ""), low, high) is None:
        refuse_outside_range(name, low, high)


def check_list_arguments(view) -> None:
    views = _views()
    for name in request.args:
        if _PAGE_ARG.findall(name):
            _check_number_argument(name, 0, MAX_PAGE)
        if _PAGE_SIZE_ARG.findall(name):
            _check_number_argument(name, 1, MAX_PAGE_SIZE)
        order = _ORDER_ARG.findall(name)
        if order and isinstance(views.get(order[0]), BaseCRUDView):
            column = request.args.get(name, "")
            if column not in sortable_columns(views[order[0]]):
                refuse(_("%(field)s: the list cannot be sorted by %(column)s.", field=name, column=column[:60]))
        filtered = _FILTER_ARG.findall(name)
        if filtered:
            _check_filter_argument(view, name, int(filtered[0][0]), filtered[0][1])


def _check_filter_argument(view, name: str, index: int, column: str) -> None:
    filters = view._filters._all_filters.get(column)
    if filters is None:
        return  # FAB ignores a filter on a column it does not offer
    if index >= len(filters):
        refuse(_("%(field)s: there is no such filter for this column.", field=name))
    for value in request.args.getlist(name):
        check_filter_value(view.datamodel, column, value, name)


# ------------------------------------------------------------------ the REST API


def check_api_body() -> None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if (request.content_length or 0) > API_MAX_BODY:
        abort(413)
    request.max_content_length = API_MAX_BODY  # also bounds a body sent without a length
    if not request.is_json:
        return
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        refuse(_("body: is not valid JSON."))
    if request.path.startswith("/api/v1/") and not isinstance(body, dict):
        refuse(_("body: must be a JSON object."))
    _walk_json(body, "")


def _check_query_number(query: dict, key: str, low: int, high: int) -> None:
    value = query.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and not (low <= value <= high):
        refuse_outside_range("q." + key, low, high)


def check_api_query(view) -> None:
    if "q" not in request.args or not isinstance(view, ModelRestApi):
        return
    try:
        query = prison.loads(request.args["q"])
    except Exception:  # FAB answers a query it cannot read with its own 400
        return
    if not isinstance(query, dict):
        return
    _walk_json(query, "q")
    _check_query_number(query, "page", 0, MAX_PAGE)
    _check_query_number(query, "page_size", -1, MAX_PAGE)  # FAB caps the size; -1 asks for its largest
    column = query.get("order_column")
    if column and column not in sortable_columns(view):
        refuse(_("%(field)s: the list cannot be sorted by %(column)s.", field="q.order_column",
                 column=str(column)[:60]))
    for position, condition in enumerate(query.get("filters") or []):
        if isinstance(condition, dict) and condition.get("col") in (view.search_columns or []):
            check_filter_value(view.datamodel, condition["col"], condition.get("value"), f"q.filters[{position}].value")


# ------------------------------------------------------------------ the hook


def guard_request() -> None:
    view = _views().get(request.blueprint or "")
    check_nul_bytes()
    if request.path.startswith("/api/"):
        check_api_body()
        check_api_query(view)
    check_url_ids(view)
    if isinstance(view, BaseCRUDView):
        check_list_arguments(view)


def register_request_guard(app: Flask) -> None:
    # After FAB's own hook, which sets g.user: the error page's layout needs it.
    app.before_request(guard_request)
