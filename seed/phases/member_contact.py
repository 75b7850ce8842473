"""The member rows: names, address, e-mail and mobile choices and the home unit of each person."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Iterator

from seed.context import SeedContext
from seed.identifiers import mobile
from seed.reference import (
    ASSOCIATIONS,
    COUNTY_NAMES,
    COUNTY_WEIGHTS,
    FEMALE_NAMES,
    LAST_NAMES,
    MALE_NAMES,
    PRIVATE_MAIL_DOMAINS,
)
from seed.sampling import ascii_name, cumulative, pick_municipality, postcode, street_address


class _Draws:
    """The cumulative weights the member rows draw from, computed once per run."""

    def __init__(self, ctx: SeedContext):
        self.rng = ctx.rng
        self.county_cum = cumulative(COUNTY_WEIGHTS)
        self.lf_cum = cumulative(a.weight_without_job for a in ASSOCIATIONS)
        self.mail_domains = [d for d, _ in PRIVATE_MAIL_DOMAINS]
        self.mail_cum = cumulative(w for _, w in PRIVATE_MAIL_DOMAINS)

    def index(self, cum: list[float]) -> int:
        return bisect.bisect(cum, self.rng.random() * cum[-1])


def member_rows(ctx: SeedContext, people) -> Iterator[dict]:
    """The member rows in id order, made one at a time from `people` (seed.phases.members.People)."""
    draws = _Draws(ctx)
    for i in range(people.count):
        wp_row = ctx.workplace_rows[people.current_wp[i] - 1] if people.current_wp[i] else None
        previous = ctx.workplace_rows[people.last_wp[i] - 1] if people.last_wp[i] else None
        yield _member_row(ctx, draws, people.person(i), people.member_no[i], wp_row, previous)


def _member_row(ctx: SeedContext, draws: _Draws, person: dict, member_no: str, wp_row, previous) -> dict:
    rng, rnd = draws.rng, draws.rng.random
    first, last = _full_name(rng, person["gender"] == "female")
    if wp_row is not None and rnd() < 0.85:
        county = wp_row["county"]  # most live in the county they work in
    else:
        county = COUNTY_NAMES[draws.index(draws.county_cum)]
    info = pick_municipality(rng, county)
    work_domain = ctx.employer_domain[wp_row["employer_id"] - 1] if wp_row is not None else None
    email_private, email_work, email_to = _emails(
        draws, ascii_name(first), ascii_name(last), person["birth"], work_domain
    )
    mobile_private, mobile_work, preferred = _mobiles(rng, wp_row is not None)
    home_unit = _home_unit(ctx, draws, wp_row, previous, county)
    apprentice = person["category"] == "apprentice"
    return {
        "id": person["i"] + 1,
        "member_no": member_no,
        "national_id": person["national_id"],
        "birth_date": person["birth_date"],
        "gender": person["gender"],
        "first_name": first,
        "last_name": last,
        "address": street_address(rng),
        "postcode": postcode(rng, info),
        "city": info.post_town,
        "email_work": email_work,
        "email_private": email_private,
        "email_to": email_to,
        "mobile_work": mobile_work,
        "mobile_private": mobile_private,
        "preferred_mobile": preferred,
        "magazine": rnd() < 0.9,
        "category": person["category"],
        "home_unit_id": home_unit,
        "joined_on": dt.date.fromordinal(person["joined"]),
        "left_on": dt.date.fromordinal(person["left"]) if person["left"] else None,
        "travel_insurance": not apprentice and rnd() < 0.87,
        "contents_insurance": not apprentice and rnd() < 0.95,
        "user_id": None,
    }


def _full_name(rng: random.Random, female: bool) -> tuple[str, str]:
    """A first name (now and then a double one) and a last name (now and then two)."""
    names = FEMALE_NAMES if female else MALE_NAMES
    first = names[rng.randrange(len(names))]
    if rng.random() < 0.08:
        second = names[rng.randrange(len(names))]
        if second != first:
            first = f"{first}-{second}" if rng.random() < 0.3 else f"{first} {second}"
    last = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
    if rng.random() < 0.05:
        other = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        if other != last:
            last = f"{other} {last}"
    return first, last


def _emails(draws: _Draws, local_first: str, local_last: str, birth: dt.date, work_domain: str | None):
    """(private address, work address, which one mail goes to)."""
    rng, rnd = draws.rng, draws.rng.random
    email_private = None
    if rnd() < 0.8:
        pattern = rnd()
        domain = draws.mail_domains[draws.index(draws.mail_cum)]
        if pattern < 0.45:
            local = f"{local_first}.{local_last}"
        elif pattern < 0.7:
            local = f"{local_first}.{local_last}{birth.year % 100:02d}"
        elif pattern < 0.85:
            local = f"{local_first[0]}{local_last}{rng.randrange(10, 100)}"
        else:
            local = f"{local_first}{local_last}{rng.randrange(1, 1000)}"
        email_private = f"{local}@{domain}"
    email_work = None
    if work_domain is not None and rnd() < 0.5:
        email_work = f"{local_first}.{local_last}@{work_domain}"
    if email_work and email_private:
        email_to = "private" if rnd() < 0.6 else "work"
    else:
        email_to = "private" if email_private else "work" if email_work else None
    return email_private, email_work, email_to


def _mobiles(rng: random.Random, has_job: bool):
    """(private mobile, work mobile, the preferred one)."""
    mobile_private = mobile(rng) if rng.random() < 0.88 else None
    mobile_work = mobile(rng) if has_job and rng.random() < 0.25 else None
    if mobile_work and mobile_private:
        preferred = "private" if rng.random() < 0.75 else "work"
    else:
        preferred = "private" if mobile_private else "work" if mobile_work else None
    return mobile_private, mobile_work, preferred


def _home_unit(ctx: SeedContext, draws: _Draws, wp_row, previous, county: str) -> int:
    """The unit of the current workplace; else the branch of the last one; else a branch where they live."""
    if wp_row is not None:
        return wp_row["org_unit_id"]
    if previous is not None:
        unit_id = previous["org_unit_id"]
        unit = ctx.units[unit_id - 1]
        return unit["parent_id"] if unit["level"] == "club" else unit_id
    lf = draws.index(draws.lf_cum)
    return ctx.branch_for[(lf, county)]
