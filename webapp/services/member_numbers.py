"""The next free member number, one caller at a time.

Member numbers are 3 to 8 digits and start with 75. They are handed out in the order of the series
750, 751, …, 759, 7500, …, 7599, 75000, …, 75999999: each length's numbers, then the next length. A
counter row (NumberCounter "member_no") holds the last number handed out; the caller that takes the next
number locks the row (SELECT … FOR UPDATE on PostgreSQL; SQLite serializes writers on the file), so two
concurrent approvals never get the same number. Numbers already in the register (older members, the
demo data) are stepped over, in batches; when the series is used up to 75999999 the search starts again
from 750 for the gaps. The unique index on member.member_no is the last guard.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import Member, NumberCounter
from webapp.services import transitions

COUNTER = "member_no"
FIRST = 750
LAST = 75_999_999
_BATCH = 1000


class MemberNumberError(RuntimeError):
    pass


def successor(number: int) -> int | None:
    """The number after `number` in the series, or None after the last."""
    following = number + 1
    if str(following).startswith("75"):
        return following
    digits = len(str(number)) + 1
    return 75 * 10 ** (digits - 2) if digits <= 8 else None


def _series_from(number: int, count: int) -> list[int]:
    """Up to `count` numbers of the series, starting with `number`."""
    numbers: list[int] = []
    current: int | None = number
    while current is not None and len(numbers) < count:
        numbers.append(current)
        current = successor(current)
    return numbers


def highest_in_register() -> int | None:
    """The furthest number along the series that a member has (longest first, then highest)."""
    text = db.session.scalar(
        select(Member.member_no).order_by(func.length(Member.member_no).desc(), Member.member_no.desc()).limit(1)
    )
    return int(text) if text else None


def _counter() -> NumberCounter:
    """The counter row, locked; made from the register the first time."""
    counter = transitions.lock_key(NumberCounter, NumberCounter.name, COUNTER)
    if counter is not None:
        return counter
    try:
        with db.session.begin_nested():
            db.session.add(NumberCounter(name=COUNTER, last_value=highest_in_register() or FIRST - 1))
    except IntegrityError:
        pass  # another caller made it first
    return transitions.lock_key(NumberCounter, NumberCounter.name, COUNTER)


def _taken(numbers: list[int]) -> set[int]:
    texts = [str(n) for n in numbers]
    return {int(t) for t in db.session.scalars(select(Member.member_no).where(Member.member_no.in_(texts)))}


def _first_free_after(last: int) -> int | None:
    """The first number after `last` that no member has, or None when the series is used up after it."""
    start = successor(last) if last >= FIRST else FIRST
    while start is not None:
        batch = _series_from(start, _BATCH)
        taken = _taken(batch)
        free = next((n for n in batch if n not in taken), None)
        if free is not None:
            return free
        start = successor(batch[-1])
    return None


def next_member_number() -> str:
    """Take the next free member number, in the caller's transaction (the caller commits with the new member)."""
    counter = _counter()
    number = _first_free_after(counter.last_value)
    if number is None:
        number = _first_free_after(FIRST - 1)  # wrap around for the gaps
    if number is None:
        raise MemberNumberError(_("Membership number: every number from 750 to 75999999 is taken."))
    counter.last_value = number
    db.session.flush()
    return str(number)
