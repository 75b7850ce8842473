"""Demo data for the membership life cycle (seed/phases/lifecycle.py): the postcode register, the LO unions, the terms
and privacy texts, home-unit rules, former members' reasons with transfers out, transfers in and a queue of
applications; consistent with the rules, deterministic, emptied by a reset and not added twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from flask_appbuilder import Model
from sqlalchemy import func, select

from seed.generator import generate
from seed.phases.lifecycle import seed_lifecycle
from seed.reference import COUNTIES, COUNTY_NAMES, load
from webapp.extensions import db
from webapp.models import (
    HomeUnitRule,
    LoUnion,
    Member,
    MembershipApplication,
    MembershipTransfer,
    OrgUnit,
    PolicyText,
    Postcode,
    Workplace,
)
from webapp.models.choices import EnrollmentStatus, HomeUnitRuleKind, LeaveReason, OrgLevel, TransferDirection
from webapp.services.home_units import mapped_unit
from webapp.services.periods import effective_end
from webapp.services.validation import national_id

TODAY = dt.date(2026, 6, 15)
TABLES = ("lo_union", "postcode", "policy_text", "home_unit_rule", "membership_transfer", "membership_application")


def fingerprint() -> str:
    """SHA-256 over the life cycle's rows and the member columns it writes. Rows of its own tables are named by their
    content (their ids come from sequences, which PostgreSQL does not reset); the generator's ids are its own."""
    union_code = {row.id: row.code for row in db.session.execute(select(LoUnion.id, LoUnion.code))}
    policy_kind = {row.id: row.kind.name for row in db.session.execute(select(PolicyText.id, PolicyText.kind))}
    tables = {
        "lo_union": (LoUnion.code, LoUnion.name, LoUnion.org_number, LoUnion.email, LoUnion.active),
        "postcode": (Postcode.code, Postcode.place, Postcode.municipality, Postcode.county),
        "policy_text": (PolicyText.kind, PolicyText.version, PolicyText.published_on, PolicyText.title,
                        PolicyText.body),
        "home_unit_rule": (HomeUnitRule.kind, HomeUnitRule.employer_id, HomeUnitRule.county, HomeUnitRule.org_unit_id),
        "membership_transfer": (MembershipTransfer.member_id, MembershipTransfer.direction,
                                MembershipTransfer.lo_union_id, MembershipTransfer.transfer_on,
                                MembershipTransfer.other_union_since, MembershipTransfer.reference),
        "membership_application": tuple(column for column in MembershipApplication.__table__.columns
                                        if column.name != "id"),
        "member": (Member.id, Member.left_on, Member.leave_reason, Member.seniority_on),
    }
    digest = hashlib.sha256()
    for name, columns in tables.items():
        rows = []
        for row in db.session.execute(select(*columns)).mappings():
            row = dict(row)
            for key in ("lo_union_id", "from_lo_union_id"):
                if row.get(key) is not None:
                    row[key] = union_code[row[key]]
            for key in ("terms_id", "privacy_id"):
                if key in row:
                    row[key] = policy_kind[row[key]]
            rows.append(json.dumps(row, default=str, sort_keys=True, ensure_ascii=False))
        digest.update(json.dumps([name, sorted(rows)], ensure_ascii=False).encode())
    return digest.hexdigest()


def counts() -> dict[str, int]:
    return {name: db.session.scalar(select(func.count()).select_from(Model.metadata.tables[name])) for name in TABLES}


@pytest.fixture()
def seeded(app_ctx):
    generate(members=400, employers=40, seed=3, reset=False, progress=False, today=TODAY)
    result = seed_lifecycle(seed=3, today=TODAY)
    assert not result.skipped
    return result


def test_the_postcode_register_covers_the_geography(seeded):
    codes = {f"{n:04d}" for ms in COUNTIES.values() for m in ms for n in range(m.first_postcode, m.last_postcode + 1)}
    assert seeded.postcodes == len(codes) == db.session.scalar(select(func.count()).select_from(Postcode))
    assert set(db.session.scalars(select(Postcode.county).distinct())) == set(COUNTY_NAMES)
    oslo = db.session.get(Postcode, "0150")
    assert (oslo.place, oslo.municipality, oslo.county) == ("Oslo", "Oslo", "Oslo")


def test_the_lo_unions_are_the_data_file_without_the_demo_union(seeded, app_ctx):
    names = set(db.session.scalars(select(LoUnion.name)))
    assert names == {entry["name"] for entry in load("lo_unions.json")["unions"]}
    assert {"Fellesforbundet", "Fagforbundet", "Handel og Kontor i Norge", "Postkom", "Skolenes landsforbund",
            "Creo – forbundet for kunst og kultur", "Det Norske Maskinistforbund"} <= names
    assert app_ctx.config["UNION_NAME"] not in names
    assert "Norsk Post- og Kommunikasjonsforbund" not in names


def test_a_union_named_like_the_demo_union_is_left_out(app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "UNION_NAME", "Fellesforbundet")
    generate(members=30, employers=5, seed=3, reset=False, progress=False, today=TODAY)
    seed_lifecycle(seed=3, today=TODAY)
    names = set(db.session.scalars(select(LoUnion.name)))
    assert "Fellesforbundet" not in names and "Fagforbundet" in names
    assert all("Fellesforbundet" in text.body for text in db.session.scalars(select(PolicyText)))


