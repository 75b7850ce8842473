"""The office's decision on an online enrollment (/innmelding): approve it into a membership, or reject it.

Approving, in one transaction (nothing of it is saved when any part is refused):

- the application moves pending → approved by a conditional update (transitions.claim), so of two concurrent
  approvals one wins and the other is told in plain words;
- a Member with the next free member number (webapp.services.member_numbers), or, for someone who left
  earlier, the same Member re-opened with the same number (a re-join); someone who is a member now is refused
  (a duplicate: the office rejects the application instead);
- an Employment at the workplace the applicant chose (from the join date; on deduction when the employer has a
  deduction agreement), else the member pays directly, both with the usual periodization;
- the home unit the office chose, prefilled from the mapping (webapp.services.home_units.mapped_unit);
- an incoming MembershipTransfer when the applicant came from another LO union (the seniority is kept);
- the login (username = member number, no password: a set-password link is mailed), the welcome letter in the
  member's documents, the welcome e-mail through the outbox, and the audit entries.

Rejecting needs a reason, which is mailed to the applicant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from webapp.extensions import db
from webapp.models import (
    Employer,
    Employment,
    Member,
    MemberDocument,
    MembershipApplication,
    OrgUnit,
    Workplace,
)
from webapp.models.choices import ContactChoice, DocumentKind, EnrollmentStatus
from webapp.services import accounts, audit, home_units, transfers, transitions
from webapp.services import mail as outbox
from webapp.services.bounds import bounded_text, required_reason
from webapp.services.member_numbers import MemberNumberError, next_member_number
from webapp.services.periods import Month, effective_start, period_label
from webapp.services.validation import FieldError, person_facts

REFERENCE_MAX_LENGTH = 100
NEW, DUPLICATE, REJOIN = "new", "duplicate", "rejoin"


class ApplicationError(ValueError):
    """A refused decision; `field` names the form field the message is about (None: the application as such)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


# ------------------------------------------------------------------ what the office is shown


def existing_member(application: MembershipApplication) -> Member | None:
    """The member with the applicant's national id, if any (an anonymised member has none any more)."""
    return db.session.scalars(select(Member).where(Member.national_id == application.national_id)).first()


def existing_members(national_ids) -> dict[str, Member]:
    """national id -> member, for a page of applications in one query."""
    ids = sorted(set(national_ids))
    if not ids:
        return {}
    return {m.national_id: m for m in db.session.scalars(select(Member).where(Member.national_id.in_(ids)))}


def is_current(member: Member, today: dt.date) -> bool:
    """A member now, or with a leave registered that has not taken effect yet."""
    return member.left_on is None or member.left_on >= today


def membership_status(member: Member | None, today: dt.date) -> str:
    if member is None:
        return NEW
    return DUPLICATE if is_current(member, today) else REJOIN


@dataclass(frozen=True)
class Proposal:
    """What the approval form is prefilled with, and why."""

    status: str  # NEW, DUPLICATE or REJOIN
    member: Member | None  # the existing member (duplicate or re-join)
    mapped: home_units.MappedUnit | None
    unit: OrgUnit | None
    explanation: str
    member_from: dt.date
    latest_member_from: dt.date

    def as_dict(self) -> dict:
        return {
            "status": self.status, "member": self.member, "mapped": self.mapped, "unit": self.unit,
            "source": self.mapped.source if self.mapped else None, "explanation": self.explanation,
            "member_from": self.member_from, "latest_member_from": self.latest_member_from,
        }


def _explanation(application: MembershipApplication, mapped: home_units.MappedUnit | None, unit: OrgUnit | None) -> str:
    if mapped is None or unit is None:
        return _("No rule matches the workplace, the employer or the county of the postcode: choose the home unit.")
    if mapped.source == home_units.WORKPLACE:
        return _("The workplace %(workplace)s belongs to %(unit)s.", workplace=application.workplace.name,
                 unit=unit.name)
    if mapped.source == home_units.EMPLOYER:
        return _("The home-unit rule of the employer %(employer)s gives %(unit)s.", employer=application.employer.name,
                 unit=unit.name)
    return _("The home-unit rule of the county %(county)s (postcode %(postcode)s) gives %(unit)s.",
             county=home_units.county_of_postcode(application.postcode), postcode=application.postcode, unit=unit.name)


