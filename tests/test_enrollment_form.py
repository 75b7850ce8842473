"""The public enrollment form (/innmelding): a good application is saved whole with the consented policy versions
and a receipt; every bad input is refused with a message naming the field, next to the field, and nothing saved
(no application, no mail); robots (honeypot, too fast, forged or old form, too many sendings) are refused; the
answer never tells whether the national id is a member's; the JSON lookups are bounded."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import add_lo_union, add_policy_texts, national_id
from webapp.extensions import db
from webapp.models import AuditEntry, Employer, Member, MembershipApplication, OutboxMail, PolicyText, Postcode
from webapp.models.choices import EnrollmentStatus, MemberCategory, PolicyKind, Sector, WorkSituation
from webapp.services import enrollment
from webapp.services.validation import RecordInvalid

NID = national_id(dt.date(1990, 3, 1), 123)
TODAY = dt.date.today()
AGE_MESSAGE = "Fødselsnummer: du må være minst 13 og under 100 år for å melde deg inn."


def with_check_digits(first_six: str) -> str:
    """The first valid number (both MOD11 check digits) that starts with these six digits."""
    for individual in range(100, 500):
        base = f"{first_six}{individual:03d}"
        k1 = (11 - sum(int(d) * w for d, w in zip(base, [3, 7, 6, 1, 8, 9, 4, 5, 2])) % 11) % 11
        k2 = (11 - sum(int(d) * w for d, w in zip(base + str(k1 % 10), [5, 4, 3, 2, 7, 6, 5, 4, 3, 2])) % 11) % 11
        if k1 < 10 and k2 < 10:
            return f"{base}{k1}{k2}"
    raise AssertionError("no number")


def d_number(birth: dt.date) -> str:
    """A valid D-number (day + 40) for a birth date."""
    return with_check_digits(f"{birth.day + 40:02d}{birth:%m%y}")


@dataclass
class Setup:
    e1: int
    e2: int
    e3: int  # an employer without workplaces
    w1: int
    w1b: int
    w2: int
    union: int
    old_union: int  # inactive
    terms: int
    privacy: int
    token: str  # opened a minute ago: neither too fast nor expired


@pytest.fixture()
def enrol(clean_app, world):
    with clean_app.app_context():
        db.session.add_all([
            Postcode(code="0150", place="OSLO", municipality="Oslo", county="Oslo"),
            Postcode(code="5003", place="BERGEN", municipality="Bergen", county="Vestland"),
        ])
        terms, privacy = add_policy_texts()
        union, old_union = add_lo_union(), add_lo_union("GF", "Gamle Forbund", active=False)
        e3 = Employer(org_number="912345678", name="Enkel Arbeidsgiver AS", sector=Sector.private,
                      customer_no="00090000", city="Bergen")
        db.session.add(e3)
        db.session.commit()
        setup = Setup(world.employers["E1"].id, world.employers["E2"].id, e3.id, world.workplaces["W1"].id,
                      world.workplaces["W1b"].id, world.workplaces["W2"].id, union.id, old_union.id, terms, privacy,
                      enrollment.form_token(dt.datetime.now() - dt.timedelta(minutes=1)))
        db.session.remove()
    return setup


def valid_form(setup: Setup, **changes) -> dict:
    form = {
        "first_name": "Åse", "last_name": "Søknad", "national_id": NID, "address": "Storgata 1", "postcode": "0150",
        "place": "", "email": "ase@example.no", "mobile": "912 34 567", "work_situation": "employed",
        "employer_query": "Virksomhet E1", "employer_id": str(setup.e1), "workplace_id": str(setup.w1),
        "position_pct": "80", "category": "", "magazine": "y", "consent": "y", "form_started": setup.token,
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def post(client, form):
    return client.post("/innmelding", data=form)


def saved(app) -> tuple[int, int]:
    """(applications, mails in the outbox)."""
    with app.app_context():
        counts = (db.session.scalar(select(func.count()).select_from(MembershipApplication)),
                  db.session.scalar(select(func.count()).select_from(OutboxMail)))
        db.session.remove()
    return counts


def only_application(app) -> MembershipApplication:
    with app.app_context():
        application = db.session.scalars(select(MembershipApplication)).one()
        db.session.expunge(application)
        db.session.remove()
    return application


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def field_errors(response, field: str) -> list[str]:
    """The messages shown next to a field (tied to it by their id)."""
    page = response.get_data(as_text=True)
    return [text_of(m) for m in re.findall(rf'<p [^>]*id="e-{field}-\d+"[^>]*>(.*?)</p>', page, re.S)]


def summary_links(response) -> dict[str, str]:
    page = response.get_data(as_text=True)
    block = re.search(r'id="error-summary".*?</ul>', page, re.S)
    return {text_of(text): anchor for anchor, text in re.findall(r'<a href="#([^"]+)">(.*?)</a>', block.group(0))}


def refusal(response) -> str:
    found = re.search(r'id="enrollment-refused"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S)
    return text_of(found.group(1)) if found else ""


def hidden_value(response, name: str) -> str:
    page = response.get_data(as_text=True)
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


# ------------------------------------------------------------------ a good application


def test_a_valid_application_is_saved_whole_with_the_policy_versions_and_a_receipt(client, enrol, clean_app,
                                                                                   smtp_server):
    response = post(client, valid_form(enrol, mobile="912 34 567", place="Bergen", position_pct="80,5",
                                       travel_insurance_opt_out="y", from_lo_union_id=str(enrol.union),
                                       from_union_since="2015-08-01"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/innmelding/takk")
    application = only_application(clean_app)
    assert (application.first_name, application.last_name, application.national_id) == ("Åse", "Søknad", NID)
    assert (application.address, application.postcode, application.city) == ("Storgata 1", "0150", "OSLO")
    assert (application.email, application.mobile) == ("ase@example.no", "+4791234567")
    assert application.work_situation is WorkSituation.employed
    assert (application.employer_id, application.workplace_id, application.employer_text) == (enrol.e1, enrol.w1, None)
    assert application.position_pct == Decimal("80.5")
    assert application.category is MemberCategory.ordinary
    assert application.travel_insurance is False and application.magazine is True
    assert (application.from_lo_union_id, application.from_union_since) == (enrol.union, dt.date(2015, 8, 1))
    assert (application.terms_id, application.privacy_id) == (enrol.terms, enrol.privacy)
    assert application.status is EnrollmentStatus.pending and application.existing_member_id is None
    assert application.submitted_at.date() == TODAY and application.member_id is None
    assert saved(clean_app) == (1, 1)
    [mail] = smtp_server.messages
    assert mail["to"] == ["ase@example.no"]
    assert mail["message"]["Subject"] == "Vi har mottatt innmeldingen din"
    body = smtp_server.bodies()[0]
    assert "Hei Åse," in body and "Dette skjer videre" in body and "Min side" in body
    assert NID not in body and NID[:6] not in body
    with clean_app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "enrollment_submitted")).one()
        assert entry.object_id == application.id and NID not in (entry.details or "")
        db.session.remove()
    thanks = client.get("/innmelding/takk")
    assert thanks.status_code == 200 and "Takk for innmeldingen" in thanks.get_data(as_text=True)


def test_the_office_is_told_of_a_new_application_when_an_address_is_set(client, enrol, clean_app, monkeypatch,
                                                                       smtp_server):
    monkeypatch.setitem(clean_app.config, "ENROLLMENT_NOTIFY_EMAIL", "innmelding@forbundet.example")
    assert post(client, valid_form(enrol)).status_code == 302
    recipients = sorted(m["to"][0] for m in smtp_server.messages)
    assert recipients == ["ase@example.no", "innmelding@forbundet.example"]
    note = next(m for m in smtp_server.messages if m["to"] == ["innmelding@forbundet.example"])
    assert note["message"]["Subject"] == "Ny innmelding: Åse Søknad"
    assert NID not in note["message"].get_body().get_content()


@pytest.mark.parametrize(("changes", "expected"), [
    ({"work_situation": "not_employed"}, MemberCategory.unemployed),
    ({"work_situation": "student"}, MemberCategory.student),
    ({"work_situation": "retired"}, MemberCategory.retired),
    ({"work_situation": "other"}, MemberCategory.ordinary),
    ({"work_situation": "employed", "category": "apprentice"}, MemberCategory.apprentice),
])
def test_the_category_defaults_from_the_work_situation(client, enrol, clean_app, changes, expected):
    assert post(client, valid_form(enrol, **changes)).status_code == 302
    application = only_application(clean_app)
    assert application.category is expected
    if application.work_situation is not WorkSituation.employed:  # what was typed about an employer is not kept
        assert (application.employer_id, application.workplace_id, application.position_pct) == (None, None, None)


@pytest.mark.parametrize("how", ["org_number", "name", "workplace_not_listed", "no_workplaces", "not_listed"])
def test_the_employer_is_found_in_every_way_the_form_offers(client, enrol, clean_app, how):
    changes = {
        "org_number": {"employer_id": "", "employer_query": "974 760 673"},
        "name": {"employer_id": "", "employer_query": "virksomhet e1"},
        "workplace_not_listed": {"workplace_id": "", "workplace_not_listed": "y"},
        "no_workplaces": {"employer_id": str(enrol.e3), "workplace_id": ""},
        "not_listed": {"employer_id": "", "employer_query": "", "workplace_id": "", "employer_not_listed": "y",
                       "employer_text": "Liten Bedrift AS"},
    }[how]
    assert post(client, valid_form(enrol, **changes)).status_code == 302
    application = only_application(clean_app)
    expected = {
        "org_number": (enrol.e1, enrol.w1, None), "name": (enrol.e1, enrol.w1, None),
        "workplace_not_listed": (enrol.e1, None, None), "no_workplaces": (enrol.e3, None, None),
        "not_listed": (None, None, "Liten Bedrift AS"),
    }[how]
    assert (application.employer_id, application.workplace_id, application.employer_text) == expected


def test_a_d_number_is_accepted(client, enrol, clean_app):
    number = d_number(dt.date(1985, 6, 12))
    assert post(client, valid_form(enrol, national_id=number)).status_code == 302
    assert only_application(clean_app).national_id == number


# ------------------------------------------------------------------ every bad input, each by its field


def _bad_inputs():
    young = national_id(TODAY.replace(year=TODAY.year - 12) - dt.timedelta(days=1), 500)
    old = national_id(dt.date(TODAY.year - 101, 1, 1), 100)
    wrong_check = NID[:-1] + str((int(NID[-1]) + 1) % 10)
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    not_listed = {"employer_id": "", "employer_query": "", "workplace_id": "", "employer_not_listed": "y"}
    return [
        ({"first_name": ""}, "first_name", "Fornavn: må fylles ut."),
        ({"first_name": "x" * 81}, "first_name", "Fornavn: høyst 80 tegn."),
        ({"last_name": "   "}, "last_name", "Etternavn: må fylles ut."),
        ({"last_name": "x" * 81}, "last_name", "Etternavn: høyst 80 tegn."),
        ({"national_id": ""}, "national_id", "Fødselsnummer: må fylles ut."),
        ({"national_id": "1234"}, "national_id", "Fødselsnummer: må være 11 siffer."),
        ({"national_id": "1" * 21}, "national_id", "Fødselsnummer: høyst 20 tegn."),
        ({"national_id": wrong_check}, "national_id", "Fødselsnummer: kontrollsifrene stemmer ikke (MOD11)."),
        ({"national_id": with_check_digits("321390")}, "national_id", "Fødselsnummer: ikke et gyldig fødselsnummer "
                                                                      "eller D-nummer."),
        ({"national_id": young}, "national_id", AGE_MESSAGE),
        ({"national_id": old}, "national_id", AGE_MESSAGE),
        ({"address": ""}, "address", "Adresse: må fylles ut."),
        ({"address": "x" * 151}, "address", "Adresse: høyst 150 tegn."),
        ({"postcode": ""}, "postcode", "Postnummer: må fylles ut."),
        ({"postcode": "12a4"}, "postcode", "Postnummer: må være 4 siffer."),
        ({"postcode": "9999"}, "postcode", "Postnummer: 9999 er ikke et norsk postnummer."),
        ({"place": "x" * 81}, "place", "Sted: høyst 80 tegn."),
        ({"email": ""}, "email", "E-post: må fylles ut."),
        ({"email": "ase@"}, "email", "E-post: ikke en gyldig e-postadresse."),
        ({"email": "a" * 250 + "@example.no"}, "email", "E-post: høyst 254 tegn."),
        ({"mobile": "12"}, "mobile", "Mobil: ikke et gyldig telefonnummer."),
        ({"mobile": "9" * 31}, "mobile", "Mobil: høyst 30 tegn."),
        ({"work_situation": ""}, "work_situation", "Arbeidssituasjon: må fylles ut."),
        ({"work_situation": "boss"}, "work_situation", "Arbeidssituasjon: velg ett av alternativene."),
        ({"employer_id": "", "employer_query": ""}, "employer_query", "Arbeidsgiver: må fylles ut. Velg arbeidsgiveren"
                                                                      " din, eller kryss av for «Arbeidsgiveren min "
                                                                      "står ikke i listen» og skriv navnet."),
        ({"employer_id": "", "employer_query": "Finnes Ikke AS"}, "employer_query", "Arbeidsgiver: ble ikke funnet."),
        ({"employer_id": "", "employer_query": "Virksomhet"}, "employer_query", "Arbeidsgiver: ble ikke funnet."),
        ({"employer_id": "999999"}, "employer_query", "Arbeidsgiver: ble ikke funnet."),
        ({"employer_id": "abc"}, "employer_query", "Arbeidsgiver: ble ikke funnet."),
        ({"employer_id": "9" * 21}, "employer_id", "Arbeidsgiver: høyst 20 tegn."),
        ({"workplace_id": "@w2"}, "workplace_id", "Arbeidssted: arbeidsstedet hører ikke til den valgte virksomheten."),
        ({"workplace_id": "999999"}, "workplace_id",
         "Arbeidssted: arbeidsstedet hører ikke til den valgte virksomheten."),
        ({"workplace_id": ""}, "workplace_id", "Arbeidssted: velg arbeidsstedet ditt i listen, eller kryss av for "
                                               "«Arbeidsstedet mitt står ikke i listen»."),
        ({**not_listed, "employer_text": ""}, "employer_text", "Navn på arbeidsgiveren: må fylles ut."),
        ({**not_listed, "employer_text": "x" * 151}, "employer_text", "Navn på arbeidsgiveren: høyst 150 tegn."),
        ({"position_pct": ""}, "position_pct", "Stillingsprosent: må fylles ut."),
        ({"position_pct": "0"}, "position_pct", "Stillingsprosent: må være et tall fra 1 til 100."),
        ({"position_pct": "100.5"}, "position_pct", "Stillingsprosent: må være et tall fra 1 til 100."),
        ({"position_pct": "50.125"}, "position_pct", "Stillingsprosent: må være et tall fra 1 til 100."),
        ({"position_pct": "abc"}, "position_pct", "Stillingsprosent: må være et tall fra 1 til 100."),
        ({"position_pct": "NaN"}, "position_pct", "Stillingsprosent: må være et tall fra 1 til 100."),
        ({"category": "boss"}, "category", "Kategori: velg ett av alternativene."),
        ({"from_lo_union_id": "@union"}, "from_union_since",
         "Medlem av det forbundet siden: må fylles ut når du kommer fra et annet LO-forbund."),
        ({"from_union_since": "2015-08-01"}, "from_lo_union_id",
         "Kommer fra LO-forbund: velg forbundet du har vært medlem av siden den datoen."),
        ({"from_lo_union_id": "@union", "from_union_since": tomorrow}, "from_union_since",
         "Medlem av det forbundet siden: kan ikke være fram i tid."),
        ({"from_lo_union_id": "@union", "from_union_since": "1990-02-28"}, "from_union_since",
         "Medlem av det forbundet siden: kan ikke være før fødselsdatoen din."),
        ({"from_lo_union_id": "@union", "from_union_since": "31.02.2015"}, "from_union_since",
         "Medlem av det forbundet siden: oppgi en dato (dd.mm.åååå)."),
        ({"from_lo_union_id": "@union", "from_union_since": "1800-01-01"}, "from_union_since",
         "Medlem av det forbundet siden: oppgi en dato (dd.mm.åååå)."),
        ({"from_lo_union_id": "@old_union", "from_union_since": "2015-08-01"}, "from_lo_union_id",
         "Kommer fra LO-forbund: velg ett av LO-forbundene i listen."),
        ({"from_lo_union_id": "x", "from_union_since": "2015-08-01"}, "from_lo_union_id",
         "Kommer fra LO-forbund: velg ett av LO-forbundene i listen."),
        ({"consent": None}, "consent",
         "Samtykke: du må godta medlemsvilkårene og personvernerklæringen for å melde deg inn."),
    ]


def _resolved(setup: Setup, changes: dict) -> dict:
    """`@name` values stand for the setup's ids."""
    return {name: str(getattr(setup, value[1:])) if isinstance(value, str) and value.startswith("@") else value
            for name, value in changes.items()}


