"""Schemathesis against /api/v1/_openapi as each role: no server error and no row outside the scope.

Cases are generated from the OpenAPI spec for every operation and sent with
the role's JWT through the Flask test client. Reads are checked against the
rows the role may see, computed independently from the database.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.helpers import api_token
from webapp.extensions import db
from webapp.security.rowfilters import visible_clause
from webapp.security.scope import build_scope

ROLES = ["office", "leader", "treasurer", "member_data_admin", "workplace_trustee", "deduction_contact", "member",
         "analyst"]
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "2"))
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "test-artifacts")


def scoped_models() -> dict[str, type]:
    """resource name -> model, for every scoped ModelRestApi of ours."""
    from flask import current_app

    from webapp.views.scoped_api import ScopedModelRestApi

    return {
        view.resource_name: view.datamodel.obj
        for view in current_app.appbuilder.baseviews
        if isinstance(view, ScopedModelRestApi)
    }


def allowed_ids(app, username: str) -> dict[str, set[int]]:
    """Per resource, the ids the user's API scope (the union of their roles) may read."""
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        scope = build_scope(user, None, via_api=True)
        from flask_appbuilder import Model  # noqa: F401 - models are registered

        allowed = {}
        for resource, model in scoped_models().items():
            view_name = next(v.class_permission_name for v in app.appbuilder.baseviews
                             if getattr(v, "resource_name", None) == resource)
            grants = scope.grants_for_view(view_name)
            allowed[resource] = set(db.session.scalars(db.select(model.id).where(visible_clause(model, grants))))
        db.session.remove()
        return allowed


def request_of(case, headers):
    kwargs = {"method": case.method, "headers": {**headers, **(case.headers or {})},
              "query_string": case.query or None}
    if case.body is not None and case.method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = case.body
    path = case.formatted_path if hasattr(case, "formatted_path") else case.path.format(**(case.path_parameters or {}))
    return path, kwargs


def exercise_operation(client, operation, headers, allowed, failures, statistics) -> None:
    """Send generated cases of one operation; note server errors and rows outside the scope."""
    resource = operation.path.split("/")[3] if operation.path.startswith("/api/v1/") else ""

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def exercise(case):
        path, kwargs = request_of(case, headers)
        response = client.open(path, **kwargs)
        statistics["requests"] += 1
        statistics["statuses"][response.status_code] = statistics["statuses"].get(response.status_code, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{case.method} {path}: {response.status_code}")
            return
        if case.method != "GET" or response.status_code != 200 or resource not in allowed:
            return
        body = response.get_json(silent=True) or {}
        seen = set(body.get("ids", [])) | ({body["id"]} if isinstance(body.get("id"), int) else set())
        leaked = seen - allowed[resource]
        if leaked:
            failures.append(f"{case.method} {path}: rows outside the scope {sorted(leaked)[:5]}")

    exercise()


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_api_as_role(role, client, world, clean_app):
    headers = api_token(client, world.logins[role])
    spec = client.get("/api/v1/_openapi", headers=api_token(client, world.logins["office"])).json
    schema = schemathesis.openapi.from_dict(spec)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Logging in again or refreshing would only test FAB's own login; the rest is ours or FAB's resources.
    operations = [op for op in operations if not op.path.endswith(("/security/login", "/security/refresh"))]
    allowed = allowed_ids(clean_app, world.logins[role])
    failures: list[str] = []
    statistics = {"role": role, "operations": len(operations), "requests": 0, "statuses": {}}

    for operation in operations:
        exercise_operation(client, operation, headers, allowed, failures, statistics)

    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(ARTIFACTS, f"fuzz-{role}.json"), "w") as out:
        json.dump(statistics, out, indent=1)
    assert not failures, failures[:20]
