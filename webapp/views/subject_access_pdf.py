"""The subject-access PDF as a person reads it: each table and field by its name in the user's language, each
value formatted (dates dd.mm.yyyy, kroner, yes/no, labels instead of codes). The JSON download keeps the raw
columns and values, for machines.

Field names come from the label table (webapp.models.labels) where the screens label them, else from
COLUMN_LABELS here; tests/test_norwegian_everywhere.py checks that every column the collection covers has one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, LargeBinary, Numeric

from webapp.extensions import db
from webapp.models import Member, Message
from webapp.models.choices import LabelledEnum
from webapp.models.labels import field_label, labels_for
from webapp.security.roles import role_label
from webapp.services.money import decimal_text, kroner
from webapp.services.periods import period_label
from webapp.views import audit_labels

TABLE_LABELS = {
    "member": _l("Member register"),
    "ab_user": _l("User account"),
    "audit_log": _l("Audit log: what was done with your data"),
    "avtalegiro_mandate": _l("AvtaleGiro mandates"),
    "ballot_voter": _l("Voter lists of ballots you have a vote in"),
    "course_application": _l("Course applications"),
    "deduction_basis_line": _l("Deduction basis lines"),
    "deduction_list_line": _l("Deduction list lines"),
    "employment": _l("Employments"),
    "employment_change": _l("Reported employment changes"),
    "invoice": _l("Invoices"),
    "member_document": _l("Documents"),
    "message": _l("Messages"),
    "message_thread": _l("Message threads"),
    "payment": _l("Payments"),
    "points_account": _l("Recruitment points"),
    "position": _l("Positions"),
    "prize_order": _l("Prize orders"),
    "recruitment": _l("Recruitments"),
    "refund_member": _l("Refund calculations"),
}

# Column names the label table does not cover (it labels what the screens show).
COLUMN_LABELS = {
    "id": _l("Id"), "member_id": _l("Member"), "user_id": _l("User"), "at": _l("Time"), "username": _l("Username"),
    "role": _l("Role"), "scope": _l("Unit"), "action": _l("Action"), "object_type": _l("Object"),
    "object_id": _l("Object id"), "details": _l("Details"), "run_id": _l("Refund calculation"),
    "unit_id": _l("Organisational unit"), "member_no": _l("Membership number"), "name": _l("Name"),
    "category": _l("Category"), "months": _l("Months"), "import_id": _l("Payment file"), "course_id": _l("Course"),
    "status": _l("Status"), "applied_at": _l("Applied"), "withdrawn_at": _l("Withdrawn"),
    "completed_at": _l("Completed"), "list_id": _l("Deduction list"), "national_id": _l("National identity number"),
    "amount_ore": _l("Amount"), "deviation": _l("Deviation"), "comment": _l("Comment"),
    "outside_basis": _l("Outside the basis"), "first_month": _l("First month"), "month_count": _l("Months"),
    "created_at": _l("Created"), "subject": _l("Subject"), "employer_id": _l("Employer"),
    "org_unit_id": _l("Organisational unit"), "last_message_at": _l("Last message"),
    "party_unread": _l("Unread by you"), "union_unread": _l("Unread by the union"),
    "bank_reference": _l("Bank reference"), "kid": _l("KID"), "transaction_type": _l("Transaction type"),
    "paid_on": _l("Paid on"), "payer_account": _l("Payer's account"), "period": _l("Period"),
    "matched_manually": _l("Matched by hand"), "matched_at": _l("Matched"), "returned_at": _l("Returned"),
    "return_reason": _l("Reason for the return"), "spent_points": _l("Points spent"), "prize_id": _l("Prize"),
    "quantity": _l("Quantity"), "points": _l("Points"), "ordered_at": _l("Ordered"),
    "basis_id": _l("Deduction basis"), "employment_id": _l("Employment"), "on_deduction": _l("Payroll deduction"),
    "ordinary_dues": _l("Percentage dues"), "contents_insurance": _l("Contents insurance"),
    "travel_insurance": _l("Travel insurance"), "apprentice": _l("Apprentice"),
    "fixed_amount_ore": _l("Fixed amount"), "position_pct": _l("Percentage of full time"), "change": _l("Change"),
    "change_detail": _l("Change details"), "new_employment_id": _l("New employment"),
    "first_name": _l("First name"), "last_name": _l("Last name"), "active": _l("Active"), "email": _l("E-mail"),
    "last_login": _l("Last login"), "login_count": _l("Login count"), "fail_login_count": _l("Failed login count"),
    "created_on": _l("Created"), "changed_on": _l("Changed"), "created_by_fk": _l("Created by"),
    "changed_by_fk": _l("Changed by"), "thread_id": _l("Thread"), "from_party": _l("Written by you"),
    "body": _l("Text"), "sent_at": _l("Sent"), "notified_at": _l("Notified"), "birth_date": _l("Birth date"),
    "gender": _l("Gender"), "leave_reason": _l("Reason for leaving"), "income_band_id": _l("Income band"),
    "income_band_declared_on": _l("Income band declared"), "anonymised_at": _l("Anonymised"),
    "operating_unit_id": _l("Operating unit"), "seniority_on": _l("Seniority from"),
    # A ballot's frozen voter list (the four fields the vote's vendor gets).
    "ballot_id": _l("Ballot"), "mobile": _l("Mobile"),
    # The member's choices on Min side (Informasjon fra forbundet).
    "info_by_email": _l("Information by e-mail"), "info_by_sms": _l("Information by SMS"), "surveys": _l("Surveys"),
}

# The keys of an audit entry's details (webapp.services.audit.record's keyword arguments) that are no column name.
DETAIL_LABELS = {
    "allocated_ore": _l("Allocated"), "applications": _l("Applications"), "by": _l("By"), "by_user_id": _l("By"),
    "changed": _l("Changes"), "channel": _l("Sent by"), "count": _l("Number"), "course": _l("Course"),
    "cutoff": _l("Cut-off date"), "date": _l("Date"), "deleted": _l("Deleted"), "effective_period": _l("From"),
    "employer": _l("Employer"), "ended": _l("Ended"), "ended_by_full_list": _l("Ended by a full list"),
    "fields": _l("Fields"), "file": _l("File"), "forced": _l("Again"), "income_band": _l("Income band"),
    "invoice_id": _l("Invoice"), "kind": _l("Kind"), "members": _l("Members"), "message": _l("Message"),
    "months_unpaid": _l("Months unpaid"), "new": _l("New"), "outstanding_ore": _l("Outstanding"),
    "pool_ore": _l("Pool"), "pool_source": _l("Pool from"), "previous_income_band_id": _l("Income band before"),
    "prize": _l("Prize"), "quarter": _l("Quarter"), "reason": _l("Reason"), "recipients": _l("Recipients"),
    "recruit": _l("Recruit"), "replaces": _l("Replaces"), "report": _l("Report"), "start_date": _l("Start date"),
    "title": _l("Title"), "uploaded": _l("Uploaded"), "user": _l("User"), "username_tried": _l("Username"),
    "version": _l("Version"), "via": _l("Via"), "without_member": _l("Without a member"),
    "workplace": _l("Workplace"), "failures": _l("Failed attempts"), "changed_on": _l("Changed"),
    "left_on": _l("Date left"), "period": _l("Period"), "points": _l("Points"), "quantity": _l("Quantity"),
    "kid": _l("KID"), "employer_id": _l("Employer"), "member_id": _l("Member"), "position_pct": _l(
        "Percentage of full time"), "travel_insurance": _l("Travel insurance"), "amount_ore": _l("Amount"),
    "employment": _l("Employment"),
}


def _detail_value(value) -> str:
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if value is None:
        return "–"
    if isinstance(value, list):
        return " → ".join(_detail_value(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{_detail_label(key)}: {_detail_value(item)}" for key, item in value.items())
    return str(value)


def _detail_label(key: str) -> str:
    return str(DETAIL_LABELS.get(key) or COLUMN_LABELS.get(key) or _field_label_anywhere(key) or key)


def _field_label_anywhere(name: str):
    """A changed field's name (the details of "Changed" name the fields of any screen) by its label."""
    return next((labels[name] for labels in map(labels_for, _models().values()) if name in labels), None)


