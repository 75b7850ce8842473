"""Demo data for the membership life cycle: the data its rules read, and some history and a queue to show.

- the postcode register for every code of the municipalities in seed/data/geography.json (place = the post town);
- the LO member unions of seed/data/lo_unions.json (not the demo union itself, the configured UNION_NAME);
- the membership terms and the privacy statement (seed/data/policies/, the union's name put in);
- home-unit rules: every county → the branch most of the county's workplaces belong to (a county without workplaces:
  the branch of the biggest national association covering it), and, for a handful of employers whose workplaces
  lie in several units, the employer → the branch most of its workplaces belong to;
- the history the statistics read: every former member gets a leave reason (left at the end of the month, as the
  rules end a membership), those who transferred an outgoing transfer to an LO union in that month; some who joined
  in the last 12 months came from an LO union (incoming transfer, seniority kept);
- four applications waiting for the office: a plain one, one from an LO union, one from a current member (a
  duplicate) and one from a former member (a re-join).

Run after the generator (like the regions), deterministic for the seed and the day, set-based; a second run adds
nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import bindparam, select, update

from seed.context import insert_rows
from seed.identifiers import NationalIds, mobile, national_id
from seed.reference import (
    AREAS,
    ASSOCIATIONS,
    COUNTIES,
    COUNTY_NAMES,
    DATA_DIRECTORY,
    FEMALE_NAMES,
    LAST_NAMES,
    MALE_NAMES,
    STREETS,
    load,
)
from webapp.extensions import db
from webapp.models import (
    HomeUnitRule,
    LoUnion,
    Member,
    MembershipApplication,
    MembershipTransfer,
    OrgUnit,
    PolicyText,
    Postcode,
    Workplace,
)
from webapp.models.choices import (
    EnrollmentStatus,
    HomeUnitRuleKind,
    LeaveReason,
    MemberCategory,
    PolicyKind,
    TransferDirection,
    WorkSituation,
)
from webapp.services.periods import effective_end

# How the former members' reasons spread (weights); those who transferred get an outgoing transfer.
LEAVE_REASON_WEIGHTS = (
    (LeaveReason.retired, 25), (LeaveReason.new_job, 22), (LeaveReason.transferred, 12),
    (LeaveReason.financial, 12), (LeaveReason.dissatisfied, 9), (LeaveReason.other, 8),
    (LeaveReason.resigned, 7), (LeaveReason.deceased, 5),
)
# The share of last year's new members who came from another LO union.
TRANSFER_IN_SHARE = 0.1
# Employers given a rule of their own.
EMPLOYER_RULES = 6
POLICY_VERSION = "2024-1"


@dataclass
class LifecycleSeedResult:
    postcodes: int = 0
    lo_unions: int = 0
    policy_texts: int = 0
    county_rules: int = 0
    employer_rules: int = 0
    leave_reasons: int = 0
    transfers_in: int = 0
    transfers_out: int = 0
    applications: int = 0
    skipped: str = ""

    def summary(self) -> str:
        if self.skipped:
            return f"life cycle: {self.skipped}"
        return (f"life cycle: {self.postcodes} postcodes, {self.lo_unions} LO unions, {self.policy_texts} policy "
                f"texts, {self.county_rules} county and {self.employer_rules} employer home-unit rules, "
                f"{self.leave_reasons} leave reasons, {self.transfers_in} transfers in and {self.transfers_out} out, "
                f"{self.applications} applications waiting")


def seed_lifecycle(seed: int = 1, today: dt.date | None = None) -> LifecycleSeedResult:
    today = today or dt.date.today()
    result = LifecycleSeedResult()
    if db.session.scalar(select(LoUnion.id).limit(1)) is not None:
        result.skipped = "LO unions exist already, nothing added"
        return result
    rng = random.Random(f"lifecycle-{seed}")
    union_name = current_app.config.get("UNION_NAME") or "Norsk Tjenesteforbund"
    _postcodes(result)
    unions = _lo_unions(union_name, result)
    terms, privacy = _policy_texts(union_name, today, result)
    _home_unit_rules(result)
    if unions:
        _leavers(rng, unions, result)
        _transfers_in(rng, today, unions, result)
    _applications(rng, today, unions, terms, privacy, result)
    db.session.commit()
    return result


def _postcodes(result: LifecycleSeedResult) -> None:
    """Every postcode of the geography's municipalities (the first municipality of a shared code keeps it)."""
    taken = set(db.session.scalars(select(Postcode.code)))
    rows: dict[str, dict] = {}
    for county, municipalities in COUNTIES.items():
        for municipality in municipalities:
            for number in range(municipality.first_postcode, municipality.last_postcode + 1):
                code = f"{number:04d}"
                if code not in taken:
                    rows.setdefault(code, {"code": code, "place": municipality.post_town,
                                           "municipality": municipality.name, "county": county})
    insert_rows(Postcode.__table__, sorted(rows.values(), key=lambda row: row["code"]))
    result.postcodes = len(rows)


