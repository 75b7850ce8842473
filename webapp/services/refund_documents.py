"""The kept PDFs of approved refund quarters: an approved quarter's documents never change, so each is
rendered once per language and kept. The privacy purge forgets them all, so the lists are rendered
anew without the names of the purged.
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


def kept_pdf(refund_unit: RefundUnit, kind: str, render: Callable[[RefundUnit], bytes]) -> bytes:
    """An approved quarter's document as first rendered in the current language (rendered now when it is not kept);
    a draft's document is rendered on every call."""
    if refund_unit.run.status != RefundStatus.approved:
        return render(refund_unit)
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    where = (RefundDocument.refund_unit_id == refund_unit.id, RefundDocument.kind == kind,
             RefundDocument.locale == locale)
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


def forget_kept_documents() -> None:
    """Drop every kept document (the caller commits).

    After a privacy purge, lists are rendered anew without the names."""
    db.session.execute(delete(RefundDocument))