def audit_details(text) -> str:
    """An audit entry's details (JSON) as 'label: value; ...'."""
    try:
        details = json.loads(text)
    except (TypeError, ValueError):
        return str(text)
    return _detail_value(details) if isinstance(details, dict) else str(details)


# Codes of the audit log shown by their labels.
_CODED_COLUMNS = {
    ("audit_log", "details"): audit_details,
    ("audit_log", "action"): audit_labels.action_label,
    ("audit_log", "object_type"): audit_labels.object_label,
    ("audit_log", "role"): lambda codes: ", ".join(role_label(code) for code in str(codes).split(",") if code),
}


@dataclass
class Section:
    title: str
    rows: list[list[tuple[str, str]]] = field(default_factory=list)


def _models() -> dict:
    return {mapper.local_table.name: mapper.class_ for mapper in Model.registry.mappers}


def column_label(table, column) -> str:
    model = _models().get(table.name)
    label = field_label(model, column.name) if model is not None else column.name
    if str(label) == column.name:
        label = COLUMN_LABELS.get(column.name, column.name)
    return str(label)


def table_label(name: str) -> str:
    return str(TABLE_LABELS.get(name) or audit_labels.OBJECT_LABELS.get(name) or name)


def _date(text, with_time: bool) -> str:
    try:
        value = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    return value.strftime("%d.%m.%Y %H:%M" if with_time else "%d.%m.%Y")


