"""Direct dues: what a member who pays the union directly owes for a month. Rates are data, dated.

- The dues: the `DirectDuesRate` in force on the month's first day (the newest `valid_from` on or before it)
  for the member's category; for ordinary members for their declared income band (the band marked
  `is_default` when they have declared none). A rate without a band is the category's rate for every band
  that has no rate of its own.
- The insurances, for ordinary members only: the contents and travel insurance of the deduction `DuesRate` in
  force, as for members on deduction (webapp.services.dues.fixed_components; an opt-out applies).

A month without a rate in force is refused (`DirectDuesError` names the month and the category), never billed
at 0. `DuesTable` holds every rate (the tables are small) and answers member-months from memory, so billing
100,000 members reads the rates once.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass, field

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import DirectDuesRate, DuesRate, IncomeBand, Member
from webapp.models.choices import MemberCategory
from webapp.services import dues
from webapp.services.periods import Month


class DirectDuesError(ValueError):
    pass


@dataclass(frozen=True)
class MonthDues:
    """One member-month of direct dues, in øre, by component."""

    dues_ore: int
    contents_insurance_ore: int = 0
    travel_insurance_ore: int = 0

    @property
    def total_ore(self) -> int:
        return self.dues_ore + self.contents_insurance_ore + self.travel_insurance_ore


@dataclass
class DuesTable:
    """Every direct dues rate and deduction rate, to price member-months without a query each."""

    # (category, income band id or None) -> [(valid_from, monthly øre)], oldest first
    direct: dict[tuple[MemberCategory, int | None], list[tuple[dt.date, int]]]
    # [(valid_from, DuesRate)], oldest first
    deduction: list[tuple[dt.date, DuesRate]]
    default_band_id: int | None
    band_codes: dict[int, str] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict)

    def direct_rate_ore(self, month: Month, category: MemberCategory, band_id: int | None) -> int | None:
        """The monthly direct dues in force for the category (and band) on the month's first day, or None."""
        keys = [(category, band_id), (category, None)] if band_id is not None else [(category, None)]
        for key in keys:
            found = _in_force(self.direct.get(key, []), month.first_day)
            if found is not None:
                return found
        return None

    def deduction_rate(self, month: Month) -> DuesRate | None:
        return _in_force(self.deduction, month.first_day)

    def month_dues(self, month: Month, category: MemberCategory, band_id: int | None, contents_insurance: bool,
                   travel_insurance: bool) -> MonthDues:
        """The member-month's dues by component; refuses a month without the rates it needs."""
        key = (month, category, band_id, bool(contents_insurance), bool(travel_insurance))
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._price(*key)
        return cached

    def _price(self, month: Month, category: MemberCategory, band_id: int | None, contents_insurance: bool,
               travel_insurance: bool) -> MonthDues:
        ordinary = category == MemberCategory.ordinary
        band = (band_id if band_id is not None else self.default_band_id) if ordinary else None
        monthly = self.direct_rate_ore(month, category, band)
        if monthly is None:
            band_text = f" (income band {self.band_codes.get(band, band)})" if band is not None else ""
            if ordinary and band is None:
                band_text = " (no income band declared, and none is marked as the default)"
            raise DirectDuesError(f"period: no direct dues rate for {category.name} members{band_text} is in force "
                                  f"in {month}; the office must register one")
        if not ordinary:
            return MonthDues(monthly)
        rate = self.deduction_rate(month)
        if rate is None:
            raise DirectDuesError(f"period: no dues rate (insurances) is in force in {month}; "
                                  "the office must register one")
        parts = dues.fixed_components(rate, apprentice=False, main_employment=True,
                                      contents_insurance=contents_insurance, travel_insurance=travel_insurance)
        return MonthDues(
            monthly,
            rate.contents_insurance_ore if parts.contents_insurance else 0,
            rate.travel_insurance_ore if parts.travel_insurance else 0,
        )


def _in_force(dated: list[tuple[dt.date, object]], day: dt.date):
    """The value of the newest entry valid on `day` in a list of (valid_from, value) sorted by date."""
    index = bisect_right([valid_from for valid_from, _ in dated], day)
    return dated[index - 1][1] if index else None


def load() -> DuesTable:
    """Every rate, read once."""
    direct: dict[tuple[MemberCategory, int | None], list[tuple[dt.date, int]]] = {}
    for valid_from, category, band_id, monthly in db.session.execute(
        select(DirectDuesRate.valid_from, DirectDuesRate.category, DirectDuesRate.income_band_id,
               DirectDuesRate.monthly_ore).order_by(DirectDuesRate.valid_from, DirectDuesRate.id)
    ).all():
        direct.setdefault((category, band_id), []).append((valid_from, int(monthly)))
    deduction = [(rate.valid_from, rate)
                 for rate in db.session.scalars(select(DuesRate).order_by(DuesRate.valid_from)).all()]
    bands = db.session.execute(select(IncomeBand.id, IncomeBand.code, IncomeBand.is_default)
                               .order_by(IncomeBand.lower_ore, IncomeBand.id)).all()
    default_band = next((band.id for band in bands if band.is_default), None)
    return DuesTable(direct, deduction, default_band, {band.id: band.code for band in bands})


def member_month_dues(member: Member, month: Month, table: DuesTable | None = None) -> MonthDues:
    """One member's direct dues for a month (the screens; billing uses a loaded table)."""
    return (table or load()).month_dues(month, member.category, member.income_band_id, member.contents_insurance,
                                        member.travel_insurance)
