"""Every page of every role speaks Bokmål: no English word of the app's own, no stored code, no raw quarter.

The demo world (`flask seed`, small) is built once per test, each demo login walks every page it can reach
from its home page by following links (list pages, their sorting and filters, the show page of rows in its
scope, forms, Min side, the portal), and every visible text is checked:

- a whole text node (or a visible attribute: title, placeholder, aria-label, alt, a button's value, an
  option of a search filter) equal to an English msgid whose Bokmål translation differs is English that
  escaped the catalog; so is FAB's "True"/"False"/"None" and a raw "[Errno ...]";
- a text node that is the `name` of a LabelledEnum member (webapp/models/choices.py) or a role code, or a
  comma-separated list of them ("no_list,no_payment"), is a code where its label belongs;
- "2026-Q3" is a code too: people read "3. kvartal 2026";
- a downloaded file is named in Norwegian (brev-38.pdf, not letter-38.pdf).

English stays one switch away: the last tests switch the language and see English.
"""

from __future__ import annotations

import collections
import io
import json
import os
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import wipe_database
from webapp.extensions import db
from webapp.models import DemoAccount, Employer
from webapp.models import choices as choices_module
from webapp.security.roles import ROLE_TABLE
from webapp.translations import update

# The language of a page does not depend on the database engine (the screens' answers on PostgreSQL are the
# fuzzers' and the scope tests' to check): run once, in the SQLite pass.
pytestmark = pytest.mark.engine_independent

# ------------------------------------------------------------------ what counts as English or a code


def _english_msgids() -> set[str]:
    """Msgids whose Bokmål differs (or is missing) and that are no Bokmål translation themselves (no
    placeholders: a whole text node equals the msgid)."""
    catalog = update.read_catalog("nb")
    messages = [m for m in catalog if m.id and isinstance(m.id, str)]
    norwegian = {m.string for m in messages if m.string}
    return {m.id for m in messages if m.string != m.id and "%" not in m.id and m.id not in norwegian
            and re.search(r"[A-Za-z]{2}", m.id)}


# What FAB writes without the catalog.
FAB_ENGLISH = {"True", "False", "None", "Cancel", "Select a State", "Select"}


def _codes() -> set[str]:
    names = set(ROLE_TABLE)
    for value in vars(choices_module).values():
        if isinstance(value, type) and issubclass(value, choices_module.LabelledEnum) \
                and value is not choices_module.LabelledEnum:
            names |= {member.name for member in value}
    return names


ENGLISH = _english_msgids() | FAB_ENGLISH
CODES = _codes()
QUARTER_CODE = re.compile(r"^\d{4}-Q[1-4]$")
MONTH_CODE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
ENGLISH_NUMBER = re.compile(r"^-?\d+\.\d+$|^\d{1,3}(,\d{3})+(\.\d+)?$")  # 100.00, 1,234.50
EXCEPTION_TEXT = re.compile(r"\[Errno \d+\]|Traceback|Exception:|Error:")
# English words of file names (the stems of what the app hands out).
ENGLISH_FILE_WORDS = {"letter", "invoice", "certificate", "membership", "report", "reminder", "refund", "list",
                      "data", "subject", "access", "document", "basis", "template", "deduction"}


def problem(text: str, attribute: bool = False, typed: bool = False) -> str | None:
    """What is wrong with one visible text, or None. `attribute`: a title, placeholder or label read out;
    `typed`: the value of a form field, where a quarter is typed as its code (2026-Q3)."""
    stripped = text.strip().rstrip(":*").strip()
    if not stripped:
        return None
    if stripped in ENGLISH:
        return "English"
    if EXCEPTION_TEXT.search(text):
        return "exception text"
    parts = [part.strip() for part in stripped.split(",")]
    if all(part in CODES for part in parts):
        return "code"
    if not attribute and not typed and QUARTER_CODE.match(stripped):
        return "quarter code"
    if not attribute and not typed and MONTH_CODE.match(stripped):
        return "month code"
    if not attribute and ENGLISH_NUMBER.match(stripped):
        return "English number"
    return None


# ------------------------------------------------------------------ reading a page


