"""The demo-data generator is deterministic: the same arguments and the same day give exactly the same rows.

The expected fingerprints were computed from the generator before it was split into
seed/phases/ and seed/data/; a refactoring that changes one value of one row changes them.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from decimal import Decimal

import pytest
from flask_appbuilder import Model
from sqlalchemy import select

from seed.generator import generate
from webapp.extensions import db

# (members, employers, seed, today) -> (active members reported, SHA-256 over every seeded row).
# Together they run nearly every line of the generator: the second runs out of fixed employer names and seeds
# on a leap day, the third is small enough for the fallbacks of tiny datasets, the fourth has no members at all.
EXPECTED = {
    # 1132, not 1134: the one rule (webapp.services.membership, periodized) now decides what "active" means;
    # three who joined in June after the 1st count from July, one who left on 4 June counts to the end of June.
    # The rows are unchanged.
    (1200, 30, 7, dt.date(2025, 6, 15)): (1132, "2643bea0e70c36dec0b914dfacc71899db528bc35c8f2c112894a42e0e9b36db"),
    (30, 1500, 3, dt.date(2024, 2, 29)): (29, "cf7a3dab74a2845a3fe1ef003480f0e35e6c9974d35bea32c9d3e7cae9bed7df"),
    (40, 120, 3, dt.date(2023, 12, 31)): (37, "c2382764386acb47e018a58386bec41678f84ea4aa6a7a1c3fd95348be3907ba"),
    (0, 2, 5, dt.date(2026, 1, 1)): (0, "8ad59531aca16761ffd3304ae6f547cd3cac63e8af87d5b63ffd412d9da1cfb9"),
}

# The columns pinned, as they were when the fingerprints were taken: a column added later (with its default)
# does not change them. The password hash is left out: it is salted at random.
# fmt: off
PINNED_COLUMNS = {
    "org_unit": ("id", "code", "name", "level", "parent_id", "bank_account", "receives_refunds"),
    "employer": ("id", "org_number", "name", "address", "postcode", "city", "association", "sector",
                 "has_deduction_agreement", "customer_no"),
    "workplace": ("id", "employer_id", "name", "municipality", "county", "org_unit_id"),
    "member": ("id", "member_no", "national_id", "birth_date", "gender", "first_name", "last_name", "address",
               "postcode", "city", "email_work", "email_private", "email_to", "mobile_work", "mobile_private",
               "preferred_mobile", "magazine", "category", "home_unit_id", "joined_on", "left_on", "travel_insurance",
               "contents_insurance", "user_id", "anonymised_at"),
    "employment": ("id", "member_id", "employer_id", "workplace_id", "start_date", "end_date", "position_pct",
                   "on_deduction"),
    "position": ("id", "member_id", "type", "org_unit_id", "workplace_id", "start_date", "end_date"),
    "deduction_contact": ("id", "user_id", "employer_id", "phone", "start_date", "end_date", "added_by_id"),
    "demo_account": ("id", "username", "role", "scope", "note"),
    "ab_user": ("id", "first_name", "last_name", "username", "active", "email", "last_login", "login_count",
                "fail_login_count", "created_on", "changed_on", "created_by_fk", "changed_by_fk"),
}
# fmt: on


def _plain(value):
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _table_rows(table, names) -> list[list]:
    columns = [table.c[name] for name in names]
    return [[_plain(value) for value in row] for row in db.session.execute(select(*columns).order_by(table.c.id))]


def seed_fingerprint() -> str:
    """SHA-256 over the rows of every table the generator fills, role links by role name."""
    tables = Model.metadata.tables
    digest = hashlib.sha256()
    for name, columns in PINNED_COLUMNS.items():
        digest.update(json.dumps([name, _table_rows(tables[name], columns)], ensure_ascii=False).encode())
    role_names = dict(db.session.execute(select(tables["ab_role"].c.id, tables["ab_role"].c.name)).all())
    user_roles = _table_rows(tables["ab_user_role"], ("user_id", "role_id"))  # their own ids come from a sequence
    links = sorted((user_id, role_names[role_id]) for user_id, role_id in user_roles)
    digest.update(json.dumps(["ab_user_role", links]).encode())
    return digest.hexdigest()


@pytest.mark.parametrize(("members", "employers", "seed", "today"), list(EXPECTED))
def test_same_arguments_and_day_give_the_same_rows(app_ctx, members, employers, seed, today):
    result = generate(members=members, employers=employers, seed=seed, reset=False, progress=False, today=today)
    assert (result.active_members, seed_fingerprint()) == EXPECTED[(members, employers, seed, today)]