@pytest.mark.parametrize(("changes", "field", "message"), _bad_inputs())
def test_every_bad_input_is_refused_next_to_its_field_and_nothing_is_saved(client, enrol, clean_app, changes, field,
                                                                           message):
    response = post(client, valid_form(enrol, **_resolved(enrol, changes)))
    assert response.status_code == 422
    assert message in " ".join(field_errors(response, field))
    anchor = "employer_query" if field == "employer_id" else field
    assert summary_links(response)[next(m for m in summary_links(response) if message in m)] == f"f-{anchor}"
    assert saved(clean_app) == (0, 0)


@pytest.mark.parametrize(("field", "limit"), [(name, length) for name, (_label, length) in enrollment.FIELDS.items()])
def test_every_field_refuses_a_value_longer_than_it_holds(client, enrol, clean_app, field, limit):
    changes = {field: "x" * (limit + 1)}
    if field in ("employer_text",):
        changes.update(employer_not_listed="y", employer_id="", employer_query="", workplace_id="")
    response = post(client, valid_form(enrol, **changes))
    assert response.status_code == 422
    assert any(f"høyst {limit} tegn." in message for message in field_errors(response, field)), field
    assert saved(clean_app) == (0, 0)


def test_every_problem_is_shown_at_once_with_the_typed_values_kept(client, enrol, clean_app):
    response = post(client, {"first_name": "Åse", "email": "ikke-en-adresse", "form_started": enrol.token})
    assert response.status_code == 422
    for field in ("last_name", "national_id", "address", "postcode", "email", "work_situation", "consent"):
        assert field_errors(response, field), field
    assert set(summary_links(response).values()) >= {"f-last_name", "f-national_id", "f-email", "f-consent"}
    page = response.get_data(as_text=True)
    assert 'value="Åse"' in page and 'value="ikke-en-adresse"' in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="e-last_name-1"' in page
    assert saved(clean_app) == (0, 0)