def latest_member_from(today: dt.date) -> dt.date:
    """A membership may start at the latest at the end of next month."""
    return Month.of(today).next.last_day


def proposal(application: MembershipApplication, today: dt.date | None = None) -> dict:
    """The approval form's prefill: the mapped unit and which rule gave it, the member-from date (the day the
    application came in), and whether the applicant is new, a member already (duplicate) or left (re-join)."""
    today = today or dt.date.today()
    member = existing_member(application)
    mapped = home_units.mapped_unit(application.workplace_id, application.employer_id, application.postcode)
    unit = db.session.get(OrgUnit, mapped.org_unit_id) if mapped else None
    return Proposal(
        status=membership_status(member, today), member=member, mapped=mapped, unit=unit,
        explanation=_explanation(application, mapped, unit), member_from=application.submitted_at.date(),
        latest_member_from=latest_member_from(today),
    ).as_dict()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def queue_page(status: EnrollmentStatus | None, text: str, page: int, size: int
               ) -> tuple[int, list[MembershipApplication]]:
    """A page of the office's queue: (how many match, the page's rows), pending first, oldest first; `status`
    None for all; every word of `text` must be in the first or last name."""
    query = select(MembershipApplication)
    if status is not None:
        query = query.where(MembershipApplication.status == status)
    for term in text.split():
        pattern = _like(term)
        query = query.where(or_(MembershipApplication.first_name.ilike(pattern, escape="\\"),
                                MembershipApplication.last_name.ilike(pattern, escape="\\")))
    count = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pending_first = case((MembershipApplication.status == EnrollmentStatus.pending, 0), else_=1)
    rows = db.session.scalars(
        query.options(joinedload(MembershipApplication.employer), joinedload(MembershipApplication.from_lo_union))
        .order_by(pending_first, MembershipApplication.submitted_at, MembershipApplication.id)
        .offset(page * size).limit(size)
    ).all()
    return count or 0, list(rows)


def flags_of(rows: list[MembershipApplication], today: dt.date | None = None) -> dict[int, dict]:
    """application id -> {"status": NEW/DUPLICATE/REJOIN (None once decided), "member": the existing member,
    "lo_union": name or None}, for a page of the queue, from one query."""
    today = today or dt.date.today()
    members = existing_members(row.national_id for row in rows)
    flags = {}
    for row in rows:
        member = members.get(row.national_id)
        decided = row.status != EnrollmentStatus.pending  # an approved applicant is the member now: no flag
        flags[row.id] = {"status": None if decided else membership_status(member, today), "member": member,
                         "lo_union": row.from_lo_union.name if row.from_lo_union_id else None}
    return flags


# ------------------------------------------------------------------ approving


@dataclass
class Decision:
    """The approval's checked input."""

    application: MembershipApplication
    member_from: dt.date
    unit: OrgUnit
    unit_source: str
    reference: str | None
    existing: Member | None


def _application(application_id: int) -> MembershipApplication:
    application = db.session.get(MembershipApplication, application_id)
    if application is None:
        raise ApplicationError(_("Application: no such application."))
    return application


def _must_be_pending(application: MembershipApplication) -> None:
    if application.status != EnrollmentStatus.pending:
        raise ApplicationError(_("Status: the application is already decided (%(status)s).",
                                 status=application.status.label))


def _checked_member_from(application: MembershipApplication, member_from, existing: Member | None,
                         today: dt.date) -> dt.date:
    if not isinstance(member_from, dt.date):
        raise ApplicationError(_("Member from: give a date (DD.MM.YYYY)."), "member_from")
    submitted = application.submitted_at.date()
    if member_from < submitted:
        raise ApplicationError(_("Member from: cannot be before the application came in (%(date)s).",
                                 date=submitted.strftime("%d.%m.%Y")), "member_from")
    latest = latest_member_from(today)
    if member_from > latest:
        raise ApplicationError(_("Member from: at the latest %(date)s (the end of next month).",
                                 date=latest.strftime("%d.%m.%Y")), "member_from")
    if existing is not None and existing.left_on is not None and member_from <= existing.left_on:
        raise ApplicationError(_("Member from: must be after the earlier membership ended (%(date)s).",
                                 date=existing.left_on.strftime("%d.%m.%Y")), "member_from")
    return member_from


