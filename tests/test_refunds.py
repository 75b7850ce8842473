"""Quarterly refunds: the split to the øre, periodization, freezing, the documents and who may open them."""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.document_helpers import get_document
from tests.factories import make_member
from tests.helpers import api_token, login_as
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    Member,
    OrgUnit,
    Payment,
    PaymentImport,
    RefundDocument,
    RefundMember,
    RefundPolicy,
    RefundPool,
    RefundRun,
    RefundUnit,
)
from webapp.models.choices import MemberCategory, OrgLevel, RefundStatus
from webapp.services import refunds
from webapp.services.periods import Quarter
from webapp.services.refunds import (
    MonthCount,
    RefundError,
    Terms,
    TreeUnit,
    distribute,
    largest_remainder,
)

Q1 = Quarter(2026, 1)


def make_policy(**overrides) -> RefundPolicy:
    values = {"valid_from": "2020-Q1", "share_national_association": Decimal(40), "share_branch": Decimal(40),
              "share_club": Decimal(20), "weight_retired": Decimal(0), **overrides}
    policy = RefundPolicy(**values)
    db.session.add(policy)
    db.session.commit()
    return policy


def add_member(unit: OrgUnit, first: str, last: str, **attributes) -> Member:
    """A member with dates or a category other than the factory's."""
    member = make_member(unit, first, last)
    for name, value in attributes.items():
        setattr(member, name, value)
    db.session.flush()
    return member


