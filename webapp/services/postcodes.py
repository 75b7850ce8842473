"""The postcode register: postcode → place, municipality and county.

`place_of(code)` looks a postcode up (the enrollment form's postcode → place). `import_register(source)` reads
Posten's "Postnummerregister" file: one postcode a line, tab separated

    postnummer <TAB> poststed <TAB> kommunenummer <TAB> kommunenavn <TAB> kategori

in UTF-8 or Latin-1 (Posten's "ansi" file), with or without a header line. The county follows from the first two
digits of the municipality number (the county numbers of 2024); Svalbard and Jan Mayen have none. Every line is
checked before anything is written: a file with a bad line is refused whole, naming each bad line by its number.
The rows are then written set-based: new postcodes inserted, changed ones updated, in one transaction.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, insert, select, update

from webapp.extensions import db
from webapp.models import Postcode
from webapp.services import audit

# The first two digits of a municipality number (kommunenummer) → its county, as numbered from 2024.
COUNTY_BY_NUMBER = {
    "03": "Oslo",
    "11": "Rogaland",
    "15": "Møre og Romsdal",
    "18": "Nordland",
    "31": "Østfold",
    "32": "Akershus",
    "33": "Buskerud",
    "34": "Innlandet",
    "39": "Vestfold",
    "40": "Telemark",
    "42": "Agder",
    "46": "Vestland",
    "50": "Trøndelag",
    "55": "Troms",
    "56": "Finnmark",
}
# Postcodes outside the counties: Svalbard (21xx) and Jan Mayen (22xx).
WITHOUT_COUNTY = {"21", "22"}

# Posten's register holds about 5,000 postcodes; a file many times larger is not one.
MAX_LINES = 20_000
MAX_BYTES = 2_000_000
# Errors named one by one; beyond this many the refusal says how many more there are.
ERRORS_NAMED = 20

CODE_RE = re.compile(r"^\d{4}$")
MUNICIPALITY_RE = re.compile(r"^\d{4}$")
CATEGORIES = {"B", "F", "G", "P", "S"}
# Words of a place name written in lower case ("Mo i Rana", "Hov på Land").
SMALL_WORDS = {"i", "på", "og", "ved", "under", "over"}

_COLUMNS = Postcode.__table__.columns


class PostcodeImportError(ValueError):
    """The file was refused; nothing was written. `problems` lists each bad line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:ERRORS_NAMED]
        more = len(problems) - len(shown)
        text = " ".join(shown)
        if more > 0:
            text += " " + str(_l("…and %(count)s more.", count=more))
        super().__init__(text)


@dataclass
class ImportResult:
    lines: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0

    def summary(self) -> str:
        return (f"postcodes: {self.lines} in the file, {self.added} added, {self.changed} changed, "
                f"{self.unchanged} unchanged, {self.removed} removed")


def place_of(code: str | None) -> Postcode | None:
    """The postcode's row (place, municipality, county), or None for a code the register does not have."""
    text = str(code or "").strip()
    if not CODE_RE.match(text):
        return None
    return db.session.get(Postcode, text)


def county_of_municipality(number: str) -> str | None:
    """The county of a municipality number (2024 numbering); None for Svalbard and Jan Mayen.
    Raises KeyError for a number no county has."""
    prefix = number[:2]
    if prefix in WITHOUT_COUNTY:
        return None
    return COUNTY_BY_NUMBER[prefix]


def display_name(text: str) -> str:
    """A name as people write it: Posten writes places in capitals (MO I RANA → Mo i Rana, NORD-ODAL →
    Nord-Odal); a name already in mixed case is kept."""
    text = " ".join(text.split())
    if text != text.upper():
        return text

    def word(part: str, first: bool) -> str:
        lower = part.lower()
        if not first and lower in SMALL_WORDS:
            return lower
        return "-".join(piece[:1].upper() + piece[1:] for piece in lower.split("-"))

    return " ".join(word(part, k == 0) for k, part in enumerate(text.split(" ")))


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte order mark) when the bytes are that, else Latin-1 (Posten's ansi file)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _names_a_file(text: str) -> bool:
    if "\t" in text or "\n" in text or len(text) > 4096:
        return False
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # not a name a file can have
        return False


def _read(source: str | bytes | os.PathLike) -> str:
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _names_a_file(source)):
        path = Path(source)
        if path.stat().st_size > MAX_BYTES:
            raise PostcodeImportError([str(_l("The file is larger than %(count)s bytes; it is not Posten's "
                                              "postcode register.", count=MAX_BYTES))])
        source = path.read_bytes()
    if isinstance(source, bytes):
        if len(source) > MAX_BYTES:
            raise PostcodeImportError([str(_l("The file is larger than %(count)s bytes; it is not Posten's "
                                              "postcode register.", count=MAX_BYTES))])
        source = decode(source)
    return source


