"""How values read in lists and detail pages: enums by label, dates and numbers the Norwegian way (a decimal
comma, no trailing zeros: a percentage of full time reads 100, not 100.00), nothing for missing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from webapp.models.choices import LabelledEnum
from webapp.services.money import decimal_text


def display_value(value) -> str:
    """How a value reads in lists and detail pages."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if isinstance(value, LabelledEnum):
        return value.label
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, (Decimal, float)):
        return decimal_text(value)
    return str(value)


def enum_display(enum_class: type[LabelledEnum]):
    def display(code) -> str:
        if code in (None, ""):
            return ""
        member = code if isinstance(code, enum_class) else enum_class[code]
        return member.label

    return display
