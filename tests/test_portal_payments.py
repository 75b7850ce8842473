"""Payment information in the deduction portal (seed 004): beside each month's KID the union's account number and
the payments received for that employer-month -- of the contact's own employer only."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.billing_screen_helpers import add_payment
from tests.helpers import login
from tests.portal_helpers import BEFORE, PERIOD, build_portal_months, open_march_draft, page_text
from webapp.extensions import db
from webapp.models import DeductionBasis
from webapp.services import portal


@pytest.fixture()
def paid(clean_app, world):
    """E1 paid February twice (one reversed later) and March once; E2 paid its February; plus a member's payment,
    an unmatched one and a returned one that name nobody's employer-month."""
    months = build_portal_months(clean_app, world)
    e1, e2 = world.employers["E1"].id, world.employers["E2"].id
    with clean_app.app_context():
        kid = {(basis.employer_id, basis.period): basis.kid for basis in db.session.query(DeductionBasis)}
        add_payment(kid[(e1, BEFORE)], 600_00, dt.date(2026, 2, 20), employer_id=e1, period=BEFORE)
        add_payment(kid[(e1, BEFORE)], 12_50, dt.date(2026, 2, 27), employer_id=e1, period=BEFORE)
        add_payment(kid[(e1, BEFORE)], -12_50, dt.date(2026, 3, 2), employer_id=e1, period=BEFORE,
                    transaction_type=18)
        add_payment(kid[(e1, PERIOD)], 777_00, dt.date(2026, 3, 21), employer_id=e1, period=PERIOD)
        add_payment(kid[(e2, BEFORE)], 4321_00, dt.date(2026, 2, 21), employer_id=e2, period=BEFORE)
        add_payment("9" * 16, 5555_00, dt.date(2026, 3, 1))  # unmatched
        add_payment(kid[(e1, PERIOD)], 6666_00, dt.date(2026, 3, 3), returned_at=dt.datetime(2026, 3, 4))
        add_payment("902" + "0" * 13, 7777_00, dt.date(2026, 3, 5), member_id=world.members["inside"].id)
        db.session.remove()
    return months, kid


FOREIGN_AMOUNTS = ("4\xa0321,00", "5\xa0555,00", "6\xa0666,00", "7\xa0777,00")


def month_row(page: str, period: str) -> str:
    return re.search(rf'<tr data-period="{period}">.*?</tr>', page, re.S).group(0)


def test_the_portal_shows_account_kid_and_each_months_payments(client, paid):
    months, kid = paid
    login(client, months.contact)
    page = page_text(client.get("/portal/"))
    assert "9001 07 41504" in re.search(r'id="payment-account">(.*?)</p>', page, re.S).group(1)
    february, march = month_row(page, BEFORE), month_row(page, PERIOD)
    e1 = months.world.employers["E1"].id
    assert kid[(e1, BEFORE)] in february and kid[(e1, PERIOD)] in march
    assert "kr 600,00 (20.02.2026)" in february and "kr 12,50 (27.02.2026)" in february
    assert "kr -12,50 (02.03.2026)" in february  # the reversal, with its sign
    assert "Sum: kr 600,00" in february
    assert "kr 777,00 (21.03.2026)" in march and "Sum:" not in march
    for amount in FOREIGN_AMOUNTS:  # another employer's, a member's, an unmatched and a returned payment
        assert amount not in page


def test_a_month_without_payments_says_so(client, clean_app, world):
    months = build_portal_months(clean_app, world)
    login(client, months.contact)
    page = page_text(client.get("/portal/"))
    assert "Ingen mottatt ennå" in month_row(page, PERIOD)


def test_the_list_pages_show_the_payment_information_of_their_month(client, paid):
    months, kid = paid
    e1 = months.world.employers["E1"].id
    draft = open_march_draft(client, months)
    edit = page_text(client.get(f"/portal/lists/{draft.id}"))
    panel = re.search(r'id="payment-information">.*?</table>', edit, re.S).group(0)
    assert "9001 07 41504" in panel and kid[(e1, PERIOD)] in panel and "kr 777,00 (21.03.2026)" in panel
    assert "600,00" not in panel  # February's payments belong to February
    shown = page_text(client.get(f"/portal/lists/{months.february_list_id}/show"))
    panel = re.search(r'id="payment-information">.*?</table>', shown, re.S).group(0)
    assert kid[(e1, BEFORE)] in panel and "kr 600,00 (20.02.2026)" in panel and "Sum: kr 600,00" in panel
    for amount in FOREIGN_AMOUNTS:
        assert amount not in edit and amount not in shown


def test_the_other_employers_contact_sees_only_its_own_payment(client, paid):
    months, kid = paid
    login(client, "20000002")
    page = page_text(client.get("/portal/"))
    february = month_row(page, BEFORE)
    assert "kr 4\xa0321,00 (21.02.2026)" in february and kid[(months.world.employers["E2"].id, BEFORE)] in february
    for amount in ("600,00", "12,50", "777,00", "5\xa0555,00", "6\xa0666,00", "7\xa0777,00"):
        assert amount not in page


def test_the_service_answers_for_one_employer_only(app_ctx, paid):
    months, kid = paid
    e1, e2 = months.world.employers["E1"].id, months.world.employers["E2"].id
    by_month = portal.payments_by_month(e1)
    assert {period: [p.amount_ore for p in month.payments] for period, month in by_month.items()} == {
        BEFORE: [600_00, 12_50, -12_50], PERIOD: [777_00]}
    assert by_month[BEFORE].total_ore == 600_00
    assert {p.employer_id for month in by_month.values() for p in month.payments} == {e1}
    assert portal.payment_information(e2, PERIOD).payments == []
    assert portal.payment_information(e1, PERIOD).kid == kid[(e1, PERIOD)]