def _typed_text(column, value) -> str | None:
    """A value by its column's type; None when the type says nothing special."""
    column_type = column.type
    enum_class = getattr(column_type, "enum_class", None)
    if enum_class is not None and issubclass(enum_class, LabelledEnum) and value in enum_class.__members__:
        return enum_class[value].label
    if isinstance(column_type, LargeBinary):  # collected as "<file, N bytes>": the file itself is on Min side
        size = re.search(r"\d+", str(value))
        return str(_l("A file of %(size)s bytes", size=decimal_text(int(size.group()) if size else 0)))
    if isinstance(column_type, Boolean):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(column_type, (Date, DateTime)):
        return _date(value, with_time=isinstance(column_type, DateTime))
    return None


def _referenced(column, value) -> str | None:
    """The row a foreign key names, as the screens name it (a unit by code and name, not its id). A column that
    names a row without a foreign key (refund_member's run and unit) says which table in its info["references"]."""
    tables = [key.column.table.name for key in column.foreign_keys]
    if not tables and "references" in column.info:
        tables = [column.info["references"]]
    if len(tables) != 1 or not isinstance(value, int):
        return None
    model = _models().get(tables[0])
    if model is None or ("__repr__" not in vars(model) and not hasattr(model, "get_full_name")):
        return None
    row = db.session.get(model, value)
    if row is None:
        return None
    return row.get_full_name() if hasattr(row, "get_full_name") else str(row)


def value_text(table, column, value) -> str:
    """A collected (JSON-ready) value as the person reads it."""
    if value is None or value == "":
        return ""
    coded = _CODED_COLUMNS.get((table.name, column.name))
    if coded:
        return coded(value)
    referenced = _referenced(column, value)
    if referenced is not None:
        return period_label(referenced)  # a refund run is named by its quarter
    typed = _typed_text(column, value)
    if typed is not None:
        return typed
    if column.name.endswith("_ore") and isinstance(value, int):
        return f"kr {kroner(value)}"
    if isinstance(column.type, Numeric):
        try:
            return decimal_text(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    return period_label(value)  # '2026-Q3' -> '3. kvartal 2026'; other text as it is


def _section(table, rows: list[dict], title: str | None = None) -> Section:
    columns = {column.name: column for column in table.columns}
    section = Section(title or table_label(table.name))
    for row in rows:
        section.rows.append([
            (column_label(table, columns[name]) if name in columns else name,
             value_text(table, columns[name], value) if name in columns else str(value))
            for name, value in row.items()
        ])
    return section


def sections(data: dict) -> list[Section]:
    """The collected data (webapp.services.subject_access.collect) as labelled sections."""
    tables = {table.name: table for table in Model.metadata.sorted_tables}
    tables[Message.__tablename__] = Message.__table__
    user_table = current_app.appbuilder.sm.user_model.__table__
    tables[user_table.name] = user_table
    result = [_section(Member.__table__, data["member"])]
    result += [_section(tables[name], rows) for name, rows in data["held_in"].items() if name in tables]
    return result


def generated_at(data: dict) -> str:
    return _date(data["generated_at"], with_time=True)
