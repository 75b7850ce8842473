"""The demo-data generator: valid Norwegian identifiers, a consistent register, demo logins for
every role, refusal of a non-empty database, reproducible resets and all-or-nothing writes.

The module seeds one database (a SQLite file, or the PostgreSQL database in
TEST_DATABASE_URL) and checks it; the last tests reset and break it on purpose.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, text
from stdnum.no import fodselsnummer, kontonr, orgnr
from werkzeug.security import check_password_hash

from seed import generator
from seed.context import OUR_TABLES
from seed.generator import SeedRefused, database_is_empty, generate
from tests.helpers import fresh_app
from webapp.extensions import db
from webapp.models import (
    DeductionContact,
    DemoAccount,
    Employer,
    Employment,
    Member,
    OrgUnit,
    Position,
    Workplace,
)
from webapp.security.roles import ALL_ROLES
from webapp.services.periods import current_on_clause
from webapp.services.validation import person_facts

MEMBERS, EMPLOYERS, SEED = 2000, 100, 7
TABLES = (*OUR_TABLES, "ab_user")  # what the generator writes


@pytest.fixture(scope="module")
def seeded_app(tmp_path_factory):
    app = fresh_app(tmp_path_factory, "seed")
    with app.app_context():
        app.seed_result = generate(members=MEMBERS, employers=EMPLOYERS, seed=SEED, reset=False, progress=False)
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture()
def session(seeded_app):
    with seeded_app.app_context():
        yield db.session
        db.session.remove()


def _count(session, table: str) -> int:
    return session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()


def _digest(session, model) -> str:
    digest = hashlib.sha256()
    for row in session.execute(select(*model.__table__.columns).order_by(model.id)):
        digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _subtree(units: dict[int, OrgUnit], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for unit in units.values():
        children.setdefault(unit.parent_id, []).append(unit.id)
    out, stack = set(), [root]
    while stack:
        unit_id = stack.pop()
        out.add(unit_id)
        stack.extend(children.get(unit_id, ()))
    return out


# ------------------------------------------------------------------ counts


def test_counts_match_the_arguments_and_the_result(seeded_app, session):
    result = seeded_app.seed_result
    assert _count(session, "member") == MEMBERS == result.members
    assert _count(session, "employer") == EMPLOYERS == result.employers
    assert result.counts == {
        "org_units": _count(session, "org_unit"),
        "employers": _count(session, "employer"),
        "workplaces": _count(session, "workplace"),
        "members": _count(session, "member"),
        "employments": _count(session, "employment"),
        "positions": _count(session, "position"),
        "users": _count(session, "ab_user"),
        "deduction_contacts": _count(session, "deduction_contact"),
        "demo_accounts": _count(session, "demo_account"),
    }
    assert EMPLOYERS <= result.workplaces <= 5 * EMPLOYERS
    summary = result.summary()
    assert "2,000 members" in summary and "100 employers" in summary and re.search(r"\d+\.\d s", summary)


def test_org_tree_has_union_associations_branches_and_clubs(session):
    levels = dict(session.execute(select(OrgUnit.level, func.count()).group_by(OrgUnit.level)).all())
    levels = {getattr(k, "name", k): v for k, v in levels.items()}
    assert levels["union"] == 1 and levels["national_association"] == 8
    assert 55 <= levels["branch"] <= 65
    assert levels["club"] >= 10
    root = session.execute(select(OrgUnit).where(OrgUnit.parent_id.is_(None))).scalar_one()
    assert root.code == "NTF"
    units = session.execute(select(OrgUnit)).scalars().all()
    by_id = {u.id: u for u in units}
    for unit in units:
        level = unit.level.name
        if level != "union":
            parent_level = by_id[unit.parent_id].level.name
            assert (level, parent_level) in {
                ("national_association", "union"),
                ("branch", "national_association"),
                ("club", "branch"),
            }
        if level in ("national_association", "branch"):
            assert unit.bank_account and kontonr.is_valid(unit.bank_account), unit.code
            assert unit.receives_refunds
        elif unit.bank_account:
            assert kontonr.is_valid(unit.bank_account), unit.code
    codes = [u.code for u in units]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"NTF|LF\d{2}|AV\d{4}|KL\d{6}", code) for code in codes)


# ------------------------------------------------------------- identifiers


def test_employers_have_valid_unique_numbers_and_consistent_sector(session):
    employers = session.execute(select(Employer)).scalars().all()
    numbers = [e.org_number for e in employers]
    assert len(set(numbers)) == len(numbers)
    for employer in employers:
        assert orgnr.is_valid(employer.org_number) and employer.org_number[0] in "89", employer.org_number
        assert re.fullmatch(r"\d{8}", employer.customer_no)
        assert re.fullmatch(r"\d{4}", employer.postcode)
        expected = {"staten": {"state"}, "ks": {"municipal"}, "spekter": {"state"}}.get(
            employer.association.name, {"private"}
        )
        assert employer.sector.name in expected, employer.name
    customer_nos = {e.customer_no for e in employers}
    assert len(customer_nos) == len(employers)
    assert {"94001761", "00080000"} <= customer_nos
    share = sum(e.has_deduction_agreement for e in employers) / len(employers)
    assert 0.8 <= share <= 0.98


def test_workplaces_cover_all_counties(session):
    from seed.generator import COUNTIES, MUNICIPALITY_COUNTY

    rows = session.execute(select(Workplace.municipality, Workplace.county)).all()
    assert {county for _m, county in rows} == set(COUNTIES)
    assert all(MUNICIPALITY_COUNTY[m] == county for m, county in rows)


def test_members_have_valid_identifiers_and_consistent_facts(session):
    today = dt.date.today()
    members = session.execute(select(Member)).scalars().all()
    ids = [m.national_id for m in members]
    assert len(set(ids)) == len(ids)
    numbers = [m.member_no for m in members]
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"75\d{1,6}", n) for n in numbers)
    assert sum(len(n) == 8 for n in numbers) >= 0.99 * len(numbers)
    assert any(len(n) < 8 for n in numbers)
    d_numbers = 0
    for member in members:
        assert fodselsnummer.is_valid(member.national_id), member.national_id
        birth, gender = person_facts(member.national_id)
        assert member.birth_date == birth and member.gender == gender
        age = (today - birth).days / 365.25
        assert 16 <= age <= 91, (member.member_no, age)
        assert member.joined_on >= dt.date(birth.year + 16, 1, 1) and member.joined_on <= today
        assert member.left_on is None or member.left_on > member.joined_on
        assert re.fullmatch(r"\d{4}", member.postcode) and member.city and member.address
        d_numbers += int(member.national_id[0]) >= 4
    assert 0.005 <= d_numbers / len(members) <= 0.05
    genders = {m.gender.name for m in members}
    assert genders == {"female", "male"}


def test_member_contact_data_is_valid_and_choices_point_at_filled_fields(session):
    members = session.execute(select(Member)).scalars().all()
    for m in members:
        for email in (m.email_work, m.email_private):
            if email:
                try:
                    validate_email(email, check_deliverability=False)
                except EmailNotValidError as exc:  # pragma: no cover - the assertion reports it
                    pytest.fail(f"{m.member_no}: {email}: {exc}")
        for mobile in (m.mobile_work, m.mobile_private):
            if mobile:
                assert re.fullmatch(r"\+47[49]\d{7}", mobile)
                assert phonenumbers.is_valid_number(phonenumbers.parse(mobile)), mobile
        filled_mail = {"work": bool(m.email_work), "private": bool(m.email_private)}
        filled_mobile = {"work": bool(m.mobile_work), "private": bool(m.mobile_private)}
        if any(filled_mail.values()):
            assert m.email_to is not None and filled_mail[m.email_to.name], m.member_no
        else:
            assert m.email_to is None
        if any(filled_mobile.values()):
            assert m.preferred_mobile is not None and filled_mobile[m.preferred_mobile.name], m.member_no
        else:
            assert m.preferred_mobile is None


def test_distributions_are_realistic(session):
    today = dt.date.today()
    members = session.execute(select(Member)).scalars().all()
    n = len(members)
    share = {
        c: sum(m.category.name == c for m in members) / n
        for c in ("ordinary", "apprentice", "student", "retired", "unemployed")
    }
    assert 0.75 <= share["ordinary"] <= 0.85
    assert 0.07 <= share["retired"] <= 0.13
    assert 0.01 <= share["apprentice"] <= 0.05 and 0.03 <= share["student"] <= 0.07
    retired = [m for m in members if m.category.name == "retired"]
    assert sum((today - m.birth_date).days >= 62 * 365.25 for m in retired) >= 0.85 * len(retired)
    young = [m for m in members if m.category.name in ("apprentice", "student")]
    assert all((today - m.birth_date).days < 31 * 365.25 for m in young)
    left = sum(m.left_on is not None for m in members) / n
    assert 0.03 <= left <= 0.09
    recent = sum(m.joined_on >= today - dt.timedelta(days=730) for m in members) / n
    assert 0.10 <= recent <= 0.20
    assert 0.78 <= sum(m.travel_insurance for m in members) / n <= 0.92
    assert sum(m.magazine for m in members) / n >= 0.8


# ---------------------------------------------------- employments, officers


def test_every_employment_workplace_belongs_to_its_employer(session):
    mismatched = session.execute(
        select(func.count())
        .select_from(Employment)
        .join(Workplace, Employment.workplace_id == Workplace.id)
        .where(Workplace.employer_id != Employment.employer_id)
    ).scalar()
    assert mismatched == 0
    bad_dates = session.execute(
        select(func.count()).select_from(Employment).where(Employment.end_date < Employment.start_date)
    ).scalar()
    assert bad_dates == 0


def test_working_members_belong_to_their_workplace_unit(session):
    today = dt.date.today()
    rows = session.execute(
        select(
            Member.category,
            Member.home_unit_id,
            Workplace.org_unit_id,
            Employment.position_pct,
            Employment.on_deduction,
            Employer.has_deduction_agreement,
        )
        .join(Employment, Employment.member_id == Member.id)
        .join(Workplace, Workplace.id == Employment.workplace_id)
        .join(Employer, Employer.id == Employment.employer_id)
        .where(current_on_clause(Employment.start_date, Employment.end_date, today))
    ).all()
    assert all(home == unit for _c, home, unit, *_ in rows)
    working = session.execute(
        select(func.count())
        .select_from(Member)
        .where(Member.category.in_(["ordinary", "apprentice"]), Member.left_on.is_(None))
    ).scalar()
    employed = {c.name if hasattr(c, "name") else c for c, *_ in rows}
    assert "ordinary" in employed
    assert len(rows) >= 0.8 * working
    part_time = sum(pct < 100 for _c, _h, _u, pct, _d, _a in rows) / len(rows)
    assert 0.08 <= part_time <= 0.25
    with_agreement = [d for *_x, d, agreement in rows if agreement]
    assert not any(d for *_x, d, agreement in rows if not agreement)
    assert 0.75 <= sum(with_agreement) / len(with_agreement) <= 0.95


def test_some_members_have_an_ended_earlier_employment(session):
    today = dt.date.today()
    current = set(
        session.execute(
            select(Employment.member_id).where(current_on_clause(Employment.start_date, Employment.end_date, today))
        ).scalars()
    )
    ended = set(session.execute(select(Employment.member_id).where(Employment.end_date < today)).scalars())
    assert 0.05 <= len(current & ended) / len(current) <= 0.16


def test_units_have_current_officers_from_their_subtree(session):
    today = dt.date.today()
    units = {u.id: u for u in session.execute(select(OrgUnit)).scalars()}
    multi_note = session.execute(select(DemoAccount).where(DemoAccount.note.like("Several roles%"))).scalar_one()
    multi_member = session.execute(select(Member).where(Member.member_no == multi_note.username)).scalar_one()
    held: dict[int, set[str]] = {}
    rows = session.execute(
        select(Position, Member.home_unit_id)
        .join(Member, Member.id == Position.member_id)
        .where(Position.org_unit_id.is_not(None), current_on_clause(Position.start_date, Position.end_date, today))
    ).all()
    for position, home_unit in rows:
        held.setdefault(position.org_unit_id, set()).add(position.type.name)
        if position.member_id != multi_member.id:
            assert home_unit in _subtree(units, position.org_unit_id), (units[position.org_unit_id].code, position.type)
        assert position.workplace_id is None
    for unit in units.values():
        expected = (
            {"leader", "treasurer"} if unit.level.name == "union" else {"leader", "treasurer", "member_data_admin"}
        )
        assert expected <= held.get(unit.id, set()), unit.code
    ended = session.execute(select(func.count()).select_from(Position).where(Position.end_date.is_not(None))).scalar()
    assert ended > 0


def test_trustees_work_at_their_workplace(session):
    today = dt.date.today()
    trustees = (
        session.execute(
            select(Position).where(
                Position.type == "workplace_trustee", current_on_clause(Position.start_date, Position.end_date, today)
            )
        )
        .scalars()
        .all()
    )
    workplaces = _count(session, "workplace")
    assert 0.05 * workplaces <= len(trustees) <= 0.15 * workplaces
    for position in trustees:
        assert position.org_unit_id is None
        works_there = session.execute(
            select(func.count())
            .select_from(Employment)
            .where(
                Employment.member_id == position.member_id,
                Employment.workplace_id == position.workplace_id,
                current_on_clause(Employment.start_date, Employment.end_date, today),
            )
        ).scalar()
        assert works_there == 1


# ------------------------------------------------------------ users, logins


def test_officers_and_contacts_have_users(seeded_app, session):
    today = dt.date.today()
    officers = (
        session.execute(
            select(Member)
            .join(Position, Position.member_id == Member.id)
            .where(current_on_clause(Position.start_date, Position.end_date, today))
            .distinct()
        )
        .scalars()
        .all()
    )
    assert officers
    for member in officers:
        assert member.user is not None and member.user.username == member.member_no
    users = session.execute(text("SELECT username, email FROM ab_user")).all()
    assert len({u.email for u in users}) == len(users)
    contacts = session.execute(select(DeductionContact)).scalars().all()
    assert all(re.fullmatch(r"\d{8}", c.user.username) for c in contacts)
    current_links: dict[int, set[int]] = {}
    for contact in contacts:
        assert contact.employer.has_deduction_agreement
        if contact.end_date is None:
            current_links.setdefault(contact.user_id, set()).add(contact.employer_id)
        else:
            assert contact.start_date < contact.end_date
    with_agreement = session.execute(select(Employer.id).where(Employer.has_deduction_agreement)).scalars().all()
    covered = set().union(*current_links.values())
    assert covered == set(with_agreement)
    several = sum(len(v) >= 2 for v in current_links.values()) / len(current_links)
    assert 0.03 <= several <= 0.2
    password = seeded_app.config["DEMO_PASSWORD"]
    hashes = {row[0] for row in session.execute(text("SELECT password FROM ab_user"))}
    assert len(hashes) == 1 and check_password_hash(hashes.pop(), password)


def test_demo_accounts_cover_every_role_and_can_act_in_it(seeded_app, session):
    from webapp.security.scope import acting_options

    accounts = session.execute(select(DemoAccount).order_by(DemoAccount.id)).scalars().all()
    assert set(ALL_ROLES) <= {a.role for a in accounts}
    sm = seeded_app.appbuilder.sm
    for account in accounts:
        user = sm.find_user(username=account.username)
        assert user is not None and user.active, account.username
        options = acting_options(user)
        roles = {o.role for o in options}
        assert account.role in roles, (account.username, account.role, roles)
        if account.role in ("office", "analyst"):
            assert account.scope == "" and account.role in {r.name for r in user.roles}
        if account.role in ("leader", "treasurer", "member_data_admin"):
            labels = [o.target_label for o in options if o.role == account.role]
            assert any(label.startswith(account.scope + " ") for label in labels), (account.scope, labels)
        if account.role == "workplace_trustee":
            assert [o.target_id for o in options if o.role == account.role] == [int(account.scope)]
        if account.role == "deduction_contact":
            employer_ids = [o.target_id for o in options if o.role == "deduction_contact"]
            assert len(employer_ids) >= 2
            customer_nos = (
                session.execute(select(Employer.customer_no).where(Employer.id.in_(employer_ids))).scalars().all()
            )
            assert account.scope in customer_nos
            # The demo scope is the contact's employer with the most members on deduction: the portal is not empty.
            on_deduction = dict(session.execute(
                select(Employment.employer_id, func.count(Employment.id))
                .where(Employment.employer_id.in_(employer_ids), Employment.end_date.is_(None),
                       Employment.on_deduction.is_(True))
                .group_by(Employment.employer_id)
            ).all())
            scope_id = session.execute(select(Employer.id).where(Employer.customer_no == account.scope)).scalar_one()
            assert on_deduction.get(scope_id, 0) == max(on_deduction.values()) > 0
        if account.role == "member":
            member = session.execute(select(Member).where(Member.member_no == account.username)).scalar_one()
            assert roles == {"member"} and account.scope == member.member_no
            assert member.category.name == "ordinary" and member.left_on is None
        if account.username[:2] == "75":
            member = session.execute(select(Member).where(Member.member_no == account.username)).scalar_one()
            assert member.email_work or member.email_private
            assert user.email in (member.email_work, member.email_private)
    leader = next(a for a in accounts if a.role == "leader" and a.scope == "NTF")
    assert leader
    multi = next(a for a in accounts if a.note and a.note.startswith("Several roles"))
    user = sm.find_user(username=multi.username)
    roles = [o.role for o in acting_options(user)]
    assert "leader" in roles and "treasurer" in roles


def test_demo_office_login_works(seeded_app):
    client = seeded_app.test_client()
    response = client.post("/login/", data={"username": "kontor", "password": seeded_app.config["DEMO_PASSWORD"]})
    assert response.status_code == 302
    assert "/login" not in response.headers["Location"]


# ------------------------------------------------- refusal, reset, rollback


def test_refuses_a_non_empty_database_without_reset(session):
    assert not database_is_empty()
    before = _digest(session, Member)
    with pytest.raises(SeedRefused, match="not empty"):
        generate(members=10, employers=5, seed=1, reset=False, progress=False)
    assert _digest(session, Member) == before


def test_reset_reproduces_identical_data(seeded_app, session):
    before = {
        model.__tablename__: _digest(session, model)
        for model in (Member, Employment, Position, OrgUnit, Employer, Workplace)
    }
    users_before = session.execute(text("SELECT id, username, email FROM ab_user ORDER BY id")).all()
    result = generate(members=MEMBERS, employers=EMPLOYERS, seed=SEED, reset=True, progress=True)
    assert result.counts == seeded_app.seed_result.counts
    after = {
        model.__tablename__: _digest(session, model)
        for model in (Member, Employment, Position, OrgUnit, Employer, Workplace)
    }
    assert after == before
    assert session.execute(text("SELECT id, username, email FROM ab_user ORDER BY id")).all() == users_before
    # Another seed gives other data.
    generate(members=50, employers=10, seed=SEED + 1, reset=True, progress=False)
    assert _count(session, "member") == 50
    assert _digest(session, Member) != before["member"]


def test_rows_added_after_seeding_get_fresh_ids(seeded_app, session):
    """On PostgreSQL the sequences must have moved past the ids the generator wrote."""
    max_unit = session.execute(select(func.max(OrgUnit.id))).scalar()
    unit = OrgUnit(code="KLNEW", name="Ny klubb", level="club", parent_id=max_unit, receives_refunds=False)
    session.add(unit)
    session.add(DemoAccount(username="x", role="office", scope=""))
    session.commit()
    assert unit.id == max_unit + 1
    role = seeded_app.appbuilder.sm.find_role("office")
    user = seeded_app.appbuilder.sm.add_user(
        "nyadmin", "Ny", "Admin", "ny.admin@forbundet.example", [role], "Hemmelig-2026!"
    )
    assert user and user.id > 1


def test_a_failure_half_way_leaves_nothing(seeded_app, session, monkeypatch):
    generate(members=300, employers=20, seed=3, reset=True, progress=False)
    before = _digest(session, Member)

    def broken(ctx):
        raise RuntimeError("disk full")

    monkeypatch.setattr(generator, "_phase_demo_accounts", broken)
    # A failing reset keeps the old data.
    with pytest.raises(RuntimeError, match="disk full"):
        generate(members=200, employers=10, seed=4, reset=True, progress=False)
    assert _digest(session, Member) == before and _count(session, "member") == 300

    # On an empty database a failing run leaves it empty.
    _empty_database(session)
    assert database_is_empty()
    with pytest.raises(RuntimeError, match="disk full"):
        generate(members=200, employers=10, seed=4, reset=False, progress=False)
    assert {table: _count(session, table) for table in TABLES} == dict.fromkeys(TABLES, 0)
    assert database_is_empty()
    monkeypatch.undo()
    # ... and a working run afterwards writes everything, next to a user made before seeding.
    role = seeded_app.appbuilder.sm.find_role("office")
    admin = seeded_app.appbuilder.sm.add_user(
        "admin", "Ada", "Admin", "admin@forbundet.example", [role], "Hemmelig-2026!"
    )
    result = generate(members=200, employers=10, seed=4, reset=False, progress=False)
    assert _count(session, "member") == 200 and result.members == 200
    assert session.execute(select(func.min(Member.id))).scalar() == 1
    usernames = set(session.execute(text("SELECT username FROM ab_user")).scalars())
    assert {"admin", "kontor", "analytiker"} <= usernames
    assert session.execute(text("SELECT MIN(id) FROM ab_user WHERE username <> 'admin'")).scalar() > admin.id


def test_the_member_search_index_is_built_once_after_the_rows_and_survives_a_failed_seed(seeded_app, session,
                                                                                        monkeypatch):
    from seed.phases import search_index

    kept = search_index._definitions()
    assert kept  # SQLite: the FTS5 table's insert trigger; PostgreSQL: the trigram indexes on member
    generate(members=200, employers=10, seed=4, reset=True, progress=False)
    assert search_index._definitions() == kept
    monkeypatch.setattr(generator, "_phase_demo_accounts", lambda ctx: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        generate(members=150, employers=10, seed=5, reset=True, progress=False)
    monkeypatch.undo()
    assert search_index._definitions() == kept and _count(session, "member") == 200
    if session.get_bind().dialect.name == "sqlite":
        # The rebuilt table holds every member, and finds each by name and number as the triggers would have.
        from webapp.views.member_search import NAME_SEARCH_TABLE, name_candidates

        assert _count(session, NAME_SEARCH_TABLE) == 200
        for member in session.scalars(select(Member).order_by(Member.id).limit(20)):
            for column in ("last_name", "first_name", "member_no"):
                assert member.id in set(session.scalars(name_candidates(column, getattr(member, column)))), column


def _empty_database(session) -> None:
    """Delete the generator's rows through the generator's own reset phase, committed."""
    generator._phase_reset(None)
    session.commit()
