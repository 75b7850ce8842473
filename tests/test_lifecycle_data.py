"""The office's screens of the life cycle's data (webapp/views/lifecycle_data.py) and the postcode register's import
(webapp/services/postcodes.py, `flask postcodes import`): good input saved, every bad input refused with a message
naming the field (or the file's line) and nothing saved."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import login_as
from webapp.extensions import db
from webapp.models import (
    AuditEntry,
    HomeUnitRule,
    LoUnion,
    MembershipApplication,
    MembershipTransfer,
    PolicyText,
    Postcode,
)
from webapp.models.choices import (
    EnrollmentStatus,
    HomeUnitRuleKind,
    MemberCategory,
    PolicyKind,
    TransferDirection,
    WorkSituation,
)
from webapp.services import postcodes

DATA = Path(__file__).parent / "data"
LATIN1_FILE = DATA / "postnummerregister-ansi.txt"
UTF8_FILE = DATA / "postnummerregister-utf8.txt"


def text_of(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(page).replace("\u00a0", " "))


def count(dbs, model) -> int:
    dbs.expire_all()
    return dbs.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def office(client, world):
    login_as(client, world.logins["office"], "office")
    return client


# ------------------------------------------------------------------ LO unions

GOOD_UNION = {"code": "FF", "name": "Fellesforbundet", "org_number": "974760673", "email": "post@example.no",
              "active": "y"}


def test_the_office_adds_an_lo_union_and_it_is_audited(office, dbs):
    response = office.post("/lounionview/add", data=GOOD_UNION, follow_redirects=True)
    assert response.status_code == 200
    union = dbs.scalar(select(LoUnion))
    assert (union.code, union.name, union.org_number, union.email, union.active) == (
        "FF", "Fellesforbundet", "974760673", "post@example.no", True)
    assert dbs.scalar(select(AuditEntry).where(AuditEntry.action == "create", AuditEntry.object_type == "lo_union"))
    listing = text_of(office.get("/lounionview/list/"))
    assert "Fellesforbundet" in listing and "LO-forbund" in listing


@pytest.mark.parametrize(("changes", "message"), [
    ({"code": ""}, "Kode"),
    ({"name": "   "}, "Navn: må fylles ut."),
    ({"org_number": "974760674"}, "Organisasjonsnummer: kontrollsifferet stemmer ikke (MOD11)."),
    ({"org_number": "12345"}, "Organisasjonsnummer: må være 9 siffer."),
    ({"email": "post@"}, "E-post: ikke en gyldig e-postadresse."),
    ({"code": "X" * 21}, "Kode"),
])
def test_a_bad_lo_union_is_refused_and_nothing_saved(office, dbs, changes, message):
    response = office.post("/lounionview/add", data={**GOOD_UNION, **changes}, follow_redirects=True)
    assert response.status_code == 200
    assert message in text_of(response)
    assert count(dbs, LoUnion) == 0


def test_an_lo_union_without_organisation_number_is_fine_but_a_second_of_a_name_is_not(office, dbs):
    office.post("/lounionview/add", data={**GOOD_UNION, "org_number": "", "email": ""})
    union = dbs.scalar(select(LoUnion))
    assert (union.org_number, union.email) == (None, None)
    response = office.post("/lounionview/add", data={**GOOD_UNION, "code": "FF2"}, follow_redirects=True)
    assert re.search(r"Navn \* Finnes allerede\.", text_of(response))  # said at the field
    response = office.post("/lounionview/add", data={**GOOD_UNION, "name": "Annet"}, follow_redirects=True)
    assert re.search(r"Kode \* Finnes allerede\.", text_of(response))
    assert count(dbs, LoUnion) == 1


def test_an_lo_union_named_by_a_transfer_is_not_deleted(office, world, dbs, clean_app):
    with clean_app.app_context():
        union = LoUnion(code="HK", name="Handel og Kontor i Norge", active=True)
        db.session.add(union)
        db.session.flush()
        db.session.add(MembershipTransfer(member_id=world.members["inside"].id, direction=TransferDirection.incoming,
                                          lo_union_id=union.id, transfer_on=dt.date(2024, 1, 1),
                                          registered_at=dt.datetime.now()))
        db.session.commit()
        union_id = union.id
        db.session.remove()
    response = office.post(f"/lounionview/delete/{union_id}", follow_redirects=True)
    assert "kan ikke slettes; merk det som ikke aktivt i stedet" in text_of(response)
    assert count(dbs, LoUnion) == 1


@pytest.mark.parametrize("role", ["leader", "member_data_admin", "analyst", "member"])
def test_only_the_office_reaches_the_data_screens(client, world, role):
    login_as(client, world.logins[role], role)
    for url in ("/lounionview/list/", "/homeunitruleview/list/", "/postcodeview/list/", "/policytextview/list/"):
        assert client.get(url).status_code in (302, 403, 404), url
    response = client.post("/lounionview/add", data=GOOD_UNION)
    assert response.status_code in (302, 403, 404)
    with client.application.app_context():
        assert db.session.scalar(select(func.count(LoUnion.id))) == 0
        db.session.remove()


# ------------------------------------------------------------------ home-unit rules


def test_the_office_adds_rules_for_a_county_and_an_employer(office, world, dbs):
    response = office.post("/homeunitruleview/add", data={
        "kind": "county", "county": "Vestland", "org_unit": str(world.units["AV2"].id)}, follow_redirects=True)
    assert response.status_code == 200
    office.post("/homeunitruleview/add", data={
        "kind": "employer", "employer": str(world.employers["E1"].id), "org_unit": str(world.units["AV1"].id)})
    rules = dbs.scalars(select(HomeUnitRule).order_by(HomeUnitRule.id)).all()
    assert [(r.kind, r.county, r.employer_id, r.org_unit_id) for r in rules] == [
        (HomeUnitRuleKind.county, "Vestland", None, world.units["AV2"].id),
        (HomeUnitRuleKind.employer, None, world.employers["E1"].id, world.units["AV1"].id),
    ]
    listing = text_of(office.get("/homeunitruleview/list/"))
    assert "Vestland" in listing and "Virksomhet E1" in listing and "Avdeling Vest" in listing


def test_the_county_select_offers_the_counties_of_the_register(office, world, clean_app):
    with clean_app.app_context():
        db.session.add(Postcode(code="9008", place="Tromsø", municipality="Tromsø", county="Troms"))
        db.session.commit()
        db.session.remove()
    form = office.get("/homeunitruleview/add").get_data(as_text=True)
    options = re.findall(r'<option value="([^"]*)"', form.split('name="county"')[1].split("</select>")[0])
    assert options == ["", "Akershus", "Oslo", "Troms", "Vestland"]


@pytest.mark.parametrize(("form", "message"), [
    ({"kind": "employer"}, "Arbeidsgiver: velg arbeidsgiveren regelen gjelder."),
    ({"kind": "employer", "employer": "E1", "county": "Oslo"}, "Fylke: skal stå tomt i en regel for en arbeidsgiver."),
    ({"kind": "county"}, "Fylke: velg fylket regelen gjelder."),
    ({"kind": "county", "county": "Oslo", "employer": "E1"}, "Arbeidsgiver: skal stå tomt i en regel for et fylke."),
    ({"kind": "county", "county": "Atlantis"}, "Fylke: velg et av fylkene i postnummerregisteret."),
    ({"kind": "county", "county": "Oslo", "org_unit": ""}, "Hjemmeenhet"),
])
def test_a_bad_rule_is_refused_naming_the_field(office, world, dbs, form, message):
    data = {"org_unit": str(world.units["AV1"].id), **form}
    if data.get("employer") == "E1":
        data["employer"] = str(world.employers["E1"].id)
    response = office.post("/homeunitruleview/add", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert message in text_of(response)
    assert count(dbs, HomeUnitRule) == 0


def test_one_rule_per_county_and_per_employer(office, world, dbs):
    unit = str(world.units["AV1"].id)
    employer = str(world.employers["E1"].id)
    office.post("/homeunitruleview/add", data={"kind": "county", "county": "Oslo", "org_unit": unit})
    office.post("/homeunitruleview/add", data={"kind": "employer", "employer": employer, "org_unit": unit})
    response = office.post("/homeunitruleview/add", data={"kind": "county", "county": "Oslo", "org_unit": unit},
                           follow_redirects=True)
    assert "Fylke: finnes allerede." in text_of(response)
    response = office.post("/homeunitruleview/add", data={"kind": "employer", "employer": employer, "org_unit": unit},
                           follow_redirects=True)
    assert "Arbeidsgiver: finnes allerede." in text_of(response)
    assert count(dbs, HomeUnitRule) == 2
    # A rule changes kind only with its target: the county rule made an employer rule needs the employer.
    rule_id = dbs.scalar(select(HomeUnitRule.id).where(HomeUnitRule.county == "Oslo"))
    response = office.post(f"/homeunitruleview/edit/{rule_id}", data={"kind": "employer", "county": "Oslo",
                                                                       "org_unit": unit}, follow_redirects=True)
    assert "Arbeidsgiver: velg arbeidsgiveren regelen gjelder." in text_of(response)
    dbs.expire_all()
    assert dbs.get(HomeUnitRule, rule_id).kind == HomeUnitRuleKind.county


# ------------------------------------------------------------------ postcodes


def test_the_postcode_list_is_searchable_and_read_only(office, dbs, clean_app):
    with clean_app.app_context():
        postcodes.import_register(LATIN1_FILE)
        db.session.remove()
    listing = text_of(office.get("/postcodeview/list/?_flt_0_place=Mo"))
    assert "8601" in listing and "Mo i Rana" in listing and "Nordland" in listing and "0150" not in listing
    assert office.get("/postcodeview/add").status_code != 200
    assert office.post("/postcodeview/add", data={"code": "0001", "place": "X"}).status_code != 200
    assert dbs.get(Postcode, "0001") is None


def test_import_reads_posten_latin1_and_utf8_alike(app_ctx):
    result = postcodes.import_register(LATIN1_FILE)
    assert (result.lines, result.added, result.changed) == (20, 20, 0)
    rows = {p.code: (p.place, p.municipality, p.county) for p in db.session.scalars(select(Postcode))}
    assert rows["8601"] == ("Mo i Rana", "Rana", "Nordland")
    assert rows["6002"] == ("Ålesund", "Ålesund", "Møre og Romsdal")
    assert rows["1400"] == ("Ski", "Nordre Follo", "Akershus")
    assert rows["9170"] == ("Longyearbyen", "Svalbard", None)  # Svalbard lies in no county
    assert {county for _, _, county in rows.values()} >= {
        "Oslo", "Rogaland", "Møre og Romsdal", "Nordland", "Østfold", "Akershus", "Buskerud", "Innlandet", "Vestfold",
        "Telemark", "Agder", "Vestland", "Trøndelag", "Troms", "Finnmark"}
    # The same register in UTF-8 with a header line changes nothing.
    again = postcodes.import_register(UTF8_FILE.read_bytes())
    assert (again.added, again.changed, again.unchanged) == (0, 0, 20)
    assert postcodes.place_of("8601").place == "Mo i Rana"
    assert postcodes.place_of("0000") is None and postcodes.place_of("86a1") is None
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "postcode")) == \
        "import_postcodes"


def test_import_updates_changed_places_and_prunes_only_when_asked(app_ctx):
    postcodes.import_register(LATIN1_FILE)
    text = LATIN1_FILE.read_bytes().decode("latin-1").replace("0151\tOSLO", "0151\tOSLO SENTRUM")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("9800"))
    result = postcodes.import_register(text)
    assert (result.added, result.changed, result.unchanged, result.removed) == (0, 1, 18, 0)
    assert db.session.get(Postcode, "0151").place == "Oslo Sentrum"
    assert db.session.get(Postcode, "9800") is not None
    assert postcodes.import_register(text, prune=True).removed == 1
    assert db.session.get(Postcode, "9800") is None


@pytest.mark.parametrize(("line", "message"), [
    ("0160\tOSLO\t0301\tOSLO", "Linje 3: må ha 5 felt skilt med tabulator"),
    ("160\tOSLO\t0301\tOSLO\tG", "Linje 3: postnummeret må være 4 sifre."),
    ("0160\t\t0301\tOSLO\tG", "Linje 3: poststedet må være 1 til 80 tegn."),
    ("0160\tOSLO\t301\tOSLO\tG", "Linje 3: kommunenummeret må være 4 sifre."),
    ("0160\tHALDEN\t3001\tHALDEN\tG", "Linje 3: ingen fylker har nummeret 30"),
    ("0160\tOSLO\t0301\tOSLO\tX", "Linje 3: kategorien må være en av B, F, G, P og S."),
    ("0150\tOSLO\t0301\tOSLO\tG", "Linje 3: postnummeret 0150 står to ganger i filen."),
])
def test_a_bad_line_refuses_the_whole_file_by_its_number(clean_app, line, message):
    text = "0150\tOSLO\t0301\tOSLO\tG\n0151\tOSLO\t0301\tOSLO\tP\n" + line + "\n1400\tSKI\t3207\tNORDRE FOLLO\tB\n"
    with clean_app.test_request_context():
        with pytest.raises(postcodes.PostcodeImportError) as refused:
            postcodes.import_register(text)
        assert message in str(refused.value)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Postcode)) == 0


def test_the_cli_imports_and_refuses_with_a_non_zero_exit(clean_app, tmp_path):
    runner = clean_app.test_cli_runner()
    result = runner.invoke(args=["postcodes", "import", str(LATIN1_FILE)])
    assert result.exit_code == 0, result.output
    assert "20 added" in result.output
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"0150\tOSLO\t0301\tOSLO\tG\n9999\tSTED\n")
    result = runner.invoke(args=["postcodes", "import", str(bad)])
    assert result.exit_code == 2
    assert "2" in result.output and "5" in result.output  # line 2: must have 5 fields
    with clean_app.app_context():
        assert db.session.get(Postcode, "9999") is None
        db.session.remove()


def test_an_oversized_file_is_refused(clean_app):
    with clean_app.test_request_context():
        with pytest.raises(postcodes.PostcodeImportError):
            postcodes.import_register("0150\tOSLO\t0301\tOSLO\tG\n" * (postcodes.MAX_LINES + 1))
        with pytest.raises(postcodes.PostcodeImportError):
            postcodes.import_register(b"x" * (postcodes.MAX_BYTES + 1))
        with pytest.raises(postcodes.PostcodeImportError):
            postcodes.import_register("\n\n")
        with pytest.raises(postcodes.PostcodeImportError):  # a long line without tabs is text, not a file name
            postcodes.import_register("x" * 5000)


# ------------------------------------------------------------------ terms and privacy texts

GOOD_TEXT = {"kind": "terms", "version": "2026-1", "published_on": "2026-01-01", "title": "Medlemsvilkår",
             "body": "Kontingenten trekkes av lønn.\n\nUtmelding gjelder fra utgangen av måneden."}


def _application(terms_id: int, privacy_id: int) -> None:
    db.session.add(MembershipApplication(
        status=EnrollmentStatus.pending, submitted_at=dt.datetime.now(), first_name="Ida", last_name="Søker",
        national_id="01018012345", address="Gata 2", postcode="0150", city="Oslo", email="ida@example.no",
        work_situation=WorkSituation.not_employed, category=MemberCategory.ordinary, terms_id=terms_id,
        privacy_id=privacy_id))


def test_the_office_adds_versions_and_edits_one_nobody_consented_to(office, dbs):
    office.post("/policytextview/add", data=GOOD_TEXT)
    office.post("/policytextview/add", data={**GOOD_TEXT, "kind": "privacy", "title": "Personvernerklæring"})
    texts = dbs.scalars(select(PolicyText).order_by(PolicyText.id)).all()
    assert [(t.kind, t.version) for t in texts] == [(PolicyKind.terms, "2026-1"), (PolicyKind.privacy, "2026-1")]
    office.post(f"/policytextview/edit/{texts[0].id}", data={**GOOD_TEXT, "title": "Vilkår for medlemskap"})
    dbs.expire_all()
    assert dbs.get(PolicyText, texts[0].id).title == "Vilkår for medlemskap"


@pytest.mark.parametrize(("changes", "message"), [
    ({"version": ""}, "Versjon"),
    ({"title": " "}, "Tittel: må fylles ut."),
    ({"body": ""}, "Tekst"),
    ({"body": "x" * 100_001}, "Tekst: høyst 100000 tegn."),
    ({"published_on": "1850-01-01"}, "Publisert"),
    ({"kind": "rules"}, "Type"),
])
def test_a_bad_text_is_refused_and_nothing_saved(office, dbs, changes, message):
    response = office.post("/policytextview/add", data={**GOOD_TEXT, **changes}, follow_redirects=True)
    assert response.status_code == 200
    assert message in text_of(response)
    assert count(dbs, PolicyText) == 0


def test_a_version_is_added_once_per_kind(office, dbs):
    office.post("/policytextview/add", data=GOOD_TEXT)
    response = office.post("/policytextview/add", data=GOOD_TEXT, follow_redirects=True)
    assert "Versjon: teksten har allerede en versjon med dette navnet." in text_of(response)
    assert count(dbs, PolicyText) == 1


def test_a_version_applicants_consented_to_is_never_changed_or_deleted(office, dbs, clean_app):
    with clean_app.app_context():
        terms = PolicyText(kind=PolicyKind.terms, version="1", published_on=dt.date(2025, 1, 1), title="Vilkår",
                           body="Vilkårene.")
        privacy = PolicyText(kind=PolicyKind.privacy, version="1", published_on=dt.date(2025, 1, 1),
                             title="Personvern", body="Erklæringen.")
        db.session.add_all([terms, privacy])
        db.session.flush()
        _application(terms.id, privacy.id)
        db.session.commit()
        terms_id, privacy_id = terms.id, privacy.id
        db.session.remove()
    form_page = text_of(office.get(f"/policytextview/edit/{terms_id}"))
    assert "Søkere har samtykket til denne versjonen: den kan ikke endres." in form_page
    response = office.post(f"/policytextview/edit/{terms_id}", data={
        "kind": "terms", "version": "1", "published_on": "2025-01-01", "title": "Vilkår", "body": "Nye vilkår."},
        follow_redirects=True)
    assert "Legg til en ny versjon i stedet." in text_of(response)
    response = office.post(f"/policytextview/delete/{privacy_id}", follow_redirects=True)
    assert "Søkere har samtykket til denne versjonen: den kan ikke slettes." in text_of(response)
    dbs.expire_all()
    assert dbs.get(PolicyText, terms_id).body == "Vilkårene."
    assert dbs.get(PolicyText, privacy_id) is not None
    # A new version is added instead.
    office.post("/policytextview/add", data={**GOOD_TEXT, "version": "2"})
    assert count(dbs, PolicyText) == 3