def _is_header(fields: list[str]) -> bool:
    return fields[0].strip().lower() == "postnummer"


def _line_problem(number: int, fields: list[str]) -> tuple[dict | None, str | None]:
    """The row a line gives, or what is wrong with it."""
    if len(fields) != 5:
        return None, str(_l("Line %(line)s: must have 5 tab-separated fields (postcode, place, municipality number, "
                            "municipality, category), has %(count)s.", line=number, count=len(fields)))
    code, place, municipality_no, municipality, category = (field.strip() for field in fields)
    if not CODE_RE.match(code):
        return None, str(_l("Line %(line)s: the postcode must be 4 digits.", line=number))
    if not place or len(place) > _COLUMNS["place"].type.length:
        return None, str(_l("Line %(line)s: the place must be 1 to %(count)s characters.", line=number,
                            count=_COLUMNS["place"].type.length))
    if not MUNICIPALITY_RE.match(municipality_no):
        return None, str(_l("Line %(line)s: the municipality number must be 4 digits.", line=number))
    try:
        county = county_of_municipality(municipality_no)
    except KeyError:
        return None, str(_l("Line %(line)s: no county has the number %(number)s (the county numbers of 2024 are "
                            "read).", line=number, number=municipality_no[:2]))
    if not municipality or len(municipality) > _COLUMNS["municipality"].type.length:
        return None, str(_l("Line %(line)s: the municipality must be 1 to %(count)s characters.", line=number,
                            count=_COLUMNS["municipality"].type.length))
    if category.upper() not in CATEGORIES:
        return None, str(_l("Line %(line)s: the category must be one of B, F, G, P and S.", line=number))
    return {"code": code, "place": display_name(place), "municipality": display_name(municipality),
            "county": county}, None


def parse_register(text: str) -> list[dict]:
    """The rows of the register text; PostcodeImportError naming every bad line (and nothing returned)."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise PostcodeImportError([str(_l("The file has more than %(count)s lines; it is not Posten's postcode "
                                          "register.", count=MAX_LINES))])
    rows: dict[str, dict] = {}
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if number == 1 and _is_header(fields):
            continue
        if "\x00" in line:
            problems.append(str(_l("Line %(line)s: contains a character that is not allowed (NUL).", line=number)))
            continue
        row, problem = _line_problem(number, fields)
        if problem:
            problems.append(problem)
        elif row["code"] in rows:
            problems.append(str(_l("Line %(line)s: the postcode %(code)s is in the file twice.", line=number,
                                   code=row["code"])))
        else:
            rows[row["code"]] = row
    if problems:
        raise PostcodeImportError(problems)
    if not rows:
        raise PostcodeImportError([str(_l("The file holds no postcodes."))])
    return list(rows.values())


def import_register(source: str | bytes | os.PathLike, prune: bool = False) -> ImportResult:
    """Read Posten's postcode register (a path, the file's bytes or its text) and bring the table up to date in one
    transaction: new postcodes added, changed ones updated; with `prune`, postcodes the file no longer has removed.
    Refused whole (PostcodeImportError, nothing written) when a line is bad."""
    rows = parse_register(_read(source))
    existing = {row.code: row for row in db.session.execute(
        select(Postcode.code, Postcode.place, Postcode.municipality, Postcode.county))}
    result = ImportResult(lines=len(rows))
    added, changed = [], []
    for row in rows:
        before = existing.get(row["code"])
        if before is None:
            added.append(row)
        elif (before.place, before.municipality, before.county) != (row["place"], row["municipality"], row["county"]):
            changed.append({"b_code": row["code"], "place": row["place"], "municipality": row["municipality"],
                            "county": row["county"]})
        else:
            result.unchanged += 1
    if added:
        db.session.execute(insert(Postcode.__table__), added)
    if changed:
        # The SET clause comes from the parameters' keys; the code is matched by a parameter of another name.
        db.session.execute(update(Postcode.__table__).where(Postcode.__table__.c.code == bindparam("b_code")), changed)
    gone = sorted(set(existing) - {row["code"] for row in rows}) if prune else []
    for start in range(0, len(gone), 500):
        db.session.execute(delete(Postcode.__table__).where(Postcode.__table__.c.code.in_(gone[start:start + 500])))
    result.added, result.changed, result.removed = len(added), len(changed), len(gone)
    audit.record("import_postcodes", "postcode", None, lines=result.lines, added=result.added,
                 changed=result.changed, removed=result.removed)
    db.session.commit()
    return result
