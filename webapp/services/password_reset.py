"""Forgotten passwords: a one-time link by e-mail or SMS, from the set-password links of accounts.py.

The answer never tells whether a username exists: an unknown username, an
inactive login or one without an address is treated like any other request,
silently. Each link expires (accounts.LINK_MAX_AGE) and works once.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEntry, DeductionContact, Member
from webapp.services import accounts, audit
from webapp.services.mypage import chosen_email, chosen_mobile
from webapp.services.periods import current_first
from webapp.services.sms import SmsError, send_sms

log = logging.getLogger(__name__)

EMAIL, SMS = "email", "sms"
# A second request for the same login within this time sends nothing, so the form cannot be used to flood someone.
RESEND_PAUSE = dt.timedelta(minutes=2)
SENT_ACTION = "password_reset_sent"


def _recently_sent(user_id: int, now: dt.datetime) -> bool:
    return db.session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == SENT_ACTION, AuditEntry.object_type == "user", AuditEntry.object_id == user_id,
            AuditEntry.at > now - RESEND_PAUSE,
        ).limit(1)
    ) is not None


def _mobile_for(user, member: Member | None) -> str | None:
    if member is not None and chosen_mobile(member):
        return chosen_mobile(member)
    return db.session.scalar(
        select(DeductionContact.phone).where(DeductionContact.user_id == user.id, DeductionContact.phone.is_not(None))
        .order_by(current_first(DeductionContact, dt.date.today()), DeductionContact.start_date.desc()).limit(1)
    )


def _send(user, member: Member | None, channel: str) -> str | None:
    if channel == SMS:
        mobile = _mobile_for(user, member)
        if mobile:
            send_sms(mobile, _("%(union)s: choose a new password here (the link works once and expires in 24 hours): "
                               "%(link)s", union=current_app.config["UNION_NAME"], link=accounts.password_link(user)))
            return SMS
    address = (chosen_email(member) if member is not None else None) or user.email
    if not address:
        return None
    accounts.send_password_link(user, address, _("Someone, hopefully you, asked for a new password."))
    return EMAIL


def request_reset(username: str, channel: str, now: dt.datetime | None = None) -> str | None:
    """Send a reset link for `username` by the chosen channel (SMS falls back to e-mail without a mobile).

    Returns the channel used, or None when nothing was sent; callers must not show the difference.
    """
    now = now or dt.datetime.now()
    user = current_app.appbuilder.sm.find_user(username=(username or "").strip()[:64])
    if user is None or not user.active or _recently_sent(user.id, now):
        return None
    member = db.session.scalars(select(Member).where(Member.user_id == user.id)).first()
    try:
        used = _send(user, member, channel)
    except (OSError, SmsError) as exc:
        log.warning("password link for user %s could not be sent (%s)", user.id, exc)
        return None
    if used is None:
        return None
    audit.record(SENT_ACTION, "user", user.id, member_id=member.id if member else None, channel=used)
    db.session.commit()
    return used
