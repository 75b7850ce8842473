"""Who reaches direct payment: the office sees every invoice, payment, mandate and arrear; a member their own
invoices only (Min side and /api/v1/invoice/), another member's invoice id answering 404 like one nobody has;
officers, workplace trustees, deduction contacts and analysts reach none of the billing screens.

The expectations are written out here, independently of webapp/security/roles.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.billing_screen_helpers import add_invoice, add_payment
from tests.helpers import api_token, login_as
from webapp.extensions import db
from webapp.models import AvtaleGiroMandate, DirectDuesRate, IncomeBand
from webapp.models.choices import MemberCategory
from webapp.services import kid
from webapp.services.periods import Month

ROLES = ["office", "leader", "treasurer", "member_data_admin", "workplace_trustee", "deduction_contact", "member",
         "analyst"]
# The billing screens: list (or index) URL, and a row URL made from the `rows` fixture.
SCREENS = {
    "invoices": ("/invoiceview/list/", "/invoiceview/show/{inside_invoice}"),
    "invoice_pdf": (None, "/invoiceview/pdf/{inside_invoice}"),
    "payments": ("/paymentview/list/", "/paymentview/show/{member_payment}"),
    "queue": ("/payments/unmatched/", "/payments/{unmatched_payment}"),
    "mandates": ("/mandateview/list/", "/mandateview/show/{mandate}"),
    "arrears": ("/arrears/", "/arrears/{inside_member}/end"),
    "rates": ("/directduesrateview/list/", "/directduesrateview/show/{rate}"),
    "bands": ("/incomebandview/list/", "/incomebandview/show/{band}"),
    "payment_files": ("/paymentimportview/list/", None),
}
REFUSED = (302, 401, 403)


@pytest.fixture()
def rows(clean_app, world) -> dict[str, int]:
    """Invoices of Kari (the member login) and of Per (outside), payments, a mandate, a band and a rate."""
    inside, outside = world.members["inside"], world.members["outside"]
    with clean_app.app_context():
        band = IncomeBand(code="lav", lower_ore=0, is_default=True)
        db.session.add(band)
        db.session.flush()
        rate = DirectDuesRate(valid_from=dt.date(2020, 1, 1), category=MemberCategory.ordinary,
                              income_band_id=band.id, monthly_ore=25000)
        mandate = AvtaleGiroMandate(kid=kid.member_kid_for(outside.member_no, Month(2026, 1)), member_id=outside.id,
                                    registered_at=dt.datetime(2026, 1, 5, 9))
        db.session.add_all([rate, mandate])
        db.session.commit()
        ids = {
            "inside_invoice": add_invoice(inside.id, "2026-Q1", due_date=dt.date(2026, 1, 15)).id,
            "outside_invoice": add_invoice(outside.id, "2026-Q1", due_date=dt.date(2026, 1, 15)).id,
            "outside_invoice_2": add_invoice(outside.id, "2026-Q2").id,
            "member_payment": add_payment(kid.member_kid_for(outside.member_no, Month(2026, 1)), 1000,
                                          member_id=outside.id).id,
            "employer_payment": add_payment(kid.kid_for("94001761", Month(2026, 1)), 5000,
                                            employer_id=world.employers["E1"].id, period="2026-01").id,
            "unmatched_payment": add_payment("9" * 16, 700).id,
            "mandate": mandate.id, "rate": rate.id, "band": band.id, "inside_member": inside.id,
        }
        db.session.remove()
    return ids


@pytest.mark.parametrize("role", ROLES)
def test_billing_screens_are_the_offices_alone(client, world, rows, role):
    login_as(client, world.logins[role], role)
    for list_url, row_url in SCREENS.values():
        urls = [url for url in (list_url, row_url and row_url.format(**rows)) if url]
        for url in urls:
            status = client.get(url).status_code
            if role == "office":
                assert status == 200, f"office {url}: {status}"
            else:
                assert status in REFUSED, f"{role} {url}: {status}"


@pytest.mark.parametrize("role", [role for role in ROLES if role != "office"])
def test_no_other_role_changes_anything(client, world, rows, role, dbs):
    from webapp.models import InvoiceAdjustment, Member, Payment

    login_as(client, world.logins[role], role)
    posts = [
        (f"/invoiceview/adjust/{rows['outside_invoice']}", {"kind": "write_off", "reason": "x"}),
        (f"/payments/{rows['unmatched_payment']}/invoice", {"invoice": str(rows["outside_invoice"])}),
        (f"/payments/{rows['unmatched_payment']}/return", {"reason": "x"}),
        (f"/payments/{rows['member_payment']}/undo", {}),
        (f"/arrears/{world.members['outside'].id}/end", {"reason": "x"}),
        ("/incomebandview/add", {"code": "x", "lower_ore": "1"}),
        (f"/directduesrateview/delete/{rows['rate']}", {}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code in REFUSED + (404, 405), f"{role} POST {url}"
    assert dbs.query(InvoiceAdjustment).count() == 0
    assert dbs.get(Payment, rows["unmatched_payment"]).member_id is None
    assert dbs.get(Payment, rows["unmatched_payment"]).returned_at is None
    assert dbs.get(Member, world.members["outside"].id).left_on is None
    assert dbs.query(IncomeBand).count() == 1 and dbs.get(DirectDuesRate, rows["rate"]) is not None


def test_office_api_reads_every_invoice_and_payment(client, world, rows):
    headers = api_token(client, world.logins["office"])
    listed = client.get("/api/v1/invoice/?q=(page_size:100)", headers=headers).json
    assert set(listed["ids"]) == {rows["inside_invoice"], rows["outside_invoice"], rows["outside_invoice_2"]}
    shown = {row["id"]: row for row in listed["result"]}
    assert shown[rows["inside_invoice"]]["shown_status"] == "overdue"
    assert shown[rows["inside_invoice"]]["outstanding_ore"] == 90000
    payments = client.get("/api/v1/payment/?q=(page_size:100)", headers=headers).json
    assert set(payments["ids"]) == {rows["member_payment"], rows["employer_payment"], rows["unmatched_payment"]}
    by_id = {row["id"]: row for row in payments["result"]}
    assert by_id[rows["member_payment"]]["member_id"] == world.members["outside"].id
    assert by_id[rows["member_payment"]]["matched_manually"] is False
    assert by_id[rows["member_payment"]]["transaction_type"] == 10


def test_member_api_lists_only_their_own_invoices(client, world, rows):
    headers = api_token(client, world.logins["member"])
    listed = client.get("/api/v1/invoice/?q=(page_size:100)", headers=headers)
    assert listed.status_code == 200
    assert listed.json["ids"] == [rows["inside_invoice"]]
    assert listed.json["result"][0]["shown_status"] == "overdue"
    own = client.get(f"/api/v1/invoice/{rows['inside_invoice']}", headers=headers)
    assert own.status_code == 200 and own.json["result"]["kid"].startswith("902")
    pdf = client.get(f"/api/v1/invoice/{rows['inside_invoice']}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


@pytest.mark.parametrize("path", ["/api/v1/invoice/{id}", "/api/v1/invoice/{id}/pdf"])
def test_another_members_invoice_answers_like_one_nobody_has(client, world, rows, path):
    headers = api_token(client, world.logins["member"])
    foreign = client.get(path.format(id=rows["outside_invoice"]), headers=headers)
    nobody = client.get(path.format(id=999999), headers=headers)
    assert foreign.status_code == nobody.status_code == 404
    assert "Utenfor" not in foreign.get_data(as_text=True)
    outside = world.members["outside"].id
    filtered = client.get(f"/api/v1/invoice/?q=(filters:!((col:member,opr:rel_o_m,value:{outside})))", headers=headers)
    assert filtered.status_code == 200 and filtered.json["ids"] == []


def test_member_cannot_read_the_payment_api(client, world, rows):
    headers = api_token(client, world.logins["member"])
    assert client.get("/api/v1/payment/", headers=headers).status_code in (401, 403)


@pytest.mark.parametrize("role", ["leader", "treasurer", "member_data_admin", "workplace_trustee"])
def test_officers_read_over_the_api_only_the_invoices_they_have_as_members(client, world, rows, role):
    """An API client acts in all its roles at once: an officer is a member too, so the invoice API answers with
    their own invoices as a member (none here), never the unit's."""
    headers = api_token(client, world.logins[role])
    listed = client.get("/api/v1/invoice/?q=(page_size:100)", headers=headers)
    assert listed.status_code == 200 and listed.json["ids"] == []
    assert client.get(f"/api/v1/invoice/{rows['inside_invoice']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/invoice/{rows['inside_invoice']}/pdf", headers=headers).status_code == 404