def test_nul_bytes_are_refused_naming_the_field(client, enrol, clean_app):
    response = post(client, valid_form(enrol, first_name="Å\x00se"))
    assert response.status_code == 400
    assert "first_name: inneholder et tegn som ikke er tillatt (NUL)." in html.unescape(response.get_data(as_text=True))
    assert saved(clean_app) == (0, 0)


def test_the_service_itself_refuses_nul_bytes(app_ctx, enrol):
    with pytest.raises(RecordInvalid) as refused:
        enrollment.checked_fields(valid_form(enrol, address="Gata\x001"), TODAY)
    assert refused.value.errors["address"] == ["Adresse: inneholder et tegn som ikke er tillatt (NUL)."]


def test_a_body_larger_than_a_form_needs_is_refused(client, enrol, clean_app):
    response = post(client, valid_form(enrol, note="x" * 40_000))
    assert response.status_code == 413
    assert saved(clean_app) == (0, 0)


@pytest.mark.parametrize(("birth", "allowed"), [
    (dt.date(2013, 6, 15), True),  # 13 today
    (dt.date(2013, 6, 16), False),  # 13 tomorrow
    (dt.date(1926, 6, 16), True),  # 100 tomorrow
    (dt.date(1926, 6, 15), False),  # 100 today
])
def test_the_age_limits_are_at_least_13_and_under_100(app_ctx, enrol, birth, allowed):
    number = national_id(birth, 500 if birth.year >= 2000 else 100)
    form = valid_form(enrol, national_id=number)
    if allowed:
        assert enrollment.checked_fields(form, dt.date(2026, 6, 15))["national_id"] == number
    else:
        with pytest.raises(RecordInvalid) as refused:
            enrollment.checked_fields(form, dt.date(2026, 6, 15))
        assert list(refused.value.errors) == ["national_id"]