class VisibleText(HTMLParser):
    """The texts a person sees or hears on a page, and its links."""

    HIDDEN = {"script", "style", "noscript", "template"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
            "wbr"}
    SPOKEN = ("title", "placeholder", "aria-label", "alt")
    FILLED = ("text", "number", "search", "email", "tel")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.texts: list[tuple[str, str, bool]] = []  # (where, text, is an attribute)
        self.links: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        for name in self.SPOKEN:
            if values.get(name):
                self.texts.append((f"{tag}@{name}", values[name], True))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append((f"{tag}@value", values["value"], True))
        if tag == "input" and values.get("type", "text") in self.FILLED and values.get("value"):
            self.texts.append(("input value", values["value"], False))  # a prefilled number reads 100, not 100.00
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open and self.open.pop() != tag:
                pass

    def handle_data(self, data):
        if any(tag in self.HIDDEN for tag in self.open):
            if self.open and self.open[-1] == "script":
                self.scripts.append(data)
            return
        text = " ".join(data.split())
        if text:
            self.texts.append((self.open[-1] if self.open else "", text, False))


def read_page(html: str) -> VisibleText:
    page = VisibleText()
    page.feed(html)
    # FAB's search filters are HTML inside a script (a JSON argument): their options are visible once added.
    for script in page.scripts:
        if "AdminFilters" in script:
            for fragment in re.findall(r'"((?:[^"\\]|\\.)*)"', script):
                widget = json.loads(f'"{fragment}"')
                if widget.lstrip().startswith("<"):
                    inner = VisibleText()
                    inner.feed(widget)
                    page.texts += [(f"filter {where}", text, True) for where, text, _ in inner.texts]
    return page


def pdf_problems(data: bytes) -> list[tuple[str, str]]:
    """Codes in a PDF's text: a quarter code, a stored code with an underscore, True/False."""
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    found = [("quarter code", code) for code in re.findall(r"\b\d{4}-Q[1-4]\b", text)]
    found += [("code", code) for code in re.findall(r"\b[a-z]+_[a-z_]+\b", text) if code in CODES]
    found += [("English", word) for word in re.findall(r"\b(?:True|False|None)\b", text)]
    return found


# ------------------------------------------------------------------ walking


SKIPPED = re.compile(r"/(logout|lang|static|back|swagger|api)(/|$)|/delete/|/action/|/action_post|/download/"
                     r"|/acting/switch|/userstatschartview/chart/\w")


def _pattern(url: str) -> str:
    """Pages of one kind: the path without ids, the names of the query arguments."""
    parts = urlsplit(url)
    names = sorted({re.sub(r"_\d+", "", name) for name, _ in parse_qsl(parts.query)})
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(names)


def _local(base: str, href: str) -> str | None:
    target = urlsplit(urljoin("http://localhost" + base, href))
    if target.netloc not in ("localhost", "") or target.scheme not in ("http", "https", ""):
        return None
    if SKIPPED.search(target.path):
        return None
    return target.path + (f"?{target.query}" if target.query else "")


