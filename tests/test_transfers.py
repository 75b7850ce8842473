"""Transfers between this union and the other LO unions: incoming keeps the seniority, outgoing ends the
membership at the end of the month with a confirmation PDF for the receiving union, and the quarterly
report to LO counts them per union."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AuditEntry, Member
from webapp.models.choices import TransferDirection
from webapp.models.lifecycle import LoUnion, MembershipTransfer
from webapp.services import transfers
from webapp.services.transfers import TransferError

TODAY = dt.date.today()


def add_unions() -> dict[str, int]:
    unions = {
        "FF": LoUnion(code="FF", name="Fellesforbundet", org_number="938696917", active=True),
        "HK": LoUnion(code="HK", name="Handel og Kontor i Norge", active=True),
        "OLD": LoUnion(code="OLD", name="Nedlagt forbund", active=False),
    }
    db.session.add_all(unions.values())
    db.session.commit()
    return {code: union.id for code, union in unions.items()}


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(MembershipTransfer)),
            db.session.scalar(select(func.count()).select_from(AuditEntry)))


# --- incoming -----------------------------------------------------------------------------------------------


def test_record_incoming_keeps_the_seniority_and_is_audited(app_ctx, world):
    unions = add_unions()
    member = db.session.get(Member, world.members["inside"].id)
    since = dt.date(2009, 3, 1)
    transfer = transfers.record_incoming(member, unions["FF"], since, " FF-2026-17 ", user_id=None)
    db.session.commit()

    member = db.session.get(Member, member.id)
    assert member.seniority_on == since and member.seniority_date == since
    row = db.session.get(MembershipTransfer, transfer.id)
    assert row.direction == TransferDirection.incoming
    assert row.transfer_on == member.joined_on == dt.date(2015, 1, 1)
    assert row.other_union_since == since
    assert row.reference == "FF-2026-17"
    assert row.lo_union.name == "Fellesforbundet"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "transfer_in")).one()
    assert entry.member_id == member.id and "Fellesforbundet" in entry.details


@pytest.mark.parametrize(
    ("union", "since", "reference", "field", "words"),
    [
        ("missing", dt.date(2010, 1, 1), "", "lo_union", "union"),
        ("OLD", dt.date(2010, 1, 1), "", "lo_union", "Nedlagt forbund"),
        ("FF", TODAY + dt.timedelta(days=1), "", "since", "future"),
        ("FF", dt.date(2015, 1, 2), "", "since", "01.01.2015"),  # after the join date, which it names
        ("FF", "2010-01-01", "", "since", "date"),
        ("FF", dt.date(1899, 12, 31), "", "since", "1900"),
        ("FF", dt.date(2010, 1, 1), "x" * 101, "reference", "100"),
        ("FF", dt.date(2010, 1, 1), "a\x00b", "reference", "NUL"),
    ],
)
def test_record_incoming_refuses_bad_input_naming_the_field(app_ctx, world, union, since, reference, field, words):
    unions = add_unions()
    union_id = unions.get(union, 999_999)
    before = counts()
    member = db.session.get(Member, world.members["inside"].id)
    with pytest.raises(TransferError) as caught:
        transfers.record_incoming(member, union_id, since, reference, user_id=None)
    db.session.rollback()
    assert caught.value.field == field
    message = str(caught.value)
    assert words in message or words.lower() in message.lower()
    assert counts() == before
    assert db.session.get(Member, member.id).seniority_on is None
