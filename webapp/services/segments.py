"""Segments: a choice of members for a send-out, written as criteria and turned into one SQL clause over Member.

The criteria are a small dict (stored as JSON in `segment.criteria` and `send_out.criteria`):

- `status`: "active" (the membership is current today, `membership_current_clause`; the default) or "former"
  (the membership ended before today); anonymised members are never chosen;
- `categories`: member categories (none: all);
- `unit_id`, with `unit_below` (default true): the member's home unit, or that unit and every unit below it;
- `employer_id`, `workplace_id`: an employment there is current today;
- `county`, `municipality`: of the workplace of the member's main current employment (the main-employment rule
  of webapp.services.membership);
- `agreement_id`: covered today by the collective agreement (webapp.services.agreements.covered_clause);
- `age_min`, `age_max`: the age in whole years today, from the birth date, both inclusive.

The channel's own consent is always applied (`info_by_email` or `info_by_sms`), and `surveys` as well for a
survey invitation. A member without an address for the channel is left out and counted apart.

Scope: an officer reaches the members whose home unit is in their acting units (their unit and the units below
it). `member_clause` always ANDs that scope, so a criterion typed outside it (a forged form) reaches nobody; the
validation refuses it first, naming the field. The office passes no scope (`None`): every member.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, false, func, literal, null, outerjoin, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from webapp.extensions import db
from webapp.models import Employer, Employment, Member, OrgUnit, Workplace
from webapp.models.choices import ContactChoice, MemberCategory, RecipientStatus, SendOutChannel
from webapp.models.outreach import CollectiveAgreement, SendOutRecipient
from webapp.security.scope import unit_subtree_ids
from webapp.services.agreements import covered_clause
from webapp.services.bounds import row_id
from webapp.services.membership import main_employment_rank, membership_current_clause
from webapp.services.periods import current_clause
from webapp.services.validation import RecordInvalid

ACTIVE = "active"
FORMER = "former"
STATUSES = (ACTIVE, FORMER)
AGE_LIMIT = 130
PLACE_MAX_LENGTH = 80

LABELS = {
    "status": _l("Status"),
    "categories": _l("Categories"),
    "unit_id": _l("Unit"),
    "employer_id": _l("Employer"),
    "workplace_id": _l("Workplace"),
    "county": _l("County"),
    "municipality": _l("Municipality"),
    "agreement_id": _l("Collective agreement"),
    "age_min": _l("Age from"),
    "age_max": _l("Age to"),
}
ID_FIELDS = {"unit_id": OrgUnit, "employer_id": Employer, "workplace_id": Workplace,
             "agreement_id": CollectiveAgreement}


@dataclass(frozen=True)
class SegmentCount:
    """What a segment holds for a channel: `matching` members meet the criteria; of them `opted_out` said no to
    the channel (or to surveys), `no_address` have no address for it; `reachable` get the message."""

    matching: int
    opted_out: int
    no_address: int

    @property
    def reachable(self) -> int:
        return self.matching - self.opted_out - self.no_address


# ------------------------------------------------------------------ criteria: read, check, store


def criteria_from_form(form) -> dict[str, Any]:
    """The criteria as typed in the segment form (text values, categories as a list), not yet checked."""
    raw = {name: form.get(name, "") for name in LABELS if name != "categories"}
    raw["categories"] = [c for c in form.getlist("categories") if c] if hasattr(form, "getlist") else \
        form.get("categories") or []
    raw["unit_below"] = form.get("unit_below") in ("1", "on", "true", True)
    return raw


def validate(raw: Mapping[str, Any], scope_unit_ids: frozenset[int] | None) -> dict[str, Any]:
    """The criteria checked and normalised (empty values left out); RecordInvalid names every field that breaks
    a rule. A unit outside the officer's scope is refused like one that does not exist."""
    errors: dict[str, list[str]] = {}
    criteria: dict[str, Any] = {}
    unknown = set(raw) - set(LABELS) - {"unit_below"}
    if unknown:
        errors["criteria"] = [str(_l("Criteria: unknown field %(names)s.", names=", ".join(sorted(unknown))))]
    _check_status(raw.get("status"), criteria, errors)
    _check_categories(raw.get("categories"), criteria, errors)
    for name, model in ID_FIELDS.items():
        _check_row(name, model, raw.get(name), criteria, errors)
    if "unit_id" in criteria:
        if scope_unit_ids is not None and criteria["unit_id"] not in scope_unit_ids:
            del criteria["unit_id"]
            errors["unit_id"] = [_message("unit_id", _l("choose one of the units you act for."))]
        else:
            criteria["unit_below"] = bool(raw.get("unit_below", True))
    for name in ("county", "municipality"):
        _check_place(name, raw.get(name), criteria, errors)
    for name in ("age_min", "age_max"):
        _check_age(name, raw.get(name), criteria, errors)
    if criteria.get("age_min", 0) > criteria.get("age_max", AGE_LIMIT):
        errors["age_max"] = [_message("age_max", _l("must not be below the age from."))]
    if errors:
        raise RecordInvalid(errors)
    return criteria


