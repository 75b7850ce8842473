"""Phase: members and their employments, in memory, in four steps: the people (birth, join and leave dates),
their jobs, their member numbers, and their names, contact data and home units."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from array import array
from dataclasses import dataclass, field

from seed.context import ChunkWriter, SeedContext
from seed.identifiers import NationalIds, national_id_and_birth
from seed.phases.member_contact import member_rows
from seed.sampling import add_years, cumulative
from webapp.services.membership import is_active_membership

CATEGORY_WEIGHTS = (("ordinary", 80), ("apprentice", 3), ("student", 5), ("retired", 10), ("unemployed", 2))
PART_TIME_PCTS = ((50, 30), (60, 15), (80, 25), (75, 10), (40, 8), (20, 5), (90, 7))


def age_weights(category: str) -> tuple[list[int], list[float]]:
    """The ages of a member category and their cumulative weights."""
    if category == "ordinary":
        ages = list(range(18, 71))
        weights = [0.25 if a < 20 else 0.8 if a < 30 else 1.0 if a < 60 else 0.75 if a <= 67 else 0.08 for a in ages]
    elif category == "apprentice":
        ages = list(range(16, 26))
        weights = [15, 26, 25, 14, 8, 4, 3, 2, 2, 1]
    elif category == "student":
        ages = list(range(18, 31))
        weights = [6, 10, 12, 12, 11, 10, 9, 8, 6, 5, 4, 4, 3]
    elif category == "retired":
        ages = list(range(55, 91))
        weights = [0.5 if a < 62 else 4 if a < 75 else 3 if a < 82 else 1.2 for a in ages]
    else:
        ages = list(range(20, 65))
        weights = [1.0] * len(ages)
    return ages, cumulative(weights)


@dataclass
class Calendar:
    """Today and the day numbers (ordinals) the member dates are drawn between."""

    today: dt.date
    today_ord: int = field(init=False)
    two_years_ago: int = field(init=False)
    thirty_years_ago: int = field(init=False)
    min_birth: int = field(init=False)
    max_birth: int = field(init=False)

    def __post_init__(self):
        self.today_ord = self.today.toordinal()
        self.two_years_ago = self.today_ord - 730
        self.thirty_years_ago = add_years(self.today, -30).toordinal()
        self.min_birth = add_years(self.today, -90).toordinal() + 1
        self.max_birth = add_years(self.today, -16).toordinal()


def members(ctx: SeedContext) -> None:
    """Draw the people, their jobs, member numbers and member rows, and write the members and employments.

    The draws are made in the same order as ever (every person, then every job, the numbers, the rows); what the
    later phases need is kept in `ctx.people` (arrays), and the rows are written in chunks as they are made, so a
    million members never sit in memory as dicts."""
    rng, n = ctx.rng, ctx.members
    calendar = Calendar(ctx.today)
    categories = [c for c, _ in CATEGORY_WEIGHTS]
    category_of = rng.choices(categories, cum_weights=cumulative(w for _, w in CATEGORY_WEIGHTS), k=n)
    age_tables = {c: age_weights(c) for c in categories}
    people = ctx.people = People(n)
    ids_taken = NationalIds()
    for i in range(n):
        people.set_person(i, category_of[i], _person(rng, category_of[i], age_tables, calendar, ids_taken))
    del category_of, ids_taken
    jobs = Jobs(ctx, calendar)
    if ctx.workplace_rows:
        for i in range(n):
            jobs.add(people.person(i))
    people.member_no = member_numbers(rng, people.joined)
    ctx.result.members = n
    ctx.result.active_members = write_members(ctx, people)
    ctx.result.employments = write_employments(ctx, jobs)


def _person(rng: random.Random, category: str, age_tables, calendar: Calendar, ids_taken: NationalIds) -> tuple:
    """(birth date as the national id says, female, national id, join day, leave day or None) of one person."""
    rnd, today_ord = rng.random, calendar.today_ord
    ages, cum = age_tables[category]
    age = ages[bisect.bisect(cum, rnd() * cum[-1])]
    birth_ord = today_ord - int(age * 365.2425) - rng.randrange(365)
    birth = dt.date.fromordinal(min(max(birth_ord, calendar.min_birth), calendar.max_birth))
    female = rnd() < 0.55
    # The id's birth date is the one drawn, unless that date's numbers were all taken.
    national_id_value, birth = national_id_and_birth(rng, birth, female, rnd() < 0.02, ids_taken)
    joined = _joined(rng, add_years(birth, 16).toordinal(), calendar)
    return birth, female, national_id_value, joined, _left(rng, joined, today_ord)


class People:
    """What later phases need of every member, in compact arrays: index i is the member with id i + 1.

    Day numbers are ordinals; 0 stands for none (no leave day, no workplace, no current job)."""

    def __init__(self, n: int):
        self.count = n
        self.category = [""] * n  # the category names are shared strings
        self.birth = array("i", bytes(4 * n))
        self.female = bytearray(n)
        self.national_id = array("q", bytes(8 * n))
        self.joined = array("i", bytes(4 * n))
        self.left = array("i", bytes(4 * n))
        self.member_no: list[str] = []
        self.home_unit = array("i", bytes(4 * n))
        self.current_wp = array("i", bytes(4 * n))  # workplace of the current job
        self.last_wp = array("i", bytes(4 * n))  # the current job's workplace, else the earlier job's
        self.job_start = array("i", bytes(4 * n))  # first day of the job without an end
        self.job_on_deduction = bytearray(n)  # that job is on payroll deduction

    def set_person(self, i: int, category: str, facts: tuple) -> None:
        birth, female, national_id_value, joined, left = facts
        self.category[i] = category
        self.birth[i] = birth.toordinal()
        self.female[i] = female
        self.national_id[i] = int(national_id_value)
        self.joined[i] = joined
        self.left[i] = left or 0

    def person(self, i: int) -> dict:
        """Member number i as a dict, the form the row builders read."""
        birth = dt.date.fromordinal(self.birth[i])
        return {
            "i": i,
            "category": self.category[i],
            "birth": birth,
            "sixteen": add_years(birth, 16).toordinal(),
            "joined": self.joined[i],
            "left": self.left[i] or None,
            "national_id": f"{self.national_id[i]:011d}",
            "birth_date": birth,
            "gender": "female" if self.female[i] else "male",
        }

    def left_on(self, member_id: int) -> dt.date | None:
        return dt.date.fromordinal(self.left[member_id - 1]) if self.left[member_id - 1] else None

    def joined_on(self, member_id: int) -> dt.date:
        return dt.date.fromordinal(self.joined[member_id - 1])


def write_members(ctx: SeedContext, people: People) -> int:
    """Make the member rows in id order and write them in chunks; returns how many are active today."""
    from webapp.models import Member

    active = 0
    with ChunkWriter(Member.__table__) as writer:
        for row in member_rows(ctx, people):
            people.home_unit[row["id"] - 1] = row["home_unit_id"]
            active += is_active_membership(row["joined_on"], row["left_on"], ctx.today)
            writer.add(row)
    return active


def write_employments(ctx: SeedContext, jobs: Jobs) -> int:
    """Write the employments from the jobs' arrays, in id order; returns how many."""
    from webapp.models import Employment

    workplaces = ctx.workplace_rows
    with ChunkWriter(Employment.__table__) as writer:
        for k in range(len(jobs.member_id)):
            end = jobs.end[k]
            writer.add({
                "id": k + 1,
                "member_id": jobs.member_id[k],
                "employer_id": workplaces[jobs.workplace_id[k] - 1]["employer_id"],
                "workplace_id": jobs.workplace_id[k],
                "start_date": dt.date.fromordinal(jobs.start[k]),
                "end_date": dt.date.fromordinal(end) if end else None,
                "position_pct": jobs.pct[k],
                "on_deduction": bool(jobs.on_deduction[k]),
            })
    return len(jobs.member_id)


