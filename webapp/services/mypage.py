"""The member's own data: personal and membership details, positions, and reported employment changes.

Every change is validated with the register's own rules (`validate_record(Member, ...)`),
written whole or not at all, and audited.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    AvtaleGiroMandate,
    DeductionBasis,
    Employer,
    Employment,
    EmploymentChange,
    IncomeBand,
    Invoice,
    Member,
    Position,
    Workplace,
)
from webapp.models.choices import ContactChoice, RequestStatus
from webapp.services import audit, home_unit_moves, transitions
from webapp.services.bounds import typed_date
from webapp.services.periods import Month, current_clause, current_first, effective_end, effective_start
from webapp.services.validation import RecordInvalid, validate_record

PERSONAL_FIELDS = (
    "address", "postcode", "city",
    "email_work", "email_private", "email_to",
    "mobile_work", "mobile_private", "preferred_mobile",
)
MEMBERSHIP_FIELDS = ("magazine", "travel_insurance")
# "Informasjon fra forbundet": the member's yes or no per channel (send-outs by e-mail and SMS, survey invitations);
# a send-out leaves out those who said no, and an e-mail's unsubscribe link sets info_by_email to no.
CHANNEL_FIELDS = ("info_by_email", "info_by_sms", "surveys")
_CHOICE_FIELDS = {"email_to", "preferred_mobile"}
_FLAG_FIELDS = {"magazine", "travel_insurance", *CHANNEL_FIELDS}
TRAVEL_INSURANCE_CHANGE = "change_travel_insurance"
# Free-text fields (the others have rules of their own) and how the messages name them.
_TEXT_LABELS = {"address": _l("Address"), "city": _l("City")}


# ------------------------------------------------------------------ contact points


def chosen_email(member: Member) -> str | None:
    """The address the member wants e-mail sent to; the other one, or the login's, when that is empty."""
    chosen = {ContactChoice.work: member.email_work, ContactChoice.private: member.email_private}.get(member.email_to)
    return chosen or member.email_private or member.email_work or (member.user.email if member.user else None)


def chosen_mobile(member: Member) -> str | None:
    chosen = {ContactChoice.work: member.mobile_work,
              ContactChoice.private: member.mobile_private}.get(member.preferred_mobile)
    return chosen or member.mobile_private or member.mobile_work


# ------------------------------------------------------------------ personal and membership data


def _form_value(name: str, value: Any) -> Any:
    if name in _FLAG_FIELDS:
        return value in (True, "1", "on", "true", "yes", 1)
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if name in _CHOICE_FIELDS:
        try:
            return ContactChoice[text]
        except KeyError:
            raise RecordInvalid({name: [str(_l("Invalid choice."))]}) from None
    return text


def _length_problems(values: Mapping[str, Any]) -> dict[str, list[str]]:
    problems = {}
    for name, label in _TEXT_LABELS.items():
        value, limit = values.get(name), Member.__table__.columns[name].type.length
        if isinstance(value, str) and len(value) > limit:
            problems[name] = [str(_l("%(field)s: at most %(count)s characters.", field=label, count=limit))]
    return problems


def next_basis_month(today: dt.date) -> Month:
    """The first month whose deduction basis is not made yet: the basis reads the register when it is made."""
    month = Month.of(today).next
    while db.session.scalar(select(DeductionBasis.id).where(DeductionBasis.period == str(month)).limit(1)) is not None:
        month = month.next
    return month


def update_member(member: Member, form: Mapping[str, Any], fields: tuple[str, ...],
                  today: dt.date | None = None) -> dict:
    """Apply the member's own changes to `fields`; return {field: (old, new)} of what changed.

    Raises RecordInvalid (nothing written) when a value breaks a rule.
    """
    today = today or dt.date.today()
    values = {name: _form_value(name, form.get(name)) for name in fields}
    problems = _length_problems(values)
    if problems:
        raise RecordInvalid(problems)
    cleaned = validate_record(Member, values)
    new_values = {**values, **cleaned}
    changes = {}
    for name in fields:
        old, new = getattr(member, name), new_values[name]
        if old != new:
            changes[name] = (old, new)
    if not changes:
        return changes
    for name, (_old, new) in changes.items():
        setattr(member, name, new)
    audit.record("update_own_data", "member", member.id, member_id=member.id, fields=audit.changed_fields(member))
    if "travel_insurance" in changes:
        audit.record(TRAVEL_INSURANCE_CHANGE, "member", member.id, member_id=member.id,
                     travel_insurance=changes["travel_insurance"][1], changed_on=today.isoformat(),
                     effective_period=str(next_basis_month(today)))
    db.session.commit()
    return changes


