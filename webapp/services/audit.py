"""The audit log: who did what, when, in which role and unit. Append only."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import has_request_context

from webapp.extensions import db
from webapp.models import AuditEntry


def _actor() -> dict[str, Any]:
    if not has_request_context():
        return {"username": "cli"}
    from webapp.security.scope import current_user_for_request, get_scope

    user, _via_api = current_user_for_request()
    if user is None:
        return {}
    scope = get_scope()
    active = scope.active
    return {
        "user_id": user.id,
        "username": user.username,
        "role": active.role if active else ",".join(scope.role_names),
        "scope": (active.target_label or "")[:64] if active else "",
    }


def record(action: str, object_type: str, object_id: int | None = None, member_id: int | None = None, **details) -> AuditEntry:
    """Add an entry to the current transaction; it is written with the change it describes."""
    entry = AuditEntry(
        at=dt.datetime.now(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        member_id=member_id,
        details=json.dumps(details, ensure_ascii=False, default=str) if details else None,
        **_actor(),
    )
    db.session.add(entry)
    return entry