# ------------------------------------------------------------------ without JavaScript


def test_without_javascript_the_employers_workplaces_are_offered_after_sending(client, enrol, clean_app):
    response = post(client, valid_form(enrol, employer_id="", employer_query="Virksomhet E1", workplace_id=""))
    assert response.status_code == 422
    assert field_errors(response, "workplace_id")
    page = response.get_data(as_text=True)
    assert f'<option value="{enrol.w1}"' in page and f'<option value="{enrol.w1b}"' in page
    assert f'<option value="{enrol.w2}"' not in page
    assert hidden_value(response, "employer_id") == str(enrol.e1)
    again = post(client, valid_form(enrol, employer_id=hidden_value(response, "employer_id"),
                                    employer_query="Virksomhet E1", workplace_id=str(enrol.w1b)))
    assert again.status_code == 302
    assert (only_application(clean_app).employer_id, only_application(clean_app).workplace_id) == (enrol.e1, enrol.w1b)


def test_without_javascript_a_partial_name_offers_the_matching_employers(client, enrol, clean_app):
    response = post(client, valid_form(enrol, employer_id="", employer_query="Virksomhet", workplace_id=""))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'name="employer_id" id="f-employer-{enrol.e1}" value="{enrol.e1}"' in page
    assert f'name="employer_id" id="f-employer-{enrol.e2}" value="{enrol.e2}"' in page
    assert f'id="f-employer-{enrol.e3}"' not in page
    # The chosen radio comes before the empty hidden field, so it is the value the server reads.
    assert page.index(f'id="f-employer-{enrol.e2}"') < page.index('id="f-employer_id"')