@pytest.mark.parametrize("role", ["deduction_contact", "analyst"])
def test_contacts_and_analysts_have_no_invoice_api(client, world, rows, role):
    headers = api_token(client, world.logins[role])
    assert client.get("/api/v1/invoice/", headers=headers).status_code in (401, 403)
    assert client.get(f"/api/v1/invoice/{rows['inside_invoice']}/pdf", headers=headers).status_code in (401, 403)


def test_deduction_contact_reads_only_its_employers_payments(client, world, rows):
    headers = api_token(client, world.logins["deduction_contact"])
    listed = client.get("/api/v1/payment/?q=(page_size:100)", headers=headers)
    assert listed.status_code == 200 and listed.json["ids"] == [rows["employer_payment"]]
    assert client.get(f"/api/v1/payment/{rows['member_payment']}", headers=headers).status_code == 404


def test_member_sees_own_invoices_on_min_side_and_not_anothers(client, world, rows):
    login_as(client, world.logins["member"], "member")
    page = client.get("/minside/invoices").get_data(as_text=True)
    assert f'data-invoice="{rows["inside_invoice"]}"' in page
    assert f'data-invoice="{rows["outside_invoice"]}"' not in page
    assert client.get(f"/minside/invoices/{rows['inside_invoice']}.pdf").status_code == 200
    assert client.get(f"/minside/invoices/{rows['outside_invoice']}.pdf").status_code == 404
    assert client.get("/minside/invoices/999999.pdf").status_code == 404
    assert client.get(f"/minside/invoices/{2**70}.pdf").status_code == 404


@pytest.mark.parametrize("role", ["office", "leader", "deduction_contact", "analyst"])
def test_min_side_invoices_are_a_members_page(client, world, rows, role):
    login_as(client, world.logins[role], role)
    assert client.get("/minside/invoices").status_code in (302, 403)
    assert client.get(f"/minside/invoices/{rows['inside_invoice']}.pdf").status_code in (302, 403)
