"""Every write of a scoped screen or API goes through `check_write`: the row is validated, it must
stay in the acting scope (checked after a flush: the row and what it points at), and it is audited.
Else nothing is written.
"""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, IntegrityError

from webapp.extensions import db
from webapp.security.rowfilters import ScopeViolation, assert_writable, is_visible
from webapp.security.scope import get_scope
from webapp.services import audit
from webapp.services.validation import RecordInvalid, derive_fields, unique_conflicts, validate_item

log = logging.getLogger(__name__)


def missing_required_relations(item) -> dict[str, list[str]]:
    """Many-to-one relations whose foreign key may not be empty but is."""
    missing = {}
    for relationship in type(item).__mapper__.relationships:
        if relationship.direction.name != "MANYTOONE":
            continue
        columns = list(relationship.local_columns)
        if all(not c.nullable for c in columns) and getattr(item, relationship.key) is None:
            if all(getattr(item, c.key, None) is None for c in columns):
                missing[relationship.key] = [str(_l("This field must be filled in with a valid value."))]
    return missing


def check_write(item, permission: str, view_name: str) -> None:
    """Validate a changed row, refuse it when it leaves the acting scope, and audit it."""
    with db.session.no_autoflush:
        derive_fields(item)
        problems = missing_required_relations(item)
        if problems:
            raise RecordInvalid(problems)
        validate_item(item)
        grants = get_scope().grants_for_view(view_name)
        conflicts = unique_conflicts(item, may_see=lambda model, pk: is_visible(model, pk, grants))
    if conflicts:
        raise RecordInvalid(conflicts)
    is_new = item.id is None
    changes = audit.changed_fields(item)  # before the flush clears the history
    db.session.add(item)
    grants = get_scope().grants_with(permission, view_name)
    try:
        assert_writable(item, grants)
        if is_new:
            audit.record("create", type(item).__tablename__, item.id, member_id=audit.member_id_of(item),
                         fields=changes)
        elif changes:
            audit.record("update", type(item).__tablename__, item.id, member_id=audit.member_id_of(item),
                         fields=changes)
    except IntegrityError:
        db.session.rollback()
        # Another request wrote the same unique value meanwhile. No database text: it names the value
        # and says that it exists, which is what a writer outside that row's scope may not learn.
        raise RecordInvalid({"_database": [str(_l(
            "The change could not be saved: it conflicts with a change made at the same time. "
            "Check the values and try again, or contact the union office."
        ))]}) from None
    except DBAPIError:
        db.session.rollback()
        # A value the rules let through but the database refuses (its words name tables and values): logged,
        # and the writer told in ours.
        log.exception("the database refused a checked %s", type(item).__tablename__)
        raise RecordInvalid({"_database": [str(_l(
            "The change could not be saved: a value is outside what the register can hold. Check the values "
            "and try again."
        ))]}) from None
    except ScopeViolation:
        db.session.rollback()
        raise