def last_insurance_change(member_id: int) -> dict | None:
    """When travel insurance was last changed, and the deduction month it takes effect from."""
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.member_id == member_id, AuditEntry.action == TRAVEL_INSURANCE_CHANGE)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    ).first()
    if entry is None:
        return None
    details = json.loads(entry.details or "{}")
    return {"at": entry.at, "period": Month.parse(details["effective_period"]),
            "travel_insurance": details.get("travel_insurance")}


# ------------------------------------------------------------------ employments and positions


def employments_of(member_id: int, today: dt.date | None = None) -> list[Employment]:
    """The member's employments, those current today first, each group newest first."""
    return db.session.scalars(
        select(Employment).where(Employment.member_id == member_id)
        .order_by(current_first(Employment, today or dt.date.today()), Employment.start_date.desc())
    ).all()


def current_positions(member_id: int, today: dt.date | None = None) -> list[Position]:
    today = today or dt.date.today()
    return db.session.scalars(
        select(Position)
        .where(Position.member_id == member_id, current_clause(Position, today))
        .order_by(Position.type, Position.start_date)
    ).all()


def representatives(member: Member, today: dt.date) -> list[Position]:
    """The current officers of the member's own unit and the trustees at the member's current workplaces."""
    workplaces = select(Employment.workplace_id).where(Employment.member_id == member.id,
                                                       current_clause(Employment, today))
    return db.session.scalars(
        select(Position)
        .where(
            or_(Position.org_unit_id == member.home_unit_id, Position.workplace_id.in_(workplaces)),
            current_clause(Position, today),
        )
        .order_by(Position.workplace_id.is_not(None), Position.type)
    ).all()


def employment_changes_of(member_id: int) -> list[EmploymentChange]:
    return db.session.scalars(
        select(EmploymentChange)
        .where(EmploymentChange.member_id == member_id)
        .order_by(EmploymentChange.reported_at.desc())
    ).all()


