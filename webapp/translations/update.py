"""Keep the translation catalogs in step with the code.

    python -m webapp.translations.update           # extract, merge, report, compile
    python -m webapp.translations.update --check   # write nothing; exit 1 if anything is out of date

1. Extract every msgid of our packages (webapp/, and reports/ for the PDF
   templates and report files) and of the installed
   Flask-AppBuilder package, with the mapping in babel.cfg and KEYWORDS below,
   into messages.pot (not committed). Msgids that only FAB's own reference
   catalog lists (FAB_REFERENCE_LOCALE) are added too: FAB considers them
   translatable.
2. Merge that template into each catalog of LOCALES, keeping existing
   translations. New msgids come in untranslated (never fuzzy-guessed);
   msgids that disappeared are dropped.
3. Report untranslated, fuzzy and malformed (placeholder mismatch) entries;
   the exit status is 1 when there are any.
4. Compile each catalog to messages.mo next to it. The .mo files are
   committed, so the app runs from a fresh clone without a compile step;
   tests/test_i18n.py checks that they match the .po files.

Msgids are English; English needs no catalog (gettext falls back to the msgid).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
from dataclasses import dataclass

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

TRANSLATIONS_DIR = os.path.dirname(os.path.abspath(__file__))
WEBAPP_DIR = os.path.dirname(TRANSLATIONS_DIR)
REPORTS_DIR = os.path.join(os.path.dirname(WEBAPP_DIR), "reports")
MAPPING_FILE = os.path.join(TRANSLATIONS_DIR, "babel.cfg")
TEMPLATE_FILE = os.path.join(TRANSLATIONS_DIR, "messages.pot")
DOMAIN = "messages"
PROJECT = "Medlemsregister"

# Catalogs kept here. English is the msgid language and needs none.
LOCALES = ("nb",)
# FAB's own catalog that lists what FAB considers translatable (some of it no longer found by extraction).
FAB_REFERENCE_LOCALE = "de"

# The gettext functions used by us and by FAB (see `from flask_babel import ...` in both).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "lazy_gettext": None,
    "_l": None,
    "__": None,
    "lazy_formatter_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
COMMENT_TAGS = ("TRANSLATORS:",)
# Jinja templates: Flask-Babel installs newstyle gettext, which always %-formats the result.
TEMPLATE_SUFFIXES = (".html", ".txt")

# Header fields that change without any message changing: the dates, and the Babel version that wrote the file.
_VOLATILE_HEADER_FIELDS = ("POT-Creation-Date", "PO-Revision-Date", "Generated-By")


def fab_dir() -> str:
    import flask_appbuilder

    return os.path.dirname(os.path.abspath(flask_appbuilder.__file__))


def _read_mapping() -> tuple[list, dict]:
    with open(MAPPING_FILE, encoding="utf-8") as fileobj:
        return parse_mapping_cfg(fileobj, MAPPING_FILE)


def _extract_into(catalog: Catalog, dirname: str, method_map: list, options_map: dict) -> None:
    """Add every message found under `dirname`, located as '<package>/<path>'."""
    package = os.path.basename(dirname)
    for filename, lineno, message, comments, context in extract_from_dir(
        dirname, method_map, options_map, keywords=KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=True
    ):
        location = (f"{package}/{filename}".replace(os.sep, "/"), lineno)
        catalog.add(message, None, [location], auto_comments=comments, context=context)


def _in_templates(message) -> bool:
    return any(path.endswith(TEMPLATE_SUFFIXES) for path, _ in message.locations)


def _is_format_string(message) -> bool:
    """Python code formats a msgid only when it passes named variables, so a msgid used only
    from Python and without %(name)s is no format string, whatever Babel's flag says
    ("Dues (% of pay)"). Templates always format (newstyle gettext)."""
    return "%(" in message.id or _in_templates(message)


def extract_template() -> Catalog:
    """The template: our msgids first, then FAB's (extracted, plus those of its reference catalog)."""
    method_map, options_map = _read_mapping()
    template = Catalog(project=PROJECT, charset="utf-8", fuzzy=False)
    _extract_into(template, WEBAPP_DIR, method_map, options_map)
    _extract_into(template, REPORTS_DIR, method_map, options_map)  # PDFs and report files speak Bokmål too
    _extract_into(template, fab_dir(), method_map, options_map)
    reference = os.path.join(fab_dir(), "translations", FAB_REFERENCE_LOCALE, "LC_MESSAGES", f"{DOMAIN}.po")
    with open(reference, "rb") as fileobj:
        for message in read_po(fileobj):
            if message.id and message.id not in template:
                template.add(
                    message.id,
                    None,
                    auto_comments=[f"Listed in Flask-AppBuilder's {FAB_REFERENCE_LOCALE} catalog, "
                                   "not found by extraction."],
                    flags=[f for f in message.flags if f != "fuzzy"],
                    context=message.context,
                )
    return template


