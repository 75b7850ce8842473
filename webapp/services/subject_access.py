"""Everything held about one member, for their access request (GDPR art. 15).

Every table that refers to a member (a `member_id`, or any foreign key to the
member) is included, so new areas are covered without changing this module,
and the messages of their threads; secrets (password hashes) never are.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_appbuilder import Model
from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import Member, Message, MessageThread
from webapp.services.backup import json_value

EXCLUDED_COLUMNS = {"password"}


def _value(value):
    # A stored file (an uploaded letter) is named by its size: the member downloads it from their page.
    if isinstance(value, bytes):
        return f"<file, {len(value)} bytes>"
    return json_value(value)


def _rows(table, where) -> list[dict]:
    result = db.session.execute(select(table).where(where)).mappings()
    return [{k: _value(v) for k, v in row.items() if k not in EXCLUDED_COLUMNS} for row in result]


def _member_columns(table) -> list:
    """The columns that name a member: `member_id`, or a foreign key to member.id (a recruiter, say)."""
    return [
        column for column in table.columns
        if column.name == "member_id" or any(fk.column is Member.__table__.c.id for fk in column.foreign_keys)
    ]


def collect(member_id: int) -> dict:
    member_table = Member.__table__
    data = {
        "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
        "member": _rows(member_table, member_table.c.id == member_id),
        "held_in": {},
    }
    for table in Model.metadata.sorted_tables:
        columns = _member_columns(table)
        if not columns or table is member_table:
            continue
        rows = _rows(table, or_(*(column == member_id for column in columns)))
        if rows:
            data["held_in"][table.name] = rows
    user_id = data["member"][0]["user_id"] if data["member"] else None
    if user_id is not None:
        user_table = current_app.appbuilder.sm.user_model.__table__
        data["held_in"][user_table.name] = _rows(user_table, user_table.c.id == user_id)
    # The messages of their threads name the member through the thread.
    threads = select(MessageThread.id).where(MessageThread.member_id == member_id)
    messages = _rows(Message.__table__, Message.thread_id.in_(threads))
    if messages:
        data["held_in"][Message.__tablename__] = messages
    return data
