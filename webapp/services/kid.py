"""KID, the payment reference on an employer's payment for a month.

`901` + the employer's 8-digit customer number + `YY` + `MM` + a MOD10 (Luhn) check digit.
"""

from __future__ import annotations

from stdnum import luhn

from webapp.services.periods import Month

PREFIX = "901"


def kid_for(customer_no: str, month: Month) -> str:
    if len(customer_no) != 8 or not customer_no.isdigit():
        raise ValueError(f"customer_no: '{customer_no}' is not 8 digits")
    body = f"{PREFIX}{customer_no}{month.year % 100:02d}{month.month:02d}"
    return body + luhn.calc_check_digit(body)


def parse_kid(kid: str) -> tuple[str, Month] | None:
    """The customer number and month of a valid KID of ours, or None."""
    kid = (kid or "").strip()
    if len(kid) != 16 or not kid.isdigit() or not kid.startswith(PREFIX) or not luhn.is_valid(kid):
        return None
    month = int(kid[13:15])
    if not 1 <= month <= 12:
        return None
    year = 2000 + int(kid[11:13])
    return kid[3:11], Month(year, month)
