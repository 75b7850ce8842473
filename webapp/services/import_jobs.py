"""Imports of large files as background jobs (webapp/jobs.py): a Nets bank file and Posten's postcode register.

The request checks what it can at once (`check_payment_file`, `check_postcode_file`: not empty, within the
size, the right kind of file by its first line; UploadError names the field) and starts the job with the upload
as its input file (kept with the job row before it is queued). The job reads it (`input_file`) and imports it
with the service the CLI uses, in one transaction: a file the parser refuses fails the job with the parser's
message (naming the line) and nothing of it is written.

Never twice: payments.import_file keeps each bank file's checksum and each transaction's bank reference, so the
same file uploaded again adds nothing; its job fails with an error saying when the file was imported and by
whom. A retry of a job whose first attempt had imported the file (and then broke) finds its own import and
finishes. The postcode import compares each postcode with the table: a second run changes nothing.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from flask_babel import force_locale, format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.extensions import db
from webapp.jobs import input_file, job_task, report_progress, set_result, start_job
from webapp.models import PaymentImport
from webapp.models.outreach import Job
from webapp.services import postcodes

PAYMENT_IMPORT = "payment_import"
POSTCODE_IMPORT = "postcode_import"
PAYMENT_FILES_PAGE = "/paymentimportview/list/"
POSTCODES_PAGE = "/postcodeview/list/"
FIRST_LINE_MAX = 4096


class UploadError(ValueError):
    """An upload refused before any job starts; `field` names the form field."""

    def __init__(self, message, field: str = "file"):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class ImportRefused(ValueError):
    """The job's file cannot be imported (imported before, or not a file from the bank); nothing was written."""


def _n(value: int) -> str:
    return format_number(value)


def _locale():
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


def _first_line(data: bytes) -> bytes:
    """The first line that is not blank (as the parsers skip blank lines), without a UTF-8 byte order mark."""
    for line in data[:FIRST_LINE_MAX * 4].removeprefix(b"\xef\xbb\xbf").splitlines():
        if line.strip():
            return line[:FIRST_LINE_MAX]
    return b""


def _not_empty(data: bytes) -> None:
    if not data or not data.strip():
        raise UploadError(_l("File: the file is empty."))


def check_payment_file(filename: str, data: bytes) -> None:
    """A Nets file begins with the start of a transmission: NY, service 00, record type 10 (80 characters)."""
    _not_empty(data)
    first = _first_line(data)
    if not (len(first) == 80 and first.startswith(b"NY") and first[6:8] == b"10"):
        raise UploadError(_l("File: %(file)s is not a bank file from Nets (OCR giro or AvtaleGiro): its first line "
                             "must be the start of a transmission (80 characters beginning with NY and record type "
                             "10).", file=filename))


def check_postcode_file(filename: str, data: bytes) -> None:
    """Posten's register: at most postcodes.MAX_BYTES, its first line the header or a postcode line (five
    tab-separated fields, the first four digits)."""
    _not_empty(data)
    if len(data) > postcodes.MAX_BYTES:
        raise UploadError(_l("File: %(file)s is larger than %(count)s bytes; Posten's postcode register is smaller.",
                             file=filename, count=_n(postcodes.MAX_BYTES)))
    fields = postcodes.decode(_first_line(data)).split("\t")
    if len(fields) != 5 or not (fields[0].strip().lower() == "postnummer" or postcodes.CODE_RE.match(fields[0])):
        raise UploadError(_l("File: %(file)s is not Posten's postcode register: its first line must be the header or "
                             "a postcode, with five fields separated by tabs.", file=filename))


