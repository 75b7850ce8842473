"""Collective agreements: who an agreement covers on a day (the edges of the agreement's validity, of the
employment and of the membership; with and without categories)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.factories import build_world, make_member
from tests.helpers import login
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import AuditEntry, Employment
from webapp.models.choices import EmployerAssociation, MemberCategory
from webapp.models.outreach import CollectiveAgreement
from webapp.services.agreements import categories_of, covered_count, covered_member_ids, covers, set_categories

VALID_FROM = dt.date(2024, 5, 1)
VALID_TO = dt.date(2026, 4, 30)
DAY = dt.date(2025, 6, 15)


def add_agreement(employers, name="Statens hovedtariffavtale", valid_from=VALID_FROM, valid_to=VALID_TO,
                  categories=()):
    agreement = CollectiveAgreement(name=name, counterpart_association=EmployerAssociation.staten,
                                    valid_from=valid_from, valid_to=valid_to)
    agreement.employers = list(employers)
    db.session.add(agreement)
    db.session.flush()
    set_categories(agreement.id, categories)
    db.session.flush()
    return agreement


@pytest.fixture()
def register(app_ctx):
    """The test world, plus a member whose employment at E1 runs 2025-03-10..2025-09-20 and whose membership
    runs 2025-02-01..2025-10-31, and an apprentice at E1."""
    world = build_world()
    short = make_member(world.units["AV1"], "Kort", "Ansatt", left_on=dt.date(2025, 10, 31))
    short.joined_on = dt.date(2025, 2, 1)
    db.session.add(Employment(member=short, employer=world.employers["E1"], workplace=world.workplaces["W1"],
                              start_date=dt.date(2025, 3, 10), end_date=dt.date(2025, 9, 20), position_pct=100))
    apprentice = make_member(world.units["AV1"], "Lære", "Ling")
    apprentice.category = MemberCategory.apprentice
    db.session.add(Employment(member=apprentice, employer=world.employers["E1"], workplace=world.workplaces["W1"],
                              start_date=dt.date(2020, 1, 1), position_pct=100))
    db.session.flush()
    world.members["short"] = short
    world.members["apprentice"] = apprentice
    return world


def ids(world, *keys):
    return {world.members[key].id for key in keys}


def test_covered_are_the_members_employed_at_covered_employers(register):
    agreement = add_agreement([register.employers["E1"]])
    assert covered_member_ids(agreement.id, DAY) == ids(register, "inside", "club", "short", "apprentice")
    assert covered_count(agreement.id, DAY) == 4
    both = add_agreement([register.employers["E1"], register.employers["E2"]], name="Begge")
    assert covered_member_ids(both.id, DAY) == ids(register, "inside", "club", "short", "apprentice", "outside")
    for member in register.members.values():
        assert covers(agreement.id, member.id, DAY) == (member.id in covered_member_ids(agreement.id, DAY))


@pytest.mark.parametrize(("day", "covered"), [
    (VALID_FROM - dt.timedelta(days=1), False),
    (VALID_FROM, True),
    (VALID_TO, True),
    (VALID_TO + dt.timedelta(days=1), False),
])
def test_the_agreements_validity_edges(register, day, covered):
    agreement = add_agreement([register.employers["E1"]])
    assert (register.members["inside"].id in covered_member_ids(agreement.id, day)) is covered


def test_an_open_ended_agreement_covers_every_later_day(register):
    agreement = add_agreement([register.employers["E1"]], valid_to=None)
    assert register.members["inside"].id in covered_member_ids(agreement.id, dt.date(2099, 12, 31))


@pytest.mark.parametrize(("day", "covered"), [
    (dt.date(2025, 3, 9), False),   # the day before the employment starts (membership already current)
    (dt.date(2025, 3, 10), True),   # the first day of the employment
    (dt.date(2025, 9, 20), True),   # the last day of the employment
    (dt.date(2025, 9, 21), False),  # the day after it ended (membership still current)
])
def test_the_employments_edges(register, day, covered):
    agreement = add_agreement([register.employers["E1"]])
    assert (register.members["short"].id in covered_member_ids(agreement.id, day)) is covered


def test_the_memberships_edges(register):
    """Membership current by its dates as entered: a member who left on the 20th is covered on the 20th, not the
    21st, though the employment goes on."""
    member = register.members["short"]
    member_row = db.session.get(type(member), member.id)
    member_row.left_on = dt.date(2025, 6, 20)
    member_row.joined_on = dt.date(2025, 3, 12)
    db.session.flush()
    agreement = add_agreement([register.employers["E1"]])
    covered = {day: member.id in covered_member_ids(agreement.id, day)
               for day in (dt.date(2025, 3, 11), dt.date(2025, 3, 12), dt.date(2025, 6, 20), dt.date(2025, 6, 21))}
    assert covered == {dt.date(2025, 3, 11): False, dt.date(2025, 3, 12): True, dt.date(2025, 6, 20): True,
                       dt.date(2025, 6, 21): False}


def test_categories_limit_the_cover(register):
    apprentices = add_agreement([register.employers["E1"]], name="Lærlinger", categories=[MemberCategory.apprentice])
    assert covered_member_ids(apprentices.id, DAY) == ids(register, "apprentice")
    ordinary = add_agreement([register.employers["E1"]], name="Ordinære", categories=[MemberCategory.ordinary])
    assert covered_member_ids(ordinary.id, DAY) == ids(register, "inside", "club", "short")
    every = add_agreement([register.employers["E1"]], name="Alle",
                          categories=[MemberCategory.ordinary, MemberCategory.apprentice])
    assert covered_member_ids(every.id, DAY) == ids(register, "inside", "club", "short", "apprentice")


def test_an_agreement_without_employers_covers_nobody_and_an_unknown_id_neither(register):
    assert covered_member_ids(add_agreement([]).id, DAY) == set()
    assert covered_member_ids(10**9, DAY) == set()


# ------------------------------------------------------------------ the office's screen


def agreement_form(world, **values):
    form = {"name": "Spekter A2 helseforetak", "counterpart_association": "spekter", "counterpart_employer": "",
            "valid_from": "2024-05-01", "valid_to": "2026-04-30",
            "employers": [str(world.employers["E1"].id), str(world.employers["E2"].id)],
            "categories": ["ordinary", "apprentice"], "note": "Hovedoppgjøret 2024"}
    form.update(values)
    return form


def test_the_office_adds_an_agreement_with_employers_and_categories(client, world, dbs):
    login(client, world.logins["office"])
    response = client.post("/agreementview/add", data=agreement_form(world))
    assert response.status_code == 302
    agreement = dbs.scalars(select(CollectiveAgreement)).one()
    assert agreement.counterpart_association == EmployerAssociation.spekter
    assert {employer.id for employer in agreement.employers} == {world.employers["E1"].id, world.employers["E2"].id}
    assert sorted(category.name for category in categories_of(agreement.id)) == ["apprentice", "ordinary"]
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.object_type == "collective_agreement")).one()
    assert entry.action == "create"
    # Editing replaces the categories (none: every category) and the employers.
    form = agreement_form(world, employers=[str(world.employers["E2"].id)], categories=[])
    assert client.post(f"/agreementview/edit/{agreement.id}", data=form).status_code == 302
    dbs.expire_all()
    agreement = dbs.get(CollectiveAgreement, agreement.id)
    assert [employer.id for employer in agreement.employers] == [world.employers["E2"].id]
    assert categories_of(agreement.id) == []
    edit_page = client.get(f"/agreementview/edit/{agreement.id}").get_data(as_text=True)
    assert f'<option value="{world.employers["E2"].id}" selected>Virksomhet E2</option>' in edit_page


def test_the_agreements_page_shows_how_many_it_covers_today(client, world, dbs):
    login(client, world.logins["office"])
    client.post("/agreementview/add", data=agreement_form(world, valid_to="", categories=[],
                                                           employers=[str(world.employers["E1"].id)]))
    agreement = dbs.scalars(select(CollectiveAgreement)).one()
    page = client.get(f"/agreementview/show/{agreement.id}").get_data(as_text=True)
    today = dt.date.today()
    assert translated(client.application, "Members covered today (%(date)s): %(count)s",
                      date=today.strftime("%d.%m.%Y"), count=2) in page
    assert covered_count(agreement.id, today) == 2
    assert client.get("/agreementview/show/999999").status_code == 404


@pytest.mark.parametrize(("values", "msgid", "field"), [
    ({"counterpart_association": "none"}, "Counterpart: choose an employer association or a single employer.", None),
    ({"counterpart_employer": "E1"}, "Counterpart: an employer association or a single employer, not both.", None),
    ({"valid_to": "2024-04-30"}, "Valid to: cannot be before valid from.", None),
    ({"name": "x" * 151}, "%(field)s: at most %(count)s characters.", "Name"),
    ({"note": "x" * 501}, "%(field)s: at most %(count)s characters.", "Note"),
    ({"employers": ["999999"]}, "Employers covered: choose employers from the list.", None),
    ({"employers": ["1 OR 1=1"]}, "Employers covered: choose employers from the list.", None),
    ({"categories": ["boss"]}, "Categories covered: choose from the list.", None),
])
def test_the_agreement_form_names_the_field_of_each_mistake(client, world, dbs, values, msgid, field):
    login(client, world.logins["office"])
    if values.get("counterpart_employer") == "E1":
        values = {**values, "counterpart_employer": str(world.employers["E1"].id)}
    response = client.post("/agreementview/add", data=agreement_form(world, **values))
    page = response.get_data(as_text=True)
    app = client.application
    if field:
        count = 150 if field == "Name" else 500
        expected = translated(app, msgid, field=translated(app, field), count=count)
    else:
        expected = translated(app, msgid)
    assert response.status_code == 200 and expected in page, page[-3000:]
    assert dbs.scalar(select(func.count(CollectiveAgreement.id))) == 0


def test_an_agreement_with_ballots_is_not_deleted(client, world, dbs):
    from webapp.services import ballots

    login(client, world.logins["office"])
    client.post("/agreementview/add", data=agreement_form(world))
    agreement = dbs.scalars(select(CollectiveAgreement)).one()
    ballots.create(ballots.BallotForm(agreement.id, "Uravstemning", dt.date(2025, 1, 1), dt.date(2025, 2, 1)))
    page = client.post(f"/agreementview/delete/{agreement.id}", follow_redirects=True).get_data(as_text=True)
    assert translated(client.application, "The agreement has ballots: it cannot be deleted.") in page
    assert dbs.scalar(select(func.count(CollectiveAgreement.id))) == 1