# ------------------------------------------------------------------ duplicates and privacy


def test_an_identical_resubmission_is_refused_and_nothing_more_saved(client, enrol, clean_app):
    assert post(client, valid_form(enrol)).status_code == 302
    again = post(client, valid_form(enrol, email="ASE@example.no", first_name="Åse Marie"))
    assert again.status_code == 422
    assert refusal(again) == "Vi har allerede mottatt innmeldingen din. Forbundskontoret tar kontakt med deg."
    assert saved(clean_app) == (1, 1)


def test_a_twin_sent_at_the_same_moment_is_refused_by_the_database(client, enrol, clean_app, monkeypatch):
    # Two identical forms racing past the check for a waiting application: the unique index on the pending
    # person (national id, e-mail in lower case) lets one in and the other gets the same answer as a repeat.
    monkeypatch.setattr(enrollment, "_is_repeated", lambda national_id, email: False)
    assert post(client, valid_form(enrol)).status_code == 302
    twin = post(client, valid_form(enrol, email="ASE@example.no"))
    assert twin.status_code == 422
    assert refusal(twin) == "Vi har allerede mottatt innmeldingen din. Forbundskontoret tar kontakt med deg."
    assert saved(clean_app) == (1, 1)


def test_the_same_national_id_with_another_email_or_after_a_decision_is_saved(client, enrol, clean_app):
    assert post(client, valid_form(enrol)).status_code == 302
    assert post(client, valid_form(enrol, email="annen@example.no")).status_code == 302
    with clean_app.app_context():
        db.session.execute(MembershipApplication.__table__.update().values(status=EnrollmentStatus.rejected.name))
        db.session.commit()
        db.session.remove()
    assert post(client, valid_form(enrol)).status_code == 302
    assert saved(clean_app) == (3, 3)