class Walk:
    """Every page a logged-in client reaches from its home page, two of each kind, at most `limit`."""

    def __init__(self, client, limit: int = 500, per_kind: int = 2):
        self.client, self.limit, self.per_kind = client, limit, per_kind
        self.findings: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
        self.files: list[tuple[str, str]] = []
        self.pages: list[str] = []
        self.failures: list[tuple[str, int]] = []

    def run(self, start: str = "/") -> Walk:
        seen, kinds, queue = set(), collections.Counter(), [start]
        handed_to_job: set[str] = set()
        while queue and len(self.pages) < self.limit:
            url = queue.pop(0)
            if url in seen or kinds[_pattern(url)] >= self.per_kind:
                continue
            seen.add(url)
            kinds[_pattern(url)] += 1
            response = self.client.get(url)
            if response.status_code in (301, 302, 303):
                target = _local(url, response.headers["Location"])
                if target and target not in seen:
                    queue.insert(0, target)
                if target and re.fullmatch(r"/jobs/\d+", target) and url not in handed_to_job:
                    # The work went to a job (done at once in tests: a refund document is kept now): the address
                    # answers itself the second time, and its file is checked too (once: a report makes a new job).
                    handed_to_job.add(url)
                    seen.discard(url)
                    kinds[_pattern(url)] -= 1
                    queue.insert(1, url)
                continue
            if response.status_code >= 500:
                self.failures.append((url, response.status_code))
                continue
            self.pages.append(url)
            if "text/html" not in response.headers.get("Content-Type", ""):
                self._file(url, response)
                continue
            page = read_page(response.get_data(as_text=True))
            for where, text, attribute in page.texts:
                found = problem(text, attribute, typed=where.endswith("input value"))
                if found:
                    self.findings[(found, text)].append(f"{url} ({where})")
            queue += [link for link in (_local(url, href) for href in page.links) if link and link not in seen]
        return self

    def _file(self, url: str, response) -> None:
        disposition = response.headers.get("Content-Disposition", "")
        match = re.search(r'filename="?([^";]+)', disposition)
        if match:
            self.files.append((url, match.group(1)))
        if response.mimetype == "application/pdf":
            for found, text in pdf_problems(response.data):
                self.findings[(found, text)].append(f"{url} (PDF)")

    def report(self) -> str:
        return "\n".join(f"{kind}: {text!r} on {len(urls)} pages, e.g. {urls[0]}"
                         for (kind, text), urls in sorted(self.findings.items()))


# ------------------------------------------------------------------ the demo world


