"""Each date rule of the register is written once and pinned here with its edge days (issue 12).

- current on a day (`periods.current_on`, SQL twin `current_clause`): start <= day <= end, no end: open;
- active member on a day (`membership.active_member_clause`): periodized, as the LO report counts;
- the main employment: the largest position, then the oldest (the deduction basis and the LO report).

The screens that used copies of these rules (the unit page, the statistics page, the role chooser, a
trustee's people) are checked to follow them.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from tests.factories import add_initial_rate, make_member, make_user
from tests.helpers import login_as
from webapp.extensions import db
from webapp.models import DeductionContact, Employment, Member, OrgUnit, Position, Workplace
from webapp.models.choices import PositionType
from webapp.security import roles
from webapp.security import scope as sc
from webapp.security.rowfilters import visible_clause
from webapp.services.membership import active_member_between_clause, active_member_clause, is_active_member
from webapp.services.notices import current_contacts
from webapp.services.periods import Month, current_clause, current_on

DAY = dt.date(2026, 3, 15)
ONE = dt.timedelta(days=1)
LONG_AGO = dt.date(2010, 1, 1)

# (what, start, end, day, current?)
CURRENT_EDGES = [
    ("starts tomorrow", DAY + ONE, None, DAY, False),
    ("starts today", DAY, None, DAY, True),
    ("ended yesterday", LONG_AGO, DAY - ONE, DAY, False),
    ("ends today", LONG_AGO, DAY, DAY, True),
    ("ends tomorrow", LONG_AGO, DAY + ONE, DAY, True),
    ("open end", LONG_AGO, None, DAY, True),
    ("one-day span, that day", DAY, DAY, DAY, True),
]

# (what, joined, left, day, active?) -- periodized: a join counts from the 1st of the next month (a join on
# the 1st: that day), a leave to the end of its month.
FIRST = Month.of(DAY).first_day
ACTIVE_EDGES = [
    ("joined on the 1st", FIRST, None, DAY, True),
    ("joined on the 2nd", FIRST + ONE, None, DAY, False),
    ("joins tomorrow", DAY + ONE, None, DAY, False),
    ("left yesterday", LONG_AGO, DAY - ONE, DAY, True),
    ("left today", LONG_AGO, DAY, DAY, True),
    ("leaves tomorrow", LONG_AGO, DAY + ONE, DAY, True),
    ("left on the last day of the month before", LONG_AGO, FIRST - ONE, DAY, False),
    ("on a 1st: left yesterday", LONG_AGO, FIRST - ONE, FIRST, False),
    ("on a 1st: joined today", FIRST, None, FIRST, True),
    ("never left", LONG_AGO, None, DAY, True),
]


def _ids(edges):
    return [edge[0] for edge in edges]


# ------------------------------------------------------------------ current on a day


@pytest.mark.parametrize(("what", "start", "end", "day", "expected"), CURRENT_EDGES, ids=_ids(CURRENT_EDGES))
def test_current_on(what, start, end, day, expected):
    assert current_on(start, end, day) is expected


def test_current_on_without_a_start_is_never_current():
    assert current_on(None, None, DAY) is False


def test_the_sql_twin_of_current_on_agrees_on_every_edge(app_ctx, world):
    holder = db.session.get(Member, world.members["inside"].id)
    expected = {}
    for what, start, end, _day, current in CURRENT_EDGES:
        position = Position(member=holder, type=PositionType.leader, org_unit_id=world.units["AV2"].id,
                            start_date=start, end_date=end)
        db.session.add(position)
        db.session.flush()
        expected[position.id] = (what, current)
    found = set(db.session.scalars(select(Position.id).where(Position.id.in_(expected), current_clause(Position, DAY))))
    assert {expected[pid][0] for pid in found} == {what for what, current in expected.values() if current}


# ------------------------------------------------------------------ active member on a day


@pytest.mark.parametrize(("what", "joined", "left", "day", "expected"), ACTIVE_EDGES, ids=_ids(ACTIVE_EDGES))
def test_active_member(what, joined, left, day, expected):
    assert is_active_member(Member(joined_on=joined, left_on=left), day) is expected


def _member_with_dates(unit: OrgUnit, last_name: str, joined: dt.date, left: dt.date | None) -> Member:
    member = make_member(unit, "Kant", last_name.replace(" ", "-").replace(":", "")[:40], left_on=left)
    member.joined_on = joined  # the factory fixes the join date
    return member


def _edge_members(av1, edges) -> dict[int, tuple]:
    members = {}
    for what, joined, left, day, active in edges:
        member = _member_with_dates(av1, what, joined, left)
        members[member.id] = (what, day, active)
    db.session.flush()
    return members


@pytest.mark.parametrize("day", [DAY, FIRST])
def test_the_sql_twin_of_active_member_agrees_on_every_edge(app_ctx, world, day):
    edges = [edge for edge in ACTIVE_EDGES if edge[3] == day]
    members = _edge_members(db.session.get(OrgUnit, world.units["AV1"].id), edges)
    found = set(db.session.scalars(select(Member.id).where(Member.id.in_(members), active_member_clause(day))))
    assert {members[mid][0] for mid in found} == {what for what, _day, active in members.values() if active}


# A span of months (a refund quarter, a development report) and who is active in some month of it.
SPAN = (Month(2026, 1), Month(2026, 3))
SPAN_EDGES = [
    ("joined on the last month's 1st", dt.date(2026, 3, 1), None, True),
    ("joined on the last month's 2nd", dt.date(2026, 3, 2), None, False),
    ("left on the first month's 1st", LONG_AGO, dt.date(2026, 1, 1), True),
    ("left the day before the span", LONG_AGO, dt.date(2025, 12, 31), False),
]


def test_active_in_a_span_of_months_is_active_in_one_of_its_months(app_ctx, world):
    first, last = SPAN
    av1 = db.session.get(OrgUnit, world.units["AV1"].id)
    members = {_member_with_dates(av1, what, joined, left).id: what for what, joined, left, _active in SPAN_EDGES}
    db.session.flush()
    found = {members[mid] for mid in db.session.scalars(
        select(Member.id).where(Member.id.in_(members), active_member_between_clause(first, last)))}
    months = [first, first.next, last]
    by_python = {what for what, joined, left, _active in SPAN_EDGES
                 if any(is_active_member(Member(joined_on=joined, left_on=left), m.first_day) for m in months)}
    assert found == by_python == {what for what, *_dates, active in SPAN_EDGES if active}


def _relative_edges(today: dt.date) -> list[tuple]:
    """Leavers and joiners around today, where a "has not left" count and the periodized count disagree."""
    first = Month.of(today).first_day
    return [
        ("joins tomorrow", today + ONE, None),
        ("joined on the 1st", first, None),
        ("joined on the 2nd", first + ONE, None),
        ("left yesterday", LONG_AGO, today - ONE),
        ("left today", LONG_AGO, today),
        ("leaves tomorrow", LONG_AGO, today + ONE),
        ("left last month", LONG_AGO, first - ONE),
    ]


@pytest.fixture()
def edge_world(clean_app, world):
    today = dt.date.today()
    with clean_app.app_context():
        av1 = db.session.get(OrgUnit, world.units["AV1"].id)
        for what, joined, left in _relative_edges(today):
            _member_with_dates(av1, what, joined, left)
        db.session.commit()
        db.session.remove()
    return world


def _number(page: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}">(\d+)<', page)
    assert match, f"no #{element_id} on the page"
    return int(match.group(1))


def test_the_statistics_page_counts_the_members_the_lo_report_counts(client, edge_world, dbs):
    from reports.membership import lo_report

    today = dt.date.today()
    login_as(client, edge_world.logins["analyst"])
    page = client.get("/statistics/").get_data(as_text=True)
    report = lo_report(today)
    members = dbs.execute(select(Member.joined_on, Member.left_on)).all()
    assert _number(page, "total-members") == report.total == sum(is_active_member(m, today) for m in members)
    # Its breakdowns add up to the same total (the category rows are Norwegian labels with counts).
    by_category = re.search(r'id="by-category">(.*?)</table>', page, re.S).group(1)
    assert sum(int(n) for n in re.findall(r'class="text-right">(\d+)</td>', by_category)) == report.total


def test_the_unit_page_counts_active_members_of_its_subtree(client, edge_world, dbs):
    today = dt.date.today()
    login_as(client, edge_world.logins["leader"], roles.LEADER)
    page = client.get("/unit/").get_data(as_text=True)
    subtree = {edge_world.units[code].id for code in ("AV1", "KL1")}
    members = dbs.scalars(select(Member).where(Member.home_unit_id.in_(subtree))).all()
    assert _number(page, "member-count") == sum(is_active_member(m, today) for m in members)


# ------------------------------------------------------------------ screens that follow "current"


def test_the_unit_page_lists_the_officers_current_today(client, world, dbs):
    today = dt.date.today()
    av1 = world.units["AV1"].id
    for last_name, start, end in [("Begynnerimorgen", today + ONE, None), ("Sluttetigaar", LONG_AGO, today - ONE),
                                  ("Slutterimorgen", LONG_AGO, today + ONE), ("Sluttaridag", LONG_AGO, today)]:
        holder = make_member(dbs.get(OrgUnit, av1), "Verv", last_name)
        dbs.add(Position(member=holder, type=PositionType.treasurer, org_unit_id=av1, start_date=start, end_date=end))
    dbs.commit()
    login_as(client, world.logins["leader"], roles.LEADER)
    page = client.get("/unit/").get_data(as_text=True)
    assert "Slutterimorgen" in page and "Sluttaridag" in page
    assert "Begynnerimorgen" not in page and "Sluttetigaar" not in page


def _options(username: str, day: dt.date) -> set[str]:
    from flask import current_app

    user = current_app.appbuilder.sm.find_user(username=username)
    return {option.role for option in sc.acting_options(user, day)}


@pytest.mark.parametrize(("what", "joined", "left", "has_page"), [
    ("left yesterday", LONG_AGO, DAY - ONE, False),
    ("left today", LONG_AGO, DAY, True),
    ("leaves tomorrow", LONG_AGO, DAY + ONE, True),
    ("joins tomorrow", DAY + ONE, None, False),
    ("joined today", DAY, None, True),
])
def test_the_member_page_is_open_while_the_membership_is_current(app_ctx, world, what, joined, left, has_page):
    member = db.session.get(Member, world.members["inside"].id)
    member.joined_on, member.left_on = joined, left
    db.session.commit()
    assert (roles.MEMBER in _options(world.logins["member"], DAY)) is has_page


@pytest.mark.parametrize(("what", "start", "end", "day", "current"), CURRENT_EDGES, ids=_ids(CURRENT_EDGES))
def test_a_position_gives_its_role_on_the_days_it_is_current(app_ctx, world, what, start, end, day, current):
    position = db.session.get(Position, world.positions["leader"].id)
    position.start_date, position.end_date = start, end
    db.session.commit()
    assert (roles.LEADER in _options(world.logins["leader"], day)) is current


def test_a_trustee_sees_the_people_employed_at_the_workplace_today(app_ctx, world):
    today = dt.date.today()
    w1 = db.session.get(Workplace, world.workplaces["W1"].id)
    av1 = db.session.get(OrgUnit, world.units["AV1"].id)
    spans = {"Begynnerimorgen": (today + ONE, None), "Sluttetigaar": (LONG_AGO, today - ONE),
             "Sluttaridag": (LONG_AGO, today), "Slutterimorgen": (LONG_AGO, today + ONE)}
    for last_name, (start, end) in spans.items():
        member = make_member(av1, "Ansatt", last_name)
        db.session.add(Employment(member=member, employer_id=w1.employer_id, workplace=w1, start_date=start,
                                  end_date=end, position_pct=100, on_deduction=True))
    db.session.commit()
    grant = sc.Grant(roles.WORKPLACE_TRUSTEE, sc.WORKPLACES, frozenset({w1.id}))
    seen = set(db.session.scalars(select(Member.last_name).where(visible_clause(Member, [grant]))))
    assert {"Sluttaridag", "Slutterimorgen"} <= seen
    assert not {"Begynnerimorgen", "Sluttetigaar"} & seen


def test_notices_go_to_the_contacts_in_post_today(app_ctx, world):
    today = dt.date.today()
    e1 = world.employers["E1"].id
    for username, start, end in [("20000101", today + ONE, None), ("20000102", LONG_AGO, today - ONE),
                                 ("20000103", LONG_AGO, today)]:
        db.session.add(DeductionContact(user=make_user(username), employer_id=e1, start_date=start, end_date=end))
    db.session.commit()
    in_post = {contact.user.username for contact in current_contacts(e1, today)}
    assert in_post == {world.logins["deduction_contact"], "20000103"}


# ------------------------------------------------------------------ the main employment


@pytest.mark.parametrize(("jobs", "main"), [
    ({"W1": (50, dt.date(2021, 1, 1)), "W2": (80, dt.date(2023, 1, 1))}, "W2"),  # the largest position
    ({"W1": (50, dt.date(2023, 1, 1)), "W2": (50, dt.date(2021, 1, 1))}, "W2"),  # equal: the oldest
    ({"W1": (50, dt.date(2021, 1, 1)), "W2": (50, dt.date(2021, 1, 1))}, "W1"),  # the same day: the first registered
])
def test_the_basis_and_the_lo_report_choose_the_same_main_employment(app_ctx, world, jobs, main):
    from reports.membership import main_employment_subquery
    from webapp.services.deduction_basis import compute_month

    rate = add_initial_rate()
    member = make_member(db.session.get(OrgUnit, world.units["AV1"].id), "To", "Jobber", travel_insurance=True)
    places = {key: db.session.get(Workplace, world.workplaces[key].id) for key in jobs}
    for key, (pct, start) in jobs.items():  # registered in the order listed
        db.session.add(Employment(member=member, employer_id=places[key].employer_id, workplace=places[key],
                                  start_date=start, position_pct=pct, on_deduction=True))
        db.session.flush()
    db.session.commit()
    month = Month.of(dt.date.today())
    basis = compute_month(month, rate)
    travel_at = {employer for employer, lines in basis.items() if member.id in lines
                 and lines[member.id].travel_insurance}
    assert travel_at == {places[main].employer_id}
    report_main = main_employment_subquery(month.first_day)
    county = db.session.scalar(select(report_main.c.county).where(report_main.c.member_id == member.id))
    assert county == places[main].county
