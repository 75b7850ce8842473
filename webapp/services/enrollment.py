"""Online enrollment (/innmelding): a person who is not yet a member applies; the office decides later.

`submit(form, now)` checks the whole form (every field bounded, refused and never cut; each problem named by
its field, all at once), refuses robots (a filled honeypot field, a form sent sooner than
ENROLLMENT_MIN_FILL_SECONDS after it was opened or older than ENROLLMENT_MAX_FORM_AGE_HOURS, measured by a signed
start token) and an identical re-submission, then saves one MembershipApplication with the versions of the
terms and the privacy statement the applicant consented to, and mails a receipt through the outbox.

The answer never tells whether a national id is a member or has applied: an applicant whose national id is a
member's is saved like anyone (flagged for the office in `existing_member_id`). Only the same national id AND
the same e-mail on a pending application is refused, which only the person who typed both can trigger.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_mail import Message
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Employer, LoUnion, Member, MembershipApplication, PolicyText, Postcode, Workplace
from webapp.models.choices import EnrollmentStatus, MemberCategory, PolicyKind, WorkSituation
from webapp.services import audit, validation
from webapp.services import mail as outbox
from webapp.services.bounds import FIRST_DATE, LAST_DATE, bounded_text, row_id, typed_date
from webapp.services.validation import FieldError, RecordInvalid

TOKEN_SALT = "enrollment-form-start"
HONEYPOT_FIELD = "nettsted"
TOKEN_FIELD = "form_started"
MIN_AGE, MAX_AGE = 13, 100
POSITION_PCT_RANGE = (Decimal(1), Decimal(100))
# The type-ahead: names or organisation numbers of at least SEARCH_MIN_LENGTH characters, at most SEARCH_LIMIT hits.
SEARCH_MIN_LENGTH, SEARCH_MAX_LENGTH, SEARCH_LIMIT = 2, 100, 20
WORKPLACES_PER_EMPLOYER = 200
# Where each situation puts the applicant when they leave the category open.
DEFAULT_CATEGORY = {
    WorkSituation.employed: MemberCategory.ordinary,
    WorkSituation.not_employed: MemberCategory.unemployed,
    WorkSituation.student: MemberCategory.student,
    WorkSituation.retired: MemberCategory.retired,
    WorkSituation.other: MemberCategory.ordinary,
}

# Every field of the form: its label (in messages) and the longest text it takes. A typed value is refused
# when longer (never cut); the lengths of stored fields are their columns'.
FIELDS: dict[str, tuple[Any, int]] = {
    "first_name": (_l("First name"), 80),
    "last_name": (_l("Last name"), 80),
    "national_id": (_l("National identity number"), 20),  # typed with spaces; stored as 11 digits
    "address": (_l("Address"), 150),
    "postcode": (_l("Postcode"), 10),
    "place": (_l("Place"), 80),  # shown only: the place comes from the postcode register
    "email": (_l("E-mail"), 254),
    "mobile": (_l("Mobile"), 30),
    "work_situation": (_l("Work situation"), 20),
    "employer_query": (_l("Employer"), 150),
    "employer_id": (_l("Employer"), 20),
    "employer_not_listed": (_l("My employer is not in the list"), 10),
    "employer_text": (_l("Name of the employer"), 150),
    "workplace_id": (_l("Workplace"), 20),
    "workplace_not_listed": (_l("My workplace is not in the list"), 10),
    "position_pct": (_l("Percentage of full time"), 10),
    "category": (_l("Category"), 20),
    "travel_insurance_opt_out": (_l("Travel insurance"), 10),
    "magazine": (_l("Member magazine"), 10),
    "from_lo_union_id": (_l("Coming from LO union"), 20),
    "from_union_since": (_l("Member of that union since"), 10),
    "consent": (_l("Consent"), 10),
}
# A start token is some 30 characters; anything much longer is not one of ours.
TOKEN_MAX_LENGTH = 200


class EnrollmentRefused(ValueError):
    """The form as a whole is refused (a robot, an expired form, a repeated sending); nothing was saved."""

    def __init__(self, message: str):
        super().__init__(str(message))
        self.message = str(message)


class EnrollmentClosed(EnrollmentRefused):
    """No terms or privacy statement is published: nobody can consent to them, so nobody can apply."""


@dataclass(frozen=True)
class Policies:
    terms: PolicyText
    privacy: PolicyText


# ------------------------------------------------------------------ what the page shows


def current_policy(kind: PolicyKind, day: dt.date) -> PolicyText | None:
    """The version of the terms or the privacy statement in force on `day`: the newest published by then."""
    return db.session.scalars(
        select(PolicyText).where(PolicyText.kind == kind, PolicyText.published_on <= day)
        .order_by(PolicyText.published_on.desc(), PolicyText.id.desc())
    ).first()


def current_policies(day: dt.date) -> Policies | None:
    terms, privacy = current_policy(PolicyKind.terms, day), current_policy(PolicyKind.privacy, day)
    return Policies(terms, privacy) if terms is not None and privacy is not None else None


def lo_unions() -> list[LoUnion]:
    """The LO unions an applicant may come from (the active ones), by name."""
    return db.session.scalars(select(LoUnion).where(LoUnion.active.is_(True)).order_by(LoUnion.name)).all()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_employers(text: str) -> list[dict]:
    """Employers whose name holds every typed word, or whose organisation number starts with the typed digits
    (public register data: id, name, organisation number and city only). Raises FieldError for a query that is
    too short or too long."""
    text = bounded_text(_l("Search"), SEARCH_MAX_LENGTH)(text)
    if len(text) < SEARCH_MIN_LENGTH:
        raise FieldError(_l("%(field)s: type at least %(count)s characters.", field=_l("Search"),
                            count=SEARCH_MIN_LENGTH))
    query = select(Employer.id, Employer.name, Employer.org_number, Employer.city)
    digits = text.replace(" ", "")
    if digits.isdigit():
        query = query.where(Employer.org_number.startswith(digits, autoescape=True))
    else:
        for term in text.split():
            query = query.where(Employer.name.ilike(_like(term), escape="\\"))
    rows = db.session.execute(query.order_by(Employer.name, Employer.id).limit(SEARCH_LIMIT)).all()
    return [{"id": row.id, "name": row.name, "org_number": row.org_number, "city": row.city} for row in rows]


def workplaces_of(employer_id: int) -> list[dict]:
    """An employer's workplaces (id, name, municipality), by name."""
    rows = db.session.execute(
        select(Workplace.id, Workplace.name, Workplace.municipality).where(Workplace.employer_id == employer_id)
        .order_by(Workplace.name, Workplace.id).limit(WORKPLACES_PER_EMPLOYER)
    ).all()
    return [{"id": row.id, "name": row.name, "municipality": row.municipality} for row in rows]