def test_a_members_national_id_is_saved_and_flagged_with_the_same_answer_as_anyone(client, enrol, world, clean_app,
                                                                                   smtp_server):
    member = world.members["inside"]
    stranger = post(client, valid_form(enrol, email="ny@example.no"))
    known = post(client, valid_form(enrol, national_id=member.national_id, email="kjent@example.no"))
    assert (known.status_code, known.headers["Location"]) == (stranger.status_code, stranger.headers["Location"])
    with clean_app.app_context():
        flags = dict(db.session.execute(select(MembershipApplication.email,
                                                MembershipApplication.existing_member_id)).all())
        db.session.remove()
    assert flags == {"ny@example.no": None, "kjent@example.no": member.id}
    subjects = {m["to"][0]: m["message"]["Subject"] for m in smtp_server.messages}
    assert subjects["ny@example.no"] == subjects["kjent@example.no"]
    bodies = smtp_server.bodies()
    assert bodies[0].replace("Åse", "") == bodies[1].replace("Åse", "")


def test_an_anonymised_member_is_no_flag(client, enrol, world, clean_app):
    with clean_app.app_context():
        member = db.session.get(Member, world.members["outside"].id)
        member.anonymised_at, member.left_on = TODAY, TODAY - dt.timedelta(days=3000)
        number = member.national_id
        db.session.commit()
        db.session.remove()
    assert post(client, valid_form(enrol, national_id=number)).status_code == 302
    assert only_application(clean_app).existing_member_id is None


# ------------------------------------------------------------------ robots


def test_a_filled_honeypot_is_refused_neutrally(client, enrol, clean_app):
    response = post(client, valid_form(enrol, nettsted="http://spam.example"))
    assert response.status_code == 422
    assert refusal(response) == ("Skjemaet kunne ikke tas imot. Prøv igjen senere, eller kontakt "
                                 "forbundskontoret.")
    assert saved(clean_app) == (0, 0)


def test_the_honeypot_is_hidden_from_people(client, enrol):
    page = client.get("/innmelding").get_data(as_text=True)
    field = re.search(r'<div class="hp-field" aria-hidden="true">.*?</div>', page, re.S).group(0)
    assert 'name="nettsted"' in field and 'tabindex="-1"' in field and 'autocomplete="off"' in field


def _token(app, age: dt.timedelta) -> str:
    with app.app_context():
        return enrollment.form_token(dt.datetime.now() - age)


