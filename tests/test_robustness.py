"""Property tests: every validator and the CSV upload answer any input with a value or a clear error."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.models import Member
from webapp.services import validation as v
from webapp.services.deduction_lists import LineInput, ListError, parse_csv, parse_line
from webapp.services.kid import kid_for, parse_kid
from webapp.services.money import kroner, parse_kroner
from webapp.services.periods import Month, PeriodError, Quarter

FIELD_RULES = [v.member_no, v.national_id, v.org_number, v.bank_account, v.customer_no, v.postcode, v.email, v.mobile]
ANY_TEXT = st.one_of(st.none(), st.text(max_size=40), st.from_regex(r"[0-9 +.-]{0,14}", fullmatch=True))


@pytest.mark.parametrize("rule", FIELD_RULES, ids=lambda rule: rule.__name__)
@settings(max_examples=150, deadline=None)
@given(value=ANY_TEXT)
def test_field_rules_return_a_value_or_a_field_error(rule, value):
    try:
        result = rule(value)
    except v.FieldError as exc:
        assert ":" in exc.message  # the message names the field
        return
    assert result is None or isinstance(result, str)
    assert rule(result) == result if result is not None else True  # normalised values stay valid


@settings(max_examples=200, deadline=None)
@given(birth=st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2039, 12, 31)),
       individual=st.integers(min_value=0, max_value=999))
def test_every_generated_national_id_is_accepted_with_its_birth_date(birth, individual):
    from tests.factories import national_id

    # The individual number tells the century: 000-499 for 1900-1999, 500-999 for 2000-2039.
    # (headroom below each range end: the factory steps past individual numbers whose check digit is 10)
    individual = individual % 400 + (500 if birth.year >= 2000 else 0)
    try:
        number = national_id(birth, individual)
    except ValueError:
        return
    try:
        assert v.national_id(number) == number
    except v.FieldError:
        return  # the individual number does not fit the birth century; stdnum refuses it, as it should
    assert v.person_facts(number)[0] == birth


@settings(max_examples=200, deadline=None)
@given(values=st.fixed_dictionaries({
    "email_work": st.one_of(st.none(), st.just("a@example.no"), st.just("")),
    "email_private": st.one_of(st.none(), st.just("b@example.no"), st.just("")),
    "email_to": st.sampled_from([None, "", "work", "private"]),
    "joined_on": st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1)),
    "left_on": st.one_of(st.none(), st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1))),
}))
def test_member_record_rules_never_crash(values):
    record = {"member_no": "7512345", "national_id": "15108695088", "first_name": "A", "last_name": "B", **values}
    try:
        v.validate_record(Member, record)
    except v.RecordInvalid as exc:
        assert set(exc.errors) <= {"email_to", "left_on", "email_work", "email_private"}
        return
    assert values["email_to"] in (None, "") or values[f"email_{values['email_to']}"]


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=20))
def test_amounts_parse_or_refuse(text):
    try:
        ore = parse_kroner(text)
    except (ValueError, ArithmeticError):
        return
    assert isinstance(ore, int)


@settings(max_examples=200, deadline=None)
@given(ore=st.integers(min_value=0, max_value=10**11))
def test_amounts_round_trip(ore):
    assert parse_kroner(kroner(ore)) == ore


@settings(max_examples=200, deadline=None)
@given(customer=st.from_regex(r"[0-9]{8}", fullmatch=True), year=st.integers(2000, 2099), month=st.integers(1, 12))
def test_kid_round_trip(customer, year, month):
    assert parse_kid(kid_for(customer, Month(year, month))) == (customer, Month(year, month))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=12))
def test_periods_parse_or_refuse(text):
    for parse in (Month.parse, Quarter.parse):
        try:
            parse(text)
        except PeriodError as exc:
            assert "YYYY" in str(exc)


@pytest.fixture()
def csv_context(app_ctx):
    return app_ctx


def assert_lines_checked_by_number(rows) -> None:
    """Each row of a parsed file (header = line 1) is accepted, or refused naming its own line."""
    for number, row in enumerate(rows, start=2):
        if row is None:
            continue
        try:
            parse_line(row, number)
        except ListError as exc:
            assert str(exc).startswith(f"Linje {number}: ")
        else:
            assert isinstance(row, LineInput)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_csv_upload_of_any_bytes_is_parsed_or_refused(csv_context, data):
    try:
        rows = parse_csv(data)
    except ListError as exc:
        assert str(exc).startswith(("Fil: ", "Linje 1: "))
        return
    assert_lines_checked_by_number(rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=8),
                               st.sampled_from(["", "other", "deceased", "x"])),
                     max_size=5))
def test_csv_lines_name_their_line_number(csv_context, rows):
    text = "medlemsnummer;fodselsnummer;navn;belop;avvik;kommentar\n" + "\n".join(
        f";{nid.replace(';', '').replace(chr(10), '')};;{amount.replace(';', '').replace(chr(10), '')};{reason};"
        for nid, amount, reason in rows
    )
    assert_lines_checked_by_number(parse_csv(text.encode()))