def _lo_unions(union_name: str, result: LifecycleSeedResult) -> list[LoUnion]:
    own = union_name.strip().casefold()
    unions = [LoUnion(code=entry["code"], name=entry["name"], active=True)
              for entry in load("lo_unions.json")["unions"] if entry["name"].strip().casefold() != own]
    db.session.add_all(unions)
    db.session.flush()
    result.lo_unions = len(unions)
    return unions


def policy_body(name: str, union_name: str) -> str:
    """A policy text of seed/data/policies/ with the union's name put in."""
    text = (DATA_DIRECTORY / "policies" / name).read_text(encoding="utf-8")
    return text.replace("{union}", union_name).strip()


def _policy_texts(union_name: str, today: dt.date, result: LifecycleSeedResult) -> tuple[PolicyText, PolicyText]:
    published = dt.date(today.year - 1, 1, 1)
    terms = PolicyText(kind=PolicyKind.terms, version=POLICY_VERSION, published_on=published,
                       title=f"Vilkår for medlemskap i {union_name}", body=policy_body("terms.txt", union_name))
    privacy = PolicyText(kind=PolicyKind.privacy, version=POLICY_VERSION, published_on=published,
                         title=f"Personvernerklæring for {union_name}", body=policy_body("privacy.txt", union_name))
    db.session.add_all([terms, privacy])
    db.session.flush()
    result.policy_texts = 2
    return terms, privacy


def _most_common(counter: Counter) -> int:
    return min(counter, key=lambda unit_id: (-counter[unit_id], unit_id))


def _home_unit_rules(result: LifecycleSeedResult) -> None:
    units = {row.id: row for row in db.session.execute(select(OrgUnit.id, OrgUnit.level, OrgUnit.parent_id,
                                                              OrgUnit.code))}

    def branch_of(unit_id: int) -> int | None:
        unit = units.get(unit_id)
        if unit is not None and unit.level.name == "club":
            unit = units.get(unit.parent_id)
        return unit.id if unit is not None and unit.level.name == "branch" else None

    by_county: dict[str, Counter] = defaultdict(Counter)
    by_employer: dict[int, Counter] = defaultdict(Counter)
    employer_units: dict[int, set] = defaultdict(set)
    for workplace in db.session.execute(select(Workplace.employer_id, Workplace.county, Workplace.org_unit_id)
                                        .order_by(Workplace.id)):
        branch = branch_of(workplace.org_unit_id)
        employer_units[workplace.employer_id].add(workplace.org_unit_id)
        if branch is not None:
            by_county[workplace.county][branch] += 1
            by_employer[workplace.employer_id][branch] += 1
    branch_by_code = {unit.code: unit.id for unit in units.values() if unit.level.name == "branch"}
    rules = []
    for county in COUNTY_NAMES:
        branch = _most_common(by_county[county]) if by_county[county] else _covering_branch(county, branch_by_code)
        if branch is not None:
            rules.append(HomeUnitRule(kind=HomeUnitRuleKind.county, county=county, org_unit_id=branch))
    result.county_rules = len(rules)
    spread = sorted((employer for employer, seen in employer_units.items() if len(seen) > 1 and by_employer[employer]),
                    key=lambda employer: (-sum(by_employer[employer].values()), employer))
    for employer in spread[:EMPLOYER_RULES]:
        rules.append(HomeUnitRule(kind=HomeUnitRuleKind.employer, employer_id=employer,
                                  org_unit_id=_most_common(by_employer[employer])))
    result.employer_rules = len(rules) - result.county_rules
    db.session.add_all(rules)
    db.session.flush()


