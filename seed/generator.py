"""Deterministic demo data: the union's tree, employers, members and the demo logins.

`generate(members, employers, seed, reset, progress)` builds a realistic
Norwegian dataset from `random.Random(seed)`: the same arguments give the same
rows (dates are relative to `datetime.date.today()`, so runs on the same day
match). Rows are built as plain dicts with their primary keys assigned here,
so the tables link up without round trips, and are written with set-based
`INSERT ... executemany` in chunks. Everything happens in one transaction: on
any error nothing is left half-written.

The phases run in order (see PHASES); each one is a module-level function
taking the shared `_Context`, looked up by name when it runs.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import MetaData, insert, or_, select, text, update
from werkzeug.security import generate_password_hash

from seed.reference import (
    AREAS,
    ASSOCIATIONS,
    COUNTIES,
    COUNTY_NAMES,
    COUNTY_WEIGHTS,
    EMPLOYER_KINDS,
    FEMALE_NAMES,
    HOSPITAL_PARTS,
    LAST_NAMES,
    LF_HEALTH,
    MALE_NAMES,
    MUNICIPAL_PARTS,
    MUNICIPALITY_COUNTY,
    MUNICIPALITY_INFO,
    PRIVATE_MAIL_DOMAINS,
    STREETS,
    WORKPLACE_PARTS,
)
from webapp.extensions import db
from webapp.models import (
    DeductionContact,
    DemoAccount,
    Employer,
    Employment,
    Member,
    OrgUnit,
    Position,
    Workplace,
)
from webapp.services.database import ensure_roles
from webapp.services.validation import person_facts

# ---------------------------------------------------------------- interface


class SeedRefused(Exception):
    """The generator will not run; the message says why."""


# The tables this generator fills (besides FAB's ab_user and ab_user_role).
OUR_TABLES = (
    "org_unit",
    "employer",
    "workplace",
    "member",
    "employment",
    "position",
    "deduction_contact",
    "demo_account",
)

CHUNK = 5000
# Member numbers: "75" + 6 digits, plus a handful of shorter (older) numbers.
MAX_MEMBERS = 1_000_000


@dataclass
class SeedResult:
    seed: int = 0
    org_units: int = 0
    employers: int = 0
    workplaces: int = 0
    members: int = 0
    active_members: int = 0
    employments: int = 0
    positions: int = 0
    users: int = 0
    deduction_contacts: int = 0
    demo_accounts: int = 0
    seconds: float = 0.0
    reset: bool = False

    @property
    def counts(self) -> dict[str, int]:
        return {
            "org_units": self.org_units,
            "employers": self.employers,
            "workplaces": self.workplaces,
            "members": self.members,
            "employments": self.employments,
            "positions": self.positions,
            "users": self.users,
            "deduction_contacts": self.deduction_contacts,
            "demo_accounts": self.demo_accounts,
        }

    def summary(self) -> str:
        return (
            f"Seeded{' (after reset)' if self.reset else ''} with seed {self.seed}: "
            f"{self.org_units:,} org units, {self.employers:,} employers with {self.workplaces:,} workplaces, "
            f"{self.members:,} members ({self.active_members:,} active), {self.employments:,} employments, "
            f"{self.positions:,} positions, {self.users:,} users, {self.deduction_contacts:,} deduction-contact links "
            f"and {self.demo_accounts:,} demo logins in {self.seconds:.1f} s."
        )


def database_is_empty() -> bool:
    """True when none of the register's tables holds a row (users and roles aside).

    That means in particular no org units and no members.
    """
    for table in _our_table_objects():
        if db.session.execute(select(table.c.id).limit(1)).first() is not None:
            return False
    return True


def generate(
    members: int, employers: int, seed: int, reset: bool, progress: bool, today: dt.date | None = None
) -> SeedResult:
    """Build the demo dataset in one transaction and return what was written.

    Dates are relative to `today` (default: the real today); tests pass a fixed day to pin the rows."""
    if members < 0 or members > MAX_MEMBERS:
        raise SeedRefused(f"members must be between 0 and {MAX_MEMBERS:,} (member numbers are 75 + up to 6 digits)")
    if employers < 1:
        raise SeedRefused("at least one employer is needed")
    started = time.perf_counter()
    ensure_roles()
    if not reset and not database_is_empty():
        db.session.rollback()
        raise SeedRefused("the database is not empty; use --reset to replace its contents")

    ctx = _Context(members=members, employers=employers, seed=seed, reset=reset, today=today or dt.date.today())
    phases = [name for name in PHASES if reset or name != "_phase_reset"]
    from tqdm import tqdm

    bar = tqdm(total=len(phases), desc="seed", unit="step", disable=not progress, leave=True)
    try:
        for name in phases:
            bar.set_description(f"seed: {PHASE_LABELS[name]}")
            globals()[name](ctx)
            bar.update(1)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        bar.close()
    ctx.result.seconds = time.perf_counter() - started
    return ctx.result


# ------------------------------------------------------------------ helpers


def _our_table_objects():
    return [
        model.__table__
        for model in (OrgUnit, Employer, Workplace, Member, Employment, Position, DeductionContact, DemoAccount)
    ]


def _insert(table, rows: list[dict], chunk: int = CHUNK) -> None:
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(table), rows[start : start + chunk])


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _weighted(rng: random.Random, cum: list[float]) -> int:
    """Index drawn from cumulative weights."""
    return bisect.bisect(cum, rng.random() * cum[-1])


def _cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


_FOLD = str.maketrans(
    {"æ": "ae", "ø": "o", "å": "aa", "é": "e", "è": "e", "ü": "u", "ö": "o", "ä": "a", " ": ".", "'": ""}
)


def _ascii(text_value: str) -> str:
    """Lower-case ASCII for e-mail addresses and domains."""
    folded = text_value.lower().translate(_FOLD)
    folded = re.sub(r"[^a-z0-9.\-]", "", folded)
    return re.sub(r"\.{2,}", ".", folded).strip(".-")


def _slug(text_value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _ascii(text_value))


def _mod11(digits: str, weights: tuple[int, ...]) -> int:
    return sum(w * int(d) for w, d in zip(weights, digits)) % 11


def _org_number(rng: random.Random, taken: set) -> str:
    """A 9-digit organisation number starting with 8 or 9 with a valid MOD11 check digit."""
    while True:
        body = rng.choice("89") + f"{rng.randrange(10_000_000):07d}"
        check = (11 - _mod11(body, (3, 2, 7, 6, 5, 4, 3, 2))) % 11
        if check == 10:
            continue
        number = body + str(check)
        if number not in taken:
            taken.add(number)
            return number


_BANK_PREFIXES = ("1503", "1506", "1607", "1813", "2801", "3000", "3201", "3905", "4200", "9710", "1254", "1822")


def _bank_account(rng: random.Random, taken: set) -> str:
    """An 11-digit Norwegian account number with a valid MOD11 check digit."""
    while True:
        body = rng.choice(_BANK_PREFIXES) + f"{rng.randrange(1_000_000):06d}"
        check = _mod11(body, (6, 7, 8, 9, 4, 5, 6, 7, 8, 9))
        if check == 10:
            continue
        number = body + str(check)
        if number not in taken:
            taken.add(number)
            return number


# Mobile ranges that phonenumbers accepts as a whole (part of 45x is not allocated).
_MOBILE_PREFIXES = ("40", "41", "46", "47", "48", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99")


def _mobile(rng: random.Random) -> str:
    return "+47" + rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(1_000_000):06d}"


# ---------------------------------------------------------- distributions

CATEGORY_WEIGHTS = (("ordinary", 80), ("apprentice", 3), ("student", 5), ("retired", 10), ("unemployed", 2))
PART_TIME_PCTS = ((50, 30), (60, 15), (80, 25), (75, 10), (40, 8), (20, 5), (90, 7))


def _age_weights(category: str) -> tuple[list[int], list[float]]:
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
    return ages, _cumulative(weights)


# ---------------------------------------------------------------- context


@dataclass
class _Context:
    members: int
    employers: int
    seed: int
    reset: bool
    today: dt.date
    rng: random.Random = field(init=False)
    result: SeedResult = field(init=False)

    # Org units: one dict row per unit, id = index + 1.
    units: list[dict] = field(default_factory=list)
    unit_children: dict[int, list[int]] = field(default_factory=dict)
    branch_for: dict[tuple[int, str], int] = field(default_factory=dict)  # (lf, county) -> branch id
    unit_lf: dict[int, int] = field(default_factory=dict)  # unit id -> lf index (None for root)
    lf_ids: list[int] = field(default_factory=list)
    branch_ids: list[int] = field(default_factory=list)
    club_ids: list[int] = field(default_factory=list)

    employer_rows: list[dict] = field(default_factory=list)
    employer_lf: list[int] = field(default_factory=list)
    employer_domain: list[str] = field(default_factory=list)
    workplace_rows: list[dict] = field(default_factory=list)
    workplace_weight: list[float] = field(default_factory=list)

    member_rows: list[dict] = field(default_factory=list)
    member_current_wp: list[int | None] = field(default_factory=list)  # workplace id of the current job
    employment_rows: list[dict] = field(default_factory=list)
    position_rows: list[dict] = field(default_factory=list)
    user_rows: list[dict] = field(default_factory=list)
    user_role_rows: list[dict] = field(default_factory=list)
    contact_rows: list[dict] = field(default_factory=list)
    demo_rows: list[dict] = field(default_factory=list)

    user_offset: int = 0
    used_emails: set = field(default_factory=set)
    used_usernames: set = field(default_factory=set)
    demo: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        self.result = SeedResult(seed=self.seed, reset=self.reset)


# ----------------------------------------------------------------- phases


def _phase_reset(ctx: _Context) -> None:
    """Delete the register's rows and every user, children first. Tables are never dropped.

    The tables are read from the database, so tables added later that point at
    ours are handled too: a table with a required link to deleted rows is
    emptied; a table with only optional links loses the rows that use them
    (rows without such links, e.g. reference data, stay).
    """
    meta = MetaData()
    meta.reflect(bind=db.session.connection())
    doomed = {name for name in (*OUR_TABLES, "ab_user", "ab_user_role") if name in meta.tables}
    changed = True
    while changed:
        changed = False
        for table in meta.sorted_tables:
            if table.name not in doomed and any(
                fk.column.table.name in doomed and not fk.parent.nullable for fk in table.foreign_keys
            ):
                doomed.add(table.name)
                changed = True
    partial: dict[str, list] = {}
    for table in meta.sorted_tables:
        if table.name not in doomed:
            columns = sorted({fk.parent.name for fk in table.foreign_keys if fk.column.table.name in doomed})
            if columns:
                partial[table.name] = columns
    # Links inside the doomed tables that are optional (parent unit, created_by, member.user_id) go first.
    for name in sorted(doomed):
        table = meta.tables[name]
        own = sorted(
            {fk.parent.name for fk in table.foreign_keys if fk.column.table.name == name and fk.parent.nullable}
        )
        if own:
            db.session.execute(update(table).values({column: None for column in own}))
    for table in reversed(meta.sorted_tables):
        if table.name in doomed:
            db.session.execute(table.delete())
        elif table.name in partial:
            condition = or_(*(table.c[column].isnot(None) for column in partial[table.name]))
            db.session.execute(table.delete().where(condition))


def _phase_organisation(ctx: _Context) -> None:
    """The union's tree, the employers and their workplaces."""
    rng = ctx.rng
    accounts: set = set()
    units = ctx.units

    union_account = str(current_app.config.get("UNION_ACCOUNT_NUMBER") or "")
    if not (
        len(union_account) == 11
        and union_account.isdigit()
        and _mod11(union_account, (6, 7, 8, 9, 4, 5, 6, 7, 8, 9)) == int(union_account[-1])
    ):
        union_account = _bank_account(rng, accounts)
    accounts.add(union_account)
    union_name = current_app.config.get("UNION_NAME") or "Norsk Tjenesteforbund"
    units.append(
        {
            "id": 1,
            "code": "NTF",
            "name": union_name,
            "level": "union",
            "parent_id": None,
            "bank_account": union_account,
            "receives_refunds": False,
        }
    )

    for lf, (name, _suffix, _areas, _w) in enumerate(ASSOCIATIONS):
        unit_id = len(units) + 1
        units.append(
            {
                "id": unit_id,
                "code": f"LF{lf + 1:02d}",
                "name": name,
                "level": "national_association",
                "parent_id": 1,
                "bank_account": _bank_account(rng, accounts),
                "receives_refunds": True,
            }
        )
        ctx.lf_ids.append(unit_id)
        ctx.unit_lf[unit_id] = lf
    for lf, (_name, suffix, areas, _w) in enumerate(ASSOCIATIONS):
        for b, area in enumerate(areas, start=1):
            unit_id = len(units) + 1
            units.append(
                {
                    "id": unit_id,
                    "code": f"AV{lf + 1:02d}{b:02d}",
                    "name": f"Avdeling {area} {suffix}",
                    "level": "branch",
                    "parent_id": ctx.lf_ids[lf],
                    "bank_account": _bank_account(rng, accounts),
                    "receives_refunds": True,
                }
            )
            ctx.branch_ids.append(unit_id)
            ctx.unit_lf[unit_id] = lf
            for county in AREAS[area]:
                ctx.branch_for[(lf, county)] = unit_id

    _build_employers(ctx)

    # Clubs: under about half of the branches, 1-4 each, named after their biggest workplaces.
    wp_by_branch: dict[int, list[dict]] = {}
    for wp in ctx.workplace_rows:
        wp_by_branch.setdefault(wp["org_unit_id"], []).append(wp)
    for branch_id in list(ctx.branch_ids):
        if rng.random() >= 0.5:
            continue
        want = rng.choices((1, 2, 3, 4), weights=(35, 30, 20, 15))[0]
        lf = ctx.unit_lf[branch_id]
        by_employer: dict[int, list[dict]] = {}
        for wp in wp_by_branch.get(branch_id, []):
            by_employer.setdefault(wp["employer_id"], []).append(wp)
        ranked = sorted(
            by_employer.items(), key=lambda item: (-sum(ctx.workplace_weight[w["id"] - 1] for w in item[1]), item[0])
        )
        branch_code = units[branch_id - 1]["code"]
        # A club organises the members at one employer's workplaces in the branch.
        for k in range(min(want, len(ranked))):
            unit_id = len(units) + 1
            employer_wps = ranked[k][1]
            biggest = max(employer_wps, key=lambda w: (ctx.workplace_weight[w["id"] - 1], -w["id"]))
            name = f"{biggest['name']} klubb"
            for wp in employer_wps:
                wp["org_unit_id"] = unit_id
            refunds = rng.random() < 0.85
            units.append(
                {
                    "id": unit_id,
                    "code": f"KL{branch_code[2:]}{k + 1:02d}",
                    "name": name[:150],
                    "level": "club",
                    "parent_id": branch_id,
                    "bank_account": _bank_account(rng, accounts) if refunds else None,
                    "receives_refunds": refunds,
                }
            )
            ctx.club_ids.append(unit_id)
            ctx.unit_lf[unit_id] = lf
    for unit in units:
        ctx.unit_children.setdefault(unit["id"], [])
        if unit["parent_id"]:
            ctx.unit_children[unit["parent_id"]].append(unit["id"])

    _insert(OrgUnit.__table__, units)
    _insert(Employer.__table__, ctx.employer_rows)
    _insert(Workplace.__table__, ctx.workplace_rows)
    ctx.result.org_units = len(units)
    ctx.result.employers = len(ctx.employer_rows)
    ctx.result.workplaces = len(ctx.workplace_rows)


