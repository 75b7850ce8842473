"""KID, the payment reference on every payment to the union: one module for both kinds.

- Employer KID: `901` + the employer's 8-digit customer number + `YYMM` of the month + a MOD10 (Luhn)
  check digit. It names the employer-month a payroll office pays for.
- Member KID: `902` + the member number padded to 8 digits + `YYMM` of the billing period's first month
  + a MOD10 (Luhn) check digit. It names the member and the invoice (or AvtaleGiro claim) they pay.

Both are 16 digits; the prefix keeps them apart, so one can never be taken for the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.services.periods import Month

EMPLOYER_PREFIX = "901"
MEMBER_PREFIX = "902"
# Kept for the callers that name the employer KID's prefix.
PREFIX = EMPLOYER_PREFIX
KID_LENGTH = 16


@dataclass(frozen=True)
class ParsedKid:
    """What a KID of ours says: whose it is (an employer's customer number or a member number) and the month."""

    kind: str  # "employer" or "member"
    number: str
    month: Month

    @property
    def is_employer(self) -> bool:
        return self.kind == "employer"

    @property
    def is_member(self) -> bool:
        return self.kind == "member"


# MOD10 (Luhn): every second digit from the right, starting with the last, is doubled (digits of the product
# summed); the check digit brings the total to a multiple of 10. A table instead of arithmetic: billing makes
# a KID per invoice, 100,000 at a time.
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def mod10_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        total += _DOUBLED[digit] if position % 2 == 0 else digit
    return str(-total % 10)


def _with_check_digit(body: str) -> str:
    return body + mod10_check_digit(body)


def _yymm(month: Month) -> str:
    return f"{month.year % 100:02d}{month.month:02d}"


def kid_for(customer_no: str, month: Month) -> str:
    """The employer KID for an employer (8-digit customer number) and month."""
    if len(customer_no) != 8 or not customer_no.isdigit():
        raise ValueError(f"customer_no: '{customer_no}' is not 8 digits")
    return _with_check_digit(f"{EMPLOYER_PREFIX}{customer_no}{_yymm(month)}")


def member_kid_for(member_no: str | int, first_month: Month) -> str:
    """The member KID for a member number (at most 8 digits) and the first month of the billing period."""
    text = str(member_no).strip()
    if not text.isdigit() or len(text) > 8:
        raise ValueError(f"member_no: '{member_no}' is not a number of at most 8 digits")
    return _with_check_digit(f"{MEMBER_PREFIX}{int(text):08d}{_yymm(first_month)}")


def parse(kid: str | None) -> ParsedKid | None:
    """Whose KID and which month, for a valid KID of ours (either kind); None for anything else."""
    kid = (kid or "").strip()
    if len(kid) != KID_LENGTH or not kid.isascii() or not kid.isdigit() or mod10_check_digit(kid[:-1]) != kid[-1]:
        return None
    prefix = kid[:3]
    if prefix not in (EMPLOYER_PREFIX, MEMBER_PREFIX):
        return None
    month = int(kid[13:15])
    if not 1 <= month <= 12:
        return None
    return ParsedKid(
        kind="employer" if prefix == EMPLOYER_PREFIX else "member",
        number=kid[3:11],
        month=Month(2000 + int(kid[11:13]), month),
    )


def is_valid(kid: str | None) -> bool:
    return parse(kid) is not None


def parse_kid(kid: str) -> tuple[str, Month] | None:
    """The customer number and month of a valid employer KID, or None (a member KID is not an employer's)."""
    parsed = parse(kid)
    if parsed is None or not parsed.is_employer:
        return None
    return parsed.number, parsed.month


def member_number_forms(numbers) -> list[str]:
    """The texts a member number may be stored as, for numbers as typed or as a member KID carries them
    (zero-padded to 8 digits; the register keeps them as entered): '00012345' -> ['00012345', '12345']."""
    forms: set[str] = set()
    for number in numbers:
        text = str(number).strip()
        forms.add(text)
        if text.isdigit() and len(text) <= 18:
            forms.update((str(int(text)), str(int(text)).zfill(8)))
    return sorted(forms)


def parse_member_kid(kid: str) -> tuple[str, Month] | None:
    """The member number (as stored: no leading zeros beyond the register's) and month of a member KID, or None."""
    parsed = parse(kid)
    if parsed is None or not parsed.is_member:
        return None
    return parsed.number, parsed.month