def _message(name: str, rule) -> str:
    return str(_l("%(field)s: %(rule)s", field=LABELS[name], rule=rule))


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_status(value, criteria: dict, errors: dict) -> None:
    status = ACTIVE if _blank(value) else str(value).strip()
    if status not in STATUSES:
        errors["status"] = [_message("status", _l("choose active or former members."))]
    else:
        criteria["status"] = status


def _check_categories(values, criteria: dict, errors: dict) -> None:
    if _blank(values) or values == []:
        return
    values = [values] if isinstance(values, str) else list(values) if isinstance(values, Iterable) else [values]
    chosen = []
    for value in values:
        if str(value) not in MemberCategory.__members__:
            errors["categories"] = [_message("categories", _l("choose categories from the list."))]
            return
        chosen.append(str(value))
    criteria["categories"] = sorted(set(chosen))


def _check_row(name: str, model, value, criteria: dict, errors: dict) -> None:
    if _blank(value):
        return
    pk = row_id(value) if not isinstance(value, bool) else None
    if pk is None or db.session.get(model, pk) is None:
        errors[name] = [_message(name, _l("choose one from the list."))]
        return
    criteria[name] = pk


def _check_place(name: str, value, criteria: dict, errors: dict) -> None:
    if _blank(value):
        return
    text = str(value).strip()
    if len(text) > PLACE_MAX_LENGTH or "\x00" in text:
        errors[name] = [_message(name, _l("at most %(count)s characters.", count=PLACE_MAX_LENGTH))]
        return
    criteria[name] = text


def _check_age(name: str, value, criteria: dict, errors: dict) -> None:
    if _blank(value):
        return
    text = str(value).strip()
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or int(text) > AGE_LIMIT:
        errors[name] = [_message(name, _l("a whole number of years from 0 to %(limit)s.", limit=AGE_LIMIT))]
        return
    criteria[name] = int(text)


def to_json(criteria: Mapping[str, Any]) -> str:
    return json.dumps(dict(criteria), sort_keys=True, ensure_ascii=False)


