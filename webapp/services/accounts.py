"""Logins: new deduction contacts, and links to set a password that expire and work once."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_mail import Message
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AccessRequest, DeductionContact, Employer
from webapp.services import audit, transitions
from webapp.services import mail as outbox
from webapp.services.periods import current_clause
from webapp.services.validation import FieldError
from webapp.services.validation import email as check_email
from webapp.services.validation import mobile as check_mobile
from webapp.services.validation import org_number as check_org_number

LINK_MAX_AGE = dt.timedelta(hours=24)
CONTACT_USERNAME_START = 20000000


class AccountError(ValueError):
    pass


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="set-password")


def _password_fingerprint(user) -> str:
    """Changes when the password changes, so a used link stops working."""
    return hashlib.sha256((user.password or "").encode()).hexdigest()[:16]


def password_token(user) -> str:
    return _serializer().dumps({"user": user.id, "fp": _password_fingerprint(user)})


def user_for_token(token: str):
    """The user a link is for, or None when it is forged, expired or already used."""
    try:
        data = _serializer().loads(token, max_age=int(LINK_MAX_AGE.total_seconds()))
    except (BadSignature, SignatureExpired):
        return None
    user = current_app.appbuilder.sm.get_user_by_id(data.get("user"))
    if user is None or _password_fingerprint(user) != data.get("fp"):
        return None
    return user


def password_link(user) -> str:
    return current_app.config["PORTAL_URL"].rstrip("/") + url_for("PasswordView.set_password",
                                                                  token=password_token(user))


def send_password_link(user, address: str, reason: str) -> bool:
    """Queue the link's e-mail with the caller's change and commit both; False while it waits in the outbox."""
    body = _(
        "Hello %(name)s,\n\n%(reason)s\n\nYour username is %(username)s. "
        "Choose your password here (the link works once and "
        "expires in 24 hours):\n%(link)s\n\nKind regards\n%(union)s",
        name=user.get_full_name(), reason=reason, username=user.username, link=password_link(user),
        union=current_app.config["UNION_NAME"],
    )
    return outbox.queue_and_send(
        Message(subject=_("Your login to %(union)s", union=current_app.config["UNION_NAME"]), recipients=[address],
                body=body))


def next_contact_username() -> str:
    sm = current_app.appbuilder.sm
    highest = db.session.scalar(
        select(func.max(sm.user_model.username)).where(sm.user_model.username.like("2_______"))
    )
    number = max(CONTACT_USERNAME_START, int(highest) if highest and highest.isdigit() else 0) + 1
    return f"{number:08d}"


def create_contact(employer: Employer, name: str, email: str, phone: str | None, added_by_id: int | None):
    """A new login (8-digit username, no password yet) linked to the employer, with a set-password e-mail."""
    address = check_email(email)
    if not address:
        raise AccountError(_("E-mail: an e-mail address is needed to send the login."))
    phone = check_mobile(phone) if phone else None
    parts = (name or "").strip().split()
    if len(parts) < 2:
        raise AccountError(_("Name: give first and last name."))
    sm = current_app.appbuilder.sm
    user = sm.find_user(email=address)
    if user is None:
        user = sm.user_model(first_name=" ".join(parts[:-1])[:64], last_name=parts[-1][:64],
                             username=next_contact_username(), email=address, active=True, password="")
        db.session.add(user)
        db.session.flush()
    active = db.session.scalar(select(DeductionContact.id).where(
        DeductionContact.user_id == user.id, DeductionContact.employer_id == employer.id,
        current_clause(DeductionContact, dt.date.today())
    ))
    if active:
        raise AccountError(_("E-mail: %(address)s is already a deduction contact for %(employer)s.",
                               address=address, employer=employer.name))
    db.session.add(DeductionContact(user_id=user.id, employer_id=employer.id, phone=phone, start_date=dt.date.today(),
                                    added_by_id=added_by_id))
    audit.record("add_contact", "employer", employer.id, user=user.username)
    # Saved together with its e-mail (send_password_link commits): mail being down does not undo the contact.
    send_password_link(user, address,
                       _("You are registered as deduction contact for %(employer)s.", employer=employer.name))
    return user


def end_contact(contact: DeductionContact, ended_by_id: int | None) -> None:
    """Hand over: the link stops holding at once; the row stays as history.

    A link holds through its end date (`current_on`), so it ends yesterday: the portal and the row filters refuse
    the contact from today."""
    today = dt.date.today()
    remaining = db.session.scalar(select(func.count(DeductionContact.id)).where(
        DeductionContact.employer_id == contact.employer_id, current_clause(DeductionContact, today),
        DeductionContact.id != contact.id,
    ))
    if not remaining:
        raise AccountError(_("Contact: the employer must keep at least one deduction contact; add the new one first."))
    contact.end_date = today - dt.timedelta(days=1)
    audit.record("end_contact", "employer", contact.employer_id, user_id=contact.user_id, by=ended_by_id)
    db.session.commit()


def request_access(name: str, email: str, phone: str | None, org_number: str) -> AccessRequest:
    errors = []
    try:
        address = check_email(email)
        if not address:
            errors.append(_("E-mail: is required."))
    except FieldError as exc:
        errors.append(str(exc))
        address = None
    try:
        orgnr = check_org_number(org_number)
    except FieldError as exc:
        errors.append(str(exc))
        orgnr = None
    if len((name or "").split()) < 2:
        errors.append(_("Name: give first and last name."))
    if errors:
        raise AccountError(" ".join(str(error) for error in errors))
    employer = db.session.scalars(select(Employer).where(Employer.org_number == orgnr)).first()
    request = AccessRequest(name=name.strip(), email=address, phone=(phone or "").strip() or None, org_number=orgnr,
                            employer_id=employer.id if employer else None, requested_at=dt.datetime.now())
    db.session.add(request)
    db.session.commit()
    return request


def decide_access(request: AccessRequest, approve: bool, decided_by_id: int | None) -> None:
    """Approve (a login is created) or reject a pending request. Of concurrent decisions exactly one
    wins: the status moves from pending in one conditional update before any login is made."""
    if approve and request.employer is None:
        raise AccountError(_("Organisation number: no employer with organisation number %(number)s is registered.",
                               number=request.org_number))
    decided = transitions.claim(AccessRequest, request.id, "pending", status="approved" if approve else "rejected",
                                decided_at=dt.datetime.now(), decided_by_id=decided_by_id)
    if not decided:
        raise AccountError(_("Status: the request is already decided."))
    if approve:
        user = create_contact(request.employer, request.name, request.email, request.phone, decided_by_id)
        request.user_id = user.id
    db.session.commit()
