"""The documents on a member's page: stored PDFs, or rendered on demand from what the row holds."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import defer

from webapp.extensions import db
from webapp.models import MemberDocument
from webapp.models.choices import DocumentKind
from webapp.services.courses import certificate_pdf
from webapp.services.money import account_number
from webapp.services.pdf import render_pdf
from webapp.services.validation import FieldError

# An uploaded PDF (a scanned letter, say) is stored in the row; larger files belong in the archive system.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def documents_of(member_id: int) -> list[MemberDocument]:
    # A list does not load the stored PDFs.
    return db.session.scalars(
        select(MemberDocument).options(defer(MemberDocument.pdf))
        .where(MemberDocument.member_id == member_id)
        .order_by(MemberDocument.created_at.desc(), MemberDocument.id.desc())
    ).all()


def document_pdf(document: MemberDocument) -> bytes:
    if document.pdf:
        return document.pdf
    if document.kind == DocumentKind.certificate and document.course_application is not None:
        return certificate_pdf(document.course_application)
    config = current_app.config
    return render_pdf(
        "pdf/member_document.html", document=document, member=document.member,
        account=account_number(config["UNION_ACCOUNT_NUMBER"]), union_name=config["UNION_NAME"],
    )


def uploaded_pdf(upload) -> bytes | None:
    """The bytes of an uploaded PDF file, or None when no file was chosen; FieldError when it is not a PDF."""
    if upload is None or not getattr(upload, "filename", ""):
        return None
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise FieldError(_l("PDF file: the file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise FieldError(_l("PDF file: at most %(megabytes)s MB.", megabytes=MAX_UPLOAD_BYTES // (1024 * 1024)))
    if not data.startswith(b"%PDF-"):
        raise FieldError(_l("PDF file: not a PDF file."))
    return data


# A document's file name says what it is in Norwegian, as the union's letters are called (brev-38.pdf).
FILE_STEMS = {DocumentKind.letter: "brev", DocumentKind.invoice: "faktura", DocumentKind.certificate: "kursbevis"}


def filename_for(document: MemberDocument) -> str:
    return f"{FILE_STEMS[document.kind]}-{document.id}.pdf"
