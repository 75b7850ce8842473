"""The deduction portal as a payroll contact uses it, and the office's part in it."""

from __future__ import annotations

import datetime as dt
import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import PORTAL_PERIOD
from tests.helpers import api_token, login, login_as
from webapp.models import AccessRequest, AuditEntry, DeductionList
from webapp.models.choices import ListStatus

PERIOD = PORTAL_PERIOD  # the month the `portal` fixture (conftest) makes the bases of


def contact_client(client, world):
    login(client, world.logins["deduction_contact"])
    return client


def test_month_table_shows_status_kid_and_actions(client, portal):
    page = contact_client(client, portal).get("/portal/").get_data(as_text=True)
    assert "9019400176126034" in page or re.search(r"90194001761260\d\d", page)
    assert "Registrer trekkliste" in page or "Register deduction list" in page
    assert "2026/03" in page


def test_basis_changes_only_and_whole(client, portal):
    contact_client(client, portal)
    whole = client.get(f"/portal/basis/{PERIOD}").get_data(as_text=True)
    assert "Nordmann" in whole
    nid = portal.members["inside"].national_id
    assert nid not in whole and nid[:6] + "*****" in whole  # national ids masked for the employer
    changes = client.get(f"/portal/basis/{PERIOD}?changes=1")
    assert changes.status_code == 200


def test_other_employers_month_and_lists_are_404(client, portal, dbs):
    contact_client(client, portal)
    client.post(f"/portal/lists/new/{PERIOD}")
    own = dbs.scalars(select(DeductionList)).one()
    client.get("/logout/")
    login(client, "20000002")  # the contact of employer E2
    assert client.get(f"/portal/lists/{own.id}").status_code == 404
    assert client.get(f"/portal/lists/{own.id}/show").status_code == 404
    assert client.get(f"/portal/lists/{own.id}/pdf").status_code == 404
    headers = api_token(client, "20000002")
    assert client.get(f"/api/v1/deduction_list/{own.id}", headers=headers).status_code == 404
    assert own.id not in client.get("/api/v1/deduction_list/", headers=headers).json["ids"]
    months = client.get("/api/v1/deduction_month/", headers=headers).json["result"]
    assert {row["employer_id"] for row in months} == {portal.employers["E2"].id}


def register_and_deliver(client, dbs) -> DeductionList:
    assert client.post(f"/portal/lists/new/{PERIOD}").status_code == 302
    deduction_list = dbs.scalars(select(DeductionList).where(DeductionList.status == ListStatus.draft)).one()
    form = {"action": "approve"}
    for line in deduction_list.lines:
        form[f"amount_{line.id}"] = "312,50"
    form[f"amount_{deduction_list.lines[0].id}"] = ""
    form[f"deviation_{deduction_list.lines[0].id}"] = "unpaid_leave"
    response = client.post(f"/portal/lists/{deduction_list.id}", data=form)
    # Approving saves the draft and asks for a confirmation; the confirmation delivers.
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/portal/lists/{deduction_list.id}/approve")
    confirm = client.get(response.headers["Location"]).get_data(as_text=True)
    total = re.search(r'name="total_ore" value="(\d+)"', confirm).group(1)
    response = client.post(f"/portal/lists/{deduction_list.id}/approve", data={"total_ore": total})
    assert response.status_code == 302 and response.headers["Location"].endswith("/show")
    dbs.expire_all()
    return dbs.get(DeductionList, deduction_list.id)


def test_register_approve_lock_and_office_reopens(client, portal, dbs):
    contact_client(client, portal)
    delivered = register_and_deliver(client, dbs)
    assert delivered.status == ListStatus.delivered
    assert delivered.total_ore == 31250 * (len(delivered.lines) - 1)
    first_line = delivered.lines[0].id

    # Locked for the contact: the edit page only shows it, and posted changes are ignored.
    assert client.get(f"/portal/lists/{delivered.id}").status_code == 302
    client.post(f"/portal/lists/{delivered.id}", data={"action": "save", f"amount_{first_line}": "1"})
    dbs.expire_all()
    assert dbs.get(DeductionList, delivered.id).lines[0].amount_ore is None
    headers = api_token(client, portal.logins["deduction_contact"])
    assert client.put(f"/api/v1/deduction_list/{delivered.id}", json={"status": "draft"},
                      headers=headers).status_code in (403, 405)
    assert client.delete(f"/api/v1/deduction_list/{delivered.id}", headers=headers).status_code in (403, 405)

    # The month now offers a supplementary list and shows the archive.
    page = client.get("/portal/").get_data(as_text=True)
    assert "tilleggsliste" in page.lower() or "supplementary" in page.lower()

    # Only the office reopens, and it is logged.
    client.get("/logout/")
    login_as(client, portal.logins["office"])
    response = client.post("/deductionlistview/action_post", data={"action": "reopen", "rowid": [delivered.id]})
    assert response.status_code == 302
    dbs.expire_all()
    assert dbs.get(DeductionList, delivered.id).status == ListStatus.draft
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "reopen")).one()
    assert entry.username == portal.logins["office"] and entry.object_id == delivered.id