def _checked_unit(application: MembershipApplication, home_unit_id) -> tuple[OrgUnit, str]:
    unit = db.session.get(OrgUnit, home_unit_id) if isinstance(home_unit_id, int) else None
    if unit is None:
        raise ApplicationError(_("Home unit: choose the unit the member belongs to."), "home_unit_id")
    mapped = home_units.mapped_unit(application.workplace_id, application.employer_id, application.postcode)
    return unit, (mapped.source if mapped is not None and mapped.org_unit_id == unit.id else "override")


def _checked_reference(reference) -> str | None:
    try:
        return bounded_text(_("Reference"), REFERENCE_MAX_LENGTH)(reference) or None
    except FieldError as exc:
        raise ApplicationError(exc.message, "reference") from None


def _checked_existing(application: MembershipApplication, today: dt.date) -> Member | None:
    member = existing_member(application)
    if member is not None and is_current(member, today):
        raise ApplicationError(_("National id: %(name)s is already a member (membership number %(number)s); "
                                 "reject the application instead.", name=member.full_name, number=member.member_no))
    return member


def _decision(application: MembershipApplication, member_from, home_unit_id, reference,
              today: dt.date) -> Decision:
    _must_be_pending(application)
    existing = _checked_existing(application, today)
    member_from = _checked_member_from(application, member_from, existing, today)
    unit, source = _checked_unit(application, home_unit_id)
    return Decision(application, member_from, unit, source, _checked_reference(reference), existing)


def _contact_fields(application: MembershipApplication) -> dict:
    birth_date, gender = person_facts(application.national_id)
    return {
        "first_name": application.first_name, "last_name": application.last_name,
        "birth_date": birth_date, "gender": gender,
        "address": application.address, "postcode": application.postcode, "city": application.city,
        "email_private": application.email, "email_to": ContactChoice.private,
        "mobile_private": application.mobile, "preferred_mobile": ContactChoice.private if application.mobile else None,
        "category": application.category, "travel_insurance": application.travel_insurance,
        "magazine": application.magazine,
    }


def _new_member(decision: Decision) -> Member:
    try:
        number = next_member_number()
    except MemberNumberError as exc:
        raise ApplicationError(str(exc)) from None
    member = Member(member_no=number, national_id=decision.application.national_id, home_unit_id=decision.unit.id,
                    joined_on=decision.member_from, contents_insurance=True, **_contact_fields(decision.application))
    db.session.add(member)
    db.session.flush()
    return member


def _end_old_employments(member_id: int, left_on: dt.date) -> int:
    """Jobs left open when the earlier membership ended end with it: the re-join's application says where the
    member works now (an old job must not put them on an employer's deduction again)."""
    return db.session.execute(
        update(Employment).where(Employment.member_id == member_id, Employment.start_date <= left_on,
                                 or_(Employment.end_date.is_(None), Employment.end_date > left_on))
        .values(end_date=left_on).execution_options(synchronize_session=False)
    ).rowcount


def _rejoined_member(decision: Decision) -> Member:
    """The member who left, re-opened with the same member number."""
    member = transitions.lock(Member, decision.existing.id)
    if member is None or member.left_on is None or member.left_on >= decision.member_from:
        raise ApplicationError(_("National id: the person is a member again already; reject the application."))
    before_left_on = member.left_on
    before = {"joined_on": member.joined_on.isoformat(), "left_on": member.left_on.isoformat(),
              "leave_reason": member.leave_reason.name if member.leave_reason else None}
    for name, value in _contact_fields(decision.application).items():
        setattr(member, name, value)
    member.joined_on, member.left_on, member.leave_reason, member.seniority_on = (
        decision.member_from, None, None, None)
    home_units.move_member(member, decision.unit.id, decision.unit_source,
                           _("Re-joined (application %(id)s)", id=decision.application.id))
    ended = _end_old_employments(member.id, before_left_on)
    audit.record("rejoin", "member", member.id, member_id=member.id, application_id=decision.application.id,
                 before=before, joined_on=decision.member_from.isoformat(), employments_ended=ended)
    db.session.flush()
    return member


def _employment(member: Member, application: MembershipApplication, start: dt.date) -> Employment | None:
    """The job the applicant named, from the join date (none when no workplace was chosen)."""
    if application.workplace_id is None:
        return None
    workplace = db.session.get(Workplace, application.workplace_id)
    employer = db.session.get(Employer, workplace.employer_id)
    employment = Employment(member_id=member.id, employer_id=employer.id, workplace_id=workplace.id, start_date=start,
                            position_pct=application.position_pct or 100,
                            on_deduction=bool(employer.has_deduction_agreement))
    db.session.add(employment)
    db.session.flush()
    return employment