def test_a_form_sent_too_fast_is_refused_and_keeps_its_start(client, enrol, clean_app):
    token = _token(clean_app, dt.timedelta(seconds=1))
    response = post(client, valid_form(enrol, form_started=token))
    assert response.status_code == 422
    assert refusal(response).startswith("Skjemaet ble sendt for raskt.")
    assert hidden_value(response, "form_started") == token  # waiting a little is enough
    assert saved(clean_app) == (0, 0)


@pytest.mark.parametrize("kind", ["old", "future", "forged", "foreign", "missing", "huge"])
def test_an_expired_or_forged_form_is_refused(client, enrol, clean_app, kind):
    from itsdangerous import URLSafeSerializer

    token = {
        "old": lambda: _token(clean_app, dt.timedelta(hours=12, minutes=1)),
        "future": lambda: _token(clean_app, -dt.timedelta(hours=1)),
        "forged": lambda: enrol.token[:-2] + ("AA" if not enrol.token.endswith("AA") else "BB"),
        "foreign": lambda: URLSafeSerializer("another-key", salt="enrollment-form-start").dumps(0),
        "missing": lambda: None,
        "huge": lambda: "x" * 5000,
    }[kind]()
    response = post(client, valid_form(enrol, form_started=token))
    assert response.status_code == 422
    assert refusal(response) == "Skjemaet er utløpt. Kontroller svarene og send skjemaet på nytt."
    assert hidden_value(response, "form_started") not in ("", token)  # a fresh form to send again
    assert saved(clean_app) == (0, 0)


def test_sendings_from_one_address_are_limited(app, enrol):
    from webapp import create_app

    limited = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         RATELIMIT_ENABLED=True, ENROLLMENT_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    statuses = [post(client, valid_form(enrol, email=f"n{i}@example.no")).status_code for i in range(4)]
    assert statuses == [302, 302, 429, 429]
    assert "For mange forsøk" in post(client, valid_form(enrol, email="n9@example.no")).get_data(as_text=True)
    assert saved(app) == (2, 2)
    assert client.get("/innmelding").status_code == 200  # reading the form is not limited


# ------------------------------------------------------------------ the page: headers, CSRF, policies, closed


def test_the_page_has_the_security_headers_and_only_our_scripts(client, enrol):
    response = client.get("/innmelding")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "frame-ancestors 'none'" in policy
    assert "form-action 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    page = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts and all(f'nonce="{nonce}"' in tag and "src=" in tag for tag in scripts)
    assert "/static/enrollment/enrollment.js" in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1.0">' in page
    assert client.get("/innmelding/").status_code == 200


def test_the_form_is_accessible_in_its_markup(client, enrol):
    page = client.get("/innmelding").get_data(as_text=True)
    for name in ("first_name", "last_name", "national_id", "address", "postcode", "place", "email", "mobile",
                 "employer_query", "employer_text", "workplace_id", "position_pct", "category", "from_lo_union_id",
                 "from_union_since", "consent"):
        assert f'<label for="f-{name}"' in page and f'id="f-{name}"' in page, name
    assert page.count("<legend") >= 6
    assert 'autocomplete="given-name"' in page and 'autocomplete="postal-code"' in page
    assert 'inputmode="numeric"' in page and 'type="email"' in page and 'type="tel"' in page
    assert 'role="combobox"' in page and 'role="listbox"' in page


def test_the_csrf_token_is_required_when_csrf_is_on(app, enrol):
    from webapp import create_app

    protected = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                           WTF_CSRF_ENABLED=True, ENROLLMENT_MIN_FILL_SECONDS=0)
    client = protected.test_client()
    refused = post(client, valid_form(enrol))
    assert refused.status_code == 400
    assert saved(app) == (0, 0)
    page = client.get("/innmelding")
    accepted = post(client, valid_form(enrol, csrf_token=hidden_value(page, "csrf_token"),
                                       form_started=hidden_value(page, "form_started")))
    assert accepted.status_code == 302
    assert saved(app) == (1, 1)