def from_json(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


# ------------------------------------------------------------------ criteria → SQL


def member_clause(criteria: Mapping[str, Any], scope_unit_ids: frozenset[int] | None,
                  today: dt.date | None = None) -> ColumnElement:
    """SQL over Member: the members the (validated) criteria choose, inside the scope (None: no limit)."""
    today = today or dt.date.today()
    clauses = [_scope_clause(scope_unit_ids), Member.anonymised_at.is_(None), _status_clause(criteria, today)]
    if criteria.get("categories"):
        clauses.append(Member.category.in_([MemberCategory[c] for c in criteria["categories"]]))
    if criteria.get("unit_id"):
        units = unit_subtree_ids({criteria["unit_id"]}) if criteria.get("unit_below", True) else {criteria["unit_id"]}
        clauses.append(Member.home_unit_id.in_(sorted(units)))
    for name, column in (("employer_id", Employment.employer_id), ("workplace_id", Employment.workplace_id)):
        if criteria.get(name):
            clauses.append(Member.id.in_(select(Employment.member_id).where(
                column == criteria[name], current_clause(Employment, today))))
    if criteria.get("county") or criteria.get("municipality"):
        clauses.append(_main_workplace_clause(criteria, today))
    if criteria.get("agreement_id"):
        clauses.append(covered_clause(criteria["agreement_id"], today))
    clauses.extend(_age_clauses(criteria, today))
    return and_(*clauses)


def _scope_clause(scope_unit_ids: frozenset[int] | None) -> ColumnElement:
    if scope_unit_ids is None:
        return true()
    if not scope_unit_ids:
        return false()
    return Member.home_unit_id.in_(sorted(scope_unit_ids))


def _status_clause(criteria: Mapping[str, Any], today: dt.date) -> ColumnElement:
    if criteria.get("status", ACTIVE) == FORMER:
        return Member.left_on.is_not(None) & (Member.left_on < today)
    return membership_current_clause(today)


def _main_workplace_clause(criteria: Mapping[str, Any], today: dt.date) -> ColumnElement:
    """The workplace of the member's main current employment lies in the county and/or municipality (the names
    compared without regard to case)."""
    ranked = (select(Employment.member_id, Employment.workplace_id, main_employment_rank().label("rank"))
              .where(current_clause(Employment, today)).subquery("ranked_employment"))
    query = (select(ranked.c.member_id).join(Workplace, Workplace.id == ranked.c.workplace_id)
             .where(ranked.c.rank == 1))
    for name in ("county", "municipality"):
        if criteria.get(name):
            query = query.where(func.lower(getattr(Workplace, name)) == criteria[name].lower())
    return Member.id.in_(query)


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day `years` years earlier (29 February: the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years from `birth` to `day` (the Python twin of the age band)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _age_clauses(criteria: Mapping[str, Any], today: dt.date) -> list[ColumnElement]:
    clauses = []
    if criteria.get("age_min") is not None:
        clauses.append(Member.birth_date <= years_before(today, criteria["age_min"]))
    if criteria.get("age_max") is not None:
        clauses.append(Member.birth_date > years_before(today, criteria["age_max"] + 1))
    return clauses


def consent_clause(channel: SendOutChannel, survey: bool = False) -> ColumnElement:
    """The member said yes to the channel (and to surveys, for a survey invitation)."""
    own = Member.info_by_email if channel == SendOutChannel.email else Member.info_by_sms
    return (own.is_(True) & Member.surveys.is_(True)) if survey else own.is_(True)


def _filled(column) -> ColumnElement:
    return func.nullif(func.trim(column), "")


# The member's login, for its e-mail address (outer-joined: most members have none).
LOGIN = aliased(User, name="login_user")


def members_from(channel: SendOutChannel):
    """What the address expression selects from: Member, with its login for e-mail (one join, not a subquery per
    member)."""
    return outerjoin(Member, LOGIN, LOGIN.id == Member.user_id) if channel == SendOutChannel.email else Member


def address_expression(channel: SendOutChannel) -> ColumnElement:
    """SQL twin of mypage.chosen_email / chosen_mobile: the chosen one, else the private, the work (and for
    e-mail the login's) address; NULL when the member has none (blank text counts as none). Select it from
    `members_from(channel)`."""
    if channel == SendOutChannel.email:
        chosen = case((Member.email_to == ContactChoice.work, _filled(Member.email_work)),
                      (Member.email_to == ContactChoice.private, _filled(Member.email_private)), else_=null())
        return func.coalesce(chosen, _filled(Member.email_private), _filled(Member.email_work), _filled(LOGIN.email))
    chosen = case((Member.preferred_mobile == ContactChoice.work, _filled(Member.mobile_work)),
                  (Member.preferred_mobile == ContactChoice.private, _filled(Member.mobile_private)), else_=null())
    return func.coalesce(chosen, _filled(Member.mobile_private), _filled(Member.mobile_work))


# ------------------------------------------------------------------ counting and the recipients


def count(criteria: Mapping[str, Any], channel: SendOutChannel, scope_unit_ids: frozenset[int] | None,
          survey: bool = False, today: dt.date | None = None) -> SegmentCount:
    """The segment's members, those who said no to the channel and those without an address: one query."""
    consent = consent_clause(channel, survey)
    address = address_expression(channel)
    row = db.session.execute(select(
        func.count(Member.id),
        func.coalesce(func.sum(case((consent, 0), else_=1)), 0),
        func.coalesce(func.sum(case((consent & address.is_(None), 1), else_=0)), 0),
    ).select_from(members_from(channel)).where(member_clause(criteria, scope_unit_ids, today))).one()
    return SegmentCount(matching=int(row[0]), opted_out=int(row[1]), no_address=int(row[2]))


def recipients_query(criteria: Mapping[str, Any], channel: SendOutChannel, scope_unit_ids: frozenset[int] | None,
                     survey: bool = False, today: dt.date | None = None):
    """SELECT member id, address of everyone the message goes to (consent given, an address for the channel)."""
    address = address_expression(channel).label("address")
    inner = (select(Member.id.label("member_id"), address).select_from(members_from(channel))
             .where(member_clause(criteria, scope_unit_ids, today), consent_clause(channel, survey))
             .subquery("segment_members"))
    return select(inner.c.member_id, inner.c.address).where(inner.c.address.is_not(None))


def recipients(criteria: Mapping[str, Any], channel: SendOutChannel, scope_unit_ids: frozenset[int] | None,
               survey: bool = False, today: dt.date | None = None):
    """(member id, address) of each recipient, by member id (streamed: fine for 100,000 rows)."""
    query = recipients_query(criteria, channel, scope_unit_ids, survey, today)
    return db.session.execute(query.order_by(query.selected_columns[0]).execution_options(yield_per=2000))


def insert_recipients(send_out_id: int, criteria: Mapping[str, Any], channel: SendOutChannel,
                      scope_unit_ids: frozenset[int] | None, survey: bool = False,
                      today: dt.date | None = None) -> int:
    """Fix the recipients of a send-out in one INSERT … SELECT (in the caller's transaction); their number."""
    found = recipients_query(criteria, channel, scope_unit_ids, survey, today).subquery("found")
    rows = select(literal(send_out_id), found.c.member_id, found.c.address,
                  literal(RecipientStatus.queued.name))
    table = SendOutRecipient.__table__
    db.session.execute(table.insert().from_select(
        [table.c.send_out_id, table.c.member_id, table.c.address, table.c.status], rows))
    # Counted, not taken from the driver's row count (psycopg reports none for INSERT ... SELECT here).
    return db.session.scalar(select(func.count(table.c.id)).where(table.c.send_out_id == send_out_id))


def sample_recipient(criteria: Mapping[str, Any], channel: SendOutChannel, scope_unit_ids: frozenset[int] | None,
                     survey: bool = False) -> tuple[Member, str] | None:
    """One member the message would reach (the lowest id), with the address: for the preview."""
    query = recipients_query(criteria, channel, scope_unit_ids, survey)
    first = db.session.execute(query.order_by(query.selected_columns[0]).limit(1)).first()
    return (db.session.get(Member, first[0]), first[1]) if first else None


def describe(criteria: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The criteria in words, for the send-out's page: (label, value) pairs."""
    described = [(str(LABELS["status"]), str(_l("Former members") if criteria.get("status") == FORMER
                                                 else _l("Active members")))]
    if criteria.get("categories"):
        described.append((str(LABELS["categories"]),
                          ", ".join(MemberCategory[c].label for c in criteria["categories"])))
    for name, model in ID_FIELDS.items():
        if criteria.get(name):
            row = db.session.get(model, criteria[name])
            text = str(row) if row is not None else f"#{criteria[name]}"
            if name == "unit_id" and criteria.get("unit_below", True):
                text = str(_l("%(unit)s and the units below", unit=text))
            described.append((str(LABELS[name]), text))
    for name in ("county", "municipality"):
        if criteria.get(name):
            described.append((str(LABELS[name]), criteria[name]))
    if criteria.get("age_min") is not None or criteria.get("age_max") is not None:
        described.append((str(_l("Age")), f"{criteria.get('age_min', 0)}–{criteria.get('age_max', '')}"))
    return described
