"""Ballots: the voter list is the register's covered members on the cut-off date (checked against hand-written
SQL), locking freezes it (one winner; later changes to the register do not reach it), the export holds exactly
four fields and is audited, the purge deletes lists on time, Min side tells voters until the ballot closes, and
only the office reaches the screens."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import func, select, text

from tests.concurrency import browser_session, fire_together, postgres_only
from tests.factories import build_world, make_member
from tests.helpers import login, login_as
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import AuditEntry, Employment, Member
from webapp.models.choices import BallotStatus, ContactChoice, EmployerAssociation, MemberCategory
from webapp.models.outreach import AgreementCategory, Ballot, BallotVoter, CollectiveAgreement
from webapp.services import ballots, mypage, retention

CUTOFF = dt.date(2026, 3, 15)


def add_agreement(employer_ids, name="Statens hovedtariffavtale", categories=(), valid_to=None) -> int:
    from webapp.models import Employer

    agreement = CollectiveAgreement(name=name, counterpart_association=EmployerAssociation.staten,
                                    valid_from=dt.date(2024, 5, 1), valid_to=valid_to)
    agreement.employers = [db.session.get(Employer, employer_id) for employer_id in employer_ids]
    db.session.add(agreement)
    db.session.flush()
    for category in categories:
        db.session.add(AgreementCategory(agreement_id=agreement.id, category=category))
    db.session.commit()
    return agreement.id


def add_ballot(agreement_id, cutoff=CUTOFF, closes_on=None, title="Uravstemning om lønnsoppgjøret") -> int:
    ballot = ballots.create(ballots.BallotForm(agreement_id, title, cutoff, closes_on or cutoff + dt.timedelta(30)))
    return ballot.id


def employ(member, place, start=dt.date(2020, 1, 1), end=None):
    db.session.add(Employment(member_id=member.id, employer_id=place.employer_id, workplace_id=place.id,
                              start_date=start, end_date=end, position_pct=100))


@pytest.fixture()
def register(app_ctx):
    """The test world plus members at the edges of the cut-off date and of every contact choice:
    - ended: employment at E1 ended the day before the cut-off (not covered)
    - starts: employment at E1 starts on the cut-off (covered)
    - joins_late: joined the day after the cut-off (not covered)
    - left_on_cutoff: left on the cut-off day (covered: current through its last day)
    - work_contact: chose the work e-mail and the work mobile (covered)
    - login_mail: no e-mail of their own, only the login's address (covered)
    - retired: a retired member at E1 (covered unless the agreement lists categories)
    - e2: employed at E2 only (not covered by an E1 agreement)"""
    world = build_world()
    w1, w2 = world.workplaces["W1"], world.workplaces["W2"]
    av1 = world.units["AV1"]
    from tests.factories import make_user

    def member(key, first, last, **values):
        row = make_member(av1, first, last)
        for name, value in values.items():
            setattr(row, name, value)
        world.members[key] = row
        return row

    employ(member("ended", "Elin", "Sluttet"), w1, end=CUTOFF - dt.timedelta(days=1))
    employ(member("starts", "Stian", "Start"), w1, start=CUTOFF)
    employ(member("joins_late", "Jens", "Sein", joined_on=CUTOFF + dt.timedelta(days=1)), w1)
    employ(member("left_on_cutoff", "Liv", "Utmeldt", left_on=CUTOFF), w1)
    employ(member("work_contact", "Wenche", "Jobb", email_work="wenche@jobb.no", email_to=ContactChoice.work,
                  mobile_private="+4791111111", mobile_work="+4792222222", preferred_mobile=ContactChoice.work), w1)
    login_only = member("login_mail", "Lars", "Innlogget", email_private=None, email_to=None,
                        mobile_private="+4793333333")
    login_only.user = make_user(login_only.member_no, "Lars", "Innlogget")
    employ(login_only, w1)
    employ(member("retired", "Randi", "Pensjonist", category=MemberCategory.retired), w1)
    employ(member("e2", "Erik", "Vest"), w2)
    db.session.commit()
    return world


# An independent statement of the rule, written out in SQL: membership current on the day (dates as entered), an
# employment current on the day at an employer the agreement lists, the category listed (or none listed), and the
# agreement valid on the day.
VOTERS_SQL = """
SELECT m.member_no, m.first_name || ' ' || m.last_name AS name
FROM member m
WHERE m.joined_on <= :day AND (m.left_on IS NULL OR m.left_on >= :day)
  AND EXISTS (SELECT 1 FROM employment e JOIN agreement_employer ae ON ae.employer_id = e.employer_id
              WHERE e.member_id = m.id AND ae.agreement_id = :agreement
                AND e.start_date <= :day AND (e.end_date IS NULL OR e.end_date >= :day))
  AND (NOT EXISTS (SELECT 1 FROM agreement_category c WHERE c.agreement_id = :agreement)
       OR m.category IN (SELECT c.category FROM agreement_category c WHERE c.agreement_id = :agreement))
  AND EXISTS (SELECT 1 FROM collective_agreement a WHERE a.id = :agreement
              AND a.valid_from <= :day AND (a.valid_to IS NULL OR a.valid_to >= :day))
