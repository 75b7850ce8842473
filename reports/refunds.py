"""The refund documents of a unit and quarter, rendered on demand from a run's stored figures.

"Refusjon [termin]" is the letter: a voucher for the unit's accounts with the
amount and how it was computed. "Refusjon liste [termin]" lists the members
counted. Both read only what the run stored, so an approved quarter's
documents never change: `letter_pdf` and `member_list_pdf` keep them once
rendered (per language); a draft's are rendered on every call. The web
routes do not render an approved quarter's documents in the request: a job
does (reports/document_jobs.py).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from webapp.models import RefundUnit
from webapp.models.choices import MemberCategory, RefundStatus
from webapp.services import refunds
from webapp.services.money import account_number
from webapp.services.pdf import render_pdf
from webapp.services.periods import Quarter, period_label
from webapp.services.refund_documents import kept_pdf

# Lines per paragraph in the member list. xhtml2pdf lays out a table row in about 5 ms and a line of a
# paragraph in well under 1 ms, so the list is lines (member number first: its digits line up), not a table.
LIST_CHUNK = 50


def letter_title(quarter: str) -> str:
    return _("Refund %(quarter)s", quarter=period_label(quarter))


def list_title(quarter: str) -> str:
    return _("Refund list %(quarter)s", quarter=period_label(quarter))


def _filename(title: str, refund_unit: RefundUnit) -> str:
    return f"{title} {refund_unit.code}.pdf".replace(" ", "_")


# File names keep the quarter's code (2026-Q2): no spaces or dots in them, and they sort by quarter.
def letter_filename(refund_unit: RefundUnit) -> str:
    return _filename(_("Refund %(quarter)s", quarter=refund_unit.run.quarter), refund_unit)


def list_filename(refund_unit: RefundUnit) -> str:
    return _filename(_("Refund list %(quarter)s", quarter=refund_unit.run.quarter), refund_unit)


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
    """The counted members by home unit (as the tree was then), each group in chunks of lines."""
    labels = {category: category.label for category in MemberCategory}
    groups: list[dict] = []
    for member in refunds.counted_members(refund_unit):
        if not groups or groups[-1]["code"] != member.unit_code:
            groups.append({"code": member.unit_code, "name": member.unit_name, "lines": [], "months": 0})
        group = groups[-1]
        group["lines"].append((member.member_no, member.name, labels[member.category], member.months))
        group["months"] += member.months
    for group in groups:
        lines = group.pop("lines")
        group["count"] = len(lines)
        group["chunks"] = [lines[start : start + LIST_CHUNK] for start in range(0, len(lines), LIST_CHUNK)]
    return groups


def render_member_list(refund_unit: RefundUnit, groups: list[dict] | None = None) -> bytes:
    """The member list (its `groups` when the caller has read them: a job reports the count first)."""
    groups = member_groups(refund_unit) if groups is None else groups
    return render_pdf(
        "pdf/refund_list.html",
        title=list_title(refund_unit.run.quarter),
        groups=groups,
        member_count=sum(group["count"] for group in groups),
        month_total=sum(group["months"] for group in groups),
        **_common(refund_unit),
    )


def letter_pdf(refund_unit: RefundUnit) -> bytes:
    return kept_pdf(refund_unit, "letter", render_letter)


def member_list_pdf(refund_unit: RefundUnit) -> bytes:
    return kept_pdf(refund_unit, "list", render_member_list)

