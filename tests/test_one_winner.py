"""One winner per state change: the same transition fired by several users at once, over real HTTP.

Each test logs in N sessions, releases their requests together against the live server and checks
that exactly one succeeded, that every other one was told why not (in Norwegian), and that the
database holds the change once: points given back once, a delivered list's total equal to the sum
of its lines, an approved quarter's figures as approved, one audit row.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from tests.concurrency import browser_session, fire_together, postgres_only
from tests.factories import add_initial_rate
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import (
    AccessRequest,
    AuditEntry,
    DeductionContact,
    DeductionList,
    DeductionListLine,
    Employment,
    EmploymentChange,
    PointsAccount,
    Prize,
    PrizeOrder,
    Recruitment,
    RefundPolicy,
    RefundRun,
    RefundUnit,
)
from webapp.models.choices import ListStatus, OrderStatus, RefundStatus, RequestStatus
from webapp.services import deduction_basis, deduction_lists, recruitment, refunds
from webapp.services.deduction_lists import LineInput
from webapp.services.periods import Month, Quarter

pytestmark = postgres_only

N = 6
PERIOD = "2026-03"
QUARTER = "2026-Q1"
QUARTER_SHOWN = "1. kvartal 2026"  # as pages and messages name it


# ------------------------------------------------------------------ helpers


def sessions(base_url: str, username: str, count: int = N) -> list:
    return [browser_session(base_url, username) for _ in range(count)]


def texts(responses) -> list[str]:
    """Each response's page as the user reads it (after its redirect), for checking the flash messages."""
    assert [r.status_code for r in responses] == [200] * len(responses), [r.status_code for r in responses]
    return [html.unescape(r.text) for r in responses]


def office_race(live_server: str, world, view: str, actions: tuple[str, str], row_id: int) -> list[str]:
    """N office sessions post the view's two actions in turn on one row, all at once; the pages they get."""
    office = sessions(live_server, world.logins["office"])
    url = f"{live_server}/{view}/action_post"
    odd, even = actions
    return texts(fire_together([
        lambda s=s, i=i: s.post(url, data={"action": odd if i % 2 else even, "rowid": [row_id]})
        for i, s in enumerate(office)
    ]))


def count_with(pages: list[str], text: str) -> int:
    return sum(text in page for page in pages)


def assert_one_winner(pages: list[str], won: str, refused: str) -> None:
    assert (count_with(pages, won), count_with(pages, refused)) == (1, len(pages) - 1)


