"""Segments (webapp/services/segments.py): each criterion chooses exactly the members its rule names, checked
against a Python twin over every member; the channel's consent and the address; the officer's scope always in
the SQL; bad criteria refused naming the field."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.factories import make_member, make_user
from webapp.extensions import db
from webapp.models import Employer, Employment, Member, OrgUnit, Workplace
from webapp.models.choices import ContactChoice, MemberCategory, SendOutChannel
from webapp.models.outreach import AgreementEmployer, CollectiveAgreement, SendOutRecipient
from webapp.security.scope import unit_subtree_ids
from webapp.services import segments
from webapp.services.membership import is_membership_current
from webapp.services.mypage import chosen_email, chosen_mobile
from webapp.services.validation import RecordInvalid

TODAY = dt.date.today()
EMAIL, SMS = SendOutChannel.email, SendOutChannel.sms


def _unit(world, code) -> OrgUnit:
    return db.session.get(OrgUnit, world.units[code].id)


def _member(unit, first, last, **values) -> Member:
    """A member of the test register with the given values set after the factory's defaults."""
    member = make_member(unit, first, last)
    for name, value in values.items():
        setattr(member, name, value)
    return member


def _employ(member, workplace_id, pct=100, start=dt.date(2020, 1, 1), end=None):
    place = db.session.get(Workplace, workplace_id)
    db.session.add(Employment(member=member, employer_id=place.employer_id, workplace=place, start_date=start,
                              end_date=end, position_pct=pct, on_deduction=True))


@pytest.fixture()
def register(app_ctx, world):
    """The world plus members that sit on the edges of each criterion."""
    av1, av2, kl1 = _unit(world, "AV1"), _unit(world, "AV2"), _unit(world, "KL1")
    w1, w1b, w2 = (world.workplaces[k].id for k in ("W1", "W1b", "W2"))
    db.session.get(Workplace, w1b).municipality = "Asker"
    made = {}
    made["former"] = _member(av1, "Frida", "Før", left_on=TODAY - dt.timedelta(days=40))
    made["leaving"] = _member(av1, "Lars", "Slutter", left_on=TODAY + dt.timedelta(days=20))
    made["future"] = _member(av1, "Fremtid", "Ny", joined_on=TODAY + dt.timedelta(days=5))
    made["student"] = _member(kl1, "Stine", "Student", category=MemberCategory.student)
    made["retired"] = _member(av2, "Rolf", "Pensjon", category=MemberCategory.retired)
    # Two current jobs: the main one (larger) in Vestland, the smaller one in Oslo; an ended one at E1.
    made["two_jobs"] = _member(av1, "To", "Jobber")
    _employ(made["two_jobs"], w2, pct=100)
    _employ(made["two_jobs"], w1, pct=40)
    made["ended_job"] = _member(av1, "Endt", "Jobb")
    _employ(made["ended_job"], w1, end=TODAY - dt.timedelta(days=1))
    _employ(made["ended_job"], w1b, start=TODAY + dt.timedelta(days=3))  # not yet started
    # Age band edges: 40 today, 40 tomorrow, 60 today, no birth date.
    made["forty_today"] = _member(av1, "Førti", "Idag")
    made["forty_today"].birth_date = segments.years_before(TODAY, 40)
    made["forty_tomorrow"] = _member(av1, "Førti", "Imorgen")
    made["forty_tomorrow"].birth_date = segments.years_before(TODAY, 40) + dt.timedelta(days=1)
    made["sixty"] = _member(av2, "Seksti", "Idag")
    made["sixty"].birth_date = segments.years_before(TODAY, 60)
    made["no_birth"] = _member(av1, "Uten", "Fødselsdato")
    made["no_birth"].birth_date = None
    # Contact data and consent.
    made["no_email"] = _member(av1, "Ingen", "Epost", email_private=None, mobile_private="+4791234567")
    made["said_no"] = _member(av1, "Sa", "Nei", info_by_email=False, info_by_sms=False)
    made["no_surveys"] = _member(av1, "Ikke", "Undersøkelser", surveys=False)
    made["work_chosen"] = _member(av1, "Jobb", "Adresse", email_work="jobb@example.no",
                                      email_to=ContactChoice.work, mobile_work="+4799999999",
                                      preferred_mobile=ContactChoice.work, mobile_private="+4798888888")
    made["work_empty"] = _member(av1, "Jobb", "Tom", email_work="", email_to=ContactChoice.work)
    made["login_only"] = _member(av1, "Bare", "Login", email_private=None)
    made["login_only"].user = make_user("login-only", "Bare", "Login")
    made["login_only"].user.email = "login@example.no"
    made["anonymised"] = _member(av1, "Anonym", "Isert", anonymised_at=TODAY - dt.timedelta(days=3))
    agreement = CollectiveAgreement(name="Hovedavtalen", valid_from=dt.date(2020, 1, 1))
    db.session.add(agreement)
    db.session.flush()
    db.session.add(AgreementEmployer(agreement_id=agreement.id, employer_id=world.employers["E1"].id))
    db.session.commit()
    return {"world": world, "made": {k: m.id for k, m in made.items()}, "agreement_id": agreement.id}