def pdf_text(data: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\u00a0", " ")


def snapshot(run_id: int) -> dict[int, int]:
    """The members an approved run stored, with their months counted."""
    rows = select(RefundMember.member_id, RefundMember.months).where(RefundMember.run_id == run_id)
    return dict(db.session.execute(rows).all())


def run_member_months(run: RefundRun) -> dict[int, int]:
    """The members the run counts (a draft's from the register, an approved run's from its snapshot)."""
    members = refunds.run_members(run)
    return dict(db.session.execute(select(members.c.member_id, members.c.months)).all())


def amounts(run_id: int) -> dict[str, int]:
    rows = select(RefundUnit.code, RefundUnit.amount_ore).where(RefundUnit.run_id == run_id)
    return dict(db.session.execute(rows).all())


# ------------------------------------------------------------------ the calculation, pure


def test_largest_remainder_adds_up_and_breaks_ties_by_code():
    parts = largest_remainder(100, {"b": 1, "a": 1, "c": 1}, lambda key: key)
    assert parts == {"a": 34, "b": 33, "c": 33}
    assert largest_remainder(0, {"a": 1}, str) == {"a": 0}
    assert largest_remainder(7, {"a": 0, "b": 0}, str) == {"a": 0, "b": 0}


@st.composite
def registers(draw):
    """A random tree (union > associations > branches > clubs), member counts and terms."""
    units = [TreeUnit(1, None, "NTF", "Forbundet", OrgLevel.union, False)]
    next_id = 2
    for a in range(draw(st.integers(1, 3))):
        association = TreeUnit(next_id, 1, f"LF{a}", "Landsforening", OrgLevel.national_association,
                               draw(st.booleans()))
        units.append(association)
        next_id += 1
        for b in range(draw(st.integers(0, 3))):
            branch = TreeUnit(next_id, association.id, f"AV{a}{b}", "Avdeling", OrgLevel.branch, draw(st.booleans()))
            units.append(branch)
            next_id += 1
            for c in range(draw(st.integers(0, 2))):
                units.append(TreeUnit(next_id, branch.id, f"KL{a}{b}{c}", "Klubb", OrgLevel.club, draw(st.booleans())))
                next_id += 1
    counts = []
    for unit in units:
        for category in draw(st.lists(st.sampled_from(list(MemberCategory)), max_size=3, unique=True)):
            members = draw(st.integers(0, 500))
            counts.append(MonthCount(unit.id, category, members, draw(st.integers(0, 3 * members))))
    shares = draw(st.lists(st.integers(0, 10_000), min_size=3, max_size=3))
    weights = draw(st.lists(st.sampled_from(["0", "0.5", "1", "1.25", "2"]), min_size=5, max_size=5))
    terms = Terms(
        shares={level: Decimal(share) / 100 for level, share in zip(
            (OrgLevel.national_association, OrgLevel.branch, OrgLevel.club), shares)},
        weights={category: Decimal(weight) for category, weight in zip(MemberCategory, weights)},
    )
    return units, counts, terms


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(register=registers(), pool=st.integers(0, 10**11), shuffle_seed=st.integers(0, 2**32))
def test_any_pool_and_member_data_add_up_to_the_pool_to_the_ore(register, pool, shuffle_seed):
    units, counts, terms = register
    try:
        result = distribute(pool, units, counts, terms)
    except RefundError:
        # Only when there is no unit that could receive anything.
        assert pool > 0
        assert not any(
            refund.unit.receives_refunds and refund.weighted_hundredths > 0 and terms.shares[refund.unit.level] > 0
            for refund in distribute(0, units, counts, terms).units.values()
        )
        return
    assert result.total_ore == pool
    assert all(refund.amount_ore >= 0 for refund in result.units.values())
    assert all(refund.amount_ore == 0 for refund in result.units.values() if not refund.unit.receives_refunds)
    # The same input in another order gives the same result.
    rng = random.Random(shuffle_seed)
    shuffled_units, shuffled_counts = list(units), list(counts)
    rng.shuffle(shuffled_units)
    rng.shuffle(shuffled_counts)
    again = distribute(pool, shuffled_units, shuffled_counts, terms)
    assert {k: v.amount_ore for k, v in again.units.items()} == {k: v.amount_ore for k, v in result.units.items()}


def test_a_member_counts_for_the_club_the_branch_and_the_association():
    units = [
        TreeUnit(1, None, "NTF", "Forbundet", OrgLevel.union, False),
        TreeUnit(2, 1, "LF1", "Landsforening", OrgLevel.national_association),
        TreeUnit(3, 2, "AV1", "Avdeling", OrgLevel.branch),
        TreeUnit(4, 3, "KL1", "Klubb", OrgLevel.club),
        TreeUnit(5, 3, "KL2", "Klubb uten refusjon", OrgLevel.club, receives_refunds=False),
        TreeUnit(6, 2, "AV2", "Avdeling to", OrgLevel.branch),
    ]
    counts = [MonthCount(4, MemberCategory.ordinary, 1, 3), MonthCount(5, MemberCategory.ordinary, 1, 3),
              MonthCount(6, MemberCategory.ordinary, 2, 6), MonthCount(6, MemberCategory.retired, 5, 15)]
    terms = Terms(shares={OrgLevel.national_association: Decimal(40), OrgLevel.branch: Decimal(40),
                          OrgLevel.club: Decimal(20)},
                  weights={category: Decimal(0 if category == MemberCategory.retired else 1)
                           for category in MemberCategory})
    result = distribute(100_00, units, counts, terms).units
    assert result[2].member_months == 12 and result[2].amount_ore == 40_00
    assert result[3].member_months == 6 and result[6].member_months == 6  # retired do not count
    assert result[3].amount_ore == 20_00 and result[6].amount_ore == 20_00
    # The club without refunds gets nothing; its share of the level goes to the other club.
    assert result[5].amount_ore == 0 and result[4].amount_ore == 20_00


def test_a_level_without_any_receiving_unit_leaves_its_share_to_the_other_levels():
    units = [TreeUnit(1, None, "NTF", "F", OrgLevel.union, False),
             TreeUnit(2, 1, "LF1", "L", OrgLevel.national_association),
             TreeUnit(3, 2, "AV1", "A", OrgLevel.branch)]
    terms = Terms(shares={OrgLevel.national_association: Decimal(30), OrgLevel.branch: Decimal(50),
                          OrgLevel.club: Decimal(20)},
                  weights={category: Decimal(1) for category in MemberCategory})
    result = distribute(80_00, units, [MonthCount(3, MemberCategory.ordinary, 1, 3)], terms)
    assert result.level_amounts == {OrgLevel.national_association: 30_00, OrgLevel.branch: 50_00, OrgLevel.club: 0}


# ------------------------------------------------------------------ calculate, periodization, approve


def test_periodization_join_on_the_15th_of_the_second_month_and_leave_in_the_first(app_ctx):
    from tests.factories import build_world

    world = build_world()
    make_policy()
    av2 = db.session.get(OrgUnit, world.units["AV2"].id)
    joiner = add_member(av2, "Jo", "Innmeldt", joined_on=dt.date(2026, 2, 15))
    leaver = add_member(av2, "Le", "Utmeldt", left_on=dt.date(2026, 1, 20))
    on_the_first = add_member(av2, "Fø", "Førstedag", joined_on=dt.date(2026, 2, 1))
    late = add_member(av2, "Se", "Sent", joined_on=dt.date(2026, 3, 2))
    db.session.commit()
    run = refunds.calculate(Q1, pool_ore=1000_00)
    # A draft stores no members: its lists count them from the register.
    assert snapshot(run.id) == {}
    draft = run_member_months(run)
    refunds.approve(Q1)
    # The approval stores exactly the members the draft counted.
    months = snapshot(run.id)
    assert months == draft and run_member_months(run) == months
    assert db.session.scalar(select(func.count(RefundMember.id))) == len(months) == run.member_count
    assert months[joiner.id] == 1
    assert months[leaver.id] == 1
    assert months[on_the_first.id] == 2
    assert late.id not in months  # takes effect from April
    assert months[world.members["outside"].id] == 3


def test_calculation_stores_the_figures_and_adds_up(app_ctx):
    from tests.factories import build_world

    world = build_world()
    make_policy()
    add_member(db.session.get(OrgUnit, world.units["KL1"].id), "Pensjonert", "Pensjonist",
               category=MemberCategory.retired)
    db.session.commit()
    run = refunds.calculate(Q1, pool_ore=1000_01)
    assert run.status == RefundStatus.draft and run.pool_source == refunds.POOL_GIVEN
    by_code = {unit.code: unit for unit in refunds.unit_rows(run.id)}
    assert sum(unit.amount_ore for unit in by_code.values()) == 1000_01
    # AV1: inside, club and the four officers; KL1: the club member (the retired one does not count).
    assert by_code["AV1"].member_count == 6 and by_code["AV1"].member_months == 18
    assert by_code["KL1"].member_count == 1 and by_code["KL1"].amount_ore == 200_00  # the only club: the whole 20 %
    assert by_code["LF1"].member_months == 21 and by_code["LF2"].member_months == 3
    assert by_code["AV1"].amount_ore + by_code["AV2"].amount_ore == 400_00
    assert by_code["AV1"].amount_ore == 342_86 and by_code["AV2"].amount_ore == 57_14
    assert "NTF" not in by_code  # the union itself shares nothing
    assert run.member_count == 8
    # A pool beyond 32-bit integers (30 million kroner) is stored and split to the øre.
    run = refunds.calculate(Q1, pool_ore=30_000_000_00)
    assert run.pool_ore == 30_000_000_00
    assert sum(unit.amount_ore for unit in refunds.unit_rows(run.id)) == 30_000_000_00


def test_snapshot_rows_name_their_run_and_unit_in_the_subject_access_pdf(app_ctx):
    """refund_member has no foreign keys (they slowed the snapshot); its run and unit are still named as before."""
    from tests.factories import build_world
    from webapp.views.subject_access_pdf import value_text

    build_world()
    make_policy()
    db.session.commit()
    run = refunds.calculate(Q1, pool_ore=1000_00)
    refunds.approve(Q1)
    table = RefundMember.__table__
    row = db.session.scalars(select(RefundMember).where(RefundMember.run_id == run.id)).first()
    assert value_text(table, table.c.run_id, row.run_id) == value_text(RefundUnit.__table__,
                                                                       RefundUnit.__table__.c.run_id, run.id)
    unit = db.session.get(OrgUnit, row.unit_id)
    assert value_text(table, table.c.unit_id, row.unit_id) == str(unit) and str(unit) != str(unit.id)


def test_pool_comes_from_the_quarter_then_the_policy(app_ctx):
    from tests.factories import build_world

    build_world()
    policy = make_policy(pool_percent=Decimal(25))
    run = refunds.calculate(Q1)  # nothing paid yet: a share of nothing is a pool of 0
    assert (run.pool_source, run.pool_ore) == (refunds.POOL_PAID_SHARE, 0)
    assert all(unit.amount_ore == 0 for unit in refunds.unit_rows(run.id))
    imported = PaymentImport(filename="x", sha256="0" * 64, imported_at=dt.datetime(2026, 4, 1))
    db.session.add(imported)
    db.session.flush()
    for n, (period, amount) in enumerate([("2026-01", 1000_00), ("2026-03", 600_01), ("2026-04", 9999_00)]):
        db.session.add(Payment(import_id=imported.id, bank_reference=f"r{n}", kid="1", amount_ore=amount,
                               period=period))
    db.session.commit()
    run = refunds.calculate(Q1)
    assert (run.pool_source, run.paid_ore, run.pool_ore) == (refunds.POOL_PAID_SHARE, 1600_01, 400_00)
    policy.pool_percent, policy.pool_ore = None, 5000_00
    db.session.commit()
    assert refunds.calculate(Q1).pool_ore == 5000_00
    refunds.set_pool(Q1, 1234_56)
    db.session.commit()
    run = refunds.calculate(Q1)
    assert (run.pool_source, run.pool_ore) == (refunds.POOL_QUARTER, 1234_56)
    assert refunds.calculate(Q1, pool_ore=10_00).pool_ore == 10_00
    assert db.session.scalar(select(func.count(RefundRun.id))) == 1  # recalculated, not duplicated


def test_without_a_policy_or_a_pool_nothing_is_written(app_ctx):
    from tests.factories import build_world

    build_world()
    with pytest.raises(RefundError, match=r"^Regelverk: ingen refusjonsregler"):
        refunds.calculate(Q1)
    make_policy()
    with pytest.raises(RefundError, match=r"^Pott: "):
        refunds.calculate(Q1)
    assert db.session.scalar(select(func.count(RefundRun.id))) == 0
    assert db.session.scalar(select(func.count(RefundMember.id))) == 0
    with pytest.raises(RefundError, match="beregn det først"):
        refunds.approve(Q1)


def test_approval_freezes_letters_and_lists(app_ctx):
    from reports.refunds import render_letter, render_member_list
    from tests.factories import build_world

    world = build_world()
    make_policy()
    refunds.calculate(Q1, pool_ore=1000_00)
    # A draft follows the register when calculated again.
    club_member = db.session.get(Member, world.members["club"].id)
    club_member.home_unit_id = world.units["AV1"].id
    db.session.commit()
    run = refunds.calculate(Q1, pool_ore=1000_00)
    assert {unit.code: unit.member_count for unit in refunds.unit_rows(run.id)}["KL1"] == 0
    club_member.home_unit_id = world.units["KL1"].id
    db.session.commit()
    run = refunds.calculate(Q1, pool_ore=1000_00)
    run, changed = refunds.approve(Q1, actor="kontor")
    assert changed and run.status == RefundStatus.approved
    kl1 = db.session.scalars(select(RefundUnit).where(RefundUnit.run_id == run.id, RefundUnit.code == "KL1")).one()
    av1 = db.session.scalars(select(RefundUnit).where(RefundUnit.run_id == run.id, RefundUnit.code == "AV1")).one()
    before = {name: pdf_text(render(unit)) for name, render, unit in
              (("kl1 letter", render_letter, kl1), ("kl1 list", render_member_list, kl1),
               ("av1 letter", render_letter, av1), ("av1 list", render_member_list, av1))}
    figures = amounts(run.id)
    approved_at = run.approved_at
    audit_count = db.session.scalar(select(func.count(AuditEntry.id)))

    # The register changes: the club member moves to another branch; a new member joins the club.
    club_member.home_unit_id = world.units["AV2"].id
    add_member(db.session.get(OrgUnit, world.units["KL1"].id), "Ny", "Nykommer", joined_on=dt.date(2025, 6, 1))
    db.session.commit()
    db.session.expire_all()

    after = {name: pdf_text(render(db.session.get(RefundUnit, unit.id))) for name, render, unit in
             (("kl1 letter", render_letter, kl1), ("kl1 list", render_member_list, kl1),
              ("av1 letter", render_letter, av1), ("av1 list", render_member_list, av1))}
    assert after == before
    assert "Æsøy, Ola" in after["kl1 list"] and "Nykommer" not in after["kl1 list"]

    # Approving again changes nothing; calculating an approved quarter is refused.
    run, changed = refunds.approve(Q1, actor="someone else")
    assert not changed and run.approved_at == approved_at and run.approved_by == "kontor"
    assert db.session.scalar(select(func.count(AuditEntry.id))) == audit_count
    with pytest.raises(RefundError, match="er godkjent og låst"):
        refunds.calculate(Q1, pool_ore=1)
    assert amounts(run.id) == figures


CHANGED = "medlemsregisteret er endret siden beregningen"


@pytest.mark.parametrize("change", ["joined", "left", "moved"])
def test_approval_refuses_when_the_register_changed_since_the_calculation(app_ctx, change):
    from tests.factories import build_world

    world = build_world()
    make_policy()
    run = refunds.calculate(Q1, pool_ore=1000_00)
    calculated_at = run.calculated_at.strftime("%d.%m.%Y %H:%M")
    if change == "joined":
        add_member(db.session.get(OrgUnit, world.units["KL1"].id), "Ny", "Nykommer", joined_on=dt.date(2025, 6, 1))
    elif change == "left":
        db.session.get(Member, world.members["club"].id).left_on = dt.date(2025, 11, 30)
    else:  # to another branch: the same members in all, but not under the same units
        db.session.get(Member, world.members["club"].id).home_unit_id = world.units["AV2"].id
    db.session.commit()
    audit_count = db.session.scalar(select(func.count(AuditEntry.id)))
    with pytest.raises(RefundError) as refused:
        refunds.approve(Q1, actor="kontor")
    assert str(refused.value) == (f"Kvartal: 1. kvartal 2026: {CHANGED} ({calculated_at}); beregn kvartalet på nytt "
                                  "før det godkjennes.")
    db.session.expire_all()
    run = db.session.get(RefundRun, run.id)
    assert run.status == RefundStatus.draft and run.approved_at is None and run.approved_by is None
    assert db.session.scalar(select(func.count(RefundMember.id))) == 0
    assert db.session.scalar(select(func.count(AuditEntry.id))) == audit_count
    # Calculated again, the quarter is approved with the register as it is now.
    run = refunds.calculate(Q1, pool_ore=1000_00)
    run, changed = refunds.approve(Q1, actor="kontor")
    assert changed and run.status == RefundStatus.approved
    assert len(snapshot(run.id)) == run.member_count


def test_the_refused_approval_shows_on_the_screen_and_in_the_cli(client, world, clean_app, dbs):
    dbs.add(RefundPolicy(valid_from="2020-Q1", share_national_association=40, share_branch=60, share_club=0))
    dbs.commit()
    with clean_app.app_context():
        refunds.calculate(Q1, pool_ore=1000_00)
        db.session.remove()
    dbs.get(Member, world.members["inside"].id).left_on = dt.date(2025, 12, 31)
    dbs.commit()
    login_as(client, world.logins["office"], "office")
    response = client.post("/refundruns/2026-Q1/approve")
    assert response.status_code == 302 and response.headers["Location"].endswith("/refundruns/")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert CHANGED in page and "beregn kvartalet på nytt" in page
    result = clean_app.test_cli_runner().invoke(args=["refunds", "approve", "2026-Q1"])
    assert result.exit_code == 2 and f"refunds approve: Kvartal: 1. kvartal 2026: {CHANGED}" in result.output
    dbs.expire_all()
    assert dbs.scalars(select(RefundRun.status)).one() == RefundStatus.draft
    assert dbs.scalar(select(func.count(RefundMember.id))) == 0


def test_a_drafts_member_lists_are_those_the_approval_stores(app_ctx):
    from reports.refunds import member_groups, member_list_csv
    from tests.factories import build_world

    world = build_world()
    make_policy(weight_student=Decimal("0.5"))
    for number in range(12):
        unit = world.units[("KL1", "AV1", "AV2", "LF2")[number % 4]]
        add_member(db.session.get(OrgUnit, unit.id), f"Åse{number:02d}", f"Ærlig{number % 5}",
                   category=(MemberCategory.student, MemberCategory.retired, MemberCategory.ordinary)[number % 3],
                   joined_on=dt.date(2026, 1 + number % 3, 10))
    db.session.commit()
    run = refunds.calculate(Q1, pool_ore=1000_00)
    units = refunds.unit_rows(run.id)

    def lists():
        return {unit.code: (member_list_csv(unit), member_groups(unit), refunds.counted_members(unit))
                for unit in units}

    draft = lists()
    assert snapshot(run.id) == {}
    refunds.approve(Q1)
    db.session.expire_all()
    units = refunds.unit_rows(run.id)
    assert lists() == draft
    assert sum(group["count"] for group in draft["LF1"][1]) == next(u for u in units if u.code == "LF1").member_count
    assert "Ærlig" in draft["KL1"][0].decode("utf-8-sig")


def test_letter_and_list_show_unit_amount_and_norwegian_letters(app_ctx):
    from reports.refunds import render_letter, render_member_list
    from tests.factories import build_world

    world = build_world()
    make_policy()
    add_member(db.session.get(OrgUnit, world.units["KL1"].id), "Åse Øydis", "Bæø-Ærlig")
    db.session.commit()
    run = refunds.calculate(Q1, pool_ore=1234_567_89)
    refunds.approve(Q1)
    kl1 = db.session.scalars(select(RefundUnit).where(RefundUnit.run_id == run.id, RefundUnit.code == "KL1")).one()
    from webapp.services.money import kroner

    letter = pdf_text(render_letter(kl1))
    assert "Klubb Ås" in letter
    assert kroner(kl1.amount_ore).replace("\u00a0", " ") in letter and kl1.amount_ore > 0
    assert "9001 07 41504" in letter and "1. kvartal 2026" in letter and "2026-Q1" not in letter
    listing = pdf_text(render_member_list(kl1))
    assert "Klubb Ås" in listing and "Bæø-Ærlig, Åse Øydis" in listing and "Æsøy, Ola" in listing
    assert "periodi" in listing  # the note that the list can differ from today's member list


# ------------------------------------------------------------------ who may open the documents


@pytest.fixture()
def approved_world(world, clean_app):
    """The test world with 2026-Q1 approved and 2026-Q2 calculated as a draft."""
    with clean_app.app_context():
        make_policy()
        refunds.calculate(Q1, pool_ore=1000_00)
        refunds.approve(Q1)
        refunds.calculate(Quarter(2026, 2), pool_ore=2000_00)
        ids = {(quarter, code): unit_id for quarter, code, unit_id in db.session.execute(
            select(RefundRun.quarter, RefundUnit.code, RefundUnit.id).join(RefundRun, RefundRun.id == RefundUnit.run_id)
        ).all()}
        db.session.remove()
    return ids


def document_urls(unit_id: int) -> list[str]:
    return [f"/refunds/{unit_id}/letter.pdf", f"/refunds/{unit_id}/list.pdf"]


def api_urls(unit_id: int) -> list[str]:
    return [f"/api/v1/refund/{unit_id}", f"/api/v1/refund/{unit_id}/letter", f"/api/v1/refund/{unit_id}/list"]


def test_treasurer_sees_own_documents_and_not_another_branchs_by_any_route(client, world, approved_world):
    ids = approved_world
    login_as(client, world.logins["treasurer"], "treasurer")
    page = client.get("/unit/").get_data(as_text=True)
    assert "Refusjon 1. kvartal 2026" in page
    assert f"/refunds/{ids['2026-Q1', 'AV1']}/letter.pdf" in page
    assert f"/refunds/{ids['2026-Q1', 'AV1']}/list.pdf" in page
    assert "2026-Q2" not in page and "2. kvartal 2026" not in page  # a draft is not published
    for url in document_urls(ids["2026-Q1", "AV1"]) + document_urls(ids["2026-Q1", "KL1"]):
        response = get_document(client, url)
        assert response.status_code == 200 and response.mimetype == "application/pdf", url
    for key in (("2026-Q1", "AV2"), ("2026-Q1", "LF2"), ("2026-Q1", "LF1"), ("2026-Q2", "AV1")):
        for url in document_urls(ids[key]):
            assert client.get(url).status_code == 404, url
    assert client.get("/refunds/999999/letter.pdf").status_code == 404
    # Nor through the office's screens.
    for url in ("/refundruns/", "/refundruns/2026-Q1", "/refundpolicyview/list/", "/refundpoolview/list/"):
        assert client.get(url).status_code in (302, 403, 404), url
    assert client.post("/refundruns/2026-Q2/approve").status_code in (302, 403, 404)

    headers = api_token(client, world.logins["treasurer"])
    listing = client.get("/api/v1/refund/?q=(page_size:100)", headers=headers)
    assert listing.status_code == 200
    listed = set(listing.json["ids"])
    assert listed == {ids["2026-Q1", "AV1"], ids["2026-Q1", "KL1"]}
    for url in api_urls(ids["2026-Q1", "AV1"]):
        assert get_document(client, url, headers).status_code == 200, url
    for key in (("2026-Q1", "AV2"), ("2026-Q1", "LF1"), ("2026-Q2", "AV1")):
        for url in api_urls(ids[key]):
            assert client.get(url, headers=headers).status_code == 404, url
    pdf = client.get(f"/api/v1/refund/{ids['2026-Q1', 'AV1']}/letter", headers=headers)
    assert "Avdeling Øst" in pdf_text(pdf.data)


def test_an_approved_quarters_documents_are_rendered_once_and_a_drafts_every_time(client, world, approved_world, dbs,
                                                                                  monkeypatch):
    from reports import refunds as documents
    from webapp.models import RefundDocument

    rendered = []
    real_render = documents.render_member_list
    monkeypatch.setattr(documents, "render_member_list",
                        lambda unit, groups=None: rendered.append(unit.id) or real_render(unit, groups))
    login_as(client, world.logins["office"], "office")
    approved, draft = approved_world["2026-Q1", "AV1"], approved_world["2026-Q2", "AV1"]
    first, again = (get_document(client, f"/refunds/{approved}/list.pdf").data for _ in range(2))
    assert first == again and rendered == [approved]
    assert dbs.scalars(select(RefundDocument.kind)).all() == ["list"]
    client.get(f"/refunds/{draft}/list.pdf")
    client.get(f"/refunds/{draft}/list.pdf")
    assert rendered == [approved, draft, draft]  # a draft follows its latest calculation
    # In English the list is rendered (and kept) in English.
    client.get("/lang/en")
    assert "Refund list Q1 2026" in pdf_text(get_document(client, f"/refunds/{approved}/list.pdf").data)
    assert sorted(dbs.scalars(select(RefundDocument.locale)).all()) == ["en", "nb"]
    # A privacy purge drops them: a list is rendered anew without the anonymised names.
    from webapp.services.retention import purge

    dbs.get(Member, world.members["club"].id).left_on = dt.date(2019, 12, 31)
    dbs.commit()
    assert len(purge().members) == 1
    assert dbs.scalar(select(func.count(RefundDocument.id))) == 0


def test_officers_see_no_quarter_the_office_has_not_approved(client, world, approved_world, dbs):
    dbs.execute(RefundRun.__table__.update().values(status=RefundStatus.draft))
    dbs.commit()
    login_as(client, world.logins["leader"], "leader")
    assert client.get(document_urls(approved_world["2026-Q1", "AV1"])[0]).status_code == 404


@pytest.mark.parametrize("role", ["leader", "member_data_admin"])
def test_other_officers_see_their_units_documents(client, world, approved_world, role):
    login_as(client, world.logins[role], role)
    unit = "LF1" if role == "member_data_admin" else "AV1"
    page = client.get("/unit/").get_data(as_text=True)
    assert f"/refunds/{approved_world['2026-Q1', unit]}/letter.pdf" in page
    assert get_document(client, document_urls(approved_world["2026-Q1", unit])[1]).status_code == 200
    assert client.get(document_urls(approved_world["2026-Q1", "LF2"])[0]).status_code == 404


@pytest.mark.parametrize("role", ["workplace_trustee", "deduction_contact", "member", "analyst"])
def test_other_roles_open_no_refund_documents(client, world, approved_world, role):
    login_as(client, world.logins[role], role)
    for url in document_urls(approved_world["2026-Q1", "AV1"]):
        assert client.get(url).status_code in (302, 403, 404), url
    headers = api_token(client, world.logins[role])
    assert client.get("/api/v1/refund/", headers=headers).status_code in (401, 403)
    for url in api_urls(approved_world["2026-Q1", "AV1"]):
        assert client.get(url, headers=headers).status_code in (401, 403, 404), url


def test_office_calculates_sees_amounts_and_approves_on_its_screen(client, world, dbs):
    dbs.add(RefundPolicy(valid_from="2020-Q1", share_national_association=40, share_branch=60, share_club=0))
    dbs.commit()
    login_as(client, world.logins["office"], "office")
    assert client.get("/refundruns/").status_code == 200
    response = client.post("/refundruns/calculate", data={"quarter": "2026-q1", "pool": "1 000,50"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/jobs/")  # calculated by a job
    state = client.get(response.headers["Location"] + ".json").json
    assert state["status"] == "done" and state["result_url"] == "/refundruns/2026-Q1"
    page = client.get("/refundruns/2026-Q1").get_data(as_text=True)
    assert "1\u00a0000,50" in page and 'data-code="AV1"' in page
    run = dbs.scalars(select(RefundRun)).one()
    assert run.status == RefundStatus.draft and run.pool_ore == 1000_50
    draft_unit = dbs.scalars(select(RefundUnit).where(RefundUnit.code == "AV2")).one()
    assert client.get(f"/refunds/{draft_unit.id}/letter.pdf").status_code == 200  # the office previews drafts
    # Bad input names the field; nothing is written.
    client.post("/refundruns/calculate", data={"quarter": "2026-Q5"})
    client.post("/refundruns/calculate", data={"quarter": "2026-Q3", "pool": "tusen"})
    page = client.get("/refundruns/").get_data(as_text=True)
    assert "quarter" in page.lower() and "tusen" in page
    assert client.post("/refundruns/2026-Q1/approve").status_code == 302
    dbs.expire_all()
    assert dbs.scalars(select(RefundRun)).one().status == RefundStatus.approved
    assert dbs.scalar(select(func.count(RefundRun.id))) == 1
    api = client.get("/api/v1/refund/?q=(page_size:100)", headers=api_token(client, world.logins["office"]))
    assert len(api.json["ids"]) == 5  # LF1, LF2, AV1, AV2, KL1
    assert {row["run"]["quarter"] for row in api.json["result"]} == {"2026-Q1"}
    assert sum(row["amount_ore"] for row in api.json["result"] if row["level"] == "branch") == 600_30


def test_office_policy_screen_validates_the_split(client, world, dbs):
    login_as(client, world.logins["office"], "office")
    data = {"valid_from": "2026-q2", "share_national_association": "40", "share_branch": "50", "share_club": "0",
            "weight_ordinary": "1", "weight_apprentice": "1", "weight_student": "1", "weight_retired": "0",
            "weight_unemployed": "1"}
    page = client.post("/refundpolicyview/add", data=data).get_data(as_text=True)
    assert dbs.scalar(select(func.count(RefundPolicy.id))) == 0
    assert "100" in page and "share_branch" in page
    data["share_branch"] = "60"
    client.post("/refundpolicyview/add", data=data)
    assert dbs.scalars(select(RefundPolicy.valid_from)).all() == ["2026-Q2"]
    assert "2. kvartal 2026" in client.get("/refundpolicyview/list/").get_data(as_text=True)
    client.post("/refundpoolview/add", data={"quarter": "2026-Q2", "pool_ore": "-5"})
    assert dbs.scalar(select(func.count(RefundPool.id))) == 0


# ------------------------------------------------------------------ CLI and notebook


def test_cli_calculate_and_approve(clean_app, world):
    with clean_app.app_context():
        make_policy()
        db.session.remove()
    runner = clean_app.test_cli_runner()
    result = runner.invoke(args=["refunds", "calculate", "2026-Q1", "--pool", "2 500"])
    assert result.exit_code == 0, result.output
    assert "2026-Q1: draft, pool 2\u00a0500,00 kr" in result.output
    result = runner.invoke(args=["refunds", "calculate", "2026-Q9"])
    assert result.exit_code != 0 and "YYYY-Qn" in result.output
    result = runner.invoke(args=["refunds", "calculate", "2026-Q2", "--pool", "abc"])
    assert result.exit_code != 0 and "--pool" in result.output
    result = runner.invoke(args=["refunds", "approve", "2026-Q2"])
    assert result.exit_code == 2 and "beregn det først" in result.output
    output = runner.invoke(args=["refunds", "approve", "2026-Q1"]).output
    assert "2026-Q1: approved\n" in output and re.search(r"documents: job \d+ done", output)
    with clean_app.app_context():  # the job the approval started kept every receiving unit's letter and list
        receiving = db.session.scalar(select(func.count(RefundUnit.id)).where(RefundUnit.receives_refunds.is_(True)))
        assert db.session.scalar(select(func.count(RefundDocument.id))) == 2 * receiving > 0
        db.session.remove()
    result = runner.invoke(args=["refunds", "approve", "2026-Q1"])
    assert result.exit_code == 0 and "already approved, nothing changed" in result.output
    result = runner.invoke(args=["refunds", "calculate", "2026-Q1"])
    assert result.exit_code == 2 and "godkjent og låst" in result.output


def test_seed_refunds_approves_the_last_four_quarters(app_ctx):
    from seed.refunds import seed_refunds
    from tests.factories import build_world

    build_world()
    result = seed_refunds(today=dt.date(2026, 5, 2))
    assert result.approved == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
    assert db.session.scalar(select(func.count(RefundRun.id)).where(RefundRun.status == RefundStatus.approved)) == 4
    assert seed_refunds(today=dt.date(2026, 5, 2)).approved == result.approved  # a second run changes nothing
    assert db.session.scalar(select(func.count(RefundRun.id))) == 4


def test_notebook_runs_as_a_script(clean_app, world, tmp_path):
    with clean_app.app_context():
        make_policy()
        refunds.calculate(Quarter(2025, 4), pool_ore=800_00)
        refunds.calculate(Q1, pool_ore=3_137_722_00)
        url = db.engine.url.render_as_string(hide_password=False)
        db.session.remove()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # marimo keeps a session snapshot (the figures shown) under sys.pycache_prefix: keep it out of the tree.
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")}
    env.pop("PYTHONPATH", None)
    script = subprocess.run([sys.executable, "-m", "notebooks.refunds"], cwd=root, env=env, capture_output=True,
                            text=True, timeout=300)
    assert script.returncode == 0, script.stderr[-3000:]
    # Exported from another directory: marimo finds webapp through pyproject.toml's pythonpath alone.
    out = tmp_path / "refunds.html"
    export = subprocess.run([sys.executable, "-m", "marimo", "export", "html",
                             os.path.join(root, "notebooks", "refunds.py"),
                             "-o", str(out)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert export.returncode == 0, export.stderr[-3000:]
    html = out.read_text()
    assert "Refusjon for 1. kvartal 2026" in html and "AV1 Avdeling" in html
    assert "endret seg mest siden 4. kvartal 2025" in html
    assert "kr\\u00a03\\u00a0137\\u00a0722,00" in html  # the pool, as the JSON inside the page writes it
