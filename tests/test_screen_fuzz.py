"""The screens beside the API fuzzer: every FAB list, show and edit URL, as every role, with hostile arguments.

Each role of the world fixture logs in once and requests every list/show/edit URL of every FAB CRUD view
(found in app.appbuilder.baseviews and the url_map) with a fixed, bounded set of hostile query strings:
sorting by unknown and hidden columns, page and page size negative, non-numeric or huge, filters whose
value has the wrong type, NUL bytes and very long values, and huge, negative and non-numeric ids.
Nothing may answer 5xx. The set is deterministic, so the number of requests is the same on every run.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import login_as

ROLES = ["office", "leader", "treasurer", "member_data_admin", "workplace_trustee", "deduction_contact", "member",
         "analyst"]
# What each role must at least have sent (the office reaches every screen): the fuzzer really walked them.
MINIMUM_REQUESTS = {"office": 1000, "leader": 200, "treasurer": 200, "member_data_admin": 200,
                    "workplace_trustee": 60, "deduction_contact": 60, "member": 50, "analyst": 60}
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")

HUGE = "99999999999999999999"  # beyond 64 bits: PostgreSQL refuses it as an integer
LONG = "x" * 5000
NUL = "a\x00b"
HOSTILE_IDS = [HUGE, str(2**63), "-1", "abc"]
# Every filter column gets a text, a number beyond 64 bits and a very long value, whatever its type.
HOSTILE_FILTER_VALUES = ["abc", HUGE, LONG]
# Column names no list may be sorted by: unknown, dotted, the primary key, secret or hidden ones.
HOSTILE_SORT_COLUMNS = ["no_such_column", "home_unit.name", "id", "national_id", "password"]


def crud_views(app) -> list:
    """Every FAB CRUD view (list/show/edit) registered in the app, ours and FAB's security views."""
    from flask_appbuilder.baseviews import BaseCRUDView

    return [view for view in app.appbuilder.baseviews if isinstance(view, BaseCRUDView)]


def view_urls(app, view) -> dict[str, str]:
    """kind (list, show, edit) -> the URL rule of the view, for the kinds it exposes."""
    urls = {}
    for rule in app.url_map.iter_rules():
        kind = rule.endpoint.rpartition(".")[2]
        if rule.endpoint.startswith(view.endpoint + ".") and kind in ("list", "show", "edit"):
            urls[kind] = rule.rule
    return urls


def list_queries(view) -> list[dict]:
    """Hostile query strings for one list view, keyed the way FAB reads them (by the view's class name)."""
    name = type(view).__name__
    valid_column = (view.order_columns or ["id"])[0]
    queries = [{f"_oc_{name}": column, f"_od_{name}": "asc"} for column in HOSTILE_SORT_COLUMNS]
    queries += [
        {f"_oc_{name}": valid_column, f"_od_{name}": "sideways"},
        {f"_oc_{name}": valid_column, f"_od_{name}": "desc", f"page_{name}": "0", f"psize_{name}": "100"},
    ]
    queries += [{f"page_{name}": value} for value in ("-1", "abc", HUGE, "")]
    queries += [{f"psize_{name}": value} for value in ("0", "abc", str(10**9))]
    queries += [{f"page_{name}": str(10**6), f"psize_{name}": "100"}, {f"xpage_{name}": "abc"}]
    columns = list(view.search_columns or [])
    for column in columns:
        queries += [{f"_flt_0_{column}": value} for value in HOSTILE_FILTER_VALUES]
    if columns:
        queries.append({f"_flt_0_{columns[0]}": NUL})
        queries.append({f"_flt_9_{columns[0]}": "abc"})  # a filter index the column does not have
    queries.append({"_flt_0_no_such_column": "abc"})
    return queries


def first_row_id(app, view):
    """Some existing row of the view's model (any scope): show and edit must also answer for a real id."""
    from webapp.extensions import db

    key = view.datamodel.obj.__mapper__.primary_key[0]  # `id`, or another key (a postcode's code)
    with app.app_context():
        row_id = db.session.scalar(db.select(key).order_by(key).limit(1))
        db.session.remove()
    return row_id


class Fuzz:
    """Sends the requests of one role and notes every 5xx."""

    def __init__(self, client):
        self.client = client
        self.requests = 0
        self.statuses: dict[str, int] = {}
        self.failures: list[str] = []

    def get(self, url: str, query: dict | None = None) -> int | str:
        self.requests += 1
        try:  # under TESTING an error inside the view is raised here instead of answering 500
            status = self.client.get(url, query_string=query).status_code
        except Exception as error:
            status = f"500 {type(error).__name__}: {str(error)[:80]}"
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        if not isinstance(status, int) or status >= 500:
            shown = {key: value[:40] for key, value in (query or {}).items()}
            self.failures.append(f"GET {url[:80]} {shown}: {status}")
        return status


def fuzz_view(fuzz: Fuzz, app, view) -> None:
    """The hostile set on a view the role can list; on any other view the plain pages only, which must
    refuse without a 5xx too (the hostile arguments there answer 400 before the view, the same for all roles)."""
    urls = view_urls(app, view)
    real_id = str(first_row_id(app, view) or 1)
    reachable = "list" in urls and fuzz.get(urls["list"]) == 200
    if reachable:
        for query in list_queries(view):
            fuzz.get(urls["list"], query)
    for kind in ("show", "edit"):
        if kind not in urls:
            continue
        fuzz.get(urls[kind].replace("<pk>", real_id))
        if not reachable:
            continue
        for row_id in HOSTILE_IDS:
            fuzz.get(urls[kind].replace("<pk>", row_id))
        # The related lists of a show/edit page read the same sort and page arguments.
        fuzz.get(urls[kind].replace("<pk>", real_id), {f"page_{type(view).__name__}": "abc"})
    if reachable and "show" in urls:
        for row_id in (NUL, LONG, "1.5", "0"):
            fuzz.get(urls["show"].replace("<pk>", row_id))


@pytest.mark.parametrize("role", ROLES)
def test_screens_answer_hostile_arguments_without_a_server_error(role, client, world, clean_app):
    login_as(client, world.logins[role], role)
    fuzz = Fuzz(client)
    views = crud_views(clean_app)
    for view in views:
        fuzz_view(fuzz, clean_app, view)

    statistics = {"role": role, "views": len(views), "requests": fuzz.requests, "statuses": fuzz.statuses}
    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, f"screen-fuzz-{role}.json"), "w") as out:
        json.dump(statistics, out, indent=1)
    print(f"screen fuzz as {role}: {fuzz.requests} requests over {len(views)} views, statuses {fuzz.statuses}")
    assert len(views) >= 25 and fuzz.requests >= MINIMUM_REQUESTS[role]  # the fuzzer really walked the screens
    assert not fuzz.failures, fuzz.failures[:20]