def chosen(criteria, channel=EMAIL, scope=None, survey=False) -> set[int]:
    return {row.member_id for row in segments.recipients(segments.validate(criteria, scope), channel, scope, survey)}


def in_segment(criteria, scope=None) -> set[int]:
    clause = segments.member_clause(segments.validate(criteria, scope), scope)
    return set(db.session.scalars(select(Member.id).where(clause)))


def members_where(predicate) -> set[int]:
    """The Python twin: every member the predicate admits (the SQL is not asked)."""
    return {m.id for m in db.session.scalars(select(Member)) if predicate(m)}


def active(member: Member) -> bool:
    return member.anonymised_at is None and is_membership_current(member, TODAY)


def current_jobs(member: Member) -> list[Employment]:
    jobs = [e for e in db.session.scalars(select(Employment).where(Employment.member_id == member.id))
            if e.start_date <= TODAY and (e.end_date is None or e.end_date >= TODAY)]
    return sorted(jobs, key=lambda e: (-e.position_pct, e.start_date, e.id))


# ------------------------------------------------------------------ one test per criterion


def test_status_active_is_the_membership_current_today_and_former_is_left_before_today(register):
    made = register["made"]
    assert in_segment({}) == members_where(active)
    assert made["leaving"] in in_segment({}) and made["future"] not in in_segment({})
    former = in_segment({"status": "former"})
    assert former == members_where(lambda m: m.anonymised_at is None and m.left_on is not None and m.left_on < TODAY)
    assert former == {made["former"]}


def test_categories(register):
    assert in_segment({"categories": ["student", "retired"]}) == members_where(
        lambda m: active(m) and m.category in (MemberCategory.student, MemberCategory.retired))
    assert in_segment({"categories": ["student"]}) == {register["made"]["student"]}


def test_unit_alone_and_with_the_units_below(register):
    world = register["world"]
    av1 = world.units["AV1"].id
    below = unit_subtree_ids({av1})
    assert len(below) == 2
    assert in_segment({"unit_id": av1, "unit_below": True}) == members_where(
        lambda m: active(m) and m.home_unit_id in below)
    assert in_segment({"unit_id": av1, "unit_below": False}) == members_where(
        lambda m: active(m) and m.home_unit_id == av1)
    assert world.members["club"].id in in_segment({"unit_id": av1})  # below by default
    assert world.members["club"].id not in in_segment({"unit_id": av1, "unit_below": False})


def test_employer_means_an_employment_there_current_today(register):
    e1 = register["world"].employers["E1"].id
    expected = members_where(lambda m: active(m) and any(e.employer_id == e1 for e in current_jobs(m)))
    assert in_segment({"employer_id": e1}) == expected
    assert register["made"]["ended_job"] not in expected and register["made"]["two_jobs"] in expected


def test_workplace_means_an_employment_there_current_today(register):
    w1b = register["world"].workplaces["W1b"].id
    expected = members_where(lambda m: active(m) and any(e.workplace_id == w1b for e in current_jobs(m)))
    assert in_segment({"workplace_id": w1b}) == expected == {register["world"].members["club"].id}


def _main_workplace(member) -> Workplace | None:
    jobs = current_jobs(member)
    return db.session.get(Workplace, jobs[0].workplace_id) if jobs else None