def test_contact_cannot_reopen(client, portal, dbs):
    contact_client(client, portal)
    delivered = register_and_deliver(client, dbs)
    response = client.post("/deductionlistview/action_post", data={"action": "reopen", "rowid": [delivered.id]})
    assert response.status_code in (302, 403, 404)
    dbs.expire_all()
    assert dbs.get(DeductionList, delivered.id).status == ListStatus.delivered


def test_delivered_list_pdf_has_the_text(client, portal, dbs):
    contact_client(client, portal)
    delivered = register_and_deliver(client, dbs)
    response = client.get(f"/portal/lists/{delivered.id}/pdf")
    assert response.status_code == 200 and response.data[:4] == b"%PDF"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Virksomhet E1" in text
    assert "Æsøy" in text  # æøå as written
    assert "2026/03" in text
    total = f"{delivered.total_ore // 100:,}".replace(",", "\u00a0")
    assert total.replace("\u00a0", " ") in text.replace("\u00a0", " ")


def test_csv_upload_errors_name_lines_and_save_nothing(client, portal, dbs):
    contact_client(client, portal)
    client.post(f"/portal/lists/new/{PERIOD}")
    draft = dbs.scalars(select(DeductionList)).one()
    before = [line.amount_ore for line in draft.lines]  # the fixed parts the union prefilled
    template = client.get(f"/portal/lists/{draft.id}/template.csv")
    assert template.status_code == 200 and template.data.decode().startswith("medlemsnummer;fodselsnummer")
    bad = template.data.decode().splitlines()
    bad.append(";12345678901;Feil;100;;")
    response = client.post(f"/portal/lists/{draft.id}", data={
        "action": "upload", "file": (io.BytesIO("\n".join(bad).encode()), "liste.csv"),
    }, content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"Linje {len(bad)}: Fødselsnummer: " in page
    dbs.expire_all()
    assert [line.amount_ore for line in dbs.get(DeductionList, draft.id).lines] == before


def test_access_request_approval_sends_link_that_works_once(client, portal, dbs, smtp_server):
    response = client.post("/access/request", data={
        "name": "Nina Lønn", "email": "nina@example.no", "phone": "", "org_number": "974760673",
    })
    assert response.status_code == 302
    bad = client.post("/access/request", data={"name": "X", "email": "nope", "org_number": "123"})
    bad_page = bad.get_data(as_text=True)
    assert (bad.status_code == 200 and "org_number" in bad_page) or "Organisasjonsnummer" in bad_page
    request_row = dbs.scalars(select(AccessRequest)).one()

    login_as(client, portal.logins["office"])
    client.post("/accessrequestview/action_post", data={"action": "approve", "rowid": [request_row.id]})
    client.get("/logout/")
    assert len(smtp_server.messages) == 1
    body = smtp_server.bodies()[0]
    link = re.search(r"(/password/set/\S+)", body).group(1)
    username = re.search(r"\b(2\d{7})\b", body).group(1)

    page = client.post(link, data={"password": "Nytt-Passord-77", "password_again": "Nytt-Passord-77"})
    assert page.status_code == 302
    assert client.get(link).status_code == 410  # works once
    assert login(client, username, "Nytt-Passord-77").headers["Location"].endswith("/")
    assert client.get("/", follow_redirects=False).headers["Location"].endswith("/portal/")


def test_contact_hands_over(client, portal, dbs, smtp_server):
    from webapp.models import DeductionContact

    contact_client(client, portal)
    only = dbs.scalars(select(DeductionContact).where(DeductionContact.employer_id == portal.employers["E1"].id)).one()
    page = client.post("/portal/contacts", data={"action": "remove", "contact_id": only.id}, follow_redirects=True)
    assert "Kontakt: arbeidsgiveren må ha minst én trekkontakt" in page.get_data(as_text=True)
    page = client.post("/portal/contacts", data={"action": "add", "name": "Ny", "email": "ny@example.no"},
                       follow_redirects=True)
    assert "Navn: oppgi fornavn og etternavn." in page.get_data(as_text=True)
    assert not smtp_server.messages
    client.post("/portal/contacts", data={"action": "add", "name": "Ny Kontakt", "email": "ny@example.no"})
    assert len(smtp_server.messages) == 1
    own = dbs.scalars(select(DeductionContact).where(DeductionContact.employer_id == portal.employers["E1"].id)).all()
    assert len(own) == 2
    old = next(c for c in own if c.user.username == portal.logins["deduction_contact"])
    client.post("/portal/contacts", data={"action": "remove", "contact_id": old.id})
    dbs.expire_all()
    assert dbs.get(DeductionContact, old.id).end_date is not None  # history stays


def test_remove_a_line_from_a_draft(client, portal, dbs):
    contact_client(client, portal)
    client.post(f"/portal/lists/new/{PERIOD}")
    draft = dbs.scalars(select(DeductionList)).one()
    count = len(draft.lines)
    client.post(f"/portal/lists/{draft.id}", data={"action": f"remove:{draft.lines[0].id}"})
    dbs.expire_all()
    assert len(dbs.get(DeductionList, draft.id).lines) == count - 1


def test_a_handed_over_contact_is_history_at_once(client, portal, dbs, smtp_server):
    """current_on: a link holds through its end date, so a hand-over ends it yesterday; the page shows it as
    history and the contact no longer reaches the portal today."""
    from webapp.models import DeductionContact

    contact_client(client, portal)
    client.post("/portal/contacts", data={"action": "add", "name": "Ny Kontakt", "email": "ny@example.no"})
    own = dbs.scalars(select(DeductionContact).where(DeductionContact.employer_id == portal.employers["E1"].id)).all()
    old = next(c for c in own if c.user.username == portal.logins["deduction_contact"])
    new = next(c for c in own if c is not old)
    page = client.get("/portal/").get_data(as_text=True)
    assert 'class="text-muted"' not in _contact_row(page, old.id)
    client.post("/portal/contacts", data={"action": "remove", "contact_id": old.id})
    dbs.expire_all()
    assert dbs.get(DeductionContact, old.id).end_date == dt.date.today() - dt.timedelta(days=1)
    assert client.get("/portal/").status_code in (302, 403)
    client.get("/logout/")
    login(client, portal.logins["deduction_contact"])
    assert client.get("/portal/").status_code in (302, 403)

    with client.application.app_context():
        from webapp.extensions import db
        db.session.add(DeductionContact(user_id=old.user_id, employer_id=old.employer_id, start_date=old.start_date))
        db.session.commit()
        db.session.remove()
    page = contact_client(client, portal).get("/portal/").get_data(as_text=True)
    assert 'class="text-muted"' in _contact_row(page, old.id) and "remove" not in _contact_row(page, old.id)
    assert 'class="text-muted"' not in _contact_row(page, new.id)


def test_contacts_in_post_today_are_listed_first(client, portal, dbs):
    """The one rule (periods.current_first): a contact whose end date is still ahead is in post and listed with
    the others in post, oldest first; one whose end date has passed comes after them."""
    from webapp.models import DeductionContact

    today = dt.date.today()
    employer_id = portal.employers["E1"].id
    open_ended = dbs.scalars(select(DeductionContact).where(DeductionContact.employer_id == employer_id)).one()
    ending_later = DeductionContact(user_id=open_ended.user_id, employer_id=employer_id,
                                    start_date=open_ended.start_date - dt.timedelta(days=30),
                                    end_date=today + dt.timedelta(days=10))
    ended = DeductionContact(user_id=open_ended.user_id, employer_id=employer_id,
                             start_date=open_ended.start_date - dt.timedelta(days=60),
                             end_date=today - dt.timedelta(days=1))
    dbs.add_all([ending_later, ended])
    dbs.commit()
    page = contact_client(client, portal).get("/portal/").get_data(as_text=True)
    positions = [page.index(f'data-contact="{contact.id}"') for contact in (ending_later, open_ended, ended)]
    assert positions == sorted(positions)


def _contact_row(page: str, contact_id: int) -> str:
    start = page.index(f'data-contact="{contact_id}"')
    return page[start:page.index("</tr>", start)]