def fallback_email(member_no: str) -> str:
    """The address a login gets when the member's own is another user's already (as the demo data does)."""
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "forbundet.example"
    return f"{member_no}@brukere.{domain}"


def _email_taken(address: str, user_id: int | None) -> bool:
    model = current_app.appbuilder.sm.user_model
    query = select(model.id).where(func.lower(model.email) == address.lower())
    if user_id is not None:
        query = query.where(model.id != user_id)
    return db.session.scalar(query.limit(1)) is not None


def _login_email(member: Member, address: str, user_id: int | None) -> str:
    if not _email_taken(address, user_id):
        return address
    fallback = fallback_email(member.member_no)
    if _email_taken(fallback, user_id):
        raise ApplicationError(_("Login: the e-mail addresses %(address)s and %(fallback)s both belong to other users.",
                                 address=address, fallback=fallback))
    return fallback


def _login(member: Member, address: str):
    """The member's login: username = member number, no password yet (the welcome e-mail has the link)."""
    sm = current_app.appbuilder.sm
    user = member.user
    taken = sm.find_user(username=member.member_no)
    if taken is not None and (user is None or taken.id != user.id):
        raise ApplicationError(_("Login: the username %(username)s belongs to another user already.",
                                 username=member.member_no))
    if user is None:
        user = sm.user_model(username=member.member_no, first_name=member.first_name[:64],
                             last_name=member.last_name[:64], email=_login_email(member, address, None),
                             active=True, password="")
        db.session.add(user)
        db.session.flush()
        member.user_id = user.id
    else:  # a re-join keeps the login it had
        user.active = True
        user.first_name, user.last_name = member.first_name[:64], member.last_name[:64]
    return user


def _dues_text(member: Member, employment: Employment | None) -> str:
    month = period_label(Month.of(effective_start(member.joined_on)))
    if employment is not None and employment.on_deduction:
        return _("Your employer %(employer)s deducts the dues from your pay from %(month)s.",
                 employer=employment.employer.name, month=month)
    return _("You pay the dues directly to the union, by invoice, from %(month)s.", month=month)


def welcome_letter_body(member: Member, employment: Employment | None, transfer_from: str | None) -> str:
    config = current_app.config
    paragraphs = [
        _("Dear %(name)s,", name=member.first_name),
        _("Welcome as a member of %(union)s. Your membership number is %(number)s, you are a member from %(date)s "
          "and your home unit is %(unit)s.", union=config["UNION_NAME"], number=member.member_no,
          date=member.joined_on.strftime("%d.%m.%Y"), unit=member.home_unit.name),
        _dues_text(member, employment),
    ]
    if transfer_from:
        paragraphs.append(_("You keep your seniority from %(union)s: member since %(date)s.", union=transfer_from,
                            date=member.seniority_on.strftime("%d.%m.%Y") if member.seniority_on else ""))
    paragraphs += [
        _("On Min side (%(url)s) you find your membership, your dues, the courses and your documents. Log in with "
          "your membership number; we have sent you an e-mail with a link to choose your password.",
          url=config["PORTAL_URL"].rstrip("/") + "/minside/"),
        _("Kind regards") + "\n" + config["UNION_NAME"],
    ]
    return "\n\n".join(paragraphs)


def _welcome_letter(member: Member, employment: Employment | None, transfer_from: str | None) -> MemberDocument:
    letter = MemberDocument(member_id=member.id, kind=DocumentKind.letter, title=_("Welcome as a member"),
                            created_at=dt.datetime.now(), body=welcome_letter_body(member, employment, transfer_from))
    db.session.add(letter)
    db.session.flush()
    return letter


def _transfer_in(member: Member, decision: Decision, user_id: int | None) -> str | None:
    application = decision.application
    if application.from_lo_union_id is None:
        return None
    reference = decision.reference or f"Innmelding {application.id}"
    try:
        transfers.record_incoming(member, application.from_lo_union_id, application.from_union_since, reference,
                                  user_id, application_id=application.id)
    except transfers.TransferError as exc:
        # The union and the date are the applicant's; only the reference is on the approval form.
        raise ApplicationError(exc.message, "reference" if exc.field == "reference" else None) from None
    return application.from_lo_union.name