@pytest.fixture(scope="module")
def demo(app):
    """The demo world, small: every role's demo login, and data in every screen (two months of the
    deduction cycle and of direct billing, courses, documents, messages, refunds). Seeded once for the module's
    tests, which only read it (each with a client of its own); they come before the tests that wipe the
    database (`world`, `clean_app`)."""
    with app.app_context():
        wipe_database()
        db.session.remove()
    result = app.test_cli_runner().invoke(
        args=["seed", "--members", "120", "--employers", "8", "--months", "2", "--seed", "3", "--quiet"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        accounts = [(a.username, a.role, a.scope) for a in db.session.scalars(select(DemoAccount).order_by(
            DemoAccount.id))]
        db.session.remove()
    yield accounts
    with app.app_context():
        wipe_database()
        db.session.remove()


def log_in(app, client, username: str, role: str, scope: str) -> None:
    from webapp.security.scope import EMPLOYERS, acting_options

    response = client.post("/login/", data={"username": username, "password": app.config["DEMO_PASSWORD"]})
    assert response.status_code == 302, username
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        options = [option for option in acting_options(user) if option.role == role]
        # A deduction contact's demo scope is an employer's customer number; an officer's is in the unit's label.
        employer = db.session.scalar(select(Employer.id).where(Employer.customer_no == scope)) if scope else None
        db.session.remove()
    assert options, f"{username} cannot act as {role}"
    chosen = next((option for option in options
                   if scope and (scope in option.target_label
                                 or (option.kind == EMPLOYERS and option.target_id == employer))), options[0])
    assert client.post("/acting/switch", data={"key": chosen.key}).status_code == 302
    # Officers confirm the duty of confidentiality before their first member list (a no-op for other roles).
    assert client.post("/confidentiality/", data={"confirm": "yes"}).status_code == 302


# Pages each role's walks must reach (more are walked): a walk that stops early proves nothing. A role with several
# demo logins (two members: one with letters, one paying by invoice) reaches them between its logins.
REACHED = {
    # The office reaches every screen, and the rows behind them.
    "office": ["/memberview/list/", "/memberview/show/N", "/memberview/add", "/memberview/edit/N",
               "/invoiceview/show/N", "/deductionmonthview/show/N", "/auditlogview/list/", "/users/list/",
               "/users/show/N", "/roles/list/", "/refundruns/", "/payments/unmatched/", "/arrears/"],
    "analyst": ["/statistics/", "/reports/", "/orgunitview/show/N"],
    "leader": ["/unit/", "/memberview/list/", "/memberview/show/N", "/positionview/edit/N"],
    "treasurer": ["/unit/", "/memberview/list/", "/memberview/show/N", "/refunds/N/letter.pdf"],
    "member_data_admin": ["/unit/", "/memberview/list/", "/memberview/edit/N", "/employmentview/add"],
    "workplace_trustee": ["/memberview/list/", "/memberview/show/N"],
    "deduction_contact": ["/portal/", "/portal/basis/N-N", "/messages/new"],
    "member": ["/minside/", "/minside/courses", "/minside/employment", "/minside/documents/N"],
}
ROLES = list(REACHED)
# Roles whose walk must have downloaded a file (its name is checked too).
DOWNLOADS = {"office"}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_speaks_bokmal(app, demo, role):
    logins = [(username, scope) for username, account_role, scope in demo if account_role == role]
    assert logins, f"no demo login for {role}"
    kinds = set()
    for username, scope in logins:
        client = app.test_client()
        log_in(app, client, username, role, scope)
        walk = Walk(client).run()
        assert not walk.failures, walk.failures
        kinds |= {_pattern(url).split("?")[0] for url in walk.pages}
        assert walk.files or role not in DOWNLOADS, f"{role}: no download reached"
        assert not walk.findings, f"{role} {username}:\n{walk.report()}"
        english_files = [(url, name) for url, name in walk.files
                         if set(re.findall(r"[a-z]+", name.lower())) & ENGLISH_FILE_WORDS]
        assert not english_files, english_files
    assert set(REACHED[role]) <= kinds, sorted(set(REACHED[role]) - kinds)  # the walks reached the role's pages


# ------------------------------------------------------------------ the rule itself


@pytest.mark.parametrize("text,expected", [
    ("Cancel", "English"), ("True", "English"), ("Members", "English"), ("Medlemmer", None),
    ("no_list,no_payment", "code"), ("pending", "code"), ("office", "code"), ("Forbundskontoret", None),
    ("2026-Q3", "quarter code"), ("3. kvartal 2026", None), ("2026-11", "month code"), ("november 2026", None),
    ("[Errno 111] Connection refused", "exception text"),
    ("Status", None), ("KID", None), ("100.00", "English number"), ("100", None), ("1 234,50", None),
])
def test_the_rule_finds_english_and_codes(text, expected):
    assert problem(text) == expected


def test_search_filter_options_are_read_from_their_script():
    html = ('<script>new AdminFilters("#f", {"category": "Kategori"}, {"category": "\\u003cselect\\u003e'
            '\\u003coption value=\\"ordinary\\"\\u003eordinary\\u003c/option\\u003e\\u003c/select\\u003e"});'
            '</script>')
    assert ("filter option", "ordinary", True) in read_page(html).texts


# ------------------------------------------------------------------ widgets, dialogs, files


def test_select2_and_the_date_picker_speak_bokmal_from_our_own_files(app, demo):
    client = app.test_client()
    username = next(name for name, role, _ in demo if role == "office")
    log_in(app, client, username, "office", "")
    page = client.get("/memberview/add").get_data(as_text=True)
    for script in ("/static/js/select2/i18n/nb.js", "/static/js/bootstrap-datepicker/locales/"
                   "bootstrap-datepicker.no.min.js", "/static/js/language.js"):
        assert script in page, script
        assert client.get(script).status_code == 200
    assert 'data-placeholder="Velg …"' in page and 'data-locale="nb"' in page
    assert "Vennligst skriv inn" in client.get("/static/js/select2/i18n/nb.js").get_data(as_text=True)
    assert not re.search(r"<script[^>]+src=\"https?://", page), "a script from the internet"
    dialog = read_page(page)
    assert ("button", "Avbryt", False) in dialog.texts and ("a", "OK", False) in dialog.texts


def test_the_subject_access_pdf_is_labelled_and_formatted(app, demo):
    from pypdf import PdfReader

    username = next(name for name, role, _ in demo if role == "member")
    client = app.test_client()
    log_in(app, client, username, "member", "")
    response = client.get("/subject-access/data.pdf")
    assert response.status_code == 200
    assert re.search(r'filename="innsyn-\d+\.pdf"', response.headers["Content-Disposition"])
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    for heading in ("Medlemsregisteret", "Medlemsnummer", "Fødselsnummer", "Innmeldt", "Kategori", "Arbeidsforhold",
                    "Brukerkonto"):
        assert heading in text, heading
    raw_keys = sorted(set(re.findall(r"\b[a-z]+_[a-z_]+\b", text)))
    assert not raw_keys, raw_keys
    iso_dates = re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text)
    assert not iso_dates, iso_dates[:5]
    assert not {"True", "False", "ordinary", "private"} & set(re.findall(r"\w+", text))


def test_every_audit_action_the_code_records_has_a_label():
    from webapp.views.audit_labels import ACTION_LABELS, OBJECT_LABELS

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    recorded, objects = set(), set()
    for folder in ("webapp", "reports", "seed"):
        for path, _dirs, files in os.walk(os.path.join(root, folder)):
            for name in files:
                if not name.endswith(".py"):
                    continue
                with open(os.path.join(path, name), encoding="utf-8") as source:
                    code = source.read()
                for action, object_type in re.findall(
                        r'(?:audit\.record|_audit)\(\s*"([a-z_]+)"\s*,\s*(?:"([a-z_]+)")?', code):
                    recorded.add(action)
                    if object_type:
                        objects.add(object_type)
                recorded |= set(re.findall(r'_ACTION = "([a-z_]+)"', code))
                recorded |= set(re.findall(r'TRAVEL_INSURANCE_CHANGE = "([a-z_]+)"', code))
                objects |= set(re.findall(r'object_type="([a-z_]+)"', code))
    from webapp.models.choices import InvoiceAdjustmentKind

    recorded |= {f"invoice_{kind.name}" for kind in InvoiceAdjustmentKind}
    assert len(recorded) > 30
    assert not recorded - set(ACTION_LABELS), sorted(recorded - set(ACTION_LABELS))
    assert not objects - set(OBJECT_LABELS), sorted(objects - set(OBJECT_LABELS))


def test_audit_log_shows_actions_and_objects_by_label(app, demo):
    client = app.test_client()
    username = next(name for name, role, _ in demo if role == "office")
    log_in(app, client, username, "office", "")
    texts = {text for _, text, _ in read_page(client.get("/auditlogview/list/").get_data(as_text=True)).texts}
    assert "Nedlastet" in texts or "Inntektstrinn oppgitt" in texts, sorted(texts)[:80]
    assert not {"download", "declare_income_band", "refund_unit", "member"} & texts


def test_user_screens_show_roles_by_label_and_yes_no(app, demo):
    client = app.test_client()
    username = next(name for name, role, _ in demo if role == "office")
    log_in(app, client, username, "office", "")
    texts = [text for _, text, _ in read_page(client.get("/users/list/").get_data(as_text=True)).texts]
    assert "Forbundskontoret" in texts and "Ja" in texts
    assert not {"True", "False", "office", "analyst"} & set(texts)
    roles_page = [text for _, text, _ in read_page(client.get("/roles/list/").get_data(as_text=True)).texts]
    assert "Forbundskontoret" in roles_page and "office" not in roles_page


def test_quarters_read_as_quarters(app, demo):
    client = app.test_client()
    username = next(name for name, role, _ in demo if role == "office")
    log_in(app, client, username, "office", "")
    texts = [text for _, text, _ in read_page(client.get("/refundruns/").get_data(as_text=True)).texts]
    assert any(re.fullmatch(r"[1-4]\. kvartal 20\d\d", text) for text in texts), texts


# ------------------------------------------------------------------ English one switch away


def test_english_is_one_switch_away(app, demo):
    client = app.test_client()
    username = next(name for name, role, _ in demo if role == "office")
    log_in(app, client, username, "office", "")
    assert client.get("/lang/en").status_code == 302
    texts = [text for _, text, _ in read_page(client.get("/users/list/").get_data(as_text=True)).texts]
    assert "Union office" in texts and "Yes" in texts
    page = client.get("/memberview/add").get_data(as_text=True)
    assert "/static/js/select2/i18n/nb.js" not in page and 'data-locale="en"' in page
    refunds = [text for _, text, _ in read_page(client.get("/refundruns/").get_data(as_text=True)).texts]
    assert any(re.fullmatch(r"Q[1-4] 20\d\d", text) for text in refunds), refunds


# ------------------------------------------------------------------ words and amounts


def test_withdrawing_a_course_application_says_what_is_withdrawn(app):
    from tests.mypage_helpers import translated

    assert translated(app, "Withdraw") == "Trekk søknaden"  # "trekk" alone is the payroll deduction here


def test_amounts_are_typed_and_shown_in_kroner_under_a_kroner_label(client, world, dbs):
    from tests.helpers import login_as
    from webapp.models import RefundPool

    login_as(client, world.logins["office"], "office")
    form = client.get("/refundpoolview/add").get_data(as_text=True)
    assert "Pott (kr)" in form and "(øre)" not in form
    client.post("/refundpoolview/add", data={"quarter": "2026-Q2", "pool_ore": "12 345,50", "note": ""})
    assert dbs.scalar(select(RefundPool.pool_ore)) == 1234550
    listing = [text for _, text, _ in read_page(client.get("/refundpoolview/list/").get_data(as_text=True)).texts]
    assert "Pott (kr)" in listing and "12 345,50" in listing and "2. kvartal 2026" in listing  # nbsp read as space
    pool_id = dbs.scalar(select(RefundPool.id))
    assert 'value="12\u00a0345,50"' in client.get(f"/refundpoolview/edit/{pool_id}").get_data(as_text=True)
    page = client.post("/refundpoolview/add", data={"quarter": "2026-Q3", "pool_ore": "mye"}).get_data(as_text=True)
    assert "Pott (kr): «mye» er ikke et beløp i kroner." in [text for _, text, _ in read_page(page).texts]


def test_exception_text_never_reaches_a_flash_message(client, world, monkeypatch):
    from tests.helpers import login_as
    from webapp.views.scoped_interface import ScopedInterface

    def refused(self, item, commit=True):
        raise ConnectionRefusedError(111, "Connection refused")

    login_as(client, world.logins["office"], "office")
    monkeypatch.setattr(ScopedInterface, "add", refused)
    page = client.post("/prizeview/add", data={"name": "Paraply", "points": "3", "active": "y"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Errno" not in page and "Connection refused" not in page
    assert "Noe gikk galt. Sjekk om endringen din ble lagret" in page


def test_a_percentage_of_full_time_reads_as_a_whole_number(client, world):
    from tests.helpers import login_as

    login_as(client, world.logins["office"], "office")
    page = client.get(f"/employmentview/show/{world.employments['inside'].id}").get_data(as_text=True)
    texts = [text for _, text, _ in read_page(page).texts]
    assert "Stillingsprosent" in texts and "100" in texts and "100.00" not in texts
    form = client.get("/employmentview/add").get_data(as_text=True)
    assert 'name="position_pct"' in form and 'value="100"' in form  # the default, as people write it
    employment = world.employments["inside"]
    edit = client.get(f"/employmentview/edit/{employment.id}").get_data(as_text=True)
    assert 'id="position_pct" name="position_pct" type="text" value="100"' in edit or 'value="100"' in edit


def test_reconciliation_flags_read_as_labels(app):
    from webapp.views.deductions import reconciliation_flags

    with app.test_request_context():
        assert reconciliation_flags("no_list,no_payment") == "Ingen trekkliste, Ingen innbetaling"


def test_a_decimal_is_typed_with_a_comma_or_a_point(app):
    from decimal import Decimal

    from werkzeug.datastructures import MultiDict
    from wtforms import Form

    from webapp.views.form_fields import NorwegianDecimalField

    class Percentage(Form):
        share = NorwegianDecimalField("Stillingsprosent")

    with app.test_request_context():
        for typed, read in (("37,5", Decimal("37.5")), ("37.5", Decimal("37.5")), ("1 000,25", Decimal("1000.25"))):
            form = Percentage(MultiDict({"share": typed}))
            assert form.validate() and form.share.data == read, typed
        assert Percentage(data={"share": Decimal("100.00")}).share._value() == "100"
        refused = Percentage(MultiDict({"share": "hundre"}))
        assert not refused.validate()
        assert refused.share.errors == ["Stillingsprosent: «hundre» er ikke et tall."]