def _pick_municipality(rng: random.Random, county: str) -> tuple:
    options = COUNTIES[county]
    return options[_weighted(rng, _cumulative(m[4] for m in options))] if len(options) > 1 else options[0]


def _postcode(rng: random.Random, info: tuple) -> str:
    return f"{rng.randint(info[1], info[2]):04d}"


def _street_address(rng: random.Random) -> str:
    number = rng.randint(1, 120)
    letter = rng.choice("ABC") if rng.random() < 0.12 else ""
    return f"{rng.choice(STREETS)} {number}{letter}"


def _build_employers(ctx: _Context) -> None:
    rng = ctx.rng
    county_cum = _cumulative(COUNTY_WEIGHTS)
    kind_cum = _cumulative(kind[2] for kind in EMPLOYER_KINDS)
    fixed_left = [list(kind[3]) for kind in EMPLOYER_KINDS]
    for remaining in fixed_left:
        rng.shuffle(remaining)
    names_taken: set = set()
    org_numbers: set = set()

    # Customer numbers: the two known KID test values first, then a running series.
    customer_nos = ["94001761", "00080000"]
    serial = 94000001
    while len(customer_nos) < ctx.employers:
        value = f"{serial:08d}"
        serial += 1
        if value not in ("94001761", "00080000"):
            customer_nos.append(value)

    for index in range(ctx.employers):
        employer_id = index + 1
        kind = EMPLOYER_KINDS[_weighted(rng, kind_cum)]
        association, sector, _share, _fixed, fixed_lf, templates, fixed_size, template_size, national = kind
        remaining = fixed_left[EMPLOYER_KINDS.index(kind)]
        # The first 15 employers are spread over the 15 counties, so every county has a workplace.
        forced_county = COUNTY_NAMES[index] if index < len(COUNTY_NAMES) else None
        fixed = None
        if forced_county is not None:
            matches = [k for k, entry in enumerate(remaining) if MUNICIPALITY_COUNTY[entry[1]] == forced_county]
            if matches:
                fixed = remaining.pop(matches[0])
        elif remaining and (not templates or rng.random() < 0.6):
            fixed = remaining.pop()
        spread = "county"  # where the other workplaces are: same municipality, same county or anywhere
        if fixed is not None:
            name, municipality, domain = fixed
            lf, size = fixed_lf, fixed_size
            if national and domain != "politiet.no":
                spread = "country"
        elif templates:
            template, lf = templates[rng.randrange(len(templates))]
            county = forced_county or COUNTY_NAMES[_weighted(rng, county_cum)]
            municipality = _pick_municipality(rng, county)[0]
            name = template.format(m=municipality, c=MUNICIPALITY_COUNTY[municipality], s=rng.choice(LAST_NAMES))
            size = template_size
            if "{m}" in template:
                spread = "municipality"
            if template == "{m} kommune":
                size = 20 + 25 * MUNICIPALITY_INFO[municipality][4]
            elif template == "{c} fylkeskommune":
                size = 25
            if association == "ks":
                domain = f"{_slug(municipality)}.kommune.no"
            elif template.startswith("NAV"):
                domain = "nav.no"
            else:
                domain = _slug(re.sub(r"\b(AS|SA|KF|IKS)\b", "", name))[:24] + ".no"
        else:
            # Fixed names used up: a sub-unit (underenhet, own organisation number) of one of them.
            base = kind[3][rng.randrange(len(kind[3]))]
            county = forced_county or MUNICIPALITY_COUNTY[base[1]]
            municipality = _pick_municipality(rng, county)[0]
            name, domain, lf, size = f"{base[0]}, avd. {municipality}", base[2], fixed_lf, template_size * 2
            spread = "municipality"
        base_name = name
        serial_suffix = 2
        while name in names_taken:
            name = (
                f"{base_name} ({serial_suffix})"
                if serial_suffix > 2 or municipality in base_name
                else f"{base_name}, {municipality}"
            )
            serial_suffix += 1
        names_taken.add(name)
        info = MUNICIPALITY_INFO[municipality]
        size *= rng.lognormvariate(0, 0.45)
        ctx.employer_rows.append(
            {
                "id": employer_id,
                "org_number": _org_number(rng, org_numbers),
                "name": name[:150],
                "address": _street_address(rng),
                "postcode": _postcode(rng, info),
                "city": info[3],
                "association": association,
                "sector": sector,
                "has_deduction_agreement": index < 2 or rng.random() < 0.9,
                "customer_no": customer_nos[index],
            }
        )
        ctx.employer_lf.append(lf)
        ctx.employer_domain.append(domain)

        # Workplaces: the main one in the employer's municipality, more for big and national employers.
        if size >= 30:
            count = rng.choice((3, 4, 5))
        elif size >= 8:
            count = rng.choice((1, 2, 2, 3))
        else:
            count = rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        short = re.sub(r"\s+(AS|SA|SF|HF|RHF|KF|IKS)$", "", name.split(" (")[0])
        seen: set = set()
        parts = MUNICIPAL_PARTS if association == "ks" else HOSPITAL_PARTS if fixed_lf == LF_HEALTH else WORKPLACE_PARTS
        for w in range(count):
            if w == 0 or spread == "municipality":
                place = municipality
            elif spread == "country" and rng.random() < 0.6:
                place = _pick_municipality(rng, COUNTY_NAMES[_weighted(rng, county_cum)])[0]
            else:
                place = _pick_municipality(rng, MUNICIPALITY_COUNTY[municipality])[0]
            located = short if place in short else f"{short} {place}"
            wp_name = located
            while wp_name in seen:
                wp_name = f"{located}, {rng.choice(parts)}"
                if wp_name in seen:
                    wp_name = f"{located}, {len(seen) + 1}. {rng.choice(parts)}"
            seen.add(wp_name)
            county = MUNICIPALITY_COUNTY[place]
            workplace_id = len(ctx.workplace_rows) + 1
            ctx.workplace_rows.append(
                {
                    "id": workplace_id,
                    "employer_id": employer_id,
                    "name": wp_name[:150],
                    "municipality": place,
                    "county": county,
                    "org_unit_id": ctx.branch_for[(lf, county)],
                }
            )
            share = 0.5 if w == 0 and count > 1 else 1.0 / count
            ctx.workplace_weight.append(max(size * share * rng.uniform(0.6, 1.4), 0.05))