ORDER BY m.member_no
"""


def hand_written_voters(agreement_id: int, day: dt.date) -> list[tuple[str, str]]:
    return [tuple(row) for row in db.session.execute(text(VOTERS_SQL), {"agreement": agreement_id, "day": day})]


def frozen(ballot_id: int) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(BallotVoter.member_no, BallotVoter.name, BallotVoter.email, BallotVoter.mobile)
        .where(BallotVoter.ballot_id == ballot_id).order_by(BallotVoter.member_no))]


@pytest.mark.parametrize("categories", [(), (MemberCategory.ordinary,), (MemberCategory.retired,)])
def test_the_voter_list_is_the_hand_written_query_on_the_cut_off_date(register, categories):
    agreement = add_agreement([register.employers["E1"].id], categories=categories)
    ballot_id = add_ballot(agreement)
    expected = hand_written_voters(agreement, CUTOFF)
    assert expected  # the check means something: there are voters
    ballot = db.session.get(Ballot, ballot_id)
    assert ballots.draft_count(ballot) == len(expected)
    assert ballots.lock(ballot_id, None) == len(expected)
    assert [(number, name) for number, name, _email, _mobile in frozen(ballot_id)] == expected
    keys = {"ended", "starts", "joins_late", "left_on_cutoff", "retired", "e2"}
    on_list = {key for key in keys if register.members[key].member_no in {number for number, _ in expected}}
    if not categories:
        assert on_list == {"starts", "left_on_cutoff", "retired"}
    elif categories == (MemberCategory.retired,):
        assert on_list == {"retired"}


def test_the_list_holds_the_address_each_member_chose_as_min_side_says(register):
    """The SQL of the frozen e-mail and mobile agrees with mypage.chosen_email / chosen_mobile, member by member,
    over every kind of choice in the register (chosen work, chosen private, nothing chosen, only the login's)."""
    agreement = add_agreement([register.employers["E1"].id])
    ballot_id = add_ballot(agreement)
    ballots.lock(ballot_id, None)
    rows = db.session.scalars(select(BallotVoter).where(BallotVoter.ballot_id == ballot_id)).all()
    assert len(rows) >= 6
    for row in rows:
        member = db.session.get(Member, row.member_id)
        assert (row.email, row.mobile) == (mypage.chosen_email(member) or None, mypage.chosen_mobile(member) or None)
        assert row.member_no == member.member_no and row.name == member.full_name
    by_number = {row.member_no: row for row in rows}
    assert by_number[register.members["work_contact"].member_no].email == "wenche@jobb.no"
    assert by_number[register.members["work_contact"].member_no].mobile == "+4792222222"
    assert by_number[register.members["login_mail"].member_no].email == f"{register.members['login_mail'].member_no}" \
                                                                        "@test.invalid"


def test_a_locked_list_does_not_follow_the_register(register):
    agreement = add_agreement([register.employers["E1"].id])
    ballot_id = add_ballot(agreement)
    ballots.lock(ballot_id, None)
    before = frozen(ballot_id)
    before_export = ballots.export_rows(db.session.get(Ballot, ballot_id))
    # The register changes: someone gets a job at E1 from before the cut-off, a voter's leave is backdated to
    # before the cut-off, a voter changes e-mail.
    employ(register.members["e2"], register.workplaces["W1"], start=dt.date(2025, 1, 1))
    db.session.get(Member, register.members["starts"].id).left_on = CUTOFF - dt.timedelta(days=1)
    db.session.get(Member, register.members["work_contact"].id).email_work = "ny@jobb.no"
    db.session.commit()
    # The change is real: a draft over the same agreement and date sees it ...
    draft = db.session.get(Ballot, add_ballot(agreement, title="Ny"))
    now_covered = {row.member_no for row in ballots.draft_preview(draft, limit=1000)}
    assert register.members["e2"].member_no in now_covered
    assert register.members["starts"].member_no not in now_covered
    # ... the locked list does not.
    assert frozen(ballot_id) == before
    assert ballots.export_rows(db.session.get(Ballot, ballot_id)) == before_export
    assert db.session.get(Ballot, ballot_id).voter_count == len(before)


def test_a_ballot_locks_once(register):
    agreement = add_agreement([register.employers["E1"].id])
    ballot_id = add_ballot(agreement)
    count = ballots.lock(ballot_id, None)
    employ(register.members["e2"], register.workplaces["W1"], start=dt.date(2025, 1, 1))
    db.session.commit()
    with pytest.raises(ballots.BallotError):
        ballots.lock(ballot_id, None)
    assert db.session.scalar(select(func.count()).select_from(BallotVoter)
                             .where(BallotVoter.ballot_id == ballot_id)) == count
    locks = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "ballot_locked")).all()
    assert [json.loads(entry.details)["count"] for entry in locks] == [count]


