"""The one KID module: employer (901) and member (902) KIDs, made and read back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from webapp.services import kid
from webapp.services.periods import Month


def test_a_member_kid_is_902_the_padded_member_number_the_month_and_a_mod10_digit():
    value = kid.member_kid_for("75000001", Month(2027, 1))
    assert value[:15] == "902" + "75000001" + "2701"
    assert len(value) == 16 and luhn.is_valid(value)
    assert kid.member_kid_for("123", Month(2027, 4))[:15] == "902" + "00000123" + "2704"


def test_each_kid_reads_back_to_whom_and_which_month():
    member = kid.parse(kid.member_kid_for("123", Month(2027, 4)))
    assert (member.kind, member.number, member.month) == ("member", "00000123", Month(2027, 4))
    employer = kid.parse(kid.kid_for("00001234", Month(2026, 12)))
    assert (employer.kind, employer.number, employer.month) == ("employer", "00001234", Month(2026, 12))


def test_a_member_kid_is_never_taken_for_an_employer_kid_and_back():
    member_kid = kid.member_kid_for("00001234", Month(2027, 1))
    employer_kid = kid.kid_for("00001234", Month(2027, 1))
    assert member_kid != employer_kid
    assert kid.parse_kid(member_kid) is None and kid.parse_member_kid(employer_kid) is None
    assert kid.parse_kid(employer_kid) == ("00001234", Month(2027, 1))
    assert kid.parse_member_kid(member_kid) == ("00001234", Month(2027, 1))


@pytest.mark.parametrize("text", [
    None, "", "902", "9020000012327010",  # wrong check digit
    "9030000012327011", "90200000123271３0", " " * 16, "9020000012313009",  # month 13
])
def test_anything_else_is_not_a_kid_of_ours(text):
    assert kid.parse(text) is None


@pytest.mark.parametrize("member_no", ["", "123456789", "12a4", "-1"])
def test_a_member_number_that_cannot_make_a_kid_is_refused_by_name(member_no):
    with pytest.raises(ValueError, match="member_no"):
        kid.member_kid_for(member_no, Month(2027, 1))


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_the_check_digit_is_the_standard_mod10(digits):
    assert kid.mod10_check_digit(digits) == luhn.calc_check_digit(digits)


def test_a_member_number_is_looked_up_as_typed_unpadded_and_padded():
    assert kid.member_number_forms(["00012345"]) == ["00012345", "12345"]
    assert kid.member_number_forms([123]) == ["00000123", "123"]
    assert kid.member_number_forms(["75abc"]) == ["75abc"]