def place_of(code: str) -> Postcode | None:
    """The postcode register's row for a typed postcode; FieldError when it is not four digits."""
    code = validation.postcode(bounded_text(_l("Postcode"), FIELDS["postcode"][1])(code))
    return db.session.get(Postcode, code) if code else None


def employer_of(form: Mapping[str, Any]) -> Employer | None:
    """The employer the form names (the type-ahead's choice, else an organisation number or exact name typed),
    or None; for showing the employer's workplaces when the page is drawn again."""
    try:
        return _employer_from(_text(form, "employer_id"), _text(form, "employer_query"))
    except FieldError:
        return None


def _employer_from(chosen_id: str, typed: str) -> Employer | None:
    if chosen_id:
        number = row_id(chosen_id)
        return db.session.get(Employer, number) if number else None
    if not typed:
        return None
    digits = typed.replace(" ", "")
    if digits.isdigit():
        return db.session.scalars(select(Employer).where(Employer.org_number == digits)).first()
    matches = db.session.scalars(
        select(Employer).where(func.lower(Employer.name) == typed.lower()).limit(2)
    ).all()
    return matches[0] if len(matches) == 1 else None


# ------------------------------------------------------------------ the form-start token


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def form_token(now: dt.datetime) -> str:
    """The signed moment the form was opened, carried in a hidden field."""
    return _serializer().dumps(int(now.timestamp()))