def audit_rows(action: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def in_app(app, work: Callable):
    """Run `work` in an app context of its own (as the server's requests do) and return its result."""
    with app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def user_id(app, username: str) -> int:
    return in_app(app, lambda: app.appbuilder.sm.find_user(username=username).id)


# ------------------------------------------------------------------ deduction lists (portal and office)


@pytest.fixture()
def draft(clean_app, world):
    """A draft main list of employer E1 for the month: (list id, its line ids)."""
    contact_id = user_id(clean_app, world.logins["deduction_contact"])

    def make():
        add_initial_rate()
        deduction_basis.generate(Month.parse(PERIOD))
        deduction_list = deduction_lists.create_list(world.employers["E1"].id, PERIOD, contact_id)
        return deduction_list.id, [line.id for line in deduction_list.lines]

    list_id, line_ids = in_app(clean_app, make)
    assert len(line_ids) >= 2
    return list_id, line_ids


def locked_text(app) -> str:
    return translated(app, "Status: the list is delivered and locked; only the union office can reopen it.")


def list_form(action: str, line_ids: list[int], kroner: int) -> dict:
    return {"action": action, **{f"amount_{line_id}": f"{kroner},00" for line_id in line_ids}}


def stored_list(app, list_id: int) -> tuple[ListStatus, int, list[int]]:
    """(status, stored total, the amounts of its lines) as in the database."""
    def read():
        deduction_list = db.session.get(DeductionList, list_id)
        amounts = db.session.scalars(
            select(DeductionListLine.amount_ore).where(DeductionListLine.list_id == list_id)).all()
        return deduction_list.status, deduction_list.total_ore, list(amounts)
    return in_app(app, read)


def save_amounts(app, list_id: int, line_ids: list[int], kroner: int) -> None:
    """The draft saved with `kroner` on every line, as the edit form's save does."""
    in_app(app, lambda: deduction_lists.update_entries(
        db.session.get(DeductionList, list_id), {line_id: LineInput(amount=f"{kroner},00") for line_id in line_ids}))


def test_concurrent_approvals_deliver_a_list_once(clean_app, world, draft, live_server):
    """Approving saves the draft and asks for a confirmation; the confirmations race (each with the total it saw)."""
    list_id, line_ids = draft
    save_amounts(clean_app, list_id, line_ids, 100)
    url = f"{live_server}/portal/lists/{list_id}/approve"
    total = str(100_00 * len(line_ids))
    contacts = sessions(live_server, world.logins["deduction_contact"])
    pages = texts(fire_together([lambda s=s: s.post(url, data={"total_ore": total}) for s in contacts]))

    assert_one_winner(pages, translated(clean_app, "The list is delivered."), locked_text(clean_app))
    status, stored_total, amounts = stored_list(clean_app, list_id)
    assert status == ListStatus.delivered
    assert set(amounts) == {100_00} and stored_total == sum(amounts)


def test_approval_racing_saves_of_other_amounts_keeps_the_total_equal_to_the_lines(clean_app, world, draft,
                                                                                   live_server):
    list_id, line_ids = draft
    save_amounts(clean_app, list_id, line_ids, 100)
    contacts = sessions(live_server, world.logins["deduction_contact"])
    approvers, savers = contacts[: N // 2], contacts[N // 2:]
    approve_url, edit_url = f"{live_server}/portal/lists/{list_id}/approve", f"{live_server}/portal/lists/{list_id}"
    calls = [lambda s=s: s.post(approve_url, data={}) for s in approvers]
    calls += [lambda s=s, i=i: s.post(edit_url, data=list_form("save", line_ids, 500 + i))
              for i, s in enumerate(savers)]
    pages = texts(fire_together(calls))

    locked = locked_text(clean_app)
    approved, saved = pages[: len(approvers)], pages[len(approvers):]
    assert_one_winner(approved, translated(clean_app, "The list is delivered."), locked)
    assert all(translated(clean_app, "The draft is saved.") in page or locked in page for page in saved)
    status, total, amounts = stored_list(clean_app, list_id)
    assert status == ListStatus.delivered
    # What was delivered is one save's amounts (or the first), and the total is the sum of the lines as stored.
    assert len(set(amounts)) == 1 and amounts[0] in {100_00} | {(500 + i) * 100 for i in range(len(savers))}
    assert total == sum(amounts)


def test_a_delete_racing_approvals_leaves_one_outcome(clean_app, world, draft, live_server):
    list_id, line_ids = draft
    save_amounts(clean_app, list_id, line_ids, 100)
    approve_url, edit_url = f"{live_server}/portal/lists/{list_id}/approve", f"{live_server}/portal/lists/{list_id}"
    contacts = sessions(live_server, world.logins["deduction_contact"])
    calls = [lambda s=s, i=i: s.post(approve_url, data={}) if i % 2 else s.post(edit_url, data={"action": "delete"})
             for i, s in enumerate(contacts)]
    responses = fire_together(calls)

    # A request that arrives after the list is gone finds no list (404): that is what the list is now.
    answered = [r for r in responses if r.status_code != 404]
    pages = texts(answered)
    delivered, deleted = translated(clean_app, "The list is delivered."), translated(clean_app, "The draft is deleted.")
    assert count_with(pages, delivered) + count_with(pages, deleted) == 1
    remaining = in_app(clean_app, lambda: db.session.scalars(select(DeductionList)).all())
    if count_with(pages, deleted):
        assert remaining == []
    else:
        assert [lst.status for lst in remaining] == [ListStatus.delivered]
        assert len(answered) == N


def test_concurrent_reopenings_reopen_a_list_once_and_log_it_once(clean_app, world, draft, live_server):
    list_id, line_ids = draft

    def deliver():
        deduction_list = db.session.get(DeductionList, list_id)
        deduction_lists.approve(deduction_list, None, {line_id: LineInput(amount="100") for line_id in line_ids})

    in_app(clean_app, deliver)
    office = sessions(live_server, world.logins["office"])
    url = f"{live_server}/deductionlistview/action_post"
    pages = texts(fire_together([
        lambda s=s: s.post(url, data={"action": "reopen", "rowid": [list_id]}) for s in office
    ]))

    assert_one_winner(pages, translated(clean_app, "The list is open for changes again."),
                      translated(clean_app, "Status: only a delivered list can be reopened."))
    assert stored_list(clean_app, list_id)[0] == ListStatus.draft
    assert len(in_app(clean_app, lambda: audit_rows("reopen"))) == 1


# ------------------------------------------------------------------ refund runs (office)


@pytest.fixture()
def calculated(clean_app, world):
    """A draft refund run for the quarter with a pool of 1 000 kr."""
    def make():
        db.session.add(RefundPolicy(valid_from="2020-Q1", share_national_association=40, share_branch=60, share_club=0))
        db.session.commit()
        refunds.calculate(Quarter.parse(QUARTER), 1000_00)
    in_app(clean_app, make)


def test_concurrent_approvals_approve_a_quarter_once(clean_app, world, calculated, live_server):
    office = sessions(live_server, world.logins["office"])
    url = f"{live_server}/refundruns/{QUARTER}/approve"
    pages = texts(fire_together([lambda s=s: s.post(url) for s in office]))

    approved = "%(quarter)s is approved. The documents are on the units' pages; a job renders them now."
    assert_one_winner(pages, translated(clean_app, approved, quarter=QUARTER_SHOWN),
                      translated(clean_app, "%(quarter)s was already approved; nothing changed.",
                                 quarter=QUARTER_SHOWN))
    assert len(in_app(clean_app, lambda: audit_rows("refund_approve"))) == 1


def test_a_recalculation_racing_the_approval_never_changes_an_approved_quarter(clean_app, world, calculated,
                                                                               live_server):
    office = sessions(live_server, world.logins["office"])
    approvers, calculators = office[: N // 2], office[N // 2:]
    calls = [lambda s=s: s.post(f"{live_server}/refundruns/{QUARTER}/approve") for s in approvers]
    calls += [lambda s=s, i=i: s.post(f"{live_server}/refundruns/calculate",
                                      data={"quarter": QUARTER, "pool": f"{2000 + i}"})
              for i, s in enumerate(calculators)]
    pages = texts(fire_together(calls))

    approved, calculated_pages = pages[: len(approvers)], pages[len(approvers):]
    assert count_with(approved, translated(
        clean_app, "%(quarter)s is approved. The documents are on the units' pages; a job renders them now.",
        quarter=QUARTER_SHOWN)) == 1
    frozen = translated(clean_app, "Quarter: %(quarter)s is approved and frozen; it cannot be calculated again.",
                        quarter=QUARTER_SHOWN)
    # A calculation is a job: refused before it is queued, or failed on the job page, with the frozen message;
    # or queued and done before the approval.
    done = translated(clean_app, "%(quarter)s is being calculated; the draft is on the result link when the job is "
                      "done.", quarter=QUARTER_SHOWN)
    assert all(frozen in page or done in page for page in calculated_pages)

    def check():
        run = db.session.scalars(select(RefundRun)).one()
        approval = audit_rows("refund_approve")
        assert run.status == RefundStatus.approved and len(approval) == 1
        # No calculation was written after the approval, and the stored figures are those approved.
        assert [row.id for row in audit_rows("refund_calculate") if row.id > approval[0].id] == []
        assert f'"pool_ore": {run.pool_ore}' in approval[0].details
        shared = select(func.sum(RefundUnit.amount_ore)).where(RefundUnit.run_id == run.id)
        assert db.session.scalar(shared) == run.pool_ore
    in_app(clean_app, check)


# ------------------------------------------------------------------ prize orders (office)


@pytest.fixture()
def order(clean_app, world):
    """An order of 60 points by the inside member, who has earned 100: (order id, member id)."""
    member_id = world.members["inside"].id

    def make():
        db.session.add(Recruitment(recruiter_id=member_id, fixed_points=100, recruited_on=dt.date.today(),
                                   note="Tidligere vervinger", registered_at=dt.datetime.now()))
        prize = Prize(name="Paraply", points=60, active=True)
        db.session.add(prize)
        db.session.commit()
        return recruitment.order_prize(member_id, prize.id, 1).id

    return in_app(clean_app, make), member_id


def order_state(app, order_id: int, member_id: int) -> tuple[OrderStatus, int]:
    return in_app(app, lambda: (db.session.get(PrizeOrder, order_id).status,
                                db.session.get(PointsAccount, member_id).spent_points))


def test_concurrent_cancellations_give_the_points_back_once(clean_app, world, order, live_server):
    order_id, member_id = order
    office = sessions(live_server, world.logins["office"])
    url = f"{live_server}/prizeorderview/action_post"
    pages = texts(fire_together([lambda s=s: s.post(url, data={"action": "cancel", "rowid": [order_id]})
                                 for s in office]))

    assert_one_winner(pages, translated(clean_app, "The order is cancelled and the points are given back."),
                      translated(clean_app, "Status: only an order that has not been sent can be cancelled."))
    assert order_state(clean_app, order_id, member_id) == (OrderStatus.cancelled, 0)
    assert len(in_app(clean_app, lambda: audit_rows("cancel_prize_order"))) == 1


def test_a_cancellation_racing_sent_either_gives_the_points_back_or_ships(clean_app, world, order, live_server):
    order_id, member_id = order
    pages = office_race(live_server, world, "prizeorderview", ("cancel", "sent"), order_id)

    cancelled = count_with(pages, translated(clean_app, "The order is cancelled and the points are given back."))
    sent = count_with(pages, translated(clean_app, "The order is marked as sent."))
    assert cancelled + sent == 1
    expected = (OrderStatus.cancelled, 0) if cancelled else (OrderStatus.sent, 60)
    assert order_state(clean_app, order_id, member_id) == expected


# ------------------------------------------------------------------ access requests and employment changes (office)


def test_concurrent_decisions_on_an_access_request_decide_it_once(clean_app, world, live_server):
    def make():
        request = AccessRequest(name="Nina Lønn", email="nina@example.no", org_number=world.employers["E1"].org_number,
                                employer_id=world.employers["E1"].id, requested_at=dt.datetime.now())
        db.session.add(request)
        db.session.commit()
        return request.id

    request_id = in_app(clean_app, make)
    pages = office_race(live_server, world, "accessrequestview", ("approve", "reject"), request_id)

    approved = sum(any(text in page for text in (
        translated(clean_app, "Approved: the login is created and a link to set the password is sent."),
        translated(clean_app, "Approved: the login is created. The e-mail with the link to set the password will "
                              "follow as soon as the mail service answers."),
    )) for page in pages)
    rejected = count_with(pages, translated(clean_app, "The request is rejected."))
    assert approved + rejected == 1
    assert count_with(pages, translated(clean_app, "Status: the request is already decided.")) == N - 1

    def check():
        assert db.session.get(AccessRequest, request_id).status == ("approved" if approved else "rejected")
        contacts = db.session.scalars(select(DeductionContact).join(DeductionContact.user)
                                      .where(clean_app.appbuilder.sm.user_model.email == "nina@example.no")).all()
        assert len(contacts) == approved  # one login, or none
    in_app(clean_app, check)


def test_concurrent_decisions_on_an_employment_change_register_it_once(clean_app, world, live_server):
    member_id, old = world.members["inside"].id, world.employments["inside"]

    def make():
        change = EmploymentChange(member_id=member_id, employment_id=old.id, employer_id=world.employers["E2"].id,
                                  workplace_id=world.workplaces["W2"].id, start_date=dt.date.today(), position_pct=80,
                                  status=RequestStatus.pending, reported_at=dt.datetime.now())
        db.session.add(change)
        db.session.commit()
        return change.id

    change_id = in_app(clean_app, make)
    pages = office_race(live_server, world, "employmentchangeview", ("approve", "reject"), change_id)

    registered = count_with(pages, translated(clean_app, "The employment change is registered."))
    rejected = count_with(pages, translated(clean_app, "The employment change is rejected."))
    assert registered + rejected == 1
    assert count_with(pages, translated(clean_app, "Status: the change has already been dealt with.")) == N - 1

    def check():
        change = db.session.get(EmploymentChange, change_id)
        assert change.status == (RequestStatus.approved if registered else RequestStatus.rejected)
        employments = db.session.scalar(select(func.count(Employment.id)).where(Employment.member_id == member_id))
        assert employments == 1 + registered  # the new employment is added once, or not at all
        decisions = audit_rows("approve_employment_change") + audit_rows("reject_employment_change")
        assert len(decisions) == 1
    in_app(clean_app, check)