@postgres_only
def test_concurrent_locks_one_winner(live_server, clean_app):
    with clean_app.app_context():
        world = build_world()
        agreement = add_agreement([world.employers["E1"].id])
        ballot_id = add_ballot(agreement)
        db.session.remove()
    sessions = [browser_session(live_server, "kontor") for _ in range(4)]
    responses = fire_together([lambda s=s: s.post(f"{live_server}/ballots/{ballot_id}/lock", allow_redirects=False)
                               for s in sessions])
    assert all(response.status_code == 302 for response in responses)
    with clean_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "ballot_locked")) == 1
        voters = db.session.scalar(select(func.count()).select_from(BallotVoter)
                                   .where(BallotVoter.ballot_id == ballot_id))
        assert voters == db.session.get(Ballot, ballot_id).voter_count == 2
        db.session.remove()


# ------------------------------------------------------------------ the screens


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))


def test_the_export_holds_exactly_the_four_fields_and_is_audited(client, world, dbs):
    agreement = add_agreement([world.employers["E1"].id])
    ballot_id = add_ballot(agreement, cutoff=dt.date.today())
    member = dbs.get(Member, world.members["inside"].id)
    member.mobile_private = "+4791234567"
    dbs.commit()
    login(client, world.logins["office"])
    draft = client.get(f"/ballots/{ballot_id}/velgerliste.csv")
    assert draft.status_code == 302 and draft.mimetype != "text/csv"  # nothing leaves from a draft
    assert client.post(f"/ballots/{ballot_id}/lock").status_code == 302
    response = client.get(f"/ballots/{ballot_id}/velgerliste.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="velgerliste-uravstemning-{ballot_id}-{dt.date.today().isoformat()}.csv"' in \
        response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["medlemsnummer", "navn", "e-post", "mobil"]
    assert all(len(row) == 4 for row in rows)
    assert sorted(rows[1:]) == sorted([
        [world.members["inside"].member_no, "Kari Nordmann", world.members["inside"].email_private, "4791234567"],
        [world.members["club"].member_no, "Ola Æsøy", world.members["club"].email_private, ""],
    ])
    assert world.members["inside"].national_id not in response.get_data(as_text=True)
    entries = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "download",
                                                   AuditEntry.object_type == "ballot")).all()
    assert [(entry.object_id, json.loads(entry.details)["count"]) for entry in entries] == [(ballot_id, 2)]