def test_the_terms_and_privacy_statement_name_the_union(seeded, app_ctx):
    union = app_ctx.config["UNION_NAME"]
    texts = {text.kind.name: text for text in db.session.scalars(select(PolicyText))}
    assert set(texts) == {"terms", "privacy"}
    for text in texts.values():
        assert union in text.title and union in text.body
        assert "{union}" not in text.body and "NTL" not in text.body and "ntl.no" not in text.body
        assert text.published_on <= TODAY
    assert "LOfavør" in texts["privacy"].body and "Compendia AS" in texts["privacy"].body
    terms = texts["terms"].body
    assert all(word in terms for word in ("trekk", "direkte", "utgangen av måneden", "vedtekter", "AvtaleGiro"))


def test_every_county_has_a_branch_and_spread_employers_a_rule(seeded):
    rules = db.session.scalars(select(HomeUnitRule)).all()
    county_rules = {rule.county: rule for rule in rules if rule.kind == HomeUnitRuleKind.county}
    assert set(county_rules) == set(COUNTY_NAMES) and seeded.county_rules == len(COUNTY_NAMES)
    for rule in rules:
        assert db.session.get(OrgUnit, rule.org_unit_id).level == OrgLevel.branch
    employer_rules = [rule for rule in rules if rule.kind == HomeUnitRuleKind.employer]
    assert 1 <= len(employer_rules) == seeded.employer_rules <= 6
    for rule in employer_rules:
        units = set(db.session.scalars(select(Workplace.org_unit_id).where(Workplace.employer_id == rule.employer_id)))
        assert len(units) > 1
    # A county rule sits where the county's workplaces mostly are: the mapping of a postcode there gives it.
    workplace = db.session.scalars(select(Workplace).order_by(Workplace.id)).first()
    code = db.session.scalar(select(Postcode.code).where(Postcode.county == workplace.county).limit(1))
    assert mapped_unit(postcode=code).org_unit_id == county_rules[workplace.county].org_unit_id


def test_former_members_have_reasons_and_transfers_agree_with_them(seeded):
    assert db.session.scalar(select(func.count(Member.id)).where(
        Member.left_on.is_not(None), Member.leave_reason.is_(None))) == 0
    leavers = db.session.scalars(select(Member).where(Member.left_on.is_not(None))).all()
    assert len({member.leave_reason for member in leavers}) >= 4
    assert all(member.left_on == effective_end(member.left_on) for member in leavers)
    outgoing = db.session.scalars(select(MembershipTransfer).where(
        MembershipTransfer.direction == TransferDirection.outgoing)).all()
    transferred = [member for member in leavers if member.leave_reason == LeaveReason.transferred]
    assert len(outgoing) == len(transferred) == seeded.transfers_out > 0
    for transfer in outgoing:
        assert transfer.member.leave_reason == LeaveReason.transferred
        assert transfer.member.left_on == effective_end(transfer.transfer_on)
    incoming = db.session.scalars(select(MembershipTransfer).where(
        MembershipTransfer.direction == TransferDirection.incoming)).all()
    assert len(incoming) == seeded.transfers_in > 0
    for transfer in incoming:
        member = transfer.member
        assert member.seniority_on == transfer.other_union_since < member.joined_on == transfer.transfer_on
        assert TODAY - dt.timedelta(days=365) < member.joined_on <= TODAY and member.left_on is None
    recent = [member for member in leavers if member.left_on > TODAY - dt.timedelta(days=365)]
    assert len({member.leave_reason for member in recent}) >= 2  # the statistics' last 12 months have reasons


def test_the_office_has_a_queue_of_applications(seeded):
    applications = db.session.scalars(select(MembershipApplication).order_by(MembershipApplication.id)).all()
    assert len(applications) == 4 and {a.status for a in applications} == {EnrollmentStatus.pending}
    plain, from_union, duplicate, rejoin = applications
    assert plain.existing_member_id is None and plain.from_lo_union_id is None
    assert from_union.from_lo_union_id is not None and from_union.from_union_since < TODAY
    assert duplicate.existing_member.left_on is None and duplicate.national_id == duplicate.existing_member.national_id
    assert rejoin.existing_member.left_on < TODAY and rejoin.national_id == rejoin.existing_member.national_id
    members_ids = set(db.session.scalars(select(Member.national_id)))
    for application in (plain, from_union):
        assert national_id(application.national_id) == application.national_id
        assert application.national_id not in members_ids
        assert db.session.get(Postcode, application.postcode).place == application.city
    for application in applications:
        assert application.terms.kind.name == "terms" and application.privacy.kind.name == "privacy"
        assert application.workplace is None or application.workplace.employer_id == application.employer_id


def test_deterministic_not_added_twice_and_emptied_by_a_reset(seeded):
    first, before = fingerprint(), counts()
    assert seed_lifecycle(seed=3, today=TODAY).skipped
    assert counts() == before
    generate(members=400, employers=40, seed=3, reset=True, progress=False, today=TODAY)
    assert set(counts().values()) == {0}
    seed_lifecycle(seed=3, today=TODAY)
    assert fingerprint() == first