def token_age(token: str, now: dt.datetime) -> float | None:
    """Seconds since the form was opened, or None when the token is forged or missing."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    try:
        started = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(started, int) or isinstance(started, bool):
        return None
    return now.timestamp() - started


def token_is_fresh(token: str, now: dt.datetime) -> bool:
    """Whether the token may be sent back as it is when the page is drawn again (else a new one is made)."""
    age = token_age(token, now)
    return age is not None and 0 <= age <= current_app.config["ENROLLMENT_MAX_FORM_AGE_HOURS"] * 3600


def refuse_robots(form: Mapping[str, Any], now: dt.datetime) -> None:
    """A filled honeypot, a form sent too fast, or an expired or forged form: EnrollmentRefused."""
    if str(form.get(HONEYPOT_FIELD) or "").strip():
        raise EnrollmentRefused(_("The form could not be received. Try again later, or contact the union office."))
    age = token_age(str(form.get(TOKEN_FIELD) or ""), now)
    if age is None or age < 0 or age > current_app.config["ENROLLMENT_MAX_FORM_AGE_HOURS"] * 3600:
        raise EnrollmentRefused(_("The form has expired. Check your answers and send the form again."))
    if age < current_app.config["ENROLLMENT_MIN_FILL_SECONDS"]:
        raise EnrollmentRefused(_("The form was sent too quickly. Check your answers and send the form again in "
                                  "a few seconds."))


# ------------------------------------------------------------------ checking the fields


class _Checker:
    """Reads the typed form field by field, collecting every problem keyed by the field it belongs to."""

    def __init__(self, form: Mapping[str, Any], today: dt.date):
        self.today = today
        self.errors: dict[str, list[str]] = {}
        self.typed: dict[str, str] = {}
        for name, (label, length) in FIELDS.items():
            try:
                self.typed[name] = bounded_text(label, length)(form.get(name, ""))
            except FieldError as exc:
                self.add(name, exc.message)
                self.typed[name] = ""

    def add(self, name: str, message) -> None:
        self.errors.setdefault(name, []).append(str(message))

    def ticked(self, name: str) -> bool:
        return bool(self.typed.get(name))

    def rule(self, name: str, check, required: bool = False):
        """`check(typed)` on a field not already refused; its FieldError is the field's problem."""
        if name in self.errors:
            return None
        value = self.typed[name]
        if not value:
            if required:
                self.add(name, _l("%(field)s: is required.", field=FIELDS[name][0]))
            return None
        try:
            return check(value)
        except FieldError as exc:
            self.add(name, exc.message)
            return None


def _birth_date_rule(today: dt.date):
    def check(value: str) -> str:
        number = validation.national_id(value)
        birth, _gender = validation.person_facts(number)
        if not (_years_between(birth, today) >= MIN_AGE and _years_between(birth, today) < MAX_AGE):
            raise FieldError(_l("National identity number: you must be at least %(low)s and under %(high)s years "
                                "old to join.", low=MIN_AGE, high=MAX_AGE))
        return number

    return check


