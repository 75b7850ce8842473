"""The kept PDFs of approved refund quarters: an approved quarter's documents never change, so each is
rendered once per language and kept (`refund_document`, unique per unit, kind and language). The privacy
purge forgets them all, so the lists are rendered anew without the names of the purged.

Rendering a large unit's member list takes many seconds, so the web request does not render an approved
quarter's document: it answers the kept one, or hands the rendering to a job (reports/document_jobs.py)
which keeps it through `render_and_keep`. A draft's documents change with every calculation and are never kept:
they are rendered on every call (`kept_pdf`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import current_app
from flask_babel import get_locale
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import RefundDocument, RefundUnit
from webapp.models.choices import RefundStatus

KINDS = ("letter", "list")


def current_locale() -> str:
    """The language documents are rendered in now (the user's, in a request; the union's otherwise)."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def is_approved(refund_unit: RefundUnit) -> bool:
    return refund_unit.run.status == RefundStatus.approved


def kept_document(refund_unit_id: int, kind: str, locale: str) -> bytes | None:
    """The kept PDF of this unit, kind and language, if it has been rendered."""
    return db.session.scalars(select(RefundDocument.pdf).where(
        RefundDocument.refund_unit_id == refund_unit_id, RefundDocument.kind == kind,
        RefundDocument.locale == locale)).first()


def is_kept(refund_unit_id: int, kind: str, locale: str) -> bool:
    return db.session.scalar(select(RefundDocument.id).where(
        RefundDocument.refund_unit_id == refund_unit_id, RefundDocument.kind == kind,
        RefundDocument.locale == locale)) is not None


def keep(refund_unit_id: int, kind: str, locale: str, pdf: bytes) -> bool:
    """Keep the rendered PDF (committed); False when it was kept already (by a job or a download at the same
    moment: the same figures, the same file; the unique key keeps one row)."""
    if kind not in KINDS:
        raise ValueError(f"refund document kind must be one of {KINDS}, not {kind!r}")
    db.session.add(RefundDocument(refund_unit_id=refund_unit_id, kind=kind, locale=locale, pdf=pdf,
                                  rendered_at=dt.datetime.now()))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def kept_pdf(refund_unit: RefundUnit, kind: str, render: Callable[[RefundUnit], bytes]) -> bytes:
    """An approved quarter's document as first rendered in the current language (rendered and kept now when it
    is not kept: the CLI's and the job's way); a draft's document is rendered on every call."""
    if not is_approved(refund_unit):
        return render(refund_unit)
    locale = current_locale()
    kept = kept_document(refund_unit.id, kind, locale)
    if kept is not None:
        return kept
    pdf = render(refund_unit)
    keep(refund_unit.id, kind, locale, pdf)
    return pdf


def forget_kept_documents() -> None:
    """Drop every kept document (the caller commits).

    After a privacy purge, lists are rendered anew without the names."""
    db.session.execute(delete(RefundDocument))