def test_the_form_shows_the_policies_in_force_and_records_them(client, enrol, clean_app):
    with clean_app.app_context():
        db.session.add_all([
            PolicyText(kind=PolicyKind.terms, version="2026-2", published_on=TODAY, title="Medlemsvilkår",
                       body="Nye vilkår\nandre avsnitt"),
            PolicyText(kind=PolicyKind.terms, version="2027-1", published_on=TODAY + dt.timedelta(days=1),
                       title="Medlemsvilkår", body="Framtidige vilkår"),
        ])
        db.session.commit()
        current = db.session.scalar(select(PolicyText.id).where(PolicyText.version == "2026-2"))
        db.session.remove()
    page = client.get("/innmelding").get_data(as_text=True)
    assert "Medlemsvilkår (versjon 2026-2)" in page and "Nye vilkår" in page and "Framtidige vilkår" not in page
    assert "Personvernerklæring (versjon 2026-1)" in page
    assert post(client, valid_form(enrol)).status_code == 302
    assert (only_application(clean_app).terms_id, only_application(clean_app).privacy_id) == (current, enrol.privacy)
    terms = client.get("/innmelding/vilkar").get_data(as_text=True)
    assert "Nye vilkår" in terms and "Versjon 2026-2" in terms
    assert "Personvernerklæring: teksten som gjelder." in client.get("/innmelding/personvern").get_data(as_text=True)
    assert client.get("/innmelding/annet").status_code == 404


def test_without_published_policies_enrollment_is_closed(client, enrol, clean_app):
    with clean_app.app_context():
        db.session.execute(PolicyText.__table__.update().where(PolicyText.kind == PolicyKind.privacy.name)
                           .values(published_on=TODAY + dt.timedelta(days=1)))
        db.session.commit()
        db.session.remove()
    page = client.get("/innmelding").get_data(as_text=True)
    assert 'id="enrollment-closed"' in page and 'id="enrollment-form"' not in page
    assert "Innmelding på nett er stengt for øyeblikket." in html.unescape(page)
    response = post(client, valid_form(enrol))
    assert response.status_code == 422 and "Innmelding på nett er stengt" in html.unescape(response.get_data(True))
    assert client.get("/innmelding/personvern").status_code == 404
    assert saved(clean_app) == (0, 0)


def test_the_login_page_links_the_enrollment(client, world):
    page = client.get("/login/").get_data(as_text=True)
    assert 'href="/innmelding"' in page and "Bli medlem" in page


# ------------------------------------------------------------------ the JSON lookups


def test_the_employer_search_answers_id_name_org_number_and_city_only(client, enrol, clean_app):
    answer = client.get("/innmelding/arbeidsgivere", query_string={"q": "virksomhet"}).get_json()
    assert [row["name"] for row in answer["results"]] == ["Virksomhet E1", "Virksomhet E2"]
    assert all(set(row) == {"id", "name", "org_number", "city"} for row in answer["results"])
    by_number = client.get("/innmelding/arbeidsgivere", query_string={"q": "974 76"}).get_json()["results"]
    assert [row["id"] for row in by_number] == [enrol.e1]
    with clean_app.app_context():
        db.session.add_all([Employer(org_number=f"9{n:08d}", name=f"Mange {n:02d} AS", sector=Sector.private,
                                     customer_no=f"{50000000 + n}") for n in range(25)])
        db.session.commit()
        db.session.remove()
    assert len(client.get("/innmelding/arbeidsgivere", query_string={"q": "mange"}).get_json()["results"]) == 20


@pytest.mark.parametrize(("query", "status"), [
    ("", 400), ("a", 400), (" a ", 400), ("x" * 101, 400), ("Vi\x00rk", 400), ("%%", 200), ("_\\", 200),
])
def test_the_employer_search_refuses_bad_queries_with_400(client, enrol, query, status):
    response = client.get("/innmelding/arbeidsgivere", query_string={"q": query})
    assert response.status_code == status
    if status == 200:
        assert response.get_json() == {"results": []}  # LIKE's wildcards are taken literally


def test_the_workplaces_of_an_employer(client, enrol):
    rows = client.get(f"/innmelding/arbeidsgivere/{enrol.e1}/arbeidssteder").get_json()["results"]
    assert [row["id"] for row in rows] == [enrol.w1, enrol.w1b]
    assert all(set(row) == {"id", "name", "municipality"} for row in rows)
    assert client.get(f"/innmelding/arbeidsgivere/{enrol.e3}/arbeidssteder").get_json() == {"results": []}
    for bad in ("999999", "99999999999999999999", "abc", "-1"):
        assert client.get(f"/innmelding/arbeidsgivere/{bad}/arbeidssteder").status_code == 404


def test_the_place_of_a_postcode(client, enrol):
    assert client.get("/innmelding/postnummer/0150").get_json() == {"code": "0150", "place": "OSLO"}
    assert client.get("/innmelding/postnummer/9999").status_code == 404
    for bad in ("abcd", "12345", "x" * 200):
        response = client.get(f"/innmelding/postnummer/{bad}")
        assert response.status_code == 400 and "Postnummer:" in json.dumps(response.get_json(), ensure_ascii=False)