def test_county_is_that_of_the_main_current_employment(register):
    for county in ("Oslo", "Vestland", "Akershus"):
        expected = members_where(lambda m, c=county: active(m) and _main_workplace(m) is not None
                                 and _main_workplace(m).county == c)
        assert in_segment({"county": county}) == expected
        assert in_segment({"county": county.upper()}) == expected  # names compared without regard to case
    assert register["made"]["two_jobs"] in in_segment({"county": "Vestland"})
    assert register["made"]["two_jobs"] not in in_segment({"county": "Oslo"})


def test_municipality_is_that_of_the_main_current_employment(register):
    expected = members_where(lambda m: active(m) and _main_workplace(m) is not None
                             and _main_workplace(m).municipality == "Asker")
    assert in_segment({"municipality": "Asker"}) == expected == {register["world"].members["club"].id}
    assert in_segment({"municipality": "Asker", "county": "Oslo"}) == set()


def test_agreement_means_covered_today(register):
    e1 = register["world"].employers["E1"].id
    expected = members_where(lambda m: active(m) and any(e.employer_id == e1 for e in current_jobs(m)))
    assert in_segment({"agreement_id": register["agreement_id"]}) == expected
    agreement = db.session.get(CollectiveAgreement, register["agreement_id"])
    agreement.valid_to = TODAY - dt.timedelta(days=1)  # expired: covers nobody
    db.session.commit()
    assert in_segment({"agreement_id": register["agreement_id"]}) == set()


def test_age_band_in_whole_years_today_both_ends_inclusive(register):
    made = register["made"]

    def aged(low, high):
        return members_where(lambda m: active(m) and m.birth_date is not None
                             and low <= segments.age_on(m.birth_date, TODAY) <= high)

    assert in_segment({"age_min": 40, "age_max": 40}) == aged(40, 40)
    assert made["forty_today"] in in_segment({"age_min": 40, "age_max": 40})
    assert made["forty_tomorrow"] not in in_segment({"age_min": 40})
    assert made["forty_tomorrow"] in in_segment({"age_max": 39})
    assert made["sixty"] in in_segment({"age_min": 60}) and made["sixty"] not in in_segment({"age_max": 59})
    assert made["no_birth"] not in in_segment({"age_min": 0})
    assert in_segment({"age_min": 41, "age_max": 59}) == aged(41, 59)


def test_anonymised_members_are_never_chosen(register):
    anonymised = register["made"]["anonymised"]
    assert anonymised not in in_segment({}) and anonymised not in in_segment({"status": "former"})


# ------------------------------------------------------------------ consent and address


def test_the_channels_consent_and_surveys_for_a_survey_invitation(register):
    made = register["made"]
    everyone = in_segment({})
    assert made["said_no"] in everyone
    assert made["said_no"] not in chosen({}, EMAIL) and made["said_no"] not in chosen({}, SMS)
    assert made["no_surveys"] in chosen({}, EMAIL) and made["no_surveys"] not in chosen({}, EMAIL, survey=True)
    counted = segments.count({}, EMAIL, None)
    assert counted.matching == len(everyone)
    assert counted.opted_out == len(members_where(lambda m: active(m) and not m.info_by_email))
    assert counted.reachable == len(chosen({}, EMAIL))


def test_the_address_is_the_members_chosen_one_and_those_without_are_counted_apart(register):
    made = register["made"]
    for channel, twin in ((EMAIL, chosen_email), (SMS, chosen_mobile)):
        rows = {row.member_id: row.address for row in segments.recipients({}, channel, None)}
        consent = Member.info_by_email if channel == EMAIL else Member.info_by_sms
        expected = {m.id: twin(m) for m in db.session.scalars(select(Member)) if active(m) and getattr(
            m, consent.key) and (twin(m) or "").strip()}
        assert rows == expected
        without = len(members_where(lambda m, c=consent, t=twin: active(m) and getattr(m, c.key)
                                    and not (t(m) or "").strip()))
        assert segments.count({}, channel, None).no_address == without
    emails = {row.member_id: row.address for row in segments.recipients({}, EMAIL, None)}
    assert emails[made["work_chosen"]] == "jobb@example.no"
    assert emails[made["login_only"]] == "login@example.no"
    assert made["work_empty"] in emails and emails[made["work_empty"]].startswith("m")  # falls back to private
    assert made["no_email"] not in emails
    mobiles = {row.member_id: row.address for row in segments.recipients({}, SMS, None)}
    assert mobiles[made["work_chosen"]] == "+4799999999" and mobiles[made["no_email"]] == "+4791234567"