def _joined(rng: random.Random, sixteen: int, calendar: Calendar) -> int:
    """Some joined within the last two years, the rest over the last 30 years after their 16th birthday."""
    lower = max(sixteen, calendar.thirty_years_ago)
    recent_from = max(lower, calendar.two_years_ago)
    if rng.random() < 0.135 or lower >= calendar.two_years_ago:
        return recent_from + rng.randrange(max(1, calendar.today_ord - recent_from))
    return lower + rng.randrange(max(1, calendar.two_years_ago - lower))


def _left(rng: random.Random, joined: int, today_ord: int) -> int | None:
    """About 6.5 % have left, a third of them within the last year."""
    if not (rng.random() < 0.065 and today_ord - joined > 60):
        return None
    if rng.random() < 0.35:
        since = max(joined + 30, today_ord - 365)
        return since + rng.randrange(max(1, today_ord - since))
    return joined + 30 + rng.randrange(max(1, today_ord - joined - 30))


class Jobs:
    """The employments: the current one for working members, an ended earlier one for some.

    They are kept in arrays (one entry per employment, in id order: by member, then first day), and what the
    later phases need of each member's jobs in `ctx.people`."""

    def __init__(self, ctx: SeedContext, calendar: Calendar):
        self.rng, self.calendar, self.people = ctx.rng, calendar, ctx.people
        self.workplaces, self.employers = ctx.workplace_rows, ctx.employer_rows
        self.wp_cum = cumulative(ctx.workplace_weight)
        self.pct_values = [p for p, _ in PART_TIME_PCTS]
        self.pct_cum = cumulative(w for _, w in PART_TIME_PCTS)
        self.member_id, self.workplace_id = array("i"), array("i")
        self.start, self.end, self.pct, self.on_deduction = array("i"), array("i"), array("i"), bytearray()
        self._person_rows: list[tuple] = []

    def add(self, person: dict) -> None:
        category = person["category"]
        has_job = self._has_job(category)
        adult = person["sixteen"] + (0 if category in ("apprentice", "student") else 365)
        start = self._add_current(person, adult) if has_job else None
        earlier_end = self._earlier_end(person, has_job, start)
        if earlier_end is not None:
            self._add_earlier(person, adult, earlier_end)
        for member_id, wp_id, first, last, pct, on_deduction in sorted(self._person_rows, key=lambda r: r[2]):
            self.member_id.append(member_id)
            self.workplace_id.append(wp_id)
            self.start.append(first)
            self.end.append(last or 0)
            self.pct.append(pct)
            self.on_deduction.append(on_deduction)
        self._person_rows.clear()

    def _has_job(self, category: str) -> bool:
        rnd = self.rng.random
        if category == "ordinary":
            return rnd() < 0.96
        if category == "apprentice":
            return True
        if category == "student":
            return rnd() < 0.2
        if category == "retired":
            return rnd() < 0.06
        return False

    def _workplace(self) -> dict:
        return self.workplaces[bisect.bisect(self.wp_cum, self.rng.random() * self.wp_cum[-1])]

    def _row(self, person: dict, wp_row: dict, start: int, end: int | None, pct: int, on_deduction: bool) -> None:
        self._person_rows.append((person["i"] + 1, wp_row["id"], start, end, pct, bool(on_deduction)))
        if end is None:
            self.people.job_start[person["i"]] = start
            self.people.job_on_deduction[person["i"]] = bool(on_deduction)

    def _add_current(self, person: dict, adult: int) -> int:
        """The current job; returns its first day."""
        rng, category, today_ord = self.rng, person["category"], self.calendar.today_ord
        wp_row = self._workplace()
        if rng.random() < 0.5:
            start = person["joined"] - 365 + rng.randrange(730)
        else:
            start = adult + rng.randrange(max(1, today_ord - adult))
        start = min(max(start, adult), today_ord - 1)
        if category == "apprentice":
            start = max(start, today_ord - 3 * 365)
        employer = self.employers[wp_row["employer_id"] - 1]
        pct = self._position_pct(category)
        on_deduction = (
            employer["has_deduction_agreement"] and category in ("ordinary", "apprentice") and rng.random() < 0.9
        )
        end = person["left"] if person["left"] is not None and person["left"] > start else None
        self._row(person, wp_row, start, end, pct, on_deduction)
        self.people.current_wp[person["i"]] = wp_row["id"]
        self.people.last_wp[person["i"]] = wp_row["id"]
        return start

    def _position_pct(self, category: str) -> int:
        rng = self.rng
        if category == "ordinary" and rng.random() < 0.15:
            return self.pct_values[bisect.bisect(self.pct_cum, rng.random() * self.pct_cum[-1])]
        if category == "student":
            return rng.choice((20, 30, 40, 50))
        if category == "retired":
            return rng.choice((20, 40, 50))
        return 100

    def _earlier_end(self, person: dict, has_job: bool, start: int | None) -> int | None:
        """The last day of an earlier job that has ended, for those who get one."""
        rng, category, today_ord = self.rng, person["category"], self.calendar.today_ord
        if has_job:
            wants_earlier = rng.random() < 0.145 and category == "ordinary"
            earlier_end = start - 1 - rng.randrange(120) if start else None
        elif category == "retired":
            wants_earlier = rng.random() < 0.6
            retire = add_years(person["birth"], rng.randint(62, 67)).toordinal()
            earlier_end = min(retire, today_ord - 30)
        elif category == "unemployed":
            wants_earlier = rng.random() < 0.7
            earlier_end = today_ord - 10 - rng.randrange(700)
        else:
            return None
        return earlier_end if wants_earlier else None

    def _add_earlier(self, person: dict, adult: int, earlier_end: int) -> None:
        earlier_start = earlier_end - 180 - self.rng.randrange(3650)
        if earlier_start < adult or earlier_end <= earlier_start:
            return
        wp_row = self._workplace()
        on_deduction = bool(self.employers[wp_row["employer_id"] - 1]["has_deduction_agreement"])
        self._row(person, wp_row, earlier_start, earlier_end, 100, on_deduction)
        if not self.people.last_wp[person["i"]]:
            self.people.last_wp[person["i"]] = wp_row["id"]


def member_numbers(rng: random.Random, joined) -> list[str]:
    """Member numbers grow with the join date; the earliest members have the short old numbers."""
    n = len(joined)
    order = sorted(range(n), key=joined.__getitem__)  # by join day, then index: the sort is stable
    short_count = min(n, max(5, n // 1000))
    three = [str(x) for x in range(750, 760)]
    four = [str(x) for x in range(7500, 7600)]
    rest_short = short_count - min(2, short_count) - min(3, max(0, short_count - 2))
    short_pool = sorted(rng.sample(three, min(2, short_count)), key=int)
    short_pool += sorted(rng.sample(four, min(3, max(0, short_count - 2))), key=int)
    for digits in (5, 6, 7):
        take = rest_short // 3 + (1 if digits - 5 < rest_short % 3 else 0)
        low, high = 75 * 10 ** (digits - 2), 76 * 10 ** (digits - 2)
        short_pool += sorted((str(x) for x in rng.sample(range(low, high), take)), key=int)
    long_numbers = sorted(rng.sample(range(75_000_000, 76_000_000), n - short_count))
    numbers = short_pool + [str(x) for x in long_numbers]
    member_no = [""] * n
    for rank, k in enumerate(order):
        member_no[k] = numbers[rank]
    return member_no
