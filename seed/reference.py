"""Reference data of the demo generator: names, streets, counties and municipalities, national associations
and the employer catalogue, read once at import from the UTF-8 JSON files in seed/data/.

The files hold facts (a municipality's postcodes, an employer's web domain); the generator's own rules
(shares, ages, probabilities) stay in the code that uses them. Collections are tuples, so nothing
changes them by accident, and record fields have names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

DATA_DIRECTORY = Path(__file__).parent / "data"


def load(name: str):
    """The parsed content of seed/data/<name>."""
    return json.loads((DATA_DIRECTORY / name).read_text(encoding="utf-8"))


class Municipality(NamedTuple):
    name: str
    first_postcode: int
    last_postcode: int
    post_town: str
    weight: float  # relative population within its county


class Association(NamedTuple):
    name: str
    branch_suffix: str
    branch_areas: tuple[str, ...]  # each a county or a region of counties
    weight_without_job: float  # how members without a job spread over the associations


class FixedEmployer(NamedTuple):
    name: str
    municipality: str
    domain: str


class NameTemplate(NamedTuple):
    template: str  # {m} a municipality, {c} a county, {s} a surname
    lf: int  # index of its national association in ASSOCIATIONS


class EmployerKind(NamedTuple):
    association: str  # the employer association (staten, ks, spekter, nho, virke, none)
    sector: str
    share: float  # of all employers
    fixed_names: tuple[FixedEmployer, ...]
    lf: int  # national association of the fixed names
    templates: tuple[NameTemplate, ...]
    fixed_size: float  # relative size of a fixed employer ...
    template_size: float  # ... and of one with a generated name
    nationwide: bool  # workplaces of a fixed one spread over the country


_people = load("people.json")
FEMALE_NAMES: tuple[str, ...] = tuple(_people["female_first_names"])
MALE_NAMES: tuple[str, ...] = tuple(_people["male_first_names"])
LAST_NAMES: tuple[str, ...] = tuple(_people["last_names"])
STREETS: tuple[str, ...] = tuple(_people["streets"])
PRIVATE_MAIL_DOMAINS: tuple[tuple[str, float], ...] = tuple(
    (entry["domain"], entry["weight"]) for entry in _people["private_mail_domains"]
)

_geography = load("geography.json")
# County -> its municipalities; the 15 counties of 2024, in the order of the file.
COUNTIES: dict[str, tuple[Municipality, ...]] = {
    county["name"]: tuple(Municipality(**m) for m in county["municipalities"]) for county in _geography["counties"]
}
COUNTY_NAMES: tuple[str, ...] = tuple(COUNTIES)
COUNTY_WEIGHTS: tuple[float, ...] = tuple(county["population_percent"] for county in _geography["counties"])
MUNICIPALITY_COUNTY: dict[str, str] = {m.name: county for county, ms in COUNTIES.items() for m in ms}
MUNICIPALITY_INFO: dict[str, Municipality] = {m.name: m for ms in COUNTIES.values() for m in ms}
# Areas that branches cover: every county, and the regions of several counties.
AREAS: dict[str, tuple[str, ...]] = {
    **{county: (county,) for county in COUNTY_NAMES},
    **{region: tuple(counties) for region, counties in _geography["regions"].items()},
}

_organisation = load("organisation.json")
ASSOCIATIONS: tuple[Association, ...] = tuple(
    Association(a["name"], a["branch_suffix"], tuple(a["branch_areas"]), a["weight_without_job"])
    for a in _organisation["national_associations"]
)
_LF_BY_SUFFIX = {association.branch_suffix: lf for lf, association in enumerate(ASSOCIATIONS)}
LF_HEALTH = _LF_BY_SUFFIX["helse"]

_employers = load("employers.json")


def _fixed_names(key: str | None) -> tuple[FixedEmployer, ...]:
    return tuple(FixedEmployer(**entry) for entry in _employers["fixed_names"][key]) if key else ()


def _templates(key: str | None) -> tuple[NameTemplate, ...]:
    entries = _employers["name_templates"][key] if key else ()
    return tuple(NameTemplate(e["template"], _LF_BY_SUFFIX[e["national_association"]]) for e in entries)


EMPLOYER_KINDS: tuple[EmployerKind, ...] = tuple(
    EmployerKind(
        association=kind["association"],
        sector=kind["sector"],
        share=kind["share"],
        fixed_names=_fixed_names(kind["fixed_names"]),
        lf=_LF_BY_SUFFIX[kind["national_association"]],
        templates=_templates(kind["templates"]),
        fixed_size=kind["fixed_size"],
        template_size=kind["template_size"],
        nationwide=kind["nationwide"],
    )
    for kind in _employers["kinds"]
)
MUNICIPAL_PARTS: tuple[str, ...] = tuple(_employers["workplace_parts"]["municipal"])
HOSPITAL_PARTS: tuple[str, ...] = tuple(_employers["workplace_parts"]["hospital"])
WORKPLACE_PARTS: tuple[str, ...] = tuple(_employers["workplace_parts"]["other"])