def _claim(application: MembershipApplication, status: EnrollmentStatus, user_id: int | None, **values) -> None:
    claimed = transitions.claim(MembershipApplication, application.id, EnrollmentStatus.pending, status=status,
                                decided_at=dt.datetime.now(), decided_by_id=user_id, **values)
    if not claimed:
        raise ApplicationError(_("Status: someone else decided the application just now; reload the page."))


def _make_membership(decision: Decision, user_id: int | None) -> tuple[Member, object]:
    application = decision.application
    _claim(application, EnrollmentStatus.approved, user_id)
    member = _rejoined_member(decision) if decision.existing is not None else _new_member(decision)
    employment = _employment(member, application, decision.member_from)
    transfer_from = _transfer_in(member, decision, user_id)
    user = _login(member, application.email)
    db.session.flush()
    db.session.refresh(member)
    with _norwegian():
        letter = _welcome_letter(member, employment, transfer_from)
    application = db.session.get(MembershipApplication, application.id)
    application.member_id = member.id
    audit.record("application_approved", "membership_application", application.id, member_id=member.id,
                 member_no=member.member_no, home_unit_id=decision.unit.id, home_unit_source=decision.unit_source,
                 joined_on=decision.member_from.isoformat(), rejoin=decision.existing is not None,
                 employment_id=employment.id if employment else None, letter_id=letter.id, by_user_id=user_id)
    db.session.flush()
    return member, user


def _norwegian():
    """Letters and mails to the member are in the union's language, whatever language the office works in."""
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


def approve(application_id: int, user_id: int | None, member_from: dt.date, home_unit_id: int | None,
            reference: str | None = None, today: dt.date | None = None) -> Member:
    """Approve a pending application into a membership (see the module's docstring); commits, and mails the welcome.
    ApplicationError (nothing written) when refused."""
    today = today or dt.date.today()
    try:
        decision = _decision(_application(application_id), member_from, home_unit_id, reference, today)
        member, user = _make_membership(decision, user_id)
        member_id, address = member.id, decision.application.email
        with _norwegian():
            reason = _("Welcome as a member of %(union)s! Your membership number is %(number)s. Your welcome letter "
                       "is on Min side.", union=current_app.config["UNION_NAME"], number=member.member_no)
            accounts.send_password_link(user, address, reason)
    except ApplicationError:
        db.session.rollback()
        raise
    except IntegrityError:
        db.session.rollback()
        raise ApplicationError(_("Application: another approval took the same national id, membership number or "
                                 "login at the same time; reload the page and try again.")) from None
    return db.session.get(Member, member_id)


# ------------------------------------------------------------------ rejecting


def _rejection_mail(application: MembershipApplication, reason: str) -> Message:
    config = current_app.config
    paragraphs = [
        _("Hello %(name)s,", name=application.full_name),
        _("Thank you for your application for membership, which came in on %(date)s. The union office could not "
          "approve it, for this reason:", date=application.submitted_at.strftime("%d.%m.%Y")),
        reason,
        _("If you have questions, write to us at %(office)s.", office=config["OFFICE_EMAIL"]),
        _("Kind regards") + "\n" + config["UNION_NAME"],
    ]
    return Message(subject=_("Your application for membership in %(union)s", union=config["UNION_NAME"]),
                   recipients=[application.email], body="\n\n".join(paragraphs))


def reject(application_id: int, user_id: int | None, reason: str | None) -> MembershipApplication:
    """Reject a pending application with a reason, which is mailed to the applicant; commits.
    ApplicationError (nothing written) when refused."""
    try:
        try:
            reason = required_reason(reason, ApplicationError)
        except ApplicationError as exc:
            raise ApplicationError(exc.message, "reason") from None
        application = _application(application_id)
        _must_be_pending(application)
        _claim(application, EnrollmentStatus.rejected, user_id, reject_reason=reason)
        application = db.session.get(MembershipApplication, application_id)
        audit.record("application_rejected", "membership_application", application.id, reason=reason,
                     by_user_id=user_id)
        with _norwegian():
            message = _rejection_mail(application, reason)
        outbox.queue_and_send(message)
    except ApplicationError:
        db.session.rollback()
        raise
    return db.session.get(MembershipApplication, application_id)
