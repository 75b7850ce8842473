"""The UI speaks Bokmål through the catalogs (ours and FAB's strings), and English one switch away."""

from __future__ import annotations

import io
import os
import re

import pytest
from babel.messages.mofile import write_mo

from tests.helpers import login_as
from webapp.translations import update

# Nothing here depends on the database engine: run once, in the SQLite pass.
pytestmark = pytest.mark.engine_independent


@pytest.fixture(scope="module")
def template():
    return update.extract_template()


@pytest.fixture(scope="module")
def nb():
    return update.read_catalog("nb")


def _is_ours(message) -> bool:
    return any(path.startswith("webapp/") for path, _ in message.locations)


# ------------------------------------------------------------------ the catalog


def test_every_extracted_msgid_has_a_bokmal_translation(template, nb):
    missing = [m.id for m in template if m.id and (m.id not in nb or not nb[m.id].string)]
    fuzzy = [m.id for m in template if m.id and m.id in nb and nb[m.id].fuzzy]
    assert not missing, f"untranslated (run python -m webapp.translations.update): {missing}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    assert not update.problems(nb).malformed, "placeholders of a translation differ from its msgid"


def test_extraction_finds_our_strings_and_all_of_fabs(template):
    from babel.messages.pofile import read_po

    ours = [m.id for m in template if m.id and _is_ours(m)]
    fab = [m.id for m in template if m.id and not _is_ours(m)]
    assert len(ours) > 100 and len(fab) > 150
    for wanted in ("Membership number", "Confidentiality: The member list", "Choose a role", "%(field)s: is required."):
        assert any(msgid.startswith(wanted) for msgid in ours), wanted
    reference = os.path.join(update.fab_dir(), "translations", "de", "LC_MESSAGES", "messages.po")
    with open(reference, "rb") as fileobj:
        fab_listed = {m.id for m in read_po(fileobj) if m.id}
    assert fab_listed <= {m.id for m in template if m.id}


def test_catalog_has_no_stale_entries(template, nb):
    stale = sorted({m.id for m in nb if m.id} - {m.id for m in template if m.id})
    assert not stale, f"msgids no longer in the code (run python -m webapp.translations.update): {stale}"


def test_our_msgids_are_english(template):
    def looks_norwegian(msgid: str) -> bool:
        return any(c in msgid.replace("øre", "") for c in "æøåÆØÅ")  # øre is the English name of the unit too

    assert not [m.id for m in template if m.id and _is_ours(m) and looks_norwegian(m.id)]


def test_translations_survive_a_second_gettext(nb):
    """FAB runs menu labels and form errors through gettext again after our lazy strings are resolved."""
    table = {m.id: m.string for m in nb if m.id}
    changed = {s: table[s] for s in table.values() if s in table and table[s] != s}
    assert not changed


def test_compiled_catalog_matches_po(tmp_path, nb):
    with open(update.mo_path("nb"), "rb") as fileobj:
        committed = fileobj.read()
    assert update.mo_messages(committed) == update.po_messages(nb), "run python -m webapp.translations.update"
    fresh = io.BytesIO()
    write_mo(fresh, nb, use_fuzzy=False)
    assert update.mo_messages(fresh.getvalue()) == update.mo_messages(committed)


def test_update_check_passes(capsys):
    assert update.main(["--check"]) == 0, capsys.readouterr().err


def test_check_ignores_the_babel_version_and_dates_but_not_a_translation():
    with open(update.po_path("nb"), "rb") as fileobj:
        committed = fileobj.read()
    assert b"Generated-By: Babel " in committed
    other_babel = re.sub(rb"PO-Revision-Date: [^\\]*", b"PO-Revision-Date: 2031-01-01 00:00+0000",
                         re.sub(rb"Generated-By: Babel [^\\]*", b"Generated-By: Babel 99.1.0", committed))
    assert other_babel != committed and update.po_up_to_date(other_babel, committed)
    retranslated = committed.replace(b'msgstr "Forbund"', b'msgstr "Fagforening"', 1)
    assert retranslated != committed and not update.po_up_to_date(retranslated, committed)


# ------------------------------------------------------------------ the pages


def test_login_page_speaks_bokmal_by_default(client):
    page = client.get("/login/").get_data(as_text=True)
    assert "Logg inn" in page and "Brukernavn" in page and "Passord" in page
    assert "Username" not in page


def test_login_page_speaks_english_after_the_switch(client):
    assert client.get("/lang/en").status_code == 302
    page = client.get("/login/").get_data(as_text=True)
    assert "Login" in page and "Username" in page and "Password" in page
    assert "Brukernavn" not in page and "Logg inn" not in page
    client.get("/lang/nb")
    assert "Brukernavn" in client.get("/login/").get_data(as_text=True)


def test_unknown_language_is_refused(client):
    assert client.get("/lang/xx").status_code == 404


NORWEGIAN_LIST = ["Register", "Medlemmer", "Organisasjonsledd", "Medlemsnummer", "Etternavn", "Fødselsnummer",
                  "Innmeldt", "Forbundskontoret", "Taushetsplikt", "Antall rader", "Logg ut"]
ENGLISH_LIST = ["Register", "Members", "Organisational units", "Membership number", "Last name",
                "National identity number", "Date joined", "Union office", "Confidentiality", "Record Count", "Logout"]


def test_member_list_speaks_bokmal_then_english(client, world):
    login_as(client, world.logins["office"])
    page = client.get("/memberview/list/").get_data(as_text=True)
    for text in NORWEGIAN_LIST:
        assert text in page, text
    assert "Membership number" not in page and "Record Count" not in page

    client.get("/lang/en")
    page = client.get("/memberview/list/").get_data(as_text=True)
    for text in ENGLISH_LIST:
        assert text in page, text
    for text in ("Medlemsnummer", "Fødselsnummer", "Taushetsplikt", "Antall rader", "Forbundskontoret"):
        assert text not in page, text


def test_enum_labels_and_form_errors_follow_the_language(client, world):
    login_as(client, world.logins["office"])
    bad = {"member_no": "7599002", "national_id": "15108695089", "first_name": "Ny", "last_name": "Person",
           "category": "ordinary", "home_unit": str(world.units["AV1"].id), "joined_on": "2024-03-01"}
    page = client.post("/memberview/add", data=bad).get_data(as_text=True)
    assert "Fødselsnummer: kontrollsifrene stemmer ikke" in page and "Ordinær" in page

    client.get("/lang/en")
    page = client.post("/memberview/add", data=bad).get_data(as_text=True)
    assert "National identity number: the check digits do not match" in page and "Ordinary" in page
    assert "kontrollsifrene" not in page


def test_role_labels_follow_the_language(client, world):
    login_as(client, world.logins["leader"], role="leader")
    assert "Leder – AV1 Avdeling Øst" in client.get("/unit/").get_data(as_text=True)
    client.get("/lang/en")
    assert "Leader – AV1 Avdeling Øst" in client.get("/unit/").get_data(as_text=True)


def test_rules_outside_a_request_speak_the_default_language(app_ctx):
    from webapp.services import validation

    with pytest.raises(validation.FieldError) as caught:
        validation.postcode("12345")
    assert caught.value.message == "Postnummer: må være 4 siffer."