def _covering_branch(county: str, branch_by_code: dict[str, int]) -> int | None:
    """For a county without workplaces: the branch covering it of the association most members without a job
    belong to (the generator's branch codes AV<association><branch>)."""
    ranked = sorted(range(len(ASSOCIATIONS)), key=lambda lf: (-ASSOCIATIONS[lf].weight_without_job, lf))
    for lf in ranked:
        for b, area in enumerate(ASSOCIATIONS[lf].branch_areas, start=1):
            if county in AREAS[area] and f"AV{lf + 1:02d}{b:02d}" in branch_by_code:
                return branch_by_code[f"AV{lf + 1:02d}{b:02d}"]
    return None


def _reference(union: LoUnion, day: dt.date, number: int) -> str:
    return f"{union.code}-{day:%Y}-{number:04d}"


def _leavers(rng: random.Random, unions: list[LoUnion], result: LifecycleSeedResult) -> None:
    """A reason for every former member without one, the leave at the end of its month; the transfers out."""
    reasons, weights = zip(*LEAVE_REASON_WEIGHTS, strict=True)
    leavers = db.session.execute(select(Member.id, Member.left_on).where(
        Member.left_on.is_not(None), Member.leave_reason.is_(None)).order_by(Member.id)).all()
    changes, transfers = [], []
    for member_id, left_on in leavers:
        reason = rng.choices(reasons, weights)[0]
        changes.append({"b_id": member_id, "left_on": effective_end(left_on), "leave_reason": reason})
        if reason == LeaveReason.transferred:
            union = rng.choice(unions)
            transfers.append({"member_id": member_id, "direction": TransferDirection.outgoing,
                              "lo_union_id": union.id, "transfer_on": left_on, "other_union_since": None,
                              "reference": _reference(union, left_on, len(transfers) + 1), "application_id": None,
                              "registered_at": dt.datetime.combine(left_on, dt.time(10)), "registered_by_id": None})
    if changes:
        db.session.execute(update(Member.__table__).where(Member.__table__.c.id == bindparam("b_id")), changes)
    insert_rows(MembershipTransfer.__table__, transfers)
    result.leave_reasons, result.transfers_out = len(changes), len(transfers)


def _transfers_in(rng: random.Random, today: dt.date, unions: list[LoUnion], result: LifecycleSeedResult) -> None:
    """Some of last year's new members came from an LO union and keep the seniority they had there."""
    joined = db.session.execute(select(Member.id, Member.joined_on).where(
        Member.joined_on > today - dt.timedelta(days=365), Member.joined_on <= today, Member.left_on.is_(None))
        .order_by(Member.id)).all()
    seniority, transfers = [], []
    for member_id, joined_on in joined:
        if rng.random() >= TRANSFER_IN_SHARE:
            continue
        union = rng.choice(unions)
        since = joined_on - dt.timedelta(days=365 * rng.randint(1, 15) + rng.randrange(365))
        seniority.append({"b_id": member_id, "seniority_on": since})
        transfers.append({"member_id": member_id, "direction": TransferDirection.incoming, "lo_union_id": union.id,
                          "transfer_on": joined_on, "other_union_since": since,
                          "reference": _reference(union, joined_on, len(transfers) + 1), "application_id": None,
                          "registered_at": dt.datetime.combine(joined_on, dt.time(9)), "registered_by_id": None})
    if seniority:
        db.session.execute(update(Member.__table__).where(Member.__table__.c.id == bindparam("b_id")), seniority)
    insert_rows(MembershipTransfer.__table__, transfers)
    result.transfers_in = len(transfers)