def _phase_members(ctx: _Context) -> None:
    """Members and their employments, in memory."""
    rng, today = ctx.rng, ctx.today
    n = ctx.members
    today_ord = today.toordinal()
    county_cum = _cumulative(COUNTY_WEIGHTS)
    municipality_cum = {county: _cumulative(m[4] for m in ms) for county, ms in COUNTIES.items()}
    lf_cum = _cumulative(a[3] for a in ASSOCIATIONS)
    categories = [c for c, _ in CATEGORY_WEIGHTS]
    category_of = rng.choices(categories, cum_weights=_cumulative(w for _, w in CATEGORY_WEIGHTS), k=n)
    age_tables = {c: _age_weights(c) for c in categories}
    mail_domains = [d for d, _ in PRIVATE_MAIL_DOMAINS]
    mail_cum = _cumulative(w for _, w in PRIVATE_MAIL_DOMAINS)
    pct_values = [p for p, _ in PART_TIME_PCTS]
    pct_cum = _cumulative(w for _, w in PART_TIME_PCTS)
    wp_rows = ctx.workplace_rows
    wp_cum = _cumulative(ctx.workplace_weight)
    n_wp = len(wp_rows)
    employers = ctx.employer_rows
    branch_for = ctx.branch_for
    unit_parent = {u["id"]: u["parent_id"] for u in ctx.units}
    unit_level = {u["id"]: u["level"] for u in ctx.units}
    rnd = rng.random
    randrange = rng.randrange
    fromordinal = dt.date.fromordinal
    ids_taken: set = set()
    two_years_ago = today_ord - 730
    thirty_years_ago = _add_years(today, -30).toordinal()
    min_birth = _add_years(today, -90).toordinal() + 1
    max_birth = _add_years(today, -16).toordinal()

    people: list[dict] = []
    for i in range(n):
        category = category_of[i]
        ages, cum = age_tables[category]
        age = ages[bisect.bisect(cum, rnd() * cum[-1])]
        birth_ord = today_ord - int(age * 365.2425) - randrange(365)
        birth_ord = min(max(birth_ord, min_birth), max_birth)
        birth = fromordinal(birth_ord)
        female = rnd() < 0.55
        national_id = _national_id(rng, birth, female, rnd() < 0.02, ids_taken)
        birth_date, gender = person_facts(national_id)
        sixteen = _add_years(birth, 16).toordinal()

        # Joined: some within the last two years, the rest over the last 30 years after their 16th birthday.
        lower = max(sixteen, thirty_years_ago)
        if rnd() < 0.135 or lower >= two_years_ago:
            joined = max(lower, two_years_ago) + randrange(max(1, today_ord - max(lower, two_years_ago)))
        else:
            joined = lower + randrange(max(1, two_years_ago - lower))
        left = None
        if rnd() < 0.065 and today_ord - joined > 60:
            if rnd() < 0.35:
                left = max(joined + 30, today_ord - 365) + randrange(
                    max(1, today_ord - max(joined + 30, today_ord - 365))
                )
            else:
                left = joined + 30 + randrange(max(1, today_ord - joined - 30))
        people.append(
            {
                "i": i,
                "category": category,
                "age": age,
                "birth": birth,
                "sixteen": sixteen,
                "joined": joined,
                "left": left,
                "national_id": national_id,
                "birth_date": birth_date,
                "gender": gender.name,
            }
        )

    # Jobs: the current one for working members, an ended earlier one for some.
    employment_rows = ctx.employment_rows
    current_wp: list[int | None] = [None] * n
    last_wp: list[int | None] = [None] * n
    for person in people:
        i, category = person["i"], person["category"]
        if n_wp == 0:
            break
        if category == "ordinary":
            has_job = rnd() < 0.96
        elif category == "apprentice":
            has_job = True
        elif category == "student":
            has_job = rnd() < 0.2
        elif category == "retired":
            has_job = rnd() < 0.06
        else:
            has_job = False
        adult = person["sixteen"] + (0 if category in ("apprentice", "student") else 365)
        start = None
        if has_job:
            wp = bisect.bisect(wp_cum, rnd() * wp_cum[-1])
            joined = person["joined"]
            if rnd() < 0.5:
                start = joined - 365 + randrange(730)
            else:
                start = adult + randrange(max(1, today_ord - adult))
            start = min(max(start, adult), today_ord - 1)
            if category == "apprentice":
                start = max(start, today_ord - 3 * 365)
            wp_row = wp_rows[wp]
            employer = employers[wp_row["employer_id"] - 1]
            if category == "ordinary" and rnd() < 0.15:
                pct = pct_values[bisect.bisect(pct_cum, rnd() * pct_cum[-1])]
            elif category == "student":
                pct = rng.choice((20, 30, 40, 50))
            elif category == "retired":
                pct = rng.choice((20, 40, 50))
            else:
                pct = 100
            on_deduction = (
                employer["has_deduction_agreement"] and category in ("ordinary", "apprentice") and rnd() < 0.9
            )
            end = person["left"] if person["left"] is not None and person["left"] > start else None
            employment_rows.append(
                {
                    "member_id": i + 1,
                    "employer_id": wp_row["employer_id"],
                    "workplace_id": wp_row["id"],
                    "start_date": fromordinal(start),
                    "end_date": fromordinal(end) if end else None,
                    "position_pct": pct,
                    "on_deduction": on_deduction,
                }
            )
            current_wp[i] = wp_row["id"]
            last_wp[i] = wp_row["id"]
        # An earlier job that has ended.
        if has_job:
            wants_earlier = rnd() < 0.145 and category == "ordinary"
            earlier_end = start - 1 - randrange(120) if start else None
        elif category == "retired":
            wants_earlier = rnd() < 0.6
            retire = _add_years(person["birth"], rng.randint(62, 67)).toordinal()
            earlier_end = min(retire, today_ord - 30)
        elif category == "unemployed":
            wants_earlier = rnd() < 0.7
            earlier_end = today_ord - 10 - randrange(700)
        else:
            wants_earlier = False
            earlier_end = None
        if wants_earlier and earlier_end is not None:
            earlier_start = earlier_end - 180 - randrange(3650)
            if earlier_start >= adult and earlier_end > earlier_start:
                wp = bisect.bisect(wp_cum, rnd() * wp_cum[-1])
                wp_row = wp_rows[wp]
                employment_rows.append(
                    {
                        "member_id": i + 1,
                        "employer_id": wp_row["employer_id"],
                        "workplace_id": wp_row["id"],
                        "start_date": fromordinal(earlier_start),
                        "end_date": fromordinal(earlier_end),
                        "position_pct": 100,
                        "on_deduction": bool(employers[wp_row["employer_id"] - 1]["has_deduction_agreement"]),
                    }
                )
                if last_wp[i] is None:
                    last_wp[i] = wp_row["id"]
    employment_rows.sort(key=lambda row: (row["member_id"], row["start_date"]))
    for k, row in enumerate(employment_rows, start=1):
        row["id"] = k

    # Member numbers grow with the join date; the earliest members have the short old numbers.
    order = sorted(range(n), key=lambda k: (people[k]["joined"], k))
    short_count = min(n, max(5, n // 1000))
    short_pool: list[str] = []
    three = [str(x) for x in range(750, 760)]
    four = [str(x) for x in range(7500, 7600)]
    rest_short = short_count - min(2, short_count) - min(3, max(0, short_count - 2))
    short_pool += sorted(rng.sample(three, min(2, short_count)), key=int)
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

    # Contact data, address and home unit.
    rows = ctx.member_rows
    for person in people:
        i, category = person["i"], person["category"]
        female = person["gender"] == "female"
        names = FEMALE_NAMES if female else MALE_NAMES
        first = names[randrange(len(names))]
        if rnd() < 0.08:
            second = names[randrange(len(names))]
            if second != first:
                first = f"{first}-{second}" if rnd() < 0.3 else f"{first} {second}"
        last = LAST_NAMES[randrange(len(LAST_NAMES))]
        if rnd() < 0.05:
            other = LAST_NAMES[randrange(len(LAST_NAMES))]
            if other != last:
                last = f"{other} {last}"
        wp_id = current_wp[i]
        wp_row = wp_rows[wp_id - 1] if wp_id else None
        if wp_row is not None and rnd() < 0.85:
            county = wp_row["county"]
        else:
            county = COUNTY_NAMES[bisect.bisect(county_cum, rnd() * county_cum[-1])]
        munis = COUNTIES[county]
        info = (
            munis[bisect.bisect(municipality_cum[county], rnd() * municipality_cum[county][-1])]
            if len(munis) > 1
            else munis[0]
        )
        local_first, local_last = _ascii(first), _ascii(last)
        email_private = None
        if rnd() < 0.8:
            pattern = rnd()
            domain = mail_domains[bisect.bisect(mail_cum, rnd() * mail_cum[-1])]
            if pattern < 0.45:
                local = f"{local_first}.{local_last}"
            elif pattern < 0.7:
                local = f"{local_first}.{local_last}{person['birth'].year % 100:02d}"
            elif pattern < 0.85:
                local = f"{local_first[0]}{local_last}{randrange(10, 100)}"
            else:
                local = f"{local_first}{local_last}{randrange(1, 1000)}"
            email_private = f"{local}@{domain}"
        email_work = None
        if wp_row is not None and rnd() < 0.5:
            email_work = f"{local_first}.{local_last}@{ctx.employer_domain[wp_row['employer_id'] - 1]}"
        if email_work and email_private:
            email_to = "private" if rnd() < 0.6 else "work"
        else:
            email_to = "private" if email_private else "work" if email_work else None
        mobile_private = _mobile(rng) if rnd() < 0.88 else None
        mobile_work = _mobile(rng) if wp_row is not None and rnd() < 0.25 else None
        if mobile_work and mobile_private:
            preferred = "private" if rnd() < 0.75 else "work"
        else:
            preferred = "private" if mobile_private else "work" if mobile_work else None

        if wp_row is not None:
            home_unit = wp_row["org_unit_id"]
        else:
            previous = wp_rows[last_wp[i] - 1] if last_wp[i] else None
            if previous is not None:
                home_unit = previous["org_unit_id"]
                if unit_level[home_unit] == "club":
                    home_unit = unit_parent[home_unit]
            else:
                lf = bisect.bisect(lf_cum, rnd() * lf_cum[-1])
                home_unit = branch_for[(lf, county)]
        apprentice = category == "apprentice"
        rows.append(
            {
                "id": i + 1,
                "member_no": member_no[i],
                "national_id": person["national_id"],
                "birth_date": person["birth_date"],
                "gender": person["gender"],
                "first_name": first,
                "last_name": last,
                "address": _street_address(rng),
                "postcode": _postcode(rng, info),
                "city": info[3],
                "email_work": email_work,
                "email_private": email_private,
                "email_to": email_to,
                "mobile_work": mobile_work,
                "mobile_private": mobile_private,
                "preferred_mobile": preferred,
                "magazine": rnd() < 0.9,
                "category": category,
                "home_unit_id": home_unit,
                "joined_on": fromordinal(person["joined"]),
                "left_on": fromordinal(person["left"]) if person["left"] else None,
                "travel_insurance": not apprentice and rnd() < 0.87,
                "contents_insurance": not apprentice and rnd() < 0.95,
                "user_id": None,
            }
        )
    ctx.member_current_wp = current_wp
    ctx.result.members = n
    ctx.result.active_members = sum(1 for row in rows if row["left_on"] is None or row["left_on"] >= ctx.today)


def _national_id(rng: random.Random, birth: dt.date, female: bool, d_number: bool, taken: set) -> str:
    """An 11-digit national id (or D-number) for the birth date and gender, with both MOD11 digits valid."""
    day = birth.day + (40 if d_number else 0)
    head = f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"
    low = 500 if birth.year >= 2000 else 0
    male_digit = 0 if female else 1
    while True:
        individual = low + 2 * rng.randrange(250) + male_digit
        digits = head + f"{individual:03d}"
        k1 = (11 - _mod11(digits, (3, 7, 6, 1, 8, 9, 4, 5, 2))) % 11
        if k1 == 10:
            continue
        digits += str(k1)
        k2 = (11 - _mod11(digits, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))) % 11
        if k2 == 10:
            continue
        number = digits + str(k2)
        if number not in taken:
            taken.add(number)
            return number


def _phase_positions(ctx: _Context) -> None:
    """Officers of every unit, workplace trustees and some ended positions as history."""
    rng, today = ctx.rng, ctx.today
    members = ctx.member_rows
    if not members:
        return
    today_ord = today.toordinal()
    unit_by_id = {u["id"]: u for u in ctx.units}
    parent = {u["id"]: u["parent_id"] for u in ctx.units}

    def subtree(unit_id: int) -> set:
        out, stack = set(), [unit_id]
        while stack:
            current = stack.pop()
            out.add(current)
            stack.extend(ctx.unit_children.get(current, ()))
        return out

    subtrees = {u["id"]: subtree(u["id"]) for u in ctx.units}
    # Officers are active ordinary members, and now and then a retired veteran.
    eligible = [
        m["id"]
        for m in members
        if m["left_on"] is None
        and (today - m["birth_date"]).days >= 20 * 365
        and (m["category"] == "ordinary" or (m["category"] == "retired" and rng.random() < 0.15))
    ]
    eligible_set = set(eligible)
    # Eligible members per unit subtree: each member counts for its home unit and every unit above it.
    pools: dict[int, list[int]] = {u["id"]: [] for u in ctx.units}
    for member_id in eligible:
        unit = members[member_id - 1]["home_unit_id"]
        while unit is not None:
            pools[unit].append(member_id)
            unit = parent[unit]
    movable = [
        m
        for m in eligible
        if ctx.member_current_wp[m - 1] is None and unit_by_id[members[m - 1]["home_unit_id"]]["level"] == "branch"
    ]
    rng.shuffle(movable)
    holding: dict[int, int] = {}  # member id -> number of current positions

    def pick(unit_id: int, exclude: tuple = ()) -> int | None:
        pool = pools[unit_id]
        allowed = subtrees[unit_id]
        for attempt in range(40):
            if not pool:
                break
            candidate = pool[rng.randrange(len(pool))]
            if candidate in exclude or members[candidate - 1]["home_unit_id"] not in allowed:
                continue
            if holding.get(candidate, 0) == 0 or attempt >= 30:
                return candidate
        # Nobody free in the subtree: move a member without a job here (their home unit is a free choice).
        while movable:
            candidate = movable.pop()
            if holding.get(candidate, 0) == 0 and candidate not in exclude:
                members[candidate - 1]["home_unit_id"] = unit_id
                pools[unit_id].append(candidate)
                return candidate
        for candidate in pool:
            if candidate not in exclude and members[candidate - 1]["home_unit_id"] in allowed:
                return candidate
        fallback = [m for m in (eligible or [m["id"] for m in members]) if m not in exclude]
        return fallback[rng.randrange(len(fallback))] if fallback else None

    def start_for(member_id: int, earliest: int) -> int:
        joined = members[member_id - 1]["joined_on"].toordinal()
        return min(max(joined, earliest, today_ord - 30 - rng.randrange(6 * 365)), today_ord)

    def add(member_id: int, kind: str, start: int, end: int | None, unit_id=None, workplace_id=None) -> dict:
        row = {
            "member_id": member_id,
            "type": kind,
            "org_unit_id": unit_id,
            "workplace_id": workplace_id,
            "start_date": dt.date.fromordinal(start),
            "end_date": dt.date.fromordinal(end) if end else None,
        }
        ctx.position_rows.append(row)
        if end is None:
            holding[member_id] = holding.get(member_id, 0) + 1
        return row

    def history(unit_id, workplace_id, kind, current_start: int, pool: list[int]) -> None:
        if not pool:
            return
        previous = pool[rng.randrange(len(pool))]
        end = current_start - 1
        start = max(members[previous - 1]["joined_on"].toordinal(), end - 365 * rng.randint(2, 8))
        if start < end:
            add(previous, kind, start, end, unit_id, workplace_id)

    # Root first (its officers hold nothing else), then associations, branches and clubs.
    order = [1] + ctx.lf_ids + ctx.branch_ids + ctx.club_ids
    current: dict[tuple[int, str], dict] = {}
    for unit_id in order:
        kinds = ("leader", "treasurer") if unit_id == 1 else ("leader", "treasurer", "member_data_admin")
        chosen: list[int] = []
        for kind in kinds:
            holder = pick(unit_id, tuple(chosen))
            if holder is None:
                continue
            chosen.append(holder)
            start = start_for(holder, today_ord - 6 * 365)
            current[(unit_id, kind)] = add(holder, kind, start, None, unit_id=unit_id)
            if kind != "member_data_admin" and rng.random() < 0.35:
                history(unit_id, None, kind, start, pools[unit_id])

    # Workplace trustees at about one in ten workplaces.
    workers: dict[int, list[int]] = {}
    for member_index, wp_id in enumerate(ctx.member_current_wp):
        member_id = member_index + 1
        if wp_id is not None and member_id in eligible_set and members[member_index]["category"] == "ordinary":
            workers.setdefault(wp_id, []).append(member_id)
    staffed = sorted(workers)
    trustee_count = min(len(staffed), max(1, round(len(ctx.workplace_rows) * 0.10)))
    job_start = {r["member_id"]: r["start_date"].toordinal() for r in ctx.employment_rows if r["end_date"] is None}
    trustee_workplaces = sorted(rng.sample(staffed, trustee_count)) if trustee_count else []
    ctx.demo["trustees"] = []
    for wp_id in trustee_workplaces:
        pool = workers[wp_id]
        free = [m for m in pool if holding.get(m, 0) == 0]
        holder = (free or pool)[rng.randrange(len(free or pool))]
        start = start_for(holder, job_start.get(holder, 0))
        row = add(holder, "workplace_trustee", start, None, workplace_id=wp_id)
        ctx.demo["trustees"].append(row)
        if rng.random() < 0.2:
            history(None, wp_id, "workplace_trustee", start, pool)

    # The multi-role demo officer: leader of a club and treasurer of a branch elsewhere.
    ctx.demo["current"] = current
    multi = None
    for club_id in ctx.club_ids:
        club_leader = current.get((club_id, "leader"))
        if club_leader is None or holding.get(club_leader["member_id"], 0) != 1:
            continue
        branches = [b for b in ctx.branch_ids if b != parent[club_id] and (b, "treasurer") in current]
        if not branches:
            continue
        branch_id = branches[rng.randrange(len(branches))]
        old = current[(branch_id, "treasurer")]
        handover = today_ord - 30
        if old["start_date"].toordinal() < handover:
            old["end_date"] = dt.date.fromordinal(handover - 1)
        else:
            ctx.position_rows.remove(old)
        holding[old["member_id"]] -= 1
        member_id = club_leader["member_id"]
        current[(branch_id, "treasurer")] = add(
            member_id,
            "treasurer",
            max(handover, members[member_id - 1]["joined_on"].toordinal()),
            None,
            unit_id=branch_id,
        )
        multi = (member_id, club_id, branch_id)
        break
    ctx.demo["multi"] = multi
    ctx.demo["holding"] = holding

    ctx.position_rows.sort(key=lambda row: (row["start_date"], row["type"], row["member_id"]))
    for k, row in enumerate(ctx.position_rows, start=1):
        row["id"] = k


def _phase_users(ctx: _Context) -> None:
    """Logins: office and analyst, every current officer, the demo member and the deduction contacts."""
    rng, today = ctx.rng, ctx.today
    existing = db.session.execute(text("SELECT id, username, email FROM ab_user")).all()
    ctx.user_offset = max((row[0] for row in existing), default=0)
    ctx.used_usernames = {row[1] for row in existing}
    ctx.used_emails = {(row[2] or "").lower() for row in existing}
    config = current_app.config
    password = generate_password_hash(
        config["DEMO_PASSWORD"], method=config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"), salt_length=16
    )
    stamp = dt.datetime.combine(today, dt.time(6, 0))
    role_ids = dict(db.session.execute(text("SELECT name, id FROM ab_role")).all())

    def add_user(
        username: str, first: str, last: str, email: str | None, fallback_email: str, active: bool = True
    ) -> int:
        if username in ctx.used_usernames:
            raise SeedRefused(f"a user named {username!r} exists already; use --reset")
        candidate = (email or "").lower()
        if not candidate or candidate in ctx.used_emails:
            candidate = fallback_email
        if candidate in ctx.used_emails:
            raise SeedRefused(f"a user with e-mail {candidate!r} exists already; use --reset")
        user_id = ctx.user_offset + len(ctx.user_rows) + 1
        ctx.user_rows.append(
            {
                "id": user_id,
                "first_name": first[:64],
                "last_name": last[:64],
                "username": username,
                "password": password,
                "active": active,
                "email": candidate,
                "created_on": stamp,
                "changed_on": stamp,
                "login_count": 0,
                "fail_login_count": 0,
            }
        )
        ctx.used_usernames.add(username)
        ctx.used_emails.add(candidate)
        return user_id

    office_id = add_user("kontor", "Forbundskontoret", "Demo", "kontor@forbundet.example", "kontor@brukere.forbundet.example")
    analyst_id = add_user(
        "analytiker", "Analytiker", "Demo", "analytiker@forbundet.example", "analytiker@brukere.forbundet.example"
    )
    ctx.user_role_rows += [
        {"user_id": office_id, "role_id": role_ids["office"]},
        {"user_id": analyst_id, "role_id": role_ids["analyst"]},
    ]
    ctx.demo["office_user"] = office_id

    members = ctx.member_rows
    holding = ctx.demo.get("holding", {})
    # The demo member: an active ordinary member with a job on deduction and no positions.
    demo_member = None
    if members:
        on_deduction = {r["member_id"] for r in ctx.employment_rows if r["end_date"] is None and r["on_deduction"]}
        candidates = [
            m["id"]
            for m in members
            if m["category"] == "ordinary"
            and m["left_on"] is None
            and holding.get(m["id"], 0) == 0
            and m["id"] in on_deduction
        ]
        if not candidates:
            candidates = [m["id"] for m in members if m["left_on"] is None and holding.get(m["id"], 0) == 0]
        demo_member = candidates[rng.randrange(len(candidates))] if candidates else None
    ctx.demo["member"] = demo_member

    officer_ids = sorted({member_id for member_id, count in holding.items() if count > 0})
    demo_people = set(_demo_member_ids(ctx)) | ({demo_member} if demo_member else set())
    for member_id in sorted(set(officer_ids) | demo_people):
        member = members[member_id - 1]
        if member_id in demo_people and not (member["email_private"] or member["email_work"]):
            member["email_private"] = (
                f"{_ascii(member['first_name'])}.{_ascii(member['last_name'])}{member['member_no'][-3:]}@gmail.com"
            )
            member["email_to"] = "private"
        chosen = member["email_work"] if member["email_to"] == "work" else member["email_private"]
        member["user_id"] = add_user(
            member["member_no"],
            member["first_name"],
            member["last_name"],
            chosen,
            f"{member['member_no']}@brukere.forbundet.example",
        )

    _build_contacts(ctx, add_user, office_id)
    user_table, user_role_table = _user_tables()
    _insert(user_table, ctx.user_rows)
    _insert(user_role_table, ctx.user_role_rows)
    ctx.result.users = len(ctx.user_rows)


def _demo_member_ids(ctx: _Context) -> list[int]:
    """Members who get a demo login as officers (root leader, one treasurer, one association admin, trustee, multi-role)."""
    current = ctx.demo.get("current", {})
    holding = ctx.demo.get("holding", {})
    picks: dict[str, tuple[int, str]] = {}
    if (1, "leader") in current:
        picks["leader"] = (current[(1, "leader")]["member_id"], "NTF")
    multi = ctx.demo.get("multi")
    for branch_id in ctx.branch_ids:
        row = current.get((branch_id, "treasurer"))
        if row and holding.get(row["member_id"]) == 1 and (not multi or branch_id != multi[2]):
            picks["treasurer"] = (row["member_id"], ctx.units[branch_id - 1]["code"])
            break
    for lf_id in ctx.lf_ids:
        row = current.get((lf_id, "member_data_admin"))
        if row and holding.get(row["member_id"]) == 1:
            picks["member_data_admin"] = (row["member_id"], ctx.units[lf_id - 1]["code"])
            break
    trustees = ctx.demo.get("trustees", [])
    for row in trustees:
        if holding.get(row["member_id"]) == 1:
            picks["workplace_trustee"] = (row["member_id"], str(row["workplace_id"]))
            break
    else:
        if trustees:
            picks["workplace_trustee"] = (trustees[0]["member_id"], str(trustees[0]["workplace_id"]))
    # Fall back to any holder when nobody holds exactly one position (tiny datasets).
    for (unit_id, kind), row in current.items():
        if kind in ("treasurer", "member_data_admin") and kind not in picks and unit_id != 1:
            picks[kind] = (row["member_id"], ctx.units[unit_id - 1]["code"])
    if multi:
        picks["multi"] = (multi[0], ctx.units[multi[1] - 1]["code"])
    ctx.demo["picks"] = picks
    return [member_id for member_id, _scope in picks.values()]


def _build_contacts(ctx: _Context, add_user, office_id: int) -> None:
    """Deduction contacts: 1-2 per employer with an agreement, some for several employers, some handed over."""
    rng, today = ctx.rng, ctx.today
    today_ord = today.toordinal()
    with_agreement = [e["id"] for e in ctx.employer_rows if e["has_deduction_agreement"]]
    serial = [20000000]

    def new_person(employer_id: int, active: bool = True) -> int:
        female = rng.random() < 0.6
        first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        last = rng.choice(LAST_NAMES)
        serial[0] += 1
        while str(serial[0]) in ctx.used_usernames:
            serial[0] += 1
        username = str(serial[0])
        domain = ctx.employer_domain[employer_id - 1]
        email = f"{_ascii(first)}.{_ascii(last)}@{domain}"
        if email in ctx.used_emails:
            email = f"{_ascii(first)}.{_ascii(last)}{serial[0] % 1000}@{domain}"
        return add_user(username, first, last, email, f"{username}@brukere.forbundet.example", active)

    links: dict[int, list[int]] = {}  # user id -> employer ids
    rows = ctx.contact_rows

    def link(user_id: int, employer_id: int, start: int, end: int | None = None) -> None:
        rows.append(
            {
                "user_id": user_id,
                "employer_id": employer_id,
                "phone": _mobile(rng),
                "start_date": dt.date.fromordinal(start),
                "end_date": dt.date.fromordinal(end) if end else None,
                "added_by_id": office_id,
            }
        )
        if end is None:
            links.setdefault(user_id, []).append(employer_id)

    people: list[int] = []
    for employer_id in with_agreement:
        count = 2 if rng.random() < 0.3 else 1
        starts = []
        for _ in range(count):
            user_id = new_person(employer_id)
            start = today_ord - 30 - rng.randrange(8 * 365)
            starts.append(start)
            link(user_id, employer_id, start)
            people.append(user_id)
        # A contact who handed over to the current one, kept as history.
        if rng.random() < 0.08:
            handed_over = min(starts) - 1
            earlier = handed_over - 365 * rng.randint(1, 6)
            link(new_person(employer_id, active=False), employer_id, earlier, handed_over)
    # About one in ten contacts (payroll offices, accounting firms) also serve 1-2 other employers.
    if len(with_agreement) > 1:
        for user_id in people:
            if rng.random() >= 0.10:
                continue
            own = links[user_id]
            others = [e for e in rng.sample(with_agreement, min(len(with_agreement), 4)) if e not in own]
            for employer_id in others[: rng.randint(1, 2)]:
                link(user_id, employer_id, today_ord - 30 - rng.randrange(3 * 365))
        if not any(len(v) >= 2 for v in links.values()) and people:
            user_id = people[0]
            other = next(e for e in with_agreement if e not in links[user_id])
            link(user_id, other, today_ord - 100)
    # The demo login: a contact for several employers (else any), the one whose employers have the most members
    # on deduction, so that the portal shows a full month table; its scope is the largest of its employers.
    on_deduction = Counter(r["employer_id"] for r in ctx.employment_rows if r["end_date"] is None and r["on_deduction"])
    multi = [user_id for user_id in people if len(links.get(user_id, [])) >= 2]
    candidates = multi or people
    if candidates:
        user_id = max(candidates, key=lambda u: (sum(on_deduction[e] for e in links[u]), -u))
        largest = max(links[user_id], key=lambda e: (on_deduction[e], -e))
        ctx.demo["contact"] = (user_id, ctx.employer_rows[largest - 1]["customer_no"])
    rows.sort(key=lambda row: (row["employer_id"], row["start_date"], row["user_id"]))
    for k, row in enumerate(rows, start=1):
        row["id"] = k


def _phase_people(ctx: _Context) -> None:
    """Write members, employments, positions and deduction contacts."""
    _insert(Member.__table__, ctx.member_rows)
    _insert(Employment.__table__, ctx.employment_rows)
    _insert(Position.__table__, ctx.position_rows)
    _insert(DeductionContact.__table__, ctx.contact_rows)
    ctx.result.employments = len(ctx.employment_rows)
    ctx.result.positions = len(ctx.position_rows)
    ctx.result.deduction_contacts = len(ctx.contact_rows)


def _phase_demo_accounts(ctx: _Context) -> None:
    """One demo login per role, plus an officer with several roles."""
    members = ctx.member_rows
    username_of = {row["id"]: row["username"] for row in ctx.user_rows}
    rows = ctx.demo_rows
    rows.append({"username": "kontor", "role": "office", "scope": "", "note": "Union office: everything"})
    rows.append(
        {"username": "analytiker", "role": "analyst", "scope": "", "note": "Aggregated reports, no national ids"}
    )
    picks = ctx.demo.get("picks", {})
    notes = {
        "leader": "Leader of {scope} (the union, root of the tree)",
        "treasurer": "Treasurer of {scope} and the units below it",
        "member_data_admin": "Member-data admin of {scope} and the units below it",
        "workplace_trustee": "Workplace trustee; scope is the workplace id",
    }
    for role in ("leader", "treasurer", "member_data_admin", "workplace_trustee"):
        if role in picks:
            member_id, scope = picks[role]
            rows.append(
                {
                    "username": members[member_id - 1]["member_no"],
                    "role": role,
                    "scope": scope,
                    "note": notes[role].format(scope=scope),
                }
            )
    if "contact" in ctx.demo:
        user_id, customer_no = ctx.demo["contact"]
        rows.append(
            {
                "username": username_of[user_id],
                "role": "deduction_contact",
                "scope": customer_no,
                "note": "Deduction contact for several employers; scope is the customer number of the largest",
            }
        )
    if ctx.demo.get("member"):
        member = members[ctx.demo["member"] - 1]
        rows.append(
            {
                "username": member["member_no"],
                "role": "member",
                "scope": member["member_no"],
                "note": "Ordinary member without positions: own page only",
            }
        )
    multi = ctx.demo.get("multi")
    if multi:
        member_id, club_id, branch_id = multi
        rows.append(
            {
                "username": members[member_id - 1]["member_no"],
                "role": "leader",
                "scope": ctx.units[club_id - 1]["code"],
                "note": (
                    f"Several roles: leader of {ctx.units[club_id - 1]['code']} and treasurer of "
                    f"{ctx.units[branch_id - 1]['code']}; chooses a role after login"
                ),
            }
        )
    for k, row in enumerate(rows, start=1):
        row["id"] = k
    _insert(DemoAccount.__table__, rows)
    ctx.result.demo_accounts = len(rows)


def _phase_sequences(ctx: _Context) -> None:
    """PostgreSQL: move the id sequences past the ids written here."""
    from flask_appbuilder import Model

    from webapp.services.database import reset_sequences

    reset_sequences(Model.metadata.tables[name] for name in (*OUR_TABLES, "ab_user"))


PHASES = (
    "_phase_reset",
    "_phase_organisation",
    "_phase_members",
    "_phase_positions",
    "_phase_users",
    "_phase_people",
    "_phase_demo_accounts",
    "_phase_sequences",
)
PHASE_LABELS = {
    "_phase_reset": "reset",
    "_phase_organisation": "org units and employers",
    "_phase_members": "members",
    "_phase_positions": "positions",
    "_phase_users": "users and contacts",
    "_phase_people": "writing members",
    "_phase_demo_accounts": "demo logins",
    "_phase_sequences": "sequences",
}


def _user_tables():
    from flask_appbuilder.security.sqla.models import User, assoc_user_role

    return User.__table__, assoc_user_role
