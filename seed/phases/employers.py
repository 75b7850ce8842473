"""The employers (named from the catalogue or from templates) and their workplaces, in memory."""

from __future__ import annotations

import re
from typing import NamedTuple

from seed.context import SeedContext
from seed.identifiers import org_number
from seed.reference import (
    COUNTY_NAMES,
    COUNTY_WEIGHTS,
    EMPLOYER_KINDS,
    HOSPITAL_PARTS,
    LAST_NAMES,
    LF_HEALTH,
    MUNICIPAL_PARTS,
    MUNICIPALITY_COUNTY,
    MUNICIPALITY_INFO,
    WORKPLACE_PARTS,
    EmployerKind,
)
from seed.sampling import cumulative, pick_municipality, postcode, slug, street_address, weighted

# The two customer numbers of the KID test values come first.
KNOWN_CUSTOMER_NOS = ("94001761", "00080000")


class Naming(NamedTuple):
    name: str
    municipality: str
    domain: str
    lf: int
    size: float
    spread: str  # where the other workplaces are: "municipality", "county" or "country"


def build_employers(ctx: SeedContext) -> None:
    rng = ctx.rng
    county_cum = cumulative(COUNTY_WEIGHTS)
    kind_cum = cumulative(kind.share for kind in EMPLOYER_KINDS)
    fixed_left = [list(kind.fixed_names) for kind in EMPLOYER_KINDS]
    for remaining in fixed_left:
        rng.shuffle(remaining)
    names_taken: set = set()
    org_numbers: set = set()
    customer_nos = _customer_numbers(ctx.employers)
    for index in range(ctx.employers):
        kind_index = weighted(rng, kind_cum)
        kind = EMPLOYER_KINDS[kind_index]
        # The first 15 employers are spread over the 15 counties, so every county has a workplace.
        forced_county = COUNTY_NAMES[index] if index < len(COUNTY_NAMES) else None
        naming = _naming(ctx, kind, fixed_left[kind_index], forced_county, county_cum)
        name = _unique_name(naming.name, naming.municipality, names_taken)
        info = MUNICIPALITY_INFO[naming.municipality]
        size = naming.size * rng.lognormvariate(0, 0.45)
        ctx.employer_rows.append(
            {
                "id": index + 1,
                "org_number": org_number(rng, org_numbers),
                "name": name[:150],
                "address": street_address(rng),
                "postcode": postcode(rng, info),
                "city": info.post_town,
                "association": kind.association,
                "sector": kind.sector,
                "has_deduction_agreement": index < 2 or rng.random() < 0.9,
                "customer_no": customer_nos[index],
            }
        )
        ctx.employer_lf.append(naming.lf)
        ctx.employer_domain.append(naming.domain)
        _add_workplaces(ctx, index + 1, name, kind, naming, size, county_cum)


def _customer_numbers(count: int) -> list[str]:
    """The known test values first, then a running series."""
    numbers = list(KNOWN_CUSTOMER_NOS)
    serial = 94000001
    while len(numbers) < count:
        value = f"{serial:08d}"
        serial += 1
        if value not in KNOWN_CUSTOMER_NOS:
            numbers.append(value)
    return numbers


def _naming(ctx: SeedContext, kind: EmployerKind, remaining: list, forced_county, county_cum) -> Naming:
    """A fixed name from the catalogue while there are some, else one from a template, else a sub-unit."""
    fixed = None
    if forced_county is not None:
        matches = [k for k, entry in enumerate(remaining) if MUNICIPALITY_COUNTY[entry.municipality] == forced_county]
        if matches:
            fixed = remaining.pop(matches[0])
    elif remaining and (not kind.templates or ctx.rng.random() < 0.6):
        fixed = remaining.pop()
    if fixed is not None:
        nationwide = kind.nationwide and fixed.domain != "politiet.no"
        spread = "country" if nationwide else "county"
        return Naming(fixed.name, fixed.municipality, fixed.domain, kind.lf, kind.fixed_size, spread)
    if kind.templates:
        return _templated_naming(ctx, kind, forced_county, county_cum)
    return _sub_unit_naming(ctx, kind, forced_county)


