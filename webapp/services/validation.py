"""Validation rules of the register, shared by forms, the REST API, the CLI and the seed.

A field rule takes a raw value and returns it normalised, or raises FieldError.
A record rule looks at several fields at once and returns {field: message}.
`rules_for(model)` tells which rules apply to a model; `validate_record`
applies them to a mapping of values and raises RecordInvalid with every
problem, keyed by field name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from stdnum import exceptions as stdnum_errors
from stdnum.no import fodselsnummer, kontonr, orgnr

from webapp.models import (
    Course,
    DeductionContact,
    DirectDuesRate,
    Employer,
    Employment,
    EmploymentChange,
    HomeUnitRule,
    IncomeBand,
    LoUnion,
    Member,
    MemberDocument,
    OperatingUnit,
    OrgUnit,
    PolicyText,
    Position,
    Postcode,
    Prize,
    Recruitment,
    RefundPolicy,
    RefundPool,
    Workplace,
)
from webapp.models.choices import Gender
from webapp.models.labels import field_label
from webapp.services.money import kroner


class FieldError(ValueError):
    """A value broke a field rule. The message names the field and the rule."""

    def __init__(self, message: str):
        super().__init__(str(message))
        self.message = str(message)


class RecordInvalid(ValueError):
    """One or more fields of a record broke a rule: {field: [message, ...]}."""

    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = {name: [str(m) for m in messages] for name, messages in errors.items()}
        super().__init__("; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.errors.items()))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------- field rules

MEMBER_NO_RE = re.compile(r"^75\d{1,6}$")
CUSTOMER_NO_RE = re.compile(r"^\d{8}$")
POSTCODE_RE = re.compile(r"^\d{4}$")
CONTACT_LOGIN_RE = re.compile(r"^\d{8}$")


def member_no(value: Any) -> str:
    text = str(value or "").strip()
    if not MEMBER_NO_RE.match(text):
        raise FieldError(_l("Membership number: must be 3 to 8 digits and start with 75."))
    return text


def _compact_digits(number_module, value: Any, length: int, message) -> str:
    """The number without spaces and separators (python-stdnum's `compact`), refused unless it is `length` digits:
    the first check of every MOD11 number, before the module validates its check digits."""
    text = number_module.compact(str(value or ""))
    if not text.isdigit() or len(text) != length:
        raise FieldError(message)
    return text


def national_id(value: Any) -> str:
    text = _compact_digits(fodselsnummer, value, 11, _l("National identity number: must be 11 digits."))
    try:
        return fodselsnummer.validate(text)
    except stdnum_errors.InvalidChecksum:
        raise FieldError(_l("National identity number: the check digits do not match (MOD11).")) from None
    except stdnum_errors.ValidationError:
        raise FieldError(_l("National identity number: not a valid national identity number or D number.")) from None


def org_number(value: Any) -> str:
    text = _compact_digits(orgnr, value, 9, _l("Organisation number: must be 9 digits."))
    try:
        return orgnr.validate(text)
    except stdnum_errors.ValidationError:
        raise FieldError(_l("Organisation number: the check digit does not match (MOD11).")) from None


def bank_account(value: Any) -> str | None:
    if _blank(value):
        return None
    text = _compact_digits(kontonr, value, 11, _l("Account number: must be 11 digits."))
    try:
        return kontonr.validate(text)
    except stdnum_errors.ValidationError:
        raise FieldError(_l("Account number: the check digit does not match (MOD11).")) from None


def customer_no(value: Any) -> str:
    text = str(value or "").strip()
    if not CUSTOMER_NO_RE.match(text):
        raise FieldError(_l("Customer number: must be exactly 8 digits."))
    return text


def postcode(value: Any) -> str | None:
    if _blank(value):
        return None
    text = str(value).strip()
    if not POSTCODE_RE.match(text):
        raise FieldError(_l("Postcode: must be 4 digits."))
    return text


def email(value: Any) -> str | None:
    if _blank(value):
        return None
    try:
        return validate_email(str(value).strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise FieldError(_l("E-mail: not a valid e-mail address.")) from None


def mobile(value: Any) -> str | None:
    if _blank(value):
        return None
    try:
        number = phonenumbers.parse(str(value), "NO")
    except phonenumbers.NumberParseException:
        raise FieldError(_l("Mobile: not a valid phone number.")) from None
    if not phonenumbers.is_valid_number(number):
        raise FieldError(_l("Mobile: not a valid phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def position_pct(value: Any) -> Any:
    if value is None or not (0 < float(value) <= 100):
        raise FieldError(_l("Percentage of full time: must be above 0 and at most 100."))
    return value


def required_text(label: str) -> Callable[[Any], str]:
    def rule(value: Any) -> str:
        if _blank(value):
            raise FieldError(_l("%(field)s: is required.", field=label))
        return str(value).strip()

    return rule


def person_facts(national_id_value: str) -> tuple[dt.date, Gender]:
    """Birth date and gender encoded in a valid national id (fødselsnummer or D-number)."""
    birth = fodselsnummer.get_birth_date(national_id_value)
    gender = Gender.female if fodselsnummer.get_gender(national_id_value) == "F" else Gender.male
    return birth, gender


# --------------------------------------------------------------- record rules


def _choice_name(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return getattr(value, "name", value)


def contact_choice_rule(choice: str, work: str, private: str, message: str) -> Callable:
    """The choice field ('work'/'private') must point at a filled field."""

    def rule(values: Mapping[str, Any]) -> dict:
        picked = _choice_name(values.get(choice))
        filled = {"work": not _blank(values.get(work)), "private": not _blank(values.get(private))}
        if picked is None:
            return {choice: message} if any(filled.values()) else {}
        if not filled.get(picked, False):
            return {choice: message}
        return {}

    return rule


def date_order_rule(start: str, end: str, message: str) -> Callable:
    def rule(values: Mapping[str, Any]) -> dict:
        first, last = values.get(start), values.get(end)
        if first and last and last < first:
            return {end: message}
        return {}

    return rule


def _has(values: Mapping[str, Any], relation: str) -> bool:
    return values.get(relation) is not None or values.get(f"{relation}_id") is not None


def _position_target_rule(values: Mapping[str, Any]) -> dict:
    kind = _choice_name(values.get("type"))
    has_unit, has_workplace = _has(values, "org_unit"), _has(values, "workplace")
    if _has(values, "operating_unit"):  # any position may be held for an employer's region, then for nothing else
        if kind is not None and (has_unit or has_workplace):
            return {"operating_unit": _l("Operating unit: a position held for an operating unit is not also held at "
                                         "an organisational unit or a workplace.")}
        return {}
    if kind == "workplace_trustee":
        if not has_workplace or has_unit:
            return {"workplace": _l("Workplace: a workplace representative holds the position at a workplace, "
                                    "not at an organisational unit.")}
    elif kind is not None and (not has_unit or has_workplace):
        return {"org_unit": _l("Organisational unit: this position belongs to an organisational unit, "
                               "not to a workplace.")}
    return {}


def _workplace_region_rule(values: Mapping[str, Any]) -> dict:
    region, employer = values.get("operating_unit"), values.get("employer")
    if region is not None and employer is not None and region.employer_id != employer.id:
        return {"operating_unit": _l("Operating unit: the operating unit belongs to another employer than the "
                                     "workplace.")}
    return {}


def _employment_workplace_rule(values: Mapping[str, Any]) -> dict:
    workplace, employer = values.get("workplace"), values.get("employer")
    if workplace is not None and employer is not None and workplace.employer_id != employer.id:
        return {"workplace": _l("Workplace: the workplace does not belong to the selected employer.")}
    return {}


def positive_whole(label: str) -> Callable[[Any], int]:
    def rule(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise FieldError(_l("%(field)s: must be a whole number above 0.", field=label)) from None
        if number <= 0:
            raise FieldError(_l("%(field)s: must be a whole number above 0.", field=label))
        return number

    return rule


def _recruitment_rule(values: Mapping[str, Any]) -> dict:
    recruiter = values.get("recruiter_id") or getattr(values.get("recruiter"), "id", None)
    recruit = values.get("recruit_id") or getattr(values.get("recruit"), "id", None)
    if recruit is None and values.get("fixed_points") in (None, ""):
        return {"recruit": _l("Recruit: choose the recruited member, or give points for an entry without one.")}
    if recruit is not None and recruit == recruiter:
        return {"recruit": _l("Recruit: a member cannot recruit themselves.")}
    return {}


def quarter_text(label: str) -> Callable[[Any], str]:
    def rule(value: Any) -> str:
        from webapp.services.bounds import FIRST_PERIOD_YEAR, last_period_year
        from webapp.services.periods import PeriodError, PeriodOutOfRange, Quarter

        try:
            return str(Quarter.parse(str(value or "")))
        except PeriodOutOfRange:
            first, last = str(Quarter(FIRST_PERIOD_YEAR, 1)), str(Quarter(last_period_year(), 4))
            raise FieldError(_l("%(field)s: must be a quarter from %(first)s to %(last)s.", field=label, first=first,
                                last=last)) from None
        except PeriodError:
            raise FieldError(_l("%(field)s: must be a quarter of the form YYYY-Qn (n = 1 to 4).",
                                field=label)) from None

    return rule


def number_between(low: float, high: float, required: bool = True) -> Callable[[Any], Callable[[Any], Any]]:
    """A rule maker: given the field's label, the rule that the value is a number from low to high."""

    def make(label: str) -> Callable[[Any], Any]:
        return lambda value: _number_in_range(value, label, low, high, required)

    return make


def _number_in_range(value: Any, label: str, low: float, high: float, required: bool) -> Any:
    if _blank(value):
        if required:
            raise FieldError(_l("%(field)s: is required.", field=label))
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not (low <= number <= high):
        raise FieldError(_l("%(field)s: must be a number from %(low)s to %(high)s.", field=label, low=low, high=high))
    return value


def amount_between(low_ore: int, high_ore: int, required: bool = True) -> Callable[[Any], Callable[[Any], Any]]:
    """A rule maker for an amount in øre that people type in kroner: the message gives the limits in kroner."""

    def make(label: str) -> Callable[[Any], Any]:
        def rule(value: Any) -> Any:
            try:
                return _number_in_range(value, label, low_ore, high_ore, required)
            except FieldError:
                if _blank(value):
                    raise
                raise FieldError(_l("%(field)s: must be an amount from kr %(low)s to kr %(high)s.", field=label,
                                    low=kroner(low_ore), high=kroner(high_ore))) from None

        return rule

    return make


def _refund_shares_rule(values: Mapping[str, Any]) -> dict:
    shares = [values.get(name) for name in ("share_national_association", "share_branch", "share_club")]
    try:
        total = sum(float(share or 0) for share in shares)
    except (TypeError, ValueError):
        return {}
    if abs(total - 100) > 0.001:
        return {"share_branch": _l("Shares by level: the shares of the three levels must add up to 100 per cent.")}
    return {}


def _refund_pool_rule(values: Mapping[str, Any]) -> dict:
    if not _blank(values.get("pool_ore")) and not _blank(values.get("pool_percent")):
        return {"pool_percent": _l("Pool: give a fixed amount or a share of the dues paid, not both.")}
    return {}


# The largest monthly direct dues and the largest yearly income a band may name, in øre.
MAX_MONTHLY_DUES_ORE = 10_000_000
MAX_YEARLY_INCOME_ORE = 10**11


def _income_band_order_rule(values: Mapping[str, Any]) -> dict:
    lower, upper = values.get("lower_ore"), values.get("upper_ore")
    try:
        wrong = not _blank(lower) and not _blank(upper) and float(upper) <= float(lower)
    except (TypeError, ValueError):
        return {}
    return {"upper_ore": _l("Yearly income up to: must be above the lower limit.")} if wrong else {}


def _direct_rate_band_rule(values: Mapping[str, Any]) -> dict:
    """Ordinary members pay by income band; the other categories have one rate each, without a band."""
    category = _choice_name(values.get("category"))
    has_band = values.get("income_band") is not None or values.get("income_band_id") is not None
    if category == "ordinary" and not has_band:
        return {"income_band": _l("Income band: a rate for ordinary members is for one income band.")}
    if category is not None and category != "ordinary" and has_band:
        return {"income_band": _l("Income band: only rates for ordinary members have an income band.")}
    return {}


def optional(rule: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The rule for a field that may be left empty (then None)."""
    return lambda value: None if _blank(value) else rule(value)


def known_counties() -> list[str]:
    """The counties the register knows: those of the postcode register and of the workplaces."""
    from sqlalchemy import select, union

    from webapp.extensions import db

    rows = db.session.scalars(union(select(Postcode.county).where(Postcode.county.is_not(None)),
                                    select(Workplace.county).where(Workplace.county.is_not(None))))
    return sorted({county for county in rows if county and county.strip()})


def county_name(value: Any) -> str | None:
    if _blank(value):
        return None
    text = str(value).strip()
    if text not in known_counties():
        raise FieldError(_l("County: choose one of the counties of the postcode register."))
    return text


def text_at_most(max_length: int) -> Callable[[Any], Callable[[Any], str]]:
    """A rule maker: required text of at most `max_length` characters (webapp.services.bounds.bounded_text)."""

    def make(label: str) -> Callable[[Any], str]:
        def rule(value: Any) -> str:
            # Imported when a value is checked, not when the rules are made at import: bounds imports this
            # module, so importing bounds first (reports.exports does) would otherwise meet a half-made bounds.
            from webapp.services.bounds import bounded_text

            return bounded_text(label, max_length, required=True)(value)

        return rule

    return make


def _home_unit_rule_target(values: Mapping[str, Any]) -> dict:
    """A rule maps either an employer or a county, the one its kind names, and leaves the other empty."""
    kind = _choice_name(values.get("kind"))
    has_employer, has_county = _has(values, "employer"), not _blank(values.get("county"))
    problems = {}
    if kind == "employer":
        if not has_employer:
            problems["employer"] = _l("Employer: choose the employer the rule is for.")
        if has_county:
            problems["county"] = _l("County: leave empty in a rule for an employer.")
    elif kind == "county":
        if not has_county:
            problems["county"] = _l("County: choose the county the rule is for.")
        if has_employer:
            problems["employer"] = _l("Employer: leave empty in a rule for a county.")
    return problems


# The longest membership terms or privacy statement the register keeps (characters).
POLICY_TEXT_MAX_LENGTH = 100_000


@dataclass(frozen=True)
class ModelRules:
    fields: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    records: tuple[Callable[[Mapping[str, Any]], dict], ...] = ()


def labelled(model: type, **rule_makers: Callable[[Any], Callable[[Any], Any]]) -> dict[str, Callable[[Any], Any]]:
    """Field rules whose messages name the field, each made with the field's label from the model's label table."""
    return {name: make(field_label(model, name)) for name, make in rule_makers.items()}


def _end_after_start(start: str = "start_date", end: str = "end_date") -> Callable:
    return date_order_rule(start, end, _l("End date: cannot be before the start date."))


_RULES: dict[type, ModelRules] = {
    Member: ModelRules(
        fields={
            "member_no": member_no,
            "national_id": national_id,
            "postcode": postcode,
            "email_work": email,
            "email_private": email,
            "mobile_work": mobile,
            "mobile_private": mobile,
            **labelled(Member, first_name=required_text, last_name=required_text),
        },
        records=(
            contact_choice_rule(
                "email_to", "email_work", "email_private",
                _l("Send e-mail to: must point to an e-mail address that is filled in."),
            ),
            contact_choice_rule(
                "preferred_mobile", "mobile_work", "mobile_private",
                _l("Preferred mobile: must point to a mobile number that is filled in."),
            ),
            date_order_rule("joined_on", "left_on", _l("Date left: cannot be before the date joined.")),
        ),
    ),
    OrgUnit: ModelRules(fields={"bank_account": bank_account,
                                **labelled(OrgUnit, code=required_text, name=required_text)}),
    Employer: ModelRules(
        fields={
            "org_number": org_number,
            "customer_no": customer_no,
            "postcode": postcode,
            **labelled(Employer, name=required_text),
        }
    ),
    Workplace: ModelRules(fields=labelled(Workplace, name=required_text), records=(_workplace_region_rule,)),
    OperatingUnit: ModelRules(fields=labelled(OperatingUnit, name=required_text)),
    Employment: ModelRules(
        fields={"position_pct": position_pct},
        records=(_end_after_start(), _employment_workplace_rule),
    ),
    Position: ModelRules(records=(_end_after_start(), _position_target_rule)),
    DeductionContact: ModelRules(fields={"phone": mobile}, records=(_end_after_start(),)),
    Course: ModelRules(
        fields=labelled(Course, title=required_text, place=required_text, capacity=positive_whole),
        records=(
            _end_after_start("starts_on", "ends_on"),
            date_order_rule(
                "application_deadline", "starts_on", _l("Start date: cannot be before the application deadline.")
            ),
        ),
    ),
    Prize: ModelRules(fields=labelled(Prize, name=required_text, points=positive_whole)),
    Recruitment: ModelRules(records=(_recruitment_rule,)),
    MemberDocument: ModelRules(fields=labelled(MemberDocument, title=required_text)),
    EmploymentChange: ModelRules(
        fields={"position_pct": position_pct},
        records=(_employment_workplace_rule,),
    ),
    RefundPolicy: ModelRules(
        fields=labelled(
            RefundPolicy,
            valid_from=quarter_text,
            pool_ore=amount_between(0, 10**12, required=False),
            pool_percent=number_between(0, 100, required=False),
            share_national_association=number_between(0, 100),
            share_branch=number_between(0, 100),
            share_club=number_between(0, 100),
            weight_ordinary=number_between(0, 10),
            weight_apprentice=number_between(0, 10),
            weight_student=number_between(0, 10),
            weight_retired=number_between(0, 10),
            weight_unemployed=number_between(0, 10),
        ),
        records=(_refund_shares_rule, _refund_pool_rule),
    ),
    RefundPool: ModelRules(fields=labelled(RefundPool, quarter=quarter_text, pool_ore=amount_between(0, 10**12))),
    IncomeBand: ModelRules(
        fields=labelled(
            IncomeBand,
            code=required_text,
            lower_ore=amount_between(0, MAX_YEARLY_INCOME_ORE),
            upper_ore=amount_between(0, MAX_YEARLY_INCOME_ORE, required=False),
        ),
        records=(_income_band_order_rule,),
    ),
    DirectDuesRate: ModelRules(
        fields=labelled(DirectDuesRate, monthly_ore=amount_between(0, MAX_MONTHLY_DUES_ORE)),
        records=(_direct_rate_band_rule,),
    ),
    LoUnion: ModelRules(fields={"org_number": optional(org_number), "email": email,
                                **labelled(LoUnion, code=required_text, name=required_text)}),
    HomeUnitRule: ModelRules(fields={"county": county_name}, records=(_home_unit_rule_target,)),
    PolicyText: ModelRules(fields=labelled(PolicyText, version=required_text, title=required_text,
                                           body=text_at_most(POLICY_TEXT_MAX_LENGTH))),
}


def rules_for(model: type) -> ModelRules:
    return _RULES.get(model, ModelRules())


def validate_record(model: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """Apply a model's rules to values; return the normalised field values.

    Raises RecordInvalid naming every field that breaks a rule.
    """
    rules = rules_for(model)
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, rule in rules.fields.items():
        if name not in values:
            continue
        try:
            cleaned[name] = rule(values[name])
        except FieldError as exc:
            errors.setdefault(name, []).append(exc.message)
    merged = {**values, **cleaned}
    for record_rule in rules.records:
        for name, message in record_rule(merged).items():
            errors.setdefault(name, []).append(str(message))
    if errors:
        raise RecordInvalid(errors)
    return cleaned


def derive_fields(item: Any) -> None:
    """Fill the fields that follow from others before anything is checked."""
    if isinstance(item, Employment) and item.workplace is not None and item.employer is None:
        item.employer = item.workplace.employer  # the workplace decides the employer


def validate_item(item: Any) -> None:
    """Validate a model instance in place: normalise its fields or raise RecordInvalid."""
    model = type(item)
    derive_fields(item)
    out_of_bounds = column_bound_problems(item)
    if out_of_bounds:
        raise RecordInvalid(out_of_bounds)
    rules = rules_for(model)
    names = set(rules.fields)
    for column in model.__mapper__.columns:
        names.add(column.key)
    for rel in model.__mapper__.relationships:
        names.add(rel.key)
    values = {name: getattr(item, name, None) for name in names}
    cleaned = validate_record(model, values)
    for name, value in cleaned.items():
        setattr(item, name, value)
    if model is Member and item.national_id:
        item.birth_date, item.gender = person_facts(item.national_id)
    if model is OrgUnit:
        problems = org_unit_tree_problems(item)
        if problems:
            raise RecordInvalid(problems)
    if model is OperatingUnit:
        with_ids = {"employer_id": getattr(item.employer, "id", item.employer_id),
                    "parent_id": getattr(item.parent, "id", item.parent_id)}
        problems = operating_unit_tree_problems(item.id, **with_ids)
        if problems:
            raise RecordInvalid(problems)


def column_bound_problems(item: Any) -> dict[str, list[str]]:
    """Every date of a row lies from 1900 to 2100 and every number fits its column, whichever way it was
    written (form, API, CLI): the database never gets to refuse it with its own words."""
    from webapp.services.bounds import column_bound_rules

    model = type(item)
    problems = {}
    for name, rule in column_bound_rules(model, [column.key for column in model.__table__.columns]).items():
        try:
            rule(getattr(item, name, None))
        except FieldError as exc:
            problems[name] = [exc.message]
    return problems


_LEVEL_ORDER = ["union", "national_association", "branch", "club"]


def org_unit_tree_problems(unit: Any) -> dict[str, list[str]]:
    """The tree stays a tree: no unit under itself or its own descendants, and each level below its parent's."""
    from webapp.extensions import db

    parent = unit.parent
    level = _choice_name(unit.level)
    if parent is None:
        if level != "union":
            return {"parent": [str(_l("Parent unit: every unit except the union must have a parent unit."))]}
        return {}
    if unit.id is not None:
        node = parent
        with db.session.no_autoflush:
            while node is not None:
                if node.id == unit.id:
                    return {"parent": [str(_l("Parent unit: a unit cannot be placed under itself."))]}
                node = db.session.get(OrgUnit, node.parent_id) if node.parent_id else None
    if level in _LEVEL_ORDER and _LEVEL_ORDER.index(level) <= _LEVEL_ORDER.index(_choice_name(parent.level)):
        return {"level": [str(_l("Level: must be below the level of the parent unit."))]}
    return {}


def operating_unit_tree_problems(unit_id: int | None, employer_id: int | None, parent_id: int | None
                                 ) -> dict[str, list[str]]:
    """An employer's operating units stay a tree of that employer: the parent is one of its operating units and not
    the unit itself or a unit below it; what lies below a unit (units, workplaces) stays with its employer."""
    from sqlalchemy import select

    from webapp.extensions import db

    problems: dict[str, list[str]] = {}
    if parent_id is not None and unit_id is not None:
        node, seen = parent_id, set()
        with db.session.no_autoflush:
            while node is not None and node not in seen:  # the walk ends even on a broken tree
                if node == unit_id:
                    problems["parent"] = [str(_l("Part of operating unit: an operating unit cannot be placed under "
                                                 "itself or under an operating unit below it."))]
                    break
                seen.add(node)
                node = db.session.scalar(select(OperatingUnit.parent_id).where(OperatingUnit.id == node))
    if parent_id is not None and "parent" not in problems:
        parent_employer = db.session.scalar(select(OperatingUnit.employer_id).where(OperatingUnit.id == parent_id))
        if parent_employer != employer_id:
            problems["parent"] = [str(_l("Part of operating unit: must be an operating unit of the same employer."))]
    if unit_id is not None and employer_id is not None and _has_below_of_other_employer(unit_id, employer_id):
        problems["employer"] = [str(_l("Employer: workplaces or operating units of the present employer lie below "
                                       "this operating unit; move them first."))]
    return problems


def _has_below_of_other_employer(unit_id: int, employer_id: int) -> bool:
    from sqlalchemy import or_, select

    from webapp.extensions import db

    with db.session.no_autoflush:
        child = select(OperatingUnit.id).where(OperatingUnit.parent_id == unit_id,
                                               OperatingUnit.employer_id != employer_id)
        workplace = select(Workplace.id).where(Workplace.operating_unit_id == unit_id,
                                               Workplace.employer_id != employer_id)
        return db.session.execute(select(or_(child.exists(), workplace.exists()))).scalar()


def unique_conflicts(item: Any, may_see: Callable[[type, int], bool] | None = None) -> dict[str, list[str]]:
    """Unique columns of `item` whose value another row already has, as field errors.

    `may_see(model, id)` tells whether the writer may see the other row. When it may not, the
    message is neutral: "already exists" would tell whether a person (a national id, a member
    number) is in the register outside the writer's scope. The office sees every row.
    """
    from webapp.extensions import db

    model = type(item)
    conflicts: dict[str, list[str]] = {}
    for column in model.__table__.columns:
        if not column.unique or column.primary_key:
            continue
        value = getattr(item, column.key, None)
        if value is None:
            continue
        attribute = getattr(model, column.key)
        query = db.session.query(model.id).filter(attribute == value)
        if item.id is not None:
            query = query.filter(model.id != item.id)
        with db.session.no_autoflush:
            other = query.first()
        if other is None:
            continue
        label = field_label(model, column.key)
        if may_see is None or may_see(model, other.id):
            conflicts[column.key] = [str(_l("%(field)s: already exists.", field=label))]
        else:
            conflicts[column.key] = [str(_l("%(field)s: cannot be registered here. Contact the union office.",
                                            field=label))]
    return conflicts