def test_the_draft_page_shows_the_live_count_and_the_first_rows(client, world, dbs):
    agreement = add_agreement([world.employers["E1"].id])
    ballot_id = add_ballot(agreement, cutoff=dt.date.today())
    login(client, world.logins["office"])
    page = client.get(f"/ballots/{ballot_id}").get_data(as_text=True)
    assert translated(client.application, "Voters if locked now: %(count)s", count=2) in page
    assert "Kari Nordmann" in page and "Ola Æsøy" in page and "Per Utenfor" not in page
    assert 'id="lock-button"' in page and 'id="export-voters"' not in page
    client.post(f"/ballots/{ballot_id}/lock")
    page = client.get(f"/ballots/{ballot_id}").get_data(as_text=True)
    assert translated(client.application, "Voters on the frozen list: %(count)s", count=2) in page
    assert 'id="lock-button"' not in page and 'id="export-voters"' in page
    again = client.post(f"/ballots/{ballot_id}/lock", follow_redirects=True).get_data(as_text=True)
    assert translated(client.application, "The ballot is already locked: its voter list was frozen before.") in again


def test_a_new_ballot_names_the_field_of_each_mistake(client, world, dbs):
    agreement = add_agreement([world.employers["E1"].id])
    login(client, world.logins["office"])
    app = client.application
    bad = {"agreement_id": "999999", "title": "x" * 201, "cutoff_date": "2026-05-01", "closes_on": "2026-04-30"}
    response = client.post("/ballots/new", data=bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert translated(app, "%(field)s: choose one of the agreements.",
                      field=translated(app, "Collective agreement")) in page
    assert translated(app, "%(field)s: at most %(count)s characters.", field=translated(app, "Title"),
                      count=200) in page
    assert translated(app, "Closes on: cannot be before the cut-off date.") in page
    response = client.post("/ballots/new", data={**bad, "agreement_id": str(agreement), "title": "Ok",
                                                 "cutoff_date": "31.02.2026", "closes_on": "3000-01-01"})
    page = response.get_data(as_text=True)
    assert translated(app, "%(field)s: must be a date (dd.mm.yyyy).", field=translated(app, "Cut-off date")) in page
    assert translated(app, "%(field)s: must be a date (dd.mm.yyyy).", field=translated(app, "Closes on")) not in page
    assert "2100" in page  # closes_on beyond the register's dates
    assert dbs.scalar(select(func.count(Ballot.id))) == 0
    response = client.post("/ballots/new", data={"agreement_id": str(agreement), "title": "Uravstemning 2026",
                                                 "cutoff_date": "01.05.2026", "closes_on": "2026-05-01"})
    assert response.status_code == 302
    ballot = dbs.scalars(select(Ballot)).one()
    assert (ballot.title, ballot.cutoff_date, ballot.closes_on, ballot.status) == (
        "Uravstemning 2026", dt.date(2026, 5, 1), dt.date(2026, 5, 1), BallotStatus.draft)


OFFICE_ROUTES = [("GET", "/ballots/"), ("GET", "/ballots/new"), ("POST", "/ballots/new"), ("GET", "/ballots/{id}"),
                 ("POST", "/ballots/{id}/lock"), ("GET", "/ballots/{id}/velgerliste.csv"),
                 ("GET", "/agreementview/list/"), ("GET", "/agreementview/show/{agreement}"),
                 ("GET", "/agreementview/add"), ("POST", "/agreementview/add")]


@pytest.mark.parametrize("role", ["leader", "treasurer", "member_data_admin", "workplace_trustee",
                                  "deduction_contact", "member", "analyst"])
def test_only_the_office_reaches_the_screens(client, world, dbs, role):
    agreement = add_agreement([world.employers["E1"].id])
    ballot_id = add_ballot(agreement, cutoff=dt.date.today())
    login_as(client, world.logins[role], role)
    for method, route in OFFICE_ROUTES:
        url = route.format(id=ballot_id, agreement=agreement)
        response = client.open(url, method=method, data={"title": "x"} if method == "POST" else None)
        assert response.status_code in (302, 401, 403), f"{role} {method} {url}: {response.status_code}"
        assert response.mimetype != "text/csv"
    assert dbs.get(Ballot, ballot_id).status == BallotStatus.draft
    assert dbs.scalar(select(func.count(Ballot.id))) == 1


def test_the_office_reaches_every_screen(client, world, dbs):
    agreement = add_agreement([world.employers["E1"].id])
    ballot_id = add_ballot(agreement, cutoff=dt.date.today())
    login(client, world.logins["office"])
    for method, route in OFFICE_ROUTES:
        if method == "GET" and "csv" not in route:
            assert client.get(route.format(id=ballot_id, agreement=agreement)).status_code == 200, route


# ------------------------------------------------------------------ Min side


def test_min_side_tells_voters_until_the_ballot_closes(client, world, dbs):
    today = dt.date.today()
    agreement = add_agreement([world.employers["E1"].id])
    open_ballot = add_ballot(agreement, cutoff=today - dt.timedelta(days=5), closes_on=today, title="Avstemning A")
    closed = add_ballot(agreement, cutoff=today - dt.timedelta(days=9), closes_on=today - dt.timedelta(days=1),
                        title="Avstemning B")
    add_ballot(agreement, cutoff=today - dt.timedelta(days=5), closes_on=today + dt.timedelta(days=9),
               title="Avstemning C")  # a draft: nobody has a vote yet
    other = add_agreement([world.employers["E2"].id], name="Spekter A2")
    e2_ballot = add_ballot(other, cutoff=today - dt.timedelta(days=5), closes_on=today + dt.timedelta(days=9),
                           title="Avstemning D")
    for ballot_id in (open_ballot, closed, e2_ballot):
        ballots.lock(ballot_id, None)
    notice = translated(client.application, "You have a vote in the ballot %(title)s – the deadline is %(date)s.",
                        title="Avstemning A", date=today.strftime("%d.%m.%Y"))
    login_as(client, world.logins["member"], "member")
    page = client.get("/minside/").get_data(as_text=True)
    assert notice in page  # shown on the last day
    assert "Avstemning B" not in page and "Avstemning C" not in page and "Avstemning D" not in page
    client.get("/logout/")
    login_as(client, world.members["outside"].member_no, "member")
    page = client.get("/minside/").get_data(as_text=True)
    assert "Avstemning A" not in page and "Avstemning D" in page  # E2's voter, not E1's
    assert [ballot.title for ballot in ballots.open_votes(world.members["inside"].id, today + dt.timedelta(1))] == []


# ------------------------------------------------------------------ the purge


def test_the_purge_deletes_voter_lists_a_set_time_after_the_ballot_closed(register, app_ctx):
    keep = int(app_ctx.config["BALLOT_VOTERS_KEEP_DAYS"])
    agreement = add_agreement([register.employers["E1"].id])
    closes_on = CUTOFF + dt.timedelta(days=20)
    ballot_id = add_ballot(agreement, closes_on=closes_on)
    later = add_ballot(agreement, closes_on=closes_on + dt.timedelta(days=1), title="Senere")
    count = ballots.lock(ballot_id, None)
    later_count = ballots.lock(later, None)

    kept = retention.purge(today=closes_on + dt.timedelta(days=keep))
    assert (kept.ballot_voter_lists, kept.ballot_voters) == (0, 0)
    assert len(frozen(ballot_id)) == count

    dry = retention.purge(dry_run=True, today=closes_on + dt.timedelta(days=keep + 1))
    assert (dry.ballot_voter_lists, dry.ballot_voters) == (1, count)
    assert f"would delete 1 ({count} voters)" in dry.summary()
    assert len(frozen(ballot_id)) == count

    done = retention.purge(today=closes_on + dt.timedelta(days=keep + 1))
    assert (done.ballot_voter_lists, done.ballot_voters) == (1, count)
    assert f"deleted 1 ({count} voters)" in done.summary()
    db.session.expire_all()
    ballot = db.session.get(Ballot, ballot_id)
    assert frozen(ballot_id) == [] and ballot.voters_deleted_at is not None and ballot.voter_count == count
    assert len(frozen(later)) == later_count  # closed a day later: kept one more day
    with pytest.raises(ballots.BallotError):
        ballots.export_rows(ballot)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "purge_ballot_voters")).one()
    assert json.loads(entry.details)["count"] == count
    again = retention.purge(today=closes_on + dt.timedelta(days=keep + 1))
    assert again.ballot_voter_lists == 0