def test_recipients_are_inserted_set_based_as_listed(register, world):
    from webapp.models.choices import SendOutStatus
    from webapp.models.outreach import SendOut

    send_out = SendOut(channel=EMAIL, criteria="{}", subject="S", body="B", status=SendOutStatus.sending,
                       created_at=dt.datetime.now(), sent_count=0)
    db.session.add(send_out)
    db.session.flush()
    count = segments.insert_recipients(send_out.id, {"unit_id": world.units["AV1"].id}, EMAIL, None)
    rows = set(db.session.execute(select(SendOutRecipient.member_id, SendOutRecipient.address)
                                  .where(SendOutRecipient.send_out_id == send_out.id)).all())
    listed = {tuple(row) for row in segments.recipients(
        segments.validate({"unit_id": world.units["AV1"].id}, None), EMAIL, None)}
    assert count == len(rows) == len(listed) > 5 and rows == listed


# ------------------------------------------------------------------ scope and bad criteria


def test_an_officers_scope_is_always_in_the_sql(register):
    world = register["world"]
    scope = unit_subtree_ids({world.units["AV1"].id})
    inside = in_segment({}, scope)
    assert inside == members_where(lambda m: active(m) and m.home_unit_id in scope)
    assert world.members["outside"].id not in inside
    # A unit outside the scope is refused naming the field ...
    with pytest.raises(RecordInvalid) as refused:
        segments.validate({"unit_id": world.units["AV2"].id}, scope)
    assert list(refused.value.errors) == ["unit_id"]
    assert str(segments.LABELS["unit_id"]) in refused.value.errors["unit_id"][0]
    # ... and were it to get past the check, the SQL still reaches nobody outside.
    forged = {"status": "active", "unit_id": world.units["AV2"].id}
    assert db.session.scalars(select(Member.id).where(segments.member_clause(forged, scope))).all() == []
    assert segments.count(forged, EMAIL, scope).matching == 0
    assert segments.count({}, EMAIL, frozenset()).matching == 0  # an empty scope: nobody (fail closed)


@pytest.mark.parametrize("criteria, field", [
    ({"status": "sleeping"}, "status"),
    ({"categories": ["ordinary", "boss"]}, "categories"),
    ({"unit_id": "x"}, "unit_id"),
    ({"unit_id": 2**70}, "unit_id"),
    ({"employer_id": 999999}, "employer_id"),
    ({"workplace_id": "-3"}, "workplace_id"),
    ({"agreement_id": 999999}, "agreement_id"),
    ({"county": "x" * 81}, "county"),
    ({"municipality": "a\x00b"}, "municipality"),
    ({"age_min": "ti"}, "age_min"),
    ({"age_max": 131}, "age_max"),
    ({"age_min": 50, "age_max": 40}, "age_max"),
    ({"age_min": True}, "age_min"),
    ({"favourite_colour": "red"}, "criteria"),
])
def test_bad_criteria_are_refused_naming_the_field(app_ctx, world, criteria, field):
    with pytest.raises(RecordInvalid) as refused:
        segments.validate(criteria, None)
    assert field in refused.value.errors
    if field in segments.LABELS:
        assert refused.value.errors[field][0].startswith(str(segments.LABELS[field]) + ":")


def test_criteria_round_trip_through_json(app_ctx, world):
    criteria = segments.validate({"categories": ["student", "ordinary"], "unit_id": str(world.units["AV1"].id),
                                  "age_min": " 30 ", "county": " Oslo "}, None)
    assert criteria == {"status": "active", "categories": ["ordinary", "student"], "unit_id": world.units["AV1"].id,
                        "unit_below": True, "age_min": 30, "county": "Oslo"}
    assert segments.from_json(segments.to_json(criteria)) == criteria
    assert db.session.get(Employer, world.employers["E1"].id) is not None
