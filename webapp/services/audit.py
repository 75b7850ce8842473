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


def record(action: str, object_type: str, object_id: int | None = None, member_id: int | None = None,
           **details) -> AuditEntry:
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


_MASKED_FIELDS = {"national_id"}
_SECRET_FIELDS = {"password"}


def _shown(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _SECRET_FIELDS:
        return "***"
    if name in _MASKED_FIELDS:
        from webapp.security.privacy import mask_national_id

        return mask_national_id(str(value))
    return getattr(value, "name", value)


def changed_fields(item) -> dict[str, list]:
    """{field: [old, new]} of a pending change to a row, national ids masked."""
    from sqlalchemy import inspect

    state = inspect(item)
    changes = {}
    for attribute in state.mapper.column_attrs:
        history = state.attrs[attribute.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old != new:
            changes[attribute.key] = [_shown(attribute.key, old), _shown(attribute.key, new)]
    return changes


def member_id_of(item) -> int | None:
    """The member a row is about, when it is about one."""
    if type(item).__name__ == "Member":
        return item.id
    return getattr(item, "member_id", None)


def record_change(item, action: str) -> None:
    """Audit a create, update or delete of a row with the fields it changes."""
    fields = changed_fields(item) if action != "delete" else {}
    if action == "update" and not fields:
        return
    record(action, type(item).__tablename__, item.id, member_id=member_id_of(item), fields=fields)