def _ascii(text: str) -> str:
    folded = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return "".join(c for c in unicodedata.normalize("NFKD", folded) if c.isascii() and (c.isalnum() or c in ".-"))


def _applicant(rng: random.Random, taken: NationalIds, today: dt.date) -> dict:
    """A new person: name, national id nobody in the register has, address with a postcode of the register."""
    female = rng.random() < 0.55
    first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    last = rng.choice(LAST_NAMES)
    birth = today - dt.timedelta(days=365 * rng.randint(20, 60) + rng.randrange(365))
    municipality = rng.choice([m for ms in COUNTIES.values() for m in ms])
    postcode = f"{rng.randint(municipality.first_postcode, municipality.last_postcode):04d}"
    return {"first_name": first, "last_name": last, "national_id": national_id(rng, birth, female, False, taken),
            "address": f"{rng.choice(STREETS)} {rng.randint(1, 120)}", "postcode": postcode,
            "city": municipality.post_town, "email": f"{_ascii(first)}.{_ascii(last)}@example.no",
            "mobile": mobile(rng)}


def _former(member_row, rng: random.Random) -> dict:
    return {"first_name": member_row.first_name, "last_name": member_row.last_name,
            "national_id": member_row.national_id, "address": member_row.address or f"{rng.choice(STREETS)} 1",
            "postcode": member_row.postcode or "0150", "city": member_row.city or "Oslo",
            "email": f"{_ascii(member_row.first_name)}.{_ascii(member_row.last_name)}.ny@example.no",
            "mobile": mobile(rng), "existing_member_id": member_row.id}


def _applications(rng: random.Random, today: dt.date, unions: list[LoUnion], terms: PolicyText,
                  privacy: PolicyText, result: LifecycleSeedResult) -> None:
    taken = NationalIds(db.session.scalars(select(Member.national_id)))
    workplaces = db.session.execute(select(Workplace.id, Workplace.employer_id).order_by(Workplace.id)).all()
    columns = (Member.id, Member.first_name, Member.last_name, Member.national_id, Member.address, Member.postcode,
               Member.city)
    current = db.session.execute(select(*columns).where(Member.left_on.is_(None), Member.anonymised_at.is_(None))
                                 .order_by(Member.id).limit(50)).all()
    former = db.session.execute(select(*columns).where(Member.left_on < today, Member.anonymised_at.is_(None))
                                .order_by(Member.id).limit(50)).all()
    people = [_applicant(rng, taken, today), _applicant(rng, taken, today)]
    if current:
        people.append(_former(rng.choice(current), rng))
    if former:
        people.append(_former(rng.choice(former), rng))
    for k, person in enumerate(people):
        workplace = rng.choice(workplaces) if workplaces else None
        from_union = rng.choice(unions) if k == 1 and unions else None
        db.session.add(MembershipApplication(
            status=EnrollmentStatus.pending,
            submitted_at=dt.datetime.combine(today - dt.timedelta(days=len(people) - k), dt.time(8 + 2 * k, 15)),
            work_situation=WorkSituation.employed if workplace else WorkSituation.not_employed,
            employer_id=workplace.employer_id if workplace else None,
            workplace_id=workplace.id if workplace else None,
            position_pct=rng.choice((100, 100, 80, 60)) if workplace else None,
            category=MemberCategory.ordinary, travel_insurance=rng.random() < 0.9, magazine=True,
            from_lo_union_id=from_union.id if from_union else None,
            from_union_since=today - dt.timedelta(days=365 * 6 + 40) if from_union else None,
            terms_id=terms.id, privacy_id=privacy.id, **person,
        ))
    db.session.flush()
    result.applications = len(people)