def _years_between(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _postcode_rule(value: str) -> Postcode:
    code = validation.postcode(value)
    row = db.session.get(Postcode, code)
    if row is None:
        raise FieldError(_l("Postcode: %(code)s is not a Norwegian postcode.", code=code))
    return row


def _choice(enum, label):
    def check(value: str):
        try:
            return enum[value]
        except KeyError:
            raise FieldError(_l("%(field)s: choose one of the alternatives.", field=label)) from None

    return check


def _percentage(value: str) -> Decimal:
    low, high = POSITION_PCT_RANGE
    try:
        number = Decimal(value.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not (low <= number <= high) or number.as_tuple().exponent < -2:
        raise FieldError(_l("%(field)s: must be a number from %(low)s to %(high)s.", field=FIELDS["position_pct"][0],
                            low=low, high=high))
    return number


def _since_rule(today: dt.date):
    label = FIELDS["from_union_since"][0]

    def check(value: str) -> dt.date:
        day = typed_date(value)
        if day is None or not (FIRST_DATE <= day <= LAST_DATE):
            raise FieldError(_l("%(field)s: give a date (dd.mm.yyyy).", field=label))
        if day > today:
            raise FieldError(_l("%(field)s: cannot be in the future.", field=label))
        return day

    return check


def _lo_union_rule(value: str) -> LoUnion:
    union = db.session.get(LoUnion, row_id(value)) if row_id(value) else None
    if union is None or not union.active:
        raise FieldError(_l("%(field)s: choose one of the LO unions in the list.", field=FIELDS["from_lo_union_id"][0]))
    return union


def _check_person(check: _Checker) -> dict[str, Any]:
    names = {name: check.rule(name, str, required=True) for name in ("first_name", "last_name", "address")}
    national_id = check.rule("national_id", _birth_date_rule(check.today), required=True)
    postcode = check.rule("postcode", _postcode_rule, required=True)
    email = check.rule("email", validation.email, required=True)
    mobile = check.rule("mobile", validation.mobile)
    return {**names, "national_id": national_id, "postcode": postcode.code if postcode else None,
            "city": postcode.place if postcode else None, "email": email, "mobile": mobile}


def _check_employer(check: _Checker) -> Employer | None:
    if check.ticked("employer_not_listed"):
        check.rule("employer_text", str, required=True)
        return None
    chosen, typed = check.typed["employer_id"], check.typed["employer_query"]
    if "employer_query" in check.errors or "employer_id" in check.errors:
        return None
    if not chosen and not typed:
        check.add("employer_query", _l("Employer: is required. Choose your employer, or tick \"My employer is not "
                                       "in the list\" and write its name."))
        return None
    employer = _employer_from(chosen, typed)
    if employer is None:
        check.add("employer_query", _l("Employer: not found. Choose your employer among the suggestions, type its "
                                       "organisation number, or tick \"My employer is not in the list\"."))
    return employer


def _check_workplace(check: _Checker, employer: Employer | None) -> Workplace | None:
    if employer is None or check.ticked("workplace_not_listed") or "workplace_id" in check.errors:
        return None
    chosen = check.typed["workplace_id"]
    if not chosen:
        has_workplaces = db.session.scalar(select(Workplace.id).where(Workplace.employer_id == employer.id).limit(1))
        if has_workplaces:
            check.add("workplace_id", _l("Workplace: choose your workplace in the list, or tick \"My workplace is "
                                         "not in the list\"."))
        return None
    workplace = db.session.get(Workplace, row_id(chosen)) if row_id(chosen) else None
    if workplace is None or workplace.employer_id != employer.id:
        check.add("workplace_id", _l("Workplace: the workplace does not belong to the selected employer."))
        return None
    return workplace


def _check_work(check: _Checker) -> dict[str, Any]:
    situation = check.rule("work_situation", _choice(WorkSituation, FIELDS["work_situation"][0]), required=True)
    work = {"work_situation": situation, "employer_id": None, "workplace_id": None, "employer_text": None,
            "position_pct": None}
    if situation is WorkSituation.employed:
        employer = _check_employer(check)
        workplace = _check_workplace(check, employer)
        work.update(employer_id=employer.id if employer else None, workplace_id=workplace.id if workplace else None,
                    employer_text=check.typed["employer_text"] if check.ticked("employer_not_listed") else None,
                    position_pct=check.rule("position_pct", _percentage, required=True))
    category = check.rule("category", _choice(MemberCategory, FIELDS["category"][0]))
    work["category"] = category or DEFAULT_CATEGORY.get(situation, MemberCategory.ordinary)
    return work


def _check_transfer(check: _Checker, birth: dt.date | None) -> dict[str, Any]:
    union = check.rule("from_lo_union_id", _lo_union_rule)
    since = check.rule("from_union_since", _since_rule(check.today))
    if union is not None and since is None and "from_union_since" not in check.errors:
        check.add("from_union_since", _l("%(field)s: is required when you come from another LO union.",
                                         field=FIELDS["from_union_since"][0]))
    if since is not None and union is None and "from_lo_union_id" not in check.errors:
        check.add("from_lo_union_id", _l("%(field)s: choose the union you were a member of since that date.",
                                         field=FIELDS["from_lo_union_id"][0]))
    if since is not None and birth is not None and since < birth:
        check.add("from_union_since", _l("%(field)s: cannot be before your birth date.",
                                         field=FIELDS["from_union_since"][0]))
    return {"from_lo_union_id": union.id if union else None, "from_union_since": since}


def checked_fields(form: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """The application's column values from the typed form; RecordInvalid with every problem by field."""
    check = _Checker(form, today)
    values = _check_person(check)
    values.update(_check_work(check))
    birth = validation.person_facts(values["national_id"])[0] if values["national_id"] else None
    values.update(_check_transfer(check, birth))
    values["travel_insurance"] = not check.ticked("travel_insurance_opt_out")
    values["magazine"] = check.ticked("magazine")
    if not check.ticked("consent"):
        check.add("consent", _l("Consent: you must accept the membership terms and the privacy statement to join."))
    if check.errors:
        raise RecordInvalid(check.errors)
    return values


def _text(form: Mapping[str, Any], name: str) -> str:
    return str(form.get(name) or "").strip()


# ------------------------------------------------------------------ saving


def _is_repeated(national_id: str, email: str) -> bool:
    return db.session.scalar(
        select(MembershipApplication.id).where(
            MembershipApplication.national_id == national_id,
            func.lower(MembershipApplication.email) == email.lower(),
            MembershipApplication.status == EnrollmentStatus.pending,
        ).limit(1)
    ) is not None


def _already_received() -> EnrollmentRefused:
    return EnrollmentRefused(_("We have already received your enrollment. The union office will contact you."))


def existing_member_id(national_id: str) -> int | None:
    """The member with this national id (not anonymised), for the office's flag; never shown to the applicant."""
    return db.session.scalar(
        select(Member.id).where(Member.national_id == national_id, Member.anonymised_at.is_(None))
    )


def submit(form: Mapping[str, Any], now: dt.datetime) -> MembershipApplication:
    """Check and save an application from the public form, then mail the receipt (committed with it).

    Raises EnrollmentRefused (the form as a whole), EnrollmentClosed (no published terms) or RecordInvalid
    (the fields); nothing is saved then."""
    refuse_robots(form, now)
    policies = current_policies(now.date())
    if policies is None:
        raise EnrollmentClosed(_("Online enrollment is closed at the moment. Contact the union office to join."))
    values = checked_fields(form, now.date())
    if _is_repeated(values["national_id"], values["email"]):
        raise _already_received()
    application = MembershipApplication(
        **values, status=EnrollmentStatus.pending, submitted_at=now, terms_id=policies.terms.id,
        privacy_id=policies.privacy.id, existing_member_id=existing_member_id(values["national_id"]),
    )
    try:
        with db.session.begin_nested():  # a twin sent at the same moment is refused by the index, like one after
            db.session.add(application)
    except IntegrityError:
        raise _already_received() from None
    audit.record("enrollment_submitted", "membership_application", application.id,
                 work_situation=application.work_situation.name, category=application.category.name,
                 terms=policies.terms.version, privacy=policies.privacy.version,
                 flagged=application.existing_member_id is not None)
    outbox.queue_and_send(*enrollment_mails(application))
    return application


def enrollment_mails(application: MembershipApplication) -> list[Message]:
    """The receipt to the applicant (in Norwegian; no national id) and, when ENROLLMENT_NOTIFY_EMAIL is set, a
    note to the office."""
    config = current_app.config
    with force_locale(config["BABEL_DEFAULT_LOCALE"]):
        messages = [Message(
            subject=_("We have received your membership application"), recipients=[application.email],
            body=_receipt_body(application),
        )]
        if config.get("ENROLLMENT_NOTIFY_EMAIL"):
            messages.append(Message(
                subject=_("New membership application: %(name)s", name=application.full_name),
                recipients=[config["ENROLLMENT_NOTIFY_EMAIL"]],
                body=_("A membership application from %(name)s arrived %(time)s. It waits in Membership → "
                       "Applications.", name=application.full_name,
                       time=application.submitted_at.strftime("%d.%m.%Y %H:%M")),
            ))
    return messages


def _receipt_body(application: MembershipApplication) -> str:
    """What happens next, in paragraphs; the national id is never in a mail."""
    config = current_app.config
    paragraphs = [
        _("Hello %(name)s,", name=application.first_name),
        _("Thank you for applying for membership in %(union)s. We received your application on %(date)s.",
          union=config["UNION_NAME"], date=application.submitted_at.strftime("%d.%m.%Y")),
        _("What happens next: the union office checks the application, usually within a few working days. When it "
          "is approved you get an e-mail with your membership number and a link to choose a password for Min side, "
          "where you see and update your membership."),
        _("Dues are paid from the month after your membership begins: deducted from your pay when your employer has "
          "an agreement with us, otherwise by invoice."),
        _("If you did not send this application, or something in it is wrong, write to us at %(office)s.",
          office=config["OFFICE_EMAIL"]),
        _("Kind regards") + "\n" + config["UNION_NAME"],
    ]
    return "\n\n".join(paragraphs)
