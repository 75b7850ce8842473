"""The bounds of what a person may type or put in a URL, in one place.

Dates lie between 1900 and 2100, months and quarters in a window around today, row ids and øre amounts
fit a 64-bit column, text has a length and no NUL byte. A value outside is refused with a message naming
the field and the rule, never cut to fit and never handed to the database to fail there.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import types

from webapp.services.validation import FieldError

FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)
# Months (YYYY-MM) and quarters (YYYY-Qn): none before the register's oldest records, none far ahead.
FIRST_PERIOD_YEAR = 2000
PERIOD_YEARS_AHEAD = 2
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1


# How a person types a date: the date picker's YYYY-MM-DD, or the Norwegian dd.mm.yyyy.
TYPED_DATE_FORMS = ("%Y-%m-%d", "%d.%m.%Y")


def typed_date(value) -> dt.date | None:
    """The date in a typed value (a date passes through), or None when it is in neither form."""
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    for form in TYPED_DATE_FORMS:
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def last_period_year(today: dt.date | None = None) -> int:
    return (today or dt.date.today()).year + PERIOD_YEARS_AHEAD


def period_year_allowed(year: int, today: dt.date | None = None) -> bool:
    return FIRST_PERIOD_YEAR <= year <= last_period_year(today)


def date_within_bounds(label) -> callable:
    """A field rule: a date (or date and time) from 1900 to 2100; empty passes (required is another rule)."""

    def rule(value):
        if value is None or value == "":
            return value
        day = value.date() if isinstance(value, dt.datetime) else value
        if isinstance(day, dt.date) and not (FIRST_DATE <= day <= LAST_DATE):
            raise FieldError(_l("%(field)s: must be a date from %(first)s to %(last)s.", field=label,
                                first=FIRST_DATE.strftime("%d.%m.%Y"), last=LAST_DATE.strftime("%d.%m.%Y")))
        return value

    return rule


def number_within(label, limit: Decimal) -> callable:
    """A field rule: a number no larger (either sign) than its column holds; empty or non-numbers pass
    (those are the field's own type check)."""

    def rule(value):
        if value is None or value == "" or isinstance(value, bool):
            return value
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return value
        if not number.is_finite() or abs(number) > limit:
            raise FieldError(_l("%(field)s: the number is too large.", field=label))
        return value

    return rule


def _numeric_capacity(kind) -> Decimal | None:
    """The largest absolute value a numeric column type holds, or None for other types."""
    if isinstance(kind, types.BigInteger):
        return Decimal(INT64_MAX)
    if isinstance(kind, types.Integer):
        return Decimal(INT32_MAX)
    if isinstance(kind, types.Numeric) and not isinstance(kind, types.Float) and kind.precision is not None:
        scale = kind.scale or 0
        return Decimal(10) ** (kind.precision - scale) - Decimal(10) ** -scale
    if isinstance(kind, types.Numeric):
        return Decimal(INT64_MAX)
    return None


def column_bound_rules(model, names, labels: dict | None = None) -> dict[str, callable]:
    """name -> the field rule bounding that column by its type: dates from 1900 to 2100, numbers within what
    the column holds. Forms, the API and every write use these, so the database never refuses a value."""
    columns = model.__table__.columns
    rules = {}
    for name in names:
        column = columns.get(name)
        if column is None:
            continue
        label = (labels or {}).get(name, name)
        limit = _numeric_capacity(column.type)
        if isinstance(column.type, (types.Date, types.DateTime)):
            rules[name] = date_within_bounds(label)
        elif limit is not None:
            rules[name] = number_within(label, limit)
    return rules


def bounded_text(label, max_length: int, required: bool = False) -> callable:
    """A field rule: text without NUL bytes and at most max_length characters, stripped; refused, never cut."""

    def rule(value) -> str:
        text = str(value or "").strip()
        if required and not text:
            raise FieldError(_l("%(field)s: is required.", field=label))
        if "\x00" in text:
            raise FieldError(_l("%(field)s: contains a character that is not allowed (NUL).", field=label))
        if len(text) > max_length:
            raise FieldError(_l("%(field)s: at most %(count)s characters.", field=label, count=max_length))
        return text

    return rule


REASON_MAX_LENGTH = 500


def required_reason(text, error: type[Exception]) -> str:
    """The reason the office gives for an action on money or a membership (a credit note, a write-off, a return,
    an ending for non-payment): required, at most REASON_MAX_LENGTH characters; refused as `error`, naming the
    field."""
    try:
        return bounded_text(_l("Reason"), REASON_MAX_LENGTH, required=True)(text)
    except FieldError as exc:
        raise error(exc.message) from None


def row_id(text) -> int | None:
    """A row id from a URL: a whole number that fits the 64-bit id columns, else None (no such row)."""
    text = str(text)
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= INT64_MAX else None


def whole_number_between(text, low: int, high: int) -> int | None:
    """A whole number from a URL argument within [low, high], else None."""
    text = str(text).strip()
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 20:
        return None
    number = int(text)
    return number if low <= number <= high else None


def fits_int64(value) -> bool:
    """True when a number (int or float) can be compared with a 64-bit column without overflow."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -INT64_MAX - 1 <= value <= INT64_MAX
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) <= INT64_MAX
    return True
