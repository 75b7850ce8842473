"""The refund documents of a unit and quarter, rendered on demand from a run's stored figures.

"Refusjon [termin]" is the letter: a voucher for the unit's accounts with the
amount and how it was computed. "Refusjon liste [termin]" lists the members
counted. Both read only what the run stored, so an approved quarter's
documents never change: `letter_pdf` and `member_list_pdf` keep them once
rendered (per language); a draft's are rendered on every call.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from reports.pdf import render_pdf
from webapp.extensions import db
from webapp.models import RefundDocument, RefundUnit
from webapp.models.choices import MemberCategory, RefundStatus
from webapp.services import refunds
from webapp.services.money import account_number, decimal_text, kroner
from webapp.services.periods import Quarter

# Lines per paragraph in the member list. xhtml2pdf lays out a table row in about 5 ms and a line of a
# paragraph in well under 1 ms, so the list is lines (member number first: its digits line up), not a table.
LIST_CHUNK = 50


def letter_title(quarter: str) -> str:
    return _("Refund %(quarter)s", quarter=quarter)


def list_title(quarter: str) -> str:
    return _("Refund list %(quarter)s", quarter=quarter)


def _filename(title: str, refund_unit: RefundUnit) -> str:
    return f"{title} {refund_unit.code}.pdf".replace(" ", "_")


def letter_filename(refund_unit: RefundUnit) -> str:
    return _filename(letter_title(refund_unit.run.quarter), refund_unit)


def list_filename(refund_unit: RefundUnit) -> str:
    return _filename(list_title(refund_unit.run.quarter), refund_unit)


def _common(refund_unit: RefundUnit) -> dict:
    run = refund_unit.run
    return {
        "unit": refund_unit,
        "run": run,
        "quarter": Quarter.parse(run.quarter),
        "draft": run.status != RefundStatus.approved,
        "kroner": kroner,
        "number": decimal_text,
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


def render_member_list(refund_unit: RefundUnit) -> bytes:
    groups = member_groups(refund_unit)
    return render_pdf(
        "pdf/refund_list.html",
        title=list_title(refund_unit.run.quarter),
        groups=groups,
        member_count=sum(group["count"] for group in groups),
        month_total=sum(group["months"] for group in groups),
        **_common(refund_unit),
    )


def _kept(refund_unit: RefundUnit, kind: str, render) -> bytes:
    """An approved quarter's document as first rendered in the current language (rendered now when it is not kept)."""
    if refund_unit.run.status != RefundStatus.approved:
        return render(refund_unit)
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    where = (RefundDocument.refund_unit_id == refund_unit.id, RefundDocument.kind == kind, RefundDocument.locale == locale)
    kept = db.session.scalars(select(RefundDocument.pdf).where(*where)).first()
    if kept is not None:
        return kept
    pdf = render(refund_unit)
    db.session.add(RefundDocument(refund_unit_id=refund_unit.id, kind=kind, locale=locale, pdf=pdf,
                                  rendered_at=dt.datetime.now()))
    try:
        db.session.commit()
    except IntegrityError:  # kept by a download at the same moment: the same figures, the same file
        db.session.rollback()
    return pdf


def letter_pdf(refund_unit: RefundUnit) -> bytes:
    return _kept(refund_unit, "letter", render_letter)


def member_list_pdf(refund_unit: RefundUnit) -> bytes:
    return _kept(refund_unit, "list", render_member_list)


def forget_kept_documents() -> None:
    """Drop every kept document (the caller commits): after a privacy purge, lists are rendered anew without the names."""
    db.session.execute(delete(RefundDocument))
