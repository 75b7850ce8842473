"""Membership dues: what a member owes for a month under the dues rate in force.

One place for the rule, used by the deduction basis and the demo cycle:

- The rate in force for a month is the newest `DuesRate` valid on the month's
  first day.
- Ordinary members pay a percentage of their pay. Arithmetic is Decimal; the
  result is rounded once, half up, to whole øre (1.1 % of 33,333.33 kr is
  366.67 kr), then held between the rate's monthly minimum and maximum where
  they are set. The clamp applies to the percentage dues of one deduction line,
  the amount one employer deducts.
- The fixed components ride on the member's main employment only: contents
  insurance and travel insurance (each unless the member has opted out) for
  ordinary members; apprentices pay a flat amount instead of the percentage
  and have no insurances.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from sqlalchemy import BigInteger, case, literal, select

from webapp.extensions import db
from webapp.models import DuesRate
from webapp.services.periods import Month

WHOLE_ORE = Decimal(1)


@dataclass(frozen=True)
class FixedComponents:
    """Which parts of the dues a member pays at one employer, and the fixed amount in øre."""

    ordinary_dues: bool
    contents_insurance: bool
    travel_insurance: bool
    apprentice: bool
    fixed_amount_ore: int


class DuesLine(Protocol):
    """What a deduction line must tell: a basis line, its Components or a row read from them."""

    ordinary_dues: bool
    fixed_amount_ore: int


def rate_in_force(month: Month) -> DuesRate | None:
    """The newest rate valid on the month's first day; None when no rate is valid yet."""
    return db.session.scalars(
        select(DuesRate).where(DuesRate.valid_from <= month.first_day).order_by(DuesRate.valid_from.desc()).limit(1)
    ).first()


def fixed_components(rate: DuesRate, *, apprentice: bool, main_employment: bool, contents_insurance: bool,
                     travel_insurance: bool) -> FixedComponents:
    """The components of one employment; `contents_insurance`/`travel_insurance` say whether the member has them."""
    if apprentice:
        flat = rate.apprentice_flat_ore if main_employment else 0
        return FixedComponents(False, False, False, True, flat)
    contents = main_employment and bool(contents_insurance)
    travel = main_employment and bool(travel_insurance)
    fixed = (rate.contents_insurance_ore if contents else 0) + (rate.travel_insurance_ore if travel else 0)
    return FixedComponents(True, contents, travel, False, fixed)


def percentage_dues_ore(rate: DuesRate, pay_ore: int | Decimal) -> int:
    """The rate's percentage of a month's pay in øre, rounded half up to whole øre, within the rate's min and max."""
    unclamped = (_decimal(pay_ore) * _decimal(rate.percent) / 100).quantize(WHOLE_ORE, rounding=ROUND_HALF_UP)
    return clamp(int(unclamped), rate.monthly_min_ore, rate.monthly_max_ore)


def percentage_dues_sql(rate: DuesRate, pay_scaled, scale: int):
    """SQL twin of `percentage_dues_ore` for a pay of `pay_scaled` / 10**`scale` øre, `pay_scaled` an integer
    expression: the arithmetic stays in integers on both engines (a product of at most 10^17 for a pay up to
    10^7 øre at scale 4 and a percentage of six digits), and half up is (2n + d) div 2d for n >= 0."""
    percent = _decimal(rate.percent)
    decimals = max(0, -percent.as_tuple().exponent)
    percent_digits = int(percent.scaleb(decimals))
    denominator = 10**scale * 10**decimals * 100
    unclamped = (pay_scaled * (2 * percent_digits) + denominator) // (2 * denominator)
    bounds = []
    if rate.monthly_min_ore is not None:
        bounds.append((unclamped < rate.monthly_min_ore, literal(int(rate.monthly_min_ore), BigInteger)))
    if rate.monthly_max_ore is not None:
        bounds.append((unclamped > rate.monthly_max_ore, literal(int(rate.monthly_max_ore), BigInteger)))
    return case(*bounds, else_=unclamped) if bounds else unclamped


def clamp(amount_ore: int, minimum_ore: int | None, maximum_ore: int | None) -> int:
    """The amount held between a minimum and a maximum; a bound that is not set does not hold."""
    if minimum_ore is not None and amount_ore < minimum_ore:
        return minimum_ore
    if maximum_ore is not None and amount_ore > maximum_ore:
        return maximum_ore
    return amount_ore


def line_dues_ore(rate: DuesRate, pay_ore: int | Decimal, line: DuesLine) -> int:
    """What one employer deducts for a member in a month: the percentage dues if ordinary, plus the fixed amount."""
    percentage = percentage_dues_ore(rate, pay_ore) if line.ordinary_dues else 0
    return percentage + line.fixed_amount_ore


def _decimal(value: int | float | Decimal) -> Decimal:
    # Through str, so a float such as 1.1 (a rate not yet reloaded from the database) is the 1.1 that was typed.
    return value if isinstance(value, Decimal) else Decimal(str(value))
