"""The refund documents of a unit and quarter, rendered on demand from a run's stored figures.

"Refusjon [termin]" is the letter: a voucher for the unit's accounts with the
amount and how it was computed. "Refusjon liste [termin]" lists the members
counted. An approved quarter's read only what the run stored (its figures, and
the members counted as stored at the approval), so they never change:
`letter_pdf` and `member_list_pdf` keep them once rendered (per language); a
draft's are rendered on every call, its list from the register as it is now. The web
routes do not render an approved quarter's documents in the request: a job
does (reports/document_jobs.py), and makes the list as CSV and XLSX beside it.

The member list can have hundreds of thousands of rows (a national union's): it is a table laid out by reportlab
page by page from a streamed query (webapp/services/table_pdf.py), not an HTML template, so its time and memory
do not grow with more than the rows themselves.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import RefundUnit
from webapp.models.choices import MemberCategory, RefundStatus
from webapp.services import refunds
from webapp.services.export_cells import neutralised_row
from webapp.services.money import account_number
from webapp.services.pdf import render_pdf
from webapp.services.periods import Quarter, period_label
from webapp.services.refund_documents import kept_pdf

if TYPE_CHECKING:
    from webapp.services.table_pdf import Column

# Rows fetched from the database at a time while the list is written (a streamed query).
FETCH_ROWS = 5000
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def letter_title(quarter: str) -> str:
    return _("Refund %(quarter)s", quarter=period_label(quarter))


def list_title(quarter: str) -> str:
    return _("Refund list %(quarter)s", quarter=period_label(quarter))


def _filename(title: str, refund_unit: RefundUnit, extension: str = "pdf") -> str:
    return f"{title} {refund_unit.code}.{extension}".replace(" ", "_")


# File names keep the quarter's code (2026-Q2): no spaces or dots in them, and they sort by quarter.
def letter_filename(refund_unit: RefundUnit) -> str:
    return _filename(_("Refund %(quarter)s", quarter=refund_unit.run.quarter), refund_unit)


def list_filename(refund_unit: RefundUnit, extension: str = "pdf") -> str:
    return _filename(_("Refund list %(quarter)s", quarter=refund_unit.run.quarter), refund_unit, extension)


def _common(refund_unit: RefundUnit) -> dict:
    run = refund_unit.run
    return {
        "unit": refund_unit,
        "run": run,
        "quarter": Quarter.parse(run.quarter),
        "draft": run.status != RefundStatus.approved,
        "account_number": account_number,
        "union_name": current_app.config["UNION_NAME"],
    }


def render_letter(refund_unit: RefundUnit) -> bytes:
    run = refund_unit.run
    return render_pdf(
        "pdf/refund_letter.html",
        title=letter_title(run.quarter),
        categories=refund_unit.categories,
        pool_source=str(refunds.POOL_SOURCES.get(run.pool_source, run.pool_source)),
        levels=refunds.level_summary(run.id),
        **_common(refund_unit),
    )


def member_groups(refund_unit: RefundUnit) -> list[dict]:
    """The home units of the counted members in list order, each with its count of members and member-months."""
    members = refunds.unit_member_select(refund_unit).order_by(None).subquery()
    rows = db.session.execute(
        select(members.c.unit_code, members.c.unit_name, func.count(), func.sum(members.c.months))
        .group_by(members.c.unit_code, members.c.unit_name).order_by(members.c.unit_code))
    return [{"code": code, "name": name, "count": count, "months": int(months)} for code, name, count, months in rows]


def member_rows(refund_unit: RefundUnit) -> Iterator[tuple[str, str, str, str, int]]:
    """The counted members as (home unit, member number, name, category, months), by home unit and name, read
    from the database as they are written (never all at once): an approved quarter's from its snapshot, a draft's
    from the register now (refunds.unit_member_select)."""
    labels = {category: str(category.label) for category in MemberCategory}
    query = refunds.unit_member_select(refund_unit)
    # Core rows (the ORM's row handling costs as much as the fetch), streamed: a server-side cursor on PostgreSQL.
    query = query.execution_options(stream_results=True, max_row_buffer=FETCH_ROWS)
    for unit_code, unit_name, member_no, name, category, months in db.session.connection().execute(query):
        yield f"{unit_code} {unit_name}", member_no, name, labels[category], months


def member_columns() -> list[Column]:
    from webapp.services.table_pdf import Column  # reportlab: loaded when a list is made, not when the CLI starts

    return [Column(_("Membership number"), 0.19), Column(_("Name"), 0.51), Column(_("Category"), 0.18),
            Column(_("Months"), 0.12, "RIGHT")]


def render_member_list(refund_unit: RefundUnit, groups: list[dict] | None = None) -> bytes:
    """The member list (its `groups` when the caller has read them: a job reports the count first)."""
    from webapp.services.table_pdf import muted, paragraph, render_table_pdf, sections_of

    groups = member_groups(refund_unit) if groups is None else groups
    common = _common(refund_unit)
    run, unit, quarter = common["run"], common["unit"], common["quarter"]
    title = list_title(run.quarter)
    members, months = _("members"), _("member-months")
    per_member = _("Per member: membership number, name, category and the months counted.")
    quarter_word = _("Quarter")
    intro = [paragraph(escape(title), "title")]
    if common["draft"]:
        intro.append(paragraph(escape(_("Draft: not approved. The figures can still change.")), "notice"))
    intro += [
        paragraph(f"<b>{escape(f'{unit.code} {unit.name}')}</b> · {escape(quarter_word)} "
                  f"{escape(period_label(run.quarter))} ({quarter.first_day.strftime('%d.%m.%Y')}–"
                  f"{quarter.last_day.strftime('%d.%m.%Y')})"),
        paragraph(escape(_("The members counted in the refund calculation for the quarter, with the months counted. "
                           "This list can differ from today's member list: joins and leaves are periodized (a join "
                           "counts from the first of the next month, a leave until the end of its month), and "
                           "members may have moved or left since.")), "notice"),
        paragraph(escape(_("Union representatives are bound by confidentiality and may only use the information in "
                           "their union role.")), "muted"),
        paragraph(f"<b>{sum(group['count'] for group in groups)}</b> {escape(members)}, "
                  f"<b>{sum(group['months'] for group in groups)}</b> {escape(months)}. "
                  f"{escape(per_member)}"),
    ]
    headings = [(f"{escape(group['code'])} {escape(group['name'])} "
                 + muted(f"({group['count']} {members}, {group['months']} {months})"), group["count"])
                for group in groups]
    rows = (row[1:] for row in member_rows(refund_unit))
    footer = f"{common['union_name'] or ''} · {title} · {unit.code} {unit.name}"
    return render_table_pdf(title, intro, member_columns(), sections_of(headings, rows), footer,
                            empty=_("No members were counted."))


def _table_header() -> list[str]:
    return [_("Home unit")] + [column.heading for column in member_columns()]


def member_list_csv(refund_unit: RefundUnit) -> bytes:
    """The member list as CSV: semicolons and a byte-order mark, as the other exports (a Norwegian Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(_table_header())
    writer.writerows(neutralised_row(row) for row in member_rows(refund_unit))
    return out.getvalue().encode("utf-8-sig")


def member_list_xlsx(refund_unit: RefundUnit) -> bytes:
    """The member list as an Excel workbook, written row by row (openpyxl's write-only mode)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("".join(c for c in list_title(refund_unit.run.quarter) if c not in "[]:*?/\\")[:31])
    sheet.append(_table_header())
    for row in member_rows(refund_unit):
        sheet.append(neutralised_row(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def member_list_files(refund_unit: RefundUnit) -> list[tuple[str, str, bytes]]:
    """The list as CSV and XLSX: (file name, content type, data) of each."""
    return [(list_filename(refund_unit, "csv"), CSV, member_list_csv(refund_unit)),
            (list_filename(refund_unit, "xlsx"), XLSX, member_list_xlsx(refund_unit))]


def letter_pdf(refund_unit: RefundUnit) -> bytes:
    return kept_pdf(refund_unit, "letter", render_letter)


def member_list_pdf(refund_unit: RefundUnit) -> bytes:
    return kept_pdf(refund_unit, "list", render_member_list)