def _templated_naming(ctx: SeedContext, kind: EmployerKind, forced_county, county_cum) -> Naming:
    rng = ctx.rng
    template, lf = kind.templates[rng.randrange(len(kind.templates))]
    county = forced_county or COUNTY_NAMES[weighted(rng, county_cum)]
    municipality = pick_municipality(rng, county).name
    name = template.format(m=municipality, c=MUNICIPALITY_COUNTY[municipality], s=rng.choice(LAST_NAMES))
    size = kind.template_size
    if template == "{m} kommune":
        size = 20 + 25 * MUNICIPALITY_INFO[municipality].weight
    elif template == "{c} fylkeskommune":
        size = 25
    if kind.association == "ks":
        domain = f"{slug(municipality)}.kommune.no"
    elif template.startswith("NAV"):
        domain = "nav.no"
    else:
        domain = slug(re.sub(r"\b(AS|SA|KF|IKS)\b", "", name))[:24] + ".no"
    spread = "municipality" if "{m}" in template else "county"
    return Naming(name, municipality, domain, lf, size, spread)


def _sub_unit_naming(ctx: SeedContext, kind: EmployerKind, forced_county) -> Naming:
    """Fixed names used up: a sub-unit (underenhet, own organisation number) of one of them."""
    base = kind.fixed_names[ctx.rng.randrange(len(kind.fixed_names))]
    county = forced_county or MUNICIPALITY_COUNTY[base.municipality]
    municipality = pick_municipality(ctx.rng, county).name
    return Naming(
        f"{base.name}, avd. {municipality}", municipality, base.domain, kind.lf, kind.template_size * 2, "municipality"
    )


def _unique_name(base_name: str, municipality: str, names_taken: set) -> str:
    name, serial = base_name, 2
    while name in names_taken:
        name = f"{base_name} ({serial})" if serial > 2 or municipality in base_name else f"{base_name}, {municipality}"
        serial += 1
    names_taken.add(name)
    return name


def _workplace_count(rng, size: float) -> int:
    """The main workplace, and more for big employers."""
    if size >= 30:
        return rng.choice((3, 4, 5))
    if size >= 8:
        return rng.choice((1, 2, 2, 3))
    return rng.choices((1, 2, 3), weights=(70, 22, 8))[0]


def _add_workplaces(ctx, employer_id: int, name: str, kind: EmployerKind, naming: Naming, size: float, county_cum):
    rng = ctx.rng
    count = _workplace_count(rng, size)
    short = re.sub(r"\s+(AS|SA|SF|HF|RHF|KF|IKS)$", "", name.split(" (")[0])
    parts = MUNICIPAL_PARTS if kind.association == "ks" else HOSPITAL_PARTS if kind.lf == LF_HEALTH else WORKPLACE_PARTS
    seen: set = set()
    for w in range(count):
        place = _workplace_place(rng, w, naming, county_cum)
        wp_name = _workplace_name(rng, short if place in short else f"{short} {place}", parts, seen)
        county = MUNICIPALITY_COUNTY[place]
        ctx.workplace_rows.append(
            {
                "id": len(ctx.workplace_rows) + 1,
                "employer_id": employer_id,
                "name": wp_name[:150],
                "municipality": place,
                "county": county,
                "org_unit_id": ctx.branch_for[(naming.lf, county)],
            }
        )
        share = 0.5 if w == 0 and count > 1 else 1.0 / count
        ctx.workplace_weight.append(max(size * share * rng.uniform(0.6, 1.4), 0.05))


def _workplace_place(rng, w: int, naming: Naming, county_cum) -> str:
    """The first workplace is in the employer's municipality; the others as far away as the employer spreads."""
    if w == 0 or naming.spread == "municipality":
        return naming.municipality
    if naming.spread == "country" and rng.random() < 0.6:
        return pick_municipality(rng, COUNTY_NAMES[weighted(rng, county_cum)]).name
    return pick_municipality(rng, MUNICIPALITY_COUNTY[naming.municipality]).name


def _workplace_name(rng, located: str, parts: tuple[str, ...], seen: set) -> str:
    wp_name = located
    while wp_name in seen:
        wp_name = f"{located}, {rng.choice(parts)}"
        if wp_name in seen:
            wp_name = f"{located}, {len(seen) + 1}. {rng.choice(parts)}"
    seen.add(wp_name)
    return wp_name