def po_path(locale: str) -> str:
    return os.path.join(TRANSLATIONS_DIR, locale, "LC_MESSAGES", f"{DOMAIN}.po")


def mo_path(locale: str) -> str:
    return os.path.join(TRANSLATIONS_DIR, locale, "LC_MESSAGES", f"{DOMAIN}.mo")


def read_catalog(locale: str) -> Catalog:
    with open(po_path(locale), "rb") as fileobj:
        return read_po(fileobj, locale=locale, domain=DOMAIN)


def render_po(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=76, include_lineno=False, ignore_obsolete=True)
    return buffer.getvalue()


def render_mo(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _stable(po_bytes: bytes) -> tuple:
    """What a catalog says, whichever Babel version wrote it (and however it wrapped the lines): the header
    comment, the header fields that matter, and every message with its flags, locations and comments."""
    catalog = read_po(io.BytesIO(po_bytes))
    header = tuple((name, value) for name, value in catalog.mime_headers if name not in _VOLATILE_HEADER_FIELDS)
    messages = sorted(
        (str(m.context or ""), str(m.id), str(m.string), sorted(m.flags), [path for path, _ in m.locations],
         list(m.auto_comments), list(m.user_comments))
        for m in catalog if m.id
    )
    return catalog.header_comment, header, messages


def po_up_to_date(current: bytes | None, expected: bytes) -> bool:
    """Whether the committed catalog says what the code's catalog says (dates and Babel version aside)."""
    return _stable(current or b"") == _stable(expected)


def merged_catalog(locale: str, template: Catalog) -> Catalog:
    """The locale's catalog updated from the template (a new, empty one if there is none yet)."""
    if os.path.exists(po_path(locale)):
        catalog = read_catalog(locale)
    else:
        catalog = Catalog(locale=locale, domain=DOMAIN, project=PROJECT, charset="utf-8", fuzzy=False)
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    catalog.fuzzy = False
    return catalog


@dataclass
class Problems:
    untranslated: list[str]
    fuzzy: list[str]
    malformed: list[tuple[str, list[str]]]

    def __bool__(self) -> bool:
        return bool(self.untranslated or self.fuzzy or self.malformed)


def problems(catalog: Catalog) -> Problems:
    found = Problems([], [], [])
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        if not all(strings):
            found.untranslated.append(message.id)
        elif message.fuzzy:
            found.fuzzy.append(message.id)
    for message, errors in catalog.check():
        if message.id not in found.untranslated and _is_format_string(message):
            found.malformed.append((message.id, [str(e) for e in errors]))
    found.malformed.extend(_template_format_problems(catalog))
    return found


def _template_format_problems(catalog: Catalog) -> list[tuple[str, list[str]]]:
    """Messages used in templates whose msgid or msgstr the %-formatting there would break."""
    found = []
    for message in catalog:
        if message.id and _in_templates(message):
            for text in (message.id, message.string):
                error = _template_format_error(text) if isinstance(text, str) and text else None
                if error:
                    found.append((message.id, [f"in a template {text!r} breaks %-formatting ({error}); "
                                               "write %% for %"]))
    return found


class _AnyValue(dict):
    def __missing__(self, key):
        return 0


def _template_format_error(text: str) -> str | None:
    try:
        text % _AnyValue()
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def mo_messages(data: bytes) -> dict:
    """{(context, msgid): msgstr} of a compiled catalog, without the header."""
    catalog = read_mo(io.BytesIO(data))
    return {(m.context, m.id): m.string for m in catalog if m.id}


def po_messages(catalog: Catalog) -> dict:
    """What compiling `catalog` must give: its translated, non-fuzzy messages."""
    return {(m.context, m.id): m.string for m in catalog if m.id and m.string and not m.fuzzy}


def _read(path: str) -> bytes | None:
    if not os.path.exists(path):
        return None
    with open(path, "rb") as fileobj:
        return fileobj.read()


def _write_if_changed(path: str, data: bytes, compare=lambda b: b) -> bool:
    current = _read(path)
    if current is not None and compare(current) == compare(data):
        return False
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fileobj:
        fileobj.write(data)
    return True


def _report(locale: str, found: Problems, out) -> None:
    for msgid in found.untranslated:
        print(f"{locale}: untranslated: {msgid!r}", file=out)
    for msgid in found.fuzzy:
        print(f"{locale}: fuzzy: {msgid!r}", file=out)
    for msgid, errors in found.malformed:
        print(f"{locale}: malformed: {msgid!r}: {'; '.join(errors)}", file=out)


def read_additions(paths: list[str]) -> dict[str, str]:
    """msgid -> msgstr from tab-separated files (blank lines and lines starting with # are skipped)."""
    additions: dict[str, str] = {}
    for path in paths:
        with open(path, encoding="utf-8") as fileobj:
            for number, line in enumerate(fileobj, start=1):
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                if "\t" not in line:
                    raise SystemExit(f"{path}:{number}: expected 'msgid<TAB>msgstr'")
                msgid, msgstr = line.split("\t", 1)
                additions[msgid] = msgstr
    return additions


def apply_additions(catalog: Catalog, additions: dict[str, str]) -> list[str]:
    """Set the given translations; returns the msgids the catalog does not have."""
    unknown = []
    for msgid, msgstr in additions.items():
        if msgid in catalog:
            catalog[msgid].string = msgstr
            catalog[msgid].flags.discard("fuzzy")
        else:
            unknown.append(msgid)
    return unknown


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m webapp.translations.update", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail when a catalog or .mo is out of date")
    parser.add_argument("--add", metavar="FILE", action="append", default=[],
                        help="set nb translations from FILE: one 'msgid<TAB>msgstr' per line (may repeat)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    additions = read_additions(args.add)

    template = extract_template()
    status = 0
    if not args.check:
        template.creation_date = dt.datetime.now(dt.UTC)
        _write_if_changed(TEMPLATE_FILE, render_po(template), _stable)
    for locale in LOCALES:
        catalog = merged_catalog(locale, template)
        unknown = apply_additions(catalog, additions if locale == "nb" else {})
        for msgid in unknown:
            print(f"{locale}: --add names a msgid the code does not use: {msgid!r}", file=sys.stderr)
        po_bytes = render_po(catalog)
        found = problems(catalog)
        _report(locale, found, sys.stderr)
        translated = len(po_messages(catalog))
        print(f"{locale}: {translated} of {len(catalog)} messages translated")
        if found:
            status = 1
        if args.check:
            if not _files_up_to_date(locale, catalog, po_bytes):
                status = 1
        else:
            _write_files(locale, catalog, po_bytes)
    return status


def _files_up_to_date(locale: str, catalog: Catalog, po_bytes: bytes) -> bool:
    """Whether the locale's .po and .mo on disk are what the code gives; says what is not."""
    up_to_date = True
    if not po_up_to_date(_read(po_path(locale)), po_bytes):
        print(f"{locale}: {po_path(locale)} is not up to date with the code", file=sys.stderr)
        up_to_date = False
    current_mo = _read(mo_path(locale))
    if current_mo is None or mo_messages(current_mo) != po_messages(catalog):
        print(f"{locale}: {mo_path(locale)} is not compiled from the .po", file=sys.stderr)
        up_to_date = False
    return up_to_date


def _write_files(locale: str, catalog: Catalog, po_bytes: bytes) -> None:
    """Write the locale's .po (a new revision date when its content changed) and compile its .mo."""
    current_po = _read(po_path(locale))
    if current_po is not None and _stable(current_po) != _stable(po_bytes):
        catalog.revision_date = dt.datetime.now(dt.UTC)
        po_bytes = render_po(catalog)
    if _write_if_changed(po_path(locale), po_bytes, _stable):
        print(f"{locale}: wrote {os.path.relpath(po_path(locale))}")
    with open(po_path(locale), "rb") as fileobj:
        compiled = render_mo(read_po(fileobj, locale=locale, domain=DOMAIN))
    if _write_if_changed(mo_path(locale), compiled):
        print(f"{locale}: wrote {os.path.relpath(mo_path(locale))}")


if __name__ == "__main__":
    sys.exit(main())