def _imported_by(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    from flask_appbuilder.security.sqla.models import User

    user = db.session.get(User, user_id)
    return user.username if user is not None else None


# ------------------------------------------------------------------ a Nets bank file


def start_payment_import(filename: str, data: bytes, user_id: int | None) -> Job:
    """Check the upload (UploadError), then import it as a job; the file is the job's input file."""
    check_payment_file(filename, data)
    title = _("Import of the bank file %(file)s", file=filename)
    return start_job(PAYMENT_IMPORT, title, payment_import_task, {"imported_by": _imported_by(user_id)}, user_id,
                     inputs=((filename, "text/plain", data),))


@job_task(PAYMENT_IMPORT)
def payment_import_task(job_id: int, params: dict) -> None:
    """Store and match the file's transactions (or apply its AvtaleGiro agreements), in one transaction."""
    from webapp.services import payments

    upload = input_file(job_id)
    filename, data = upload.filename, upload.data
    with _locale():
        report_progress(job_id, 0, 2, _("Reading %(file)s (%(lines)s lines)", file=filename,
                                        lines=_n(len(data.splitlines()))))
        earlier = _earlier_import(data)
        if earlier is not None and not _own_earlier_attempt(job_id, earlier):
            raise ImportRefused(_already_imported(earlier))
        if earlier is None:
            result = payments.import_file(filename, data, imported_by=params.get("imported_by"))
            if result.already_imported:  # another import of the same file got there first
                raise ImportRefused(_already_imported(_earlier_import(data)))
            if result.kind is None:
                raise ImportRefused(_("%(file)s holds AvtaleGiro payment claims: a file for the bank, not from it. "
                                      "Nothing was imported.", file=filename))
            for line in _payment_lines(result):
                report_progress(job_id, 1, None, line)
            earlier = _earlier_import(data)
        else:
            report_progress(job_id, 1, None, _("The file was imported by an earlier attempt of this job."))
        report_progress(job_id, 2, 2)
    set_result(job_id, f"/paymentimportview/show/{earlier.id}" if earlier is not None else PAYMENT_FILES_PAGE)


def _earlier_import(data: bytes) -> PaymentImport | None:
    return db.session.scalars(select(PaymentImport).where(
        PaymentImport.sha256 == hashlib.sha256(data).hexdigest())).first()


def _own_earlier_attempt(job_id: int, earlier: PaymentImport) -> bool:
    """Whether an earlier attempt of this job made the import (a retry after it broke afterwards)."""
    job = db.session.get(Job, job_id)
    return (job.attempts or 0) > 1 and earlier.imported_at >= job.created_at


def _already_imported(earlier: PaymentImport | None) -> str:
    if earlier is None:
        return _("The file was imported before: nothing was added.")
    return _("The file was imported before (%(file)s, %(at)s by %(by)s): nothing was added.", file=earlier.filename,
             at=earlier.imported_at.strftime("%d.%m.%Y %H:%M"), by=earlier.imported_by or "?")


def _payment_lines(result) -> list[str]:
    lines = []
    if result.transactions:
        lines.append(_("Imported %(count)s payments; %(unmatched)s not matched", count=_n(result.new),
                       unmatched=_n(result.unmatched)))
        lines.append(_("%(employers)s matched to employer-months, %(invoices)s to invoices",
                       employers=_n(result.employer_matched), invoices=_n(result.member_matched)))
        if result.duplicates:
            lines.append(_("%(count)s payments of the file were known already and were not added",
                           count=_n(result.duplicates)))
    if result.mandates is not None:
        mandates = result.mandates
        lines.append(_("%(count)s AvtaleGiro agreements: %(new)s new, %(changed)s changed, %(deleted)s deleted, "
                       "%(unchanged)s unchanged", count=_n(mandates.count), new=_n(mandates.new),
                       changed=_n(mandates.changed), deleted=_n(mandates.deleted),
                       unchanged=_n(mandates.unchanged)))
        if mandates.without_member:
            lines.append(_("%(count)s agreements name no member of ours", count=_n(mandates.without_member)))
    return lines or [_("The file holds no payments.")]


# ------------------------------------------------------------------ Posten's postcode register


def start_postcode_import(filename: str, data: bytes, user_id: int | None, prune: bool = False) -> Job:
    """Check the upload (UploadError), then import it as a job; with `prune`, postcodes the file no longer has
    are removed."""
    check_postcode_file(filename, data)
    title = _("Import of the postcode register %(file)s", file=filename)
    return start_job(POSTCODE_IMPORT, title, postcode_import_task, {"prune": bool(prune)}, user_id,
                     inputs=((filename, "text/plain", data),))


@job_task(POSTCODE_IMPORT)
def postcode_import_task(job_id: int, params: dict) -> None:
    """Every line checked, then the table brought up to date in one transaction."""
    upload = input_file(job_id)
    with _locale():
        report_progress(job_id, 0, 1, _("Reading %(file)s (%(lines)s lines)", file=upload.filename,
                                        lines=_n(len(upload.data.splitlines()))))
        result = postcodes.import_register(upload.data, prune=bool(params.get("prune")))
        report_progress(job_id, 1, 1, _("%(count)s postcodes in the file: %(added)s added, %(changed)s changed, "
                                        "%(unchanged)s unchanged, %(removed)s removed", count=_n(result.lines),
                                        added=_n(result.added), changed=_n(result.changed),
                                        unchanged=_n(result.unchanged), removed=_n(result.removed)))
    set_result(job_id, POSTCODES_PAGE)