# ------------------------------------------------------------------ demo data


def test_the_demo_data_has_agreements_a_locked_and_a_draft_ballot_and_a_reset_empties_them(register):
    from seed.phases.outreach import seed_outreach
    from seed.phases.reset import reset
    from webapp.models import Employer
    from webapp.models.choices import Sector
    from webapp.models.outreach import AgreementEmployer

    # A private employer with staff, for the single-employer agreement.
    private = Employer(org_number="923609016", name="Privat AS", association=EmployerAssociation.nho,
                       sector=Sector.private, has_deduction_agreement=False, customer_no="00090000")
    db.session.add(private)
    db.session.flush()
    from webapp.models import Workplace

    place = Workplace(employer=private, name="Privat Oslo", municipality="Oslo", county="Oslo",
                      org_unit_id=register.units["AV1"].id)
    db.session.add(place)
    db.session.flush()
    employ(register.members["e2"], place, start=dt.date(2021, 1, 1))
    db.session.commit()
    today = dt.date(2026, 6, 1)
    result = seed_outreach(today)
    assert len(result.agreements) == 3 and len(result.ballots) == 2, result.summary()
    agreements = {row.name: row for row in db.session.scalars(select(CollectiveAgreement))}
    state = agreements["Statens hovedtariffavtale (LO Stat)"]
    assert [employer.name for employer in state.employers] == ["Virksomhet E1"]
    single = agreements["Bedriftsavtale Privat AS"]
    assert single.counterpart_employer_id == private.id and single.counterpart_association is None
    assert sorted(row.category.name for row in db.session.scalars(
        select(AgreementCategory).where(AgreementCategory.agreement_id == single.id))) == ["apprentice", "ordinary"]
    rows = {row.status: row for row in db.session.scalars(select(Ballot))}
    assert rows[BallotStatus.locked].closes_on > today and rows[BallotStatus.locked].voter_count == len(
        frozen(rows[BallotStatus.locked].id)) > 0
    assert rows[BallotStatus.draft].voter_count is None
    assert seed_outreach(today).skipped
    reset(None)
    for model in (CollectiveAgreement, AgreementEmployer, AgreementCategory, Ballot, BallotVoter):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model.__tablename__
    db.session.commit()


def test_a_member_anonymised_by_the_purge_leaves_every_voter_list(register):
    agreement = add_agreement([register.employers["E1"].id])
    ballot_id = add_ballot(agreement, closes_on=CUTOFF + dt.timedelta(days=400))  # its list is kept a long time
    count = ballots.lock(ballot_id, None)
    leaver = db.session.get(Member, register.members["starts"].id)
    leaver.left_on = dt.date(2016, 1, 31)  # left long ago, by a correction after the lock
    db.session.commit()
    result = retention.purge(today=CUTOFF + dt.timedelta(days=1))
    assert register.members["starts"].id in [member_id for member_id, _no, _left in result.members]
    numbers = [number for number, *_rest in frozen(ballot_id)]
    assert register.members["starts"].member_no not in numbers and len(numbers) == count - 1
    assert db.session.get(Ballot, ballot_id).voter_count == count
