"""Deduction contacts: 1-2 per employer with an agreement, some for several employers, some handed over."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from seed.context import SeedContext, number_rows
from seed.identifiers import mobile
from seed.reference import FEMALE_NAMES, LAST_NAMES, MALE_NAMES
from seed.sampling import ascii_name


class ContactBook:
    """Creates contact people as users and links them to employers; `links` holds the current links."""

    def __init__(self, ctx: SeedContext, add_user, office_id: int):
        self.ctx, self.rng, self.add_user, self.office_id = ctx, ctx.rng, add_user, office_id
        self.today_ord = ctx.today.toordinal()
        self.serial = 20000000  # contacts log in with an 8-digit number
        self.links: dict[int, list[int]] = {}  # user id -> employer ids

    def new_person(self, employer_id: int, active: bool = True) -> int:
        rng, ctx = self.rng, self.ctx
        female = rng.random() < 0.6
        first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        last = rng.choice(LAST_NAMES)
        self.serial += 1
        while str(self.serial) in ctx.used_usernames:
            self.serial += 1
        username = str(self.serial)
        domain = ctx.employer_domain[employer_id - 1]
        email = f"{ascii_name(first)}.{ascii_name(last)}@{domain}"
        if email in ctx.used_emails:
            email = f"{ascii_name(first)}.{ascii_name(last)}{self.serial % 1000}@{domain}"
        return self.add_user(username, first, last, email, f"{username}@brukere.forbundet.example", active)

    def link(self, user_id: int, employer_id: int, start: int, end: int | None = None) -> None:
        self.ctx.contact_rows.append(
            {
                "user_id": user_id,
                "employer_id": employer_id,
                "phone": mobile(self.rng),
                "start_date": dt.date.fromordinal(start),
                "end_date": dt.date.fromordinal(end) if end else None,
                "added_by_id": self.office_id,
            }
        )
        if end is None:
            self.links.setdefault(user_id, []).append(employer_id)


def build_contacts(ctx: SeedContext, add_user, office_id: int) -> None:
    book = ContactBook(ctx, add_user, office_id)
    with_agreement = [e["id"] for e in ctx.employer_rows if e["has_deduction_agreement"]]
    people = _contacts_per_employer(book, with_agreement)
    if len(with_agreement) > 1:
        _shared_contacts(book, people, with_agreement)
    _demo_contact(ctx, book, people)
    number_rows(ctx.contact_rows, key=lambda row: (row["employer_id"], row["start_date"], row["user_id"]))


def _contacts_per_employer(book: ContactBook, with_agreement: list[int]) -> list[int]:
    """1-2 current contacts per employer, now and then one who handed over to them; returns the current ones."""
    rng, people = book.rng, []
    for employer_id in with_agreement:
        count = 2 if rng.random() < 0.3 else 1
        starts = []
        for _ in range(count):
            user_id = book.new_person(employer_id)
            start = book.today_ord - 30 - rng.randrange(8 * 365)
            starts.append(start)
            book.link(user_id, employer_id, start)
            people.append(user_id)
        if rng.random() < 0.08:
            handed_over = min(starts) - 1
            earlier = handed_over - 365 * rng.randint(1, 6)
            book.link(book.new_person(employer_id, active=False), employer_id, earlier, handed_over)
    return people


def _shared_contacts(book: ContactBook, people: list[int], with_agreement: list[int]) -> None:
    """About one in ten contacts (payroll offices, accounting firms) also serve 1-2 other employers."""
    rng = book.rng
    for user_id in people:
        if rng.random() >= 0.10:
            continue
        own = book.links[user_id]
        others = [e for e in rng.sample(with_agreement, min(len(with_agreement), 4)) if e not in own]
        for employer_id in others[: rng.randint(1, 2)]:
            book.link(user_id, employer_id, book.today_ord - 30 - rng.randrange(3 * 365))
    if not any(len(v) >= 2 for v in book.links.values()) and people:
        user_id = people[0]
        other = next(e for e in with_agreement if e not in book.links[user_id])
        book.link(user_id, other, book.today_ord - 100)


def _demo_contact(ctx: SeedContext, book: ContactBook, people: list[int]) -> None:
    """The demo login: a contact for several employers (else any), the one whose employers have the most members
    on deduction, so that the portal shows a full month table; its scope is the largest of its employers."""
    members, workplaces = ctx.people, ctx.workplace_rows
    on_deduction = Counter(
        workplaces[members.current_wp[i] - 1]["employer_id"]
        for i in range(members.count)
        if members.job_start[i] and members.job_on_deduction[i]
    )
    candidates = [user_id for user_id in people if len(book.links.get(user_id, [])) >= 2] or people
    if candidates:
        user_id = max(candidates, key=lambda u: (sum(on_deduction[e] for e in book.links[u]), -u))
        largest = max(book.links[user_id], key=lambda e: (on_deduction[e], -e))
        ctx.demo["contact"] = (user_id, ctx.employer_rows[largest - 1]["customer_no"])
