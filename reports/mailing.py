"""E-mailing the membership reports to LO and the employer associations, with a record of every sending.

A report goes out once per date: sending it again for the same date is refused unless forced. The
record (what, to whom, when, by whom, the files' checksums) is written in the same transaction as the
e-mail with its files is queued in the outbox (webapp.services.mail): a record always means the e-mail was
handed over. When the mail server is down it waits there and `flask --app run mail retry` sends it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import select

from reports.exports import ReportFile, ReportSpec, build
from reports.membership import ReportError
from webapp.extensions import db
from webapp.models import ReportDispatch
from webapp.services import audit
from webapp.services import mail as outbox


class AlreadySent(ReportError):
    """The report was sent for this date before; sending again needs `force`."""

    def __init__(self, dispatch: ReportDispatch):
        self.dispatch = dispatch
        super().__init__(
            f"{dispatch_label(dispatch)} for {dispatch.report_date} was already sent on "
            f"{dispatch.sent_at:%Y-%m-%d %H:%M} to {dispatch.recipients}; use force (--force) to send it again"
        )


def dispatch_label(dispatch: ReportDispatch) -> str:
    return ReportSpec(dispatch.kind, dispatch.association).label


def recipients_for(spec: ReportSpec) -> list[str]:
    recipients = current_app.config.get("REPORT_RECIPIENTS", {}).get(spec.code, [])
    if not recipients:
        raise ReportError(f"recipients: none configured for {spec.label} "
                          f"(setting REPORT_RECIPIENTS_{spec.code.upper()})")
    return list(recipients)


def previous_dispatch(spec: ReportSpec, day: dt.date) -> ReportDispatch | None:
    """The latest sending of this report for this date, if any."""
    return db.session.scalars(
        select(ReportDispatch)
        .where(
            ReportDispatch.kind == spec.kind,
            ReportDispatch.association.is_(None) if spec.association is None
            else ReportDispatch.association == spec.association,
            ReportDispatch.report_date == day,
        )
        .order_by(ReportDispatch.sent_at.desc(), ReportDispatch.id.desc())
    ).first()


def check_not_sent(spec: ReportSpec, day: dt.date, force: bool) -> None:
    if not force:
        previous = previous_dispatch(spec, day)
        if previous is not None:
            raise AlreadySent(previous)


def dispatches(limit: int = 20, spec: ReportSpec | None = None) -> list[ReportDispatch]:
    query = select(ReportDispatch).order_by(ReportDispatch.sent_at.desc(), ReportDispatch.id.desc()).limit(limit)
    if spec is not None:
        query = query.where(ReportDispatch.kind == spec.kind)
        if spec.association is not None:
            query = query.where(ReportDispatch.association == spec.association)
    return list(db.session.scalars(query))


def file_checksums(dispatch: ReportDispatch) -> list[dict]:
    return json.loads(dispatch.files or "[]")


@dataclass
class SendResult:
    dispatch: ReportDispatch
    files: list[ReportFile]
    # False while the e-mail waits in the outbox for the mail server.
    delivered: bool = True


def send(
    spec: ReportSpec,
    day: dt.date,
    actor: str,
    user_id: int | None = None,
    force: bool = False,
    files: list[ReportFile] | None = None,
    report=None,
) -> SendResult:
    """E-mail the report's PDF, CSV and XLSX to its recipients and record it. Raises AlreadySent when it went
    out for `day` before and `force` is not set; then nothing is built or sent."""
    check_not_sent(spec, day, force)
    recipients = recipients_for(spec)
    # What goes out is in the union's language, whichever language the sender's screen is in.
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "nb")):
        if files is None or report is None:
            report, files = build(spec, day)
        subject = _("%(title)s %(date)s", title=report.title, date=day.strftime("%d.%m.%Y"))
        body = render_template(
            "mail/membership_report.txt",
            title=report.title,
            date=day.strftime("%d.%m.%Y"),
            total=report.total,
            files=files,
            union_name=current_app.config["UNION_NAME"],
        )
    message = Message(subject=subject, recipients=recipients, body=body)
    for report_file in files:
        message.attach(report_file.name, report_file.mimetype, report_file.data)
    dispatch = ReportDispatch(
        kind=spec.kind,
        association=spec.association,
        report_date=day,
        member_total=report.total,
        recipients=", ".join(recipients),
        subject=subject[:200],
        sent_at=dt.datetime.now(),
        sent_by=actor,
        user_id=user_id,
        forced=bool(force and previous_dispatch(spec, day) is not None),
        files=json.dumps([{"name": f.name, "sha256": f.sha256, "bytes": len(f.data)} for f in files]),
    )
    db.session.add(dispatch)
    db.session.flush()
    audit.record("report_sent", "report_dispatch", dispatch.id, report=spec.code, date=day.isoformat(),
                 recipients=dispatch.recipients, forced=dispatch.forced)
    delivered = outbox.queue_and_send(message)
    return SendResult(dispatch, files, delivered)
