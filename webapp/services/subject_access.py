"""Everything held about one member, for their access request (GDPR art. 15).

Every table that refers to a member by `member_id` is included, so new areas
are covered without changing this module; secrets (password hashes) never are.
"""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Member
from webapp.services.backup import json_value

EXCLUDED_COLUMNS = {"password"}


def _rows(table, where) -> list[dict]:
    result = db.session.execute(select(table).where(where)).mappings()
    return [{k: json_value(v) for k, v in row.items() if k not in EXCLUDED_COLUMNS} for row in result]


def collect(member_id: int) -> dict:
    member_table = Member.__table__
    data = {
        "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
        "member": _rows(member_table, member_table.c.id == member_id),
        "held_in": {},
    }
    for table in Model.metadata.sorted_tables:
        column = table.c.get("member_id")
        if column is None or table is member_table:
            continue
        rows = _rows(table, column == member_id)
        if rows:
            data["held_in"][table.name] = rows
    return data