def periodized(start: dt.date | None, end: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """The dates as the register counts them (DOMAIN.md's periodization rule)."""
    return (effective_start(start) if start else None, effective_end(end) if end else None)


def _parse_pct(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None


def report_employment_change(
    member: Member, form: Mapping[str, Any], now: dt.datetime | None = None
) -> EmploymentChange:
    """Store the member's report of a new employer/workplace for the office. Raises RecordInvalid."""
    now = now or dt.datetime.now()
    errors: dict[str, list[str]] = {}
    employer = db.session.get(Employer, _int(form.get("employer_id")))
    if employer is None:
        errors["employer"] = [str(_l("Employer: choose the employer from the suggestions."))]
    workplace = db.session.get(Workplace, _int(form.get("workplace_id")))
    if workplace is None:
        errors["workplace"] = [str(_l("Workplace: choose one of the employer's workplaces."))]
    start = typed_date(form.get("start_date"))
    if start is None:
        errors["start_date"] = [str(_l("Start date: give a date (dd.mm.yyyy)."))]
    pct = _parse_pct(form.get("position_pct"))
    if pct is None:
        errors["position_pct"] = [str(_l("Percentage of full time: must be above 0 and at most 100."))]
    replaced = _replaced_employment(member, form.get("employment_id"), errors)
    comment = _report_comment(form.get("comment"), errors)
    if not errors:
        try:
            validate_record(EmploymentChange, {"position_pct": pct, "employer": employer, "workplace": workplace})
        except RecordInvalid as exc:
            errors.update(exc.errors)
    if errors:
        raise RecordInvalid(errors)
    change = EmploymentChange(
        member_id=member.id, employment_id=replaced.id if replaced else None, employer_id=employer.id,
        workplace_id=workplace.id, start_date=start, position_pct=pct, comment=comment,
        status=RequestStatus.pending, reported_at=now,
    )
    db.session.add(change)
    db.session.flush()
    audit.record("report_employment_change", "employment_change", change.id, member_id=member.id,
                 employer=employer.name, workplace=workplace.name, start_date=start.isoformat(), position_pct=str(pct),
                 replaces=replaced.id if replaced else None)
    db.session.commit()
    return change


def _replaced_employment(member: Member, employment_id: Any, errors: dict[str, list[str]]) -> Employment | None:
    """The member's own employment that the report replaces, if it names one (else an error in `errors`)."""
    if not employment_id:
        return None
    replaced = db.session.get(Employment, _int(employment_id))
    if replaced is None or replaced.member_id != member.id:
        errors["employment"] = [str(_l("Employment: not one of your employments."))]
    return replaced


def _report_comment(text: Any, errors: dict[str, list[str]]) -> str | None:
    comment = (str(text or "").strip() or None)
    if comment and len(comment) > 500:
        errors["comment"] = [str(_l("Comment: at most %(count)s characters.", count=500))]
    return comment


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ChangeError(ValueError):
    pass


def _decide(change: EmploymentChange, status: RequestStatus, user_id: int | None, now: dt.datetime) -> None:
    """Move a pending change to `status` in one conditional update: of concurrent decisions exactly one wins,
    before anything else is written. The caller commits (or rolls back on a later refusal)."""
    if not transitions.claim(EmploymentChange, change.id, RequestStatus.pending, status=status, decided_at=now,
                             decided_by_id=user_id):
        raise ChangeError(str(_l("Status: the change has already been dealt with.")))


def approve_employment_change(change: EmploymentChange, user_id: int | None,
                              now: dt.datetime | None = None, home_unit: str | int = home_unit_moves.FOLLOW
                              ) -> Employment:
    """Carry out a reported change: the new employment is added and the one it replaces ends the day before.

    The dates are kept as reported; the periodization rule applies wherever months are counted. The member's
    home unit follows the new employment (webapp.services.home_unit_moves), or stays (`home_unit` KEEP), or
    goes to the unit the office chose (its id); the move is audited in the same transaction.
    """
    now = now or dt.datetime.now()
    replaced = change.employment
    if replaced is not None and change.start_date <= replaced.start_date:
        raise ChangeError(str(_l(
            "Start date: on or before the start of the employment it replaces; "
            "correct that employment in the employment screen instead."
        )))
    _decide(change, RequestStatus.approved, user_id, now)
    employment = Employment(
        member_id=change.member_id, employer_id=change.employer_id, workplace_id=change.workplace_id,
        start_date=change.start_date, position_pct=change.position_pct,
        on_deduction=bool(change.employer.has_deduction_agreement),
    )
    db.session.add(employment)
    if replaced is not None and (replaced.end_date is None or replaced.end_date >= change.start_date):
        replaced.end_date = change.start_date - dt.timedelta(days=1)
    db.session.flush()
    change.new_employment_id = employment.id
    audit.record("approve_employment_change", "employment_change", change.id, member_id=change.member_id,
                 employment=employment.id, ended=replaced.id if replaced else None)
    home_unit_moves.follow_saved_employment(employment, str(_l("Employment change approved")), home_unit,
                                            today=now.date())
    db.session.commit()
    return employment


def reject_employment_change(change: EmploymentChange, user_id: int | None, now: dt.datetime | None = None) -> None:
    _decide(change, RequestStatus.rejected, user_id, now or dt.datetime.now())
    audit.record("reject_employment_change", "employment_change", change.id, member_id=change.member_id)
    db.session.commit()


# ------------------------------------------------------------------ direct payment


INCOME_BAND_LABEL = _l("Income band")


def income_bands() -> list[IncomeBand]:
    """The bands a member may declare, lowest first."""
    return list(db.session.scalars(select(IncomeBand).order_by(IncomeBand.lower_ore, IncomeBand.id)))


def declare_income_band(member: Member, band_id: Any, today: dt.date | None = None) -> bool:
    """The member declares their yearly income band; it sets the dues of invoices not yet made. Returns whether
    anything changed; refuses (RecordInvalid naming the field) a band that does not exist."""
    band_number = _int(band_id)
    band = db.session.get(IncomeBand, band_number) if band_number is not None and 0 < band_number < 2**63 else None
    if band is None:
        raise RecordInvalid({"income_band": [str(_l("%(field)s: choose one of the bands.", field=INCOME_BAND_LABEL))]})
    if member.income_band_id == band.id:
        return False
    previous = member.income_band_id
    member.income_band_id = band.id
    member.income_band_declared_on = today or dt.date.today()
    audit.record("declare_income_band", "member", member.id, member_id=member.id, income_band=band.code,
                 previous_income_band_id=previous)
    db.session.commit()
    return True


def invoices_of(member_id: int) -> list[Invoice]:
    """The member's invoices and AvtaleGiro claims, newest first."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.member_id == member_id).order_by(Invoice.first_month.desc(), Invoice.id.desc())))


def active_mandate(member_id: int) -> AvtaleGiroMandate | None:
    return db.session.scalar(select(AvtaleGiroMandate).where(
        AvtaleGiroMandate.member_id == member_id, AvtaleGiroMandate.active.is_(True)).order_by(AvtaleGiroMandate.id))
