"""A deduction portal with a month before: E1's February list delivered, March's basis waiting for its list.

E1's basis holds three kinds of line: Kari Nordmann (ordinary, both insurances: 176 kr fixed + 1.1 % of pay),
Ola Æsøy (ordinary without insurances: nothing fixed) and Lars Lærling (apprentice: 42 kr, all of it).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

from sqlalchemy import select

from tests.factories import add_initial_rate, make_member
from tests.helpers import login
from tests.mypage_helpers import deliver_list
from webapp.extensions import db
from webapp.models import DeductionList, Employment, Member, OrgUnit, Workplace
from webapp.models.choices import ListStatus, MemberCategory
from webapp.services import deduction_basis, deduction_lists
from webapp.services.deduction_lists import LineInput
from webapp.services.periods import Month

BEFORE, PERIOD = "2026-02", "2026-03"
# What E1 reported for February, by member key.
FEBRUARY = {"inside": 3125_0, "club": 2500_0, "apprentice": 42_00}
# What E2 reported in February for Kari's national id: never shown to E1.
E2_FEBRUARY = 999_00


@dataclass
class PortalMonths:
    world: object
    member_ids: dict[str, int]
    february_list_id: int

    @property
    def contact(self) -> str:
        return self.world.logins["deduction_contact"]


def build_portal_months(app, world) -> PortalMonths:
    with app.app_context():
        ola = db.session.get(Member, world.members["club"].id)
        ola.contents_insurance = ola.travel_insurance = False
        av1 = db.session.get(OrgUnit, world.units["AV1"].id)
        lars = make_member(av1, "Lars", "Lærling", birth=dt.date(2005, 3, 3))
        lars.category = MemberCategory.apprentice
        place = db.session.get(Workplace, world.workplaces["W1"].id)
        db.session.add(Employment(member=lars, employer_id=place.employer_id, workplace=place,
                                  start_date=dt.date(2020, 1, 1), position_pct=100, on_deduction=True))
        db.session.commit()
        add_initial_rate()
        deduction_basis.generate(Month.parse(BEFORE))
        deduction_basis.generate(Month.parse(PERIOD))
        member_ids = {"inside": world.members["inside"].id, "club": ola.id, "apprentice": lars.id}
        february = deduction_lists.create_list(world.employers["E1"].id, BEFORE, None)
        by_member = {line.member_id: line.id for line in february.lines}
        deduction_lists.approve(february, None, {
            by_member[member_ids[key]]: LineInput(amount=f"{amount / 100:.2f}".replace(".", ","))
            for key, amount in FEBRUARY.items()})
        deliver_list(world.employers["E2"].id, BEFORE, {member_ids["inside"]: E2_FEBRUARY})
        months = PortalMonths(world, member_ids, february.id)
        db.session.remove()
    return months


def open_march_draft(client, months: PortalMonths) -> DeductionList:
    """The E1 contact logged in with March's main list open; the list as stored (lines by member)."""
    login(client, months.contact)
    assert client.post(f"/portal/lists/new/{PERIOD}").status_code == 302
    return march_draft(client.application)


def march_draft(app) -> DeductionList:
    with app.app_context():
        deduction_list = db.session.scalars(select(DeductionList).where(
            DeductionList.period == PERIOD, DeductionList.employer_id.is_not(None),
            DeductionList.status == ListStatus.draft)).one()
        deduction_list.lines  # noqa: B018 -- loaded before the session closes
        db.session.expunge_all()
        db.session.remove()
    return deduction_list


def stored_lines(app, list_id: int) -> dict[int | None, tuple]:
    """{member id: (amount, deviation name, comment)} of a list as stored now."""
    with app.app_context():
        deduction_list = db.session.get(DeductionList, list_id)
        lines = {line.member_id: (line.amount_ore, line.deviation.name if line.deviation else None, line.comment)
                 for line in deduction_list.lines}
        db.session.remove()
    return lines


def line_id_of(deduction_list: DeductionList, member_id: int) -> int:
    return next(line.id for line in deduction_list.lines if line.member_id == member_id)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(response) -> list[str]:
    """The flashed messages of a page, as text."""
    found = re.findall(r'<div class="alert alert-\w+[^"]*"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>|×", "", html.unescape(text))).strip() for text in found]
