"""The deduction portal tells a contact nothing from the register beyond its employer's basis (issue 11).

A person not on the employer's basis for the month -- world's "outside" member, who works for E2 -- gets
exactly the answer and the stored line of a national id nobody has: what the contact typed, no member,
flagged for the office. Lists exist only for months with a basis; what a contact types is bounded.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import insert, select

from tests.conftest import PORTAL_PERIOD
from tests.factories import national_id
from tests.helpers import api_token, login, login_as
from webapp.models import DeductionList, DeductionListLine, Member
from webapp.models.choices import ListKind, ListStatus
from webapp.services import deduction_lists

PERIOD = PORTAL_PERIOD  # the month the `portal` fixture (conftest) makes the bases of
HEADER = "medlemsnummer;fodselsnummer;navn;belop;avvik;kommentar\n"
# A valid national id that no member has.
NOBODY = national_id(dt.date(1990, 4, 4), 211)
TYPED_NAME = "Som Skrevet"


@pytest.fixture()
def draft(client, portal, dbs) -> DeductionList:
    """The E1 contact logged in, with the March draft open (prefilled from E1's basis)."""
    login(client, portal.logins["deduction_contact"])
    assert client.post(f"/portal/lists/new/{PERIOD}").status_code == 302
    return dbs.scalars(select(DeductionList)).one()


@pytest.fixture()
def outsider(portal, dbs) -> Member:
    """A member of the register who is not on E1's basis: employed by E2."""
    return dbs.get(Member, portal.members["outside"].id)


def register_facts(member: Member) -> list[str]:
    """What the register knows of a member and the employer must not learn from it."""
    return [member.last_name, member.full_name, member.member_no, member.birth_date.isoformat(),
            member.birth_date.strftime("%d.%m.%Y")]


def flashes(response) -> list[str]:
    """The flashed messages of a page, as text."""
    page = response.get_data(as_text=True)
    found = re.findall(r'<div class="alert alert-\w+[^"]*"[^>]*>(.*?)</div>', page, re.S)
    return [re.sub(r"<[^>]+>|×", "", html.unescape(text)).strip() for text in found]


def add_person(client, deduction_list, nid: str, name: str = TYPED_NAME, amount: str = "100"):
    return client.post(f"/portal/lists/{deduction_list.id}", data={
        "action": "add", "new_national_id": nid, "new_name": name, "new_amount": amount,
    }, follow_redirects=True)


def upload(client, deduction_list, text: str):
    return client.post(f"/portal/lists/{deduction_list.id}", data={
        "action": "upload", "file": (io.BytesIO(text.encode()), "liste.csv"),
    }, content_type="multipart/form-data", follow_redirects=True)


def stored_lines(dbs, deduction_list) -> dict[str, tuple]:
    """The list's lines by national id: (member id, name, amount, flagged outside the basis)."""
    dbs.expire_all()
    lines = dbs.scalars(select(DeductionListLine).where(DeductionListLine.list_id == deduction_list.id))
    return {line.national_id: (line.member_id, line.name, line.amount_ore, line.outside_basis) for line in lines}


def assert_nothing_of(member: Member, text: str) -> None:
    leaked = [fact for fact in register_facts(member) if fact in text]
    assert not leaked, f"register data of a member outside the basis shown: {leaked}"


# ------------------------------------------------------------------ item 1: lookups only on the basis


def test_adding_a_member_of_another_employer_by_national_id_is_answered_as_for_nobody(client, draft, outsider, dbs):
    nameless = [flashes(add_person(client, draft, nid, name="")) for nid in (outsider.national_id, NOBODY)]
    assert nameless[0] == nameless[1] == [
        "Navn: personen står ikke på arbeidsgiverens trekkgrunnlag for måneden; oppgi navnet."]

    for_member = add_person(client, draft, outsider.national_id)
    for_nobody = add_person(client, draft, NOBODY)
    assert for_member.status_code == for_nobody.status_code == 200
    assert flashes(for_member) == flashes(for_nobody) == ["Personen er lagt til på listen."]
    lines = stored_lines(dbs, draft)
    assert lines[outsider.national_id] == lines[NOBODY] == (None, TYPED_NAME, 10000, True)
    page = client.get(f"/portal/lists/{draft.id}").get_data(as_text=True)
    assert_nothing_of(outsider, page)
    assert page.count("ukjent for arbeidsgiverens grunnlag") == 2


def test_a_member_on_the_basis_is_still_named_from_the_register(client, draft, portal, dbs):
    inside = dbs.get(Member, portal.members["inside"].id)
    response = upload(client, draft, HEADER + f"{inside.member_no};;;250;;\n")
    assert flashes(response) == ["1 linjer lest fra filen."]
    assert stored_lines(dbs, draft) == {inside.national_id: (inside.id, inside.full_name, 25000, False)}


def test_a_member_number_off_the_basis_is_refused_in_the_words_for_a_number_nobody_has(client, draft, outsider, dbs):
    before = stored_lines(dbs, draft)
    for_member = flashes(upload(client, draft, HEADER + f"{outsider.member_no};;;100;;\n"))
    for_nobody = flashes(upload(client, draft, HEADER + "7599999;;;100;;\n"))
    assert [text.replace(outsider.member_no, "7599999") for text in for_member] == for_nobody
    assert for_nobody == ["Linje 2: Medlemsnummer: 7599999 står ikke på arbeidsgiverens trekkgrunnlag for måneden; "
                          "oppgi fødselsnummer og navn i stedet."]
    assert_nothing_of(outsider, " ".join(for_member).replace(outsider.member_no, ""))
    assert stored_lines(dbs, draft) == before


def test_an_upload_keeps_a_member_of_another_employer_as_typed(client, draft, outsider, dbs):
    response = upload(client, draft,
                      HEADER + f";{outsider.national_id};{TYPED_NAME};100;;\n;{NOBODY};{TYPED_NAME};100;;\n")
    assert flashes(response) == ["2 linjer lest fra filen."]
    lines = stored_lines(dbs, draft)
    assert lines[outsider.national_id] == lines[NOBODY] == (None, TYPED_NAME, 10000, True)
    assert_nothing_of(outsider, response.get_data(as_text=True))
    template = client.get(f"/portal/lists/{draft.id}/template.csv").get_data(as_text=True)
    assert f";{outsider.national_id};{TYPED_NAME};100,00;;" in template
    assert_nothing_of(outsider, template)


def test_api_pdf_and_pages_show_only_what_was_typed(client, draft, outsider, portal, dbs):
    add_person(client, draft, outsider.national_id)
    add_person(client, draft, NOBODY)
    api = client.get(f"/api/v1/deduction_list/{draft.id}",
                     headers=api_token(client, portal.logins["deduction_contact"]))
    assert api.status_code == 200
    typed = [line for line in api.json["result"]["lines"] if line["outside_basis"]]
    assert len(typed) == 2
    assert all(line["member_id"] is None and line["name"] == TYPED_NAME for line in typed)
    assert_nothing_of(outsider, api.get_data(as_text=True))

    pdf = client.get(f"/portal/lists/{draft.id}/pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert text.count("ukjent for arbeidsgiverens grunnlag") == 2 and TYPED_NAME in text
    assert_nothing_of(outsider, text)
    assert_nothing_of(outsider, client.get(f"/portal/lists/{draft.id}/show").get_data(as_text=True))


def test_the_office_sees_the_lines_outside_the_basis(client, draft, outsider, portal):
    add_person(client, draft, outsider.national_id)
    client.get("/logout/")
    login_as(client, portal.logins["office"])
    page = client.get(f"/deductionlistview/show/{draft.id}").get_data(as_text=True)
    assert "Ukjent for arbeidsgiverens grunnlag" in page
    assert f"{TYPED_NAME} ({outsider.national_id})" in page


# ------------------------------------------------------------------ item 4: months with a basis only


@pytest.mark.parametrize("period", ["2026-05", "0001-01", "2099-04"])
def test_no_list_for_a_month_without_a_basis(client, portal, dbs, period):
    login(client, portal.logins["deduction_contact"])
    response = client.post(f"/portal/lists/new/{period}", follow_redirects=True)
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        label = period.replace("-", "/")
        assert flashes(response) == [f"Måned: arbeidsgiveren har ikke noe trekkgrunnlag for {label}; en trekkliste kan "
                                     "bare registreres for en måned med grunnlag."]
    assert dbs.scalars(select(DeductionList)).all() == []


@pytest.mark.parametrize("period", ["0001-01", "2099-04", "9999-99", "2026-13", "0000-00", "20260-3"])
def test_a_month_in_a_url_outside_the_window_is_not_found(client, portal, period):
    login(client, portal.logins["deduction_contact"])
    assert client.get(f"/portal/basis/{period}").status_code == 404
    assert client.post(f"/portal/lists/new/{period}").status_code in (302, 404)


def test_no_upload_to_a_list_of_a_month_without_a_basis(client, portal, dbs):
    """A list left from before the rule, for a month without a basis: nothing can be added to it."""
    dbs.add(DeductionList(employer_id=portal.employers["E1"].id, period="2099-04", kind=ListKind.main,
                          status=ListStatus.draft, created_at=dt.datetime.now()))
    dbs.commit()
    orphan = dbs.scalars(select(DeductionList)).one()
    login(client, portal.logins["deduction_contact"])
    response = upload(client, orphan, HEADER + f";{NOBODY};{TYPED_NAME};100;;\n")
    assert flashes(response)[0].startswith("Måned: arbeidsgiveren har ikke noe trekkgrunnlag for 2099/04")
    assert stored_lines(dbs, orphan) == {}
    # It still opens (its month is outside the window of typed months, not a reason for a 500).
    assert [client.get(f"/portal/lists/{orphan.id}{page}").status_code for page in ("", "/show", "/pdf")] == [200] * 3


# ------------------------------------------------------------------ item 10: upload size, large PDF


def stranger_rows(count: int) -> str:
    """CSV rows of `count` different people nobody in the register is (one birth date each)."""
    return "".join(f";{national_id(dt.date(1940, 1, 1) + dt.timedelta(days=n), 100)};Person {n};100;;\n"
                   for n in range(count))


def test_an_upload_over_the_line_limit_is_refused_whole(client, draft, dbs, clean_app, monkeypatch):
    monkeypatch.setitem(clean_app.config, "DEDUCTION_UPLOAD_MAX_LINES", 3)
    before = stored_lines(dbs, draft)
    response = upload(client, draft, HEADER + stranger_rows(4))
    assert flashes(response) == ["Fil: filen har 4 linjer; en fil kan ha høyst 3."]
    assert stored_lines(dbs, draft) == before
    assert flashes(upload(client, draft, HEADER + stranger_rows(3))) == ["3 linjer lest fra filen."]
    assert len(stored_lines(dbs, draft)) == 3


def test_the_line_limit_is_a_setting_of_20000_by_default(clean_app):
    assert clean_app.config["DEDUCTION_UPLOAD_MAX_LINES"] == 20_000


def test_a_large_lists_pdf_has_every_line(client, draft, dbs):
    count = 1500
    dbs.execute(insert(DeductionListLine), [
        {"list_id": draft.id, "member_id": None, "national_id": f"{10000000000 + n}", "name": f"Linjeperson {n:05d}",
         "amount_ore": 31250, "deviation": None, "comment": None, "outside_basis": True}
        for n in range(count)
    ])
    dbs.commit()
    response = client.get(f"/portal/lists/{draft.id}/pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Linjeperson 00000" in text and f"Linjeperson {count - 1:05d}" in text
    assert len(re.findall(r"Linjeperson \d{5}", text)) == count
    assert len(reader.pages) > 10


# ------------------------------------------------------------------ item 5: bounded amounts


ABSURD_AMOUNTS = ["1e400", "NaN", "Infinity", "10000000000", "-5", "100000,01", "sNaN", "1e999999999"]


@pytest.mark.parametrize("amount", ABSURD_AMOUNTS)
def test_an_absurd_amount_is_refused_naming_the_field(client, draft, dbs, amount):
    before = stored_lines(dbs, draft)
    (message,) = flashes(add_person(client, draft, NOBODY, amount=amount))
    assert message.startswith("Beløp: "), message
    assert stored_lines(dbs, draft) == before


def test_absurd_amounts_in_a_file_and_on_saved_lines_are_refused(client, draft, dbs):
    before = stored_lines(dbs, draft)
    rows = "".join(f";{national_id(dt.date(1970, 1, 1 + n), 150)};Person {n};{amount};;\n"
                   for n, amount in enumerate(ABSURD_AMOUNTS))
    (message,) = flashes(upload(client, draft, HEADER + rows))
    for number in range(2, 2 + len(ABSURD_AMOUNTS)):
        assert f"Linje {number}: Beløp: " in message
    assert "Beløp: høyst 100\u00a0000,00 kroner per medlem og måned." in message
    line_id = draft.lines[0].id
    response = client.post(f"/portal/lists/{draft.id}", data={"action": "save", f"amount_{line_id}": "1e400"},
                           follow_redirects=True)
    assert response.status_code == 200 and "Beløp: " in " ".join(flashes(response))
    assert stored_lines(dbs, draft) == before


def test_the_largest_amount_is_accepted(client, draft, dbs):
    assert flashes(add_person(client, draft, NOBODY, amount="100 000,00")) == ["Personen er lagt til på listen."]
    assert stored_lines(dbs, draft)[NOBODY][2] == deduction_lists.MAX_LINE_AMOUNT_ORE


@pytest.mark.parametrize(("field", "value", "message"), [
    ("new_name", "N" * 161, "Navn: høyst 160 tegn."),
    ("new_comment", "K" * 501, "Kommentar: høyst 500 tegn."),
])
def test_overlong_or_nul_text_on_a_line_is_refused_not_cut(client, draft, dbs, field, value, message):
    before = stored_lines(dbs, draft)
    form = {"action": "add", "new_national_id": NOBODY, "new_name": TYPED_NAME, "new_amount": "100", field: value}
    assert flashes(client.post(f"/portal/lists/{draft.id}", data=form, follow_redirects=True)) == [message]
    assert stored_lines(dbs, draft) == before


def test_a_nul_byte_in_an_uploaded_name_is_refused(client, draft, dbs):
    """A form value with NUL is refused for the whole app (400); in a file it reaches the line's own check."""
    before = stored_lines(dbs, draft)
    response = upload(client, draft, HEADER + f";{NOBODY};Nul\x00Byte;100;;\n")
    assert flashes(response) == ["Linje 2: Navn: inneholder et tegn som ikke er tillatt (NUL)."]
    assert stored_lines(dbs, draft) == before
