"""The smaller defects of the portal's main paths (issue 14): "Godkjenn og lever" and removing a contact are
confirmed on a page of their own (in Norwegian, no browser dialog), a contact who removes themselves acts for the
employer no more from that moment, the office's reopening lands on the list, a decided employment change offers
no decision, and the portal and the login page link what their users look for."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from tests.helpers import login, login_as
from tests.mypage_helpers import translated
from tests.portal_helpers import PERIOD, build_portal_months, flashes, open_march_draft, page_text
from webapp.extensions import db
from webapp.models import DeductionContact, DeductionList, EmploymentChange
from webapp.models.choices import ListStatus, RequestStatus
from webapp.security.scope import acting_options


@pytest.fixture()
def months(clean_app, world):
    return build_portal_months(clean_app, world)


def complete_form(draft) -> dict:
    return {"action": "approve", **{f"amount_{line.id}": "300,00" for line in draft.lines}}


def status_of(app, list_id: int) -> ListStatus:
    with app.app_context():
        status = db.session.get(DeductionList, list_id).status
        db.session.remove()
    return status


# ------------------------------------------------------------------ approve and deliver


def test_approve_and_deliver_asks_first_and_delivers_on_yes(client, clean_app, months):
    draft = open_march_draft(client, months)
    response = client.post(f"/portal/lists/{draft.id}", data=complete_form(draft))
    assert response.headers["Location"].endswith(f"/portal/lists/{draft.id}/approve")
    assert status_of(clean_app, draft.id) == ListStatus.draft  # asked, not yet delivered

    page = page_text(client.get(f"/portal/lists/{draft.id}/approve"))
    assert "Godkjenne og levere listen?" in page
    assert "3 linjer, sum kr 900,00" in page
    assert "Ja, godkjenn og lever" in page and "Nei, tilbake til listen" in page
    assert f'href="/portal/lists/{draft.id}"' in page  # "no" goes back to the list, as it was saved
    assert "Cancel" not in page and "confirm(" not in page  # no browser dialog, nothing in English

    response = client.post(f"/portal/lists/{draft.id}/approve", data={"total_ore": "90000"}, follow_redirects=True)
    assert translated(clean_app, "The list is delivered.") in flashes(response)
    assert response.request.path == f"/portal/lists/{draft.id}/show"
    assert status_of(clean_app, draft.id) == ListStatus.delivered
    # The confirmation of a delivered list leads to the list; a second yes is refused.
    assert client.get(f"/portal/lists/{draft.id}/approve").headers["Location"].endswith("/show")
    again = client.post(f"/portal/lists/{draft.id}/approve", data={"total_ore": "90000"}, follow_redirects=True)
    assert translated(clean_app, "Status: the list is delivered and locked; only the union office can reopen it.") \
        in flashes(again)


def test_the_confirmation_lists_the_deviations(client, months):
    draft = open_march_draft(client, months)
    form = complete_form(draft)
    first = draft.lines[0]
    form[f"amount_{first.id}"], form[f"deviation_{first.id}"], form[f"comment_{first.id}"] = "", "other", "Sluttet"
    client.post(f"/portal/lists/{draft.id}", data=form)
    page = page_text(client.get(f"/portal/lists/{draft.id}/approve"))
    deviations = re.search(r'id="approve-deviations">.*?</table>', page, re.S).group(0)
    assert first.name in deviations and "Sluttet" in deviations


def test_the_confirmation_of_an_incomplete_list_sends_back_to_the_list(client, clean_app, months):
    draft = open_march_draft(client, months)  # Ola's line has no amount yet
    response = client.get(f"/portal/lists/{draft.id}/approve", follow_redirects=True)
    assert response.request.path == f"/portal/lists/{draft.id}"
    assert any(message.startswith("Listen kan ikke leveres ennå") for message in flashes(response))
    client.post(f"/portal/lists/{draft.id}/approve", data={})
    assert status_of(clean_app, draft.id) == ListStatus.draft


def test_a_yes_to_a_list_changed_meanwhile_is_refused(client, clean_app, months):
    draft = open_march_draft(client, months)
    client.post(f"/portal/lists/{draft.id}", data=complete_form(draft))
    response = client.post(f"/portal/lists/{draft.id}/approve", data={"total_ore": "1"}, follow_redirects=True)
    assert response.request.path == f"/portal/lists/{draft.id}"
    assert any("endret i mellomtiden" in message for message in flashes(response))
    assert status_of(clean_app, draft.id) == ListStatus.draft


# ------------------------------------------------------------------ removing a contact


CONTACTS = select(DeductionContact.id).join(User, User.id == DeductionContact.user_id)


def add_contact(app, employer_id: int, username: str) -> int:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        contact = DeductionContact(user_id=user.id, employer_id=employer_id,
                                   start_date=dt.date.today() - dt.timedelta(days=10))
        db.session.add(contact)
        db.session.commit()
        contact_id = contact.id
        db.session.remove()
    return contact_id


def contact_id_of(app, username: str, employer_id: int) -> int:
    with app.app_context():
        contact_id = db.session.scalar(CONTACTS.where(User.username == username,
                                                      DeductionContact.employer_id == employer_id))
        db.session.remove()
    return contact_id


def test_removing_a_contact_is_confirmed_on_a_page(client, clean_app, world, portal):
    e1 = world.employers["E1"].id
    login(client, world.logins["deduction_contact"])
    client.post("/portal/contacts", data={"action": "add", "name": "Nina Ny", "email": "nina@example.no"})
    new_id = db_contact_by_email(clean_app, "nina@example.no")
    index = page_text(client.get("/portal/"))
    row = re.search(rf'data-contact="{new_id}".*?</tr>', index, re.S).group(0)
    assert f'href="/portal/contacts/{new_id}/remove"' in row and "<form" not in row  # a link to ask, not a removal

    page = page_text(client.get(f"/portal/contacts/{new_id}/remove"))
    assert "Fjerne en trekkontakt?" in page and "Nina Ny" in page and "Virksomhet E1" in page
    assert "Ja, fjern kontakten" in page and "Nei, behold kontakten" in page and "Cancel" not in page
    assert end_date_of(clean_app, new_id) is None  # asking removes nobody

    client.post("/portal/contacts", data={"action": "remove", "contact_id": new_id})
    assert end_date_of(clean_app, new_id) == dt.date.today() - dt.timedelta(days=1)
    # An ended contact's confirmation page leads back to the contacts.
    assert client.get(f"/portal/contacts/{new_id}/remove").headers["Location"].endswith("/portal/#contacts")
    assert contact_id_of(clean_app, world.logins["deduction_contact"], e1) is not None


def db_contact_by_email(app, email: str) -> int:
    with app.app_context():
        contact_id = db.session.scalar(CONTACTS.where(User.email == email))
        db.session.remove()
    return contact_id


def end_date_of(app, contact_id: int):
    with app.app_context():
        end = db.session.get(DeductionContact, contact_id).end_date
        db.session.remove()
    return end


def test_a_contact_who_removes_themselves_loses_the_role_at_once(client, clean_app, world, portal):
    login(client, world.logins["deduction_contact"])
    client.post("/portal/contacts", data={"action": "add", "name": "Nina Ny", "email": "nina@example.no"})
    own = contact_id_of(clean_app, world.logins["deduction_contact"], world.employers["E1"].id)
    page = page_text(client.get(f"/portal/contacts/{own}/remove"))
    assert "Du fjerner deg selv som trekkontakt for Virksomhet E1" in page

    response = client.post("/portal/contacts", data={"action": "remove", "contact_id": own}, follow_redirects=True)
    assert translated(clean_app, "You are no longer a deduction contact of %(employer)s.",
                      employer="Virksomhet E1") in flashes(response)
    assert response.request.path == "/"  # the home page, with what is left: here no role at all
    assert translated(clean_app, "No roles") in page_text(response)
    assert client.get("/portal/").status_code in (302, 403)
    assert "Trude Trekk" in page_text(client.get("/"))  # still logged in, only without the role
    with clean_app.app_context():
        user = db.session.scalars(select(User).where(User.username == world.logins["deduction_contact"])).one()
        assert acting_options(user) == []
        db.session.remove()


def test_a_contact_of_two_employers_who_leaves_one_goes_on_with_the_other(client, clean_app, world, portal):
    e1, e2 = world.employers["E1"].id, world.employers["E2"].id
    add_contact(clean_app, e2, world.logins["deduction_contact"])
    login_as(client, world.logins["deduction_contact"], "deduction_contact")  # acts for E1 (first by name)
    assert "Virksomhet E1" in page_text(client.get("/portal/"))
    client.post("/portal/contacts", data={"action": "add", "name": "Nina Ny", "email": "nina@example.no"})
    own = contact_id_of(clean_app, world.logins["deduction_contact"], e1)
    response = client.post("/portal/contacts", data={"action": "remove", "contact_id": own}, follow_redirects=True)
    assert response.request.path == "/portal/"
    page = page_text(response)
    assert "Virksomhet E2" in re.search(r'id="company">.*?</table>', page, re.S).group(0)
    assert f'name="key" value="deduction_contact:employers:{e1}"' not in page  # the switcher offers E2 only


# ------------------------------------------------------------------ the office and the employment changes


def test_reopening_a_list_lands_on_the_list(client, clean_app, months):
    login_as(client, months.world.logins["office"])
    response = client.post("/deductionlistview/action_post",
                           data={"action": "reopen", "rowid": [months.february_list_id]})
    assert response.headers["Location"].endswith(f"/deductionlistview/show/{months.february_list_id}")
    assert status_of(clean_app, months.february_list_id) == ListStatus.draft
    page = page_text(client.get(response.headers["Location"]))
    assert translated(clean_app, "The list is open for changes again.") in page


def report_change(app, world) -> int:
    with app.app_context():
        change = EmploymentChange(member_id=world.members["inside"].id, employer_id=world.employers["E2"].id,
                                  workplace_id=world.workplaces["W2"].id, start_date=dt.date.today(),
                                  position_pct=80, reported_at=dt.datetime.now())
        db.session.add(change)
        db.session.commit()
        change_id = change.id
        db.session.remove()
    return change_id


def test_a_decided_employment_change_offers_no_decision(client, clean_app, world):
    change_id = report_change(clean_app, world)
    login_as(client, world.logins["office"])
    buttons = ("btn-action-EmploymentChangeView.action-approve", "btn-action-EmploymentChangeView.action-reject")
    pending = page_text(client.get(f"/employmentchangeview/show/{change_id}"))
    assert all(button in pending for button in buttons)
    client.post("/employmentchangeview/action_post", data={"action": "reject", "rowid": [change_id]})
    with clean_app.app_context():
        assert db.session.get(EmploymentChange, change_id).status == RequestStatus.rejected
        db.session.remove()
    decided = page_text(client.get(f"/employmentchangeview/show/{change_id}"))
    assert not any(button in decided for button in buttons)


# ------------------------------------------------------------------ links


def test_the_portal_links_the_user_guide_and_the_password_change(client, portal, world):
    login(client, world.logins["deduction_contact"])
    page = page_text(client.get("/portal/"))
    help_panel = re.search(r'id="portal-help">.*?</div></div>', page, re.S).group(0)
    assert re.search(r'href="/guide/"[^>]*>.*?Brukerveiledning', help_panel, re.S)
    assert re.search(r'href="/resetmypassword/form"[^>]*>.*?Endre passord', help_panel, re.S)
    assert client.get("/resetmypassword/form").status_code == 200  # the contact may change their password there


def test_the_login_page_links_the_access_request(client):
    page = page_text(client.get("/login/"))
    link = re.search(r'id="access-request">(.*?)</p>', page, re.S).group(1)
    assert 'href="/access/request"' in link and "Be om tilgang til trekkportalen" in link
    assert client.get("/access/request").status_code == 200


def test_no_list_of_another_month_is_touched_by_the_confirmation(client, clean_app, months):
    """The confirmation delivers the list it names and nothing else: February's list stays as it was."""
    draft = open_march_draft(client, months)
    client.post(f"/portal/lists/{draft.id}", data=complete_form(draft))
    client.post(f"/portal/lists/{draft.id}/approve", data={"total_ore": "90000"})
    with clean_app.app_context():
        statuses = dict(db.session.execute(select(DeductionList.period, DeductionList.status).where(
            DeductionList.employer_id == months.world.employers["E1"].id)).all())
        db.session.remove()
    assert statuses == {"2026-02": ListStatus.delivered, PERIOD: ListStatus.delivered}
