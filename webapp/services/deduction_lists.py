"""Deduction lists: what an employer reports it deducted for a month.

A list starts prefilled from the month's basis (a supplementary list starts
empty), is edited as a draft, and is delivered on approval: then it is locked
until the office reopens it (which is logged). A list can also be uploaded as
CSV; every bad row is reported with its line number and nothing is saved.

A draft keeps whatever is filled in: what is typed must be well-formed (an amount in bounds, a known deviation,
texts within their lengths), but a line may still lack its amount. Completeness is checked on approval only,
line by line (`incomplete_lines`). The union prefills what it knows: the fixed part of each member's dues from
the basis (the insurances, the apprentices' flat amount); for ordinary members the percentage of pay comes on
top and stays for the employer to add, so a main list's line holding only that fixed part is not complete.
"Same as last month" copies what the employer reported for the same person in the month before.

A list belongs to a month with a basis for its employer, and tells the employer's contact nothing from
the register beyond that basis (engineering rule 13): a national id or membership number resolves to a
member only when the member is on the employer's basis for the list's month (STOP lines included, as the
basis page shows them). Anyone else -- a member of another employer, a member who pays privately, a person
the union does not know -- is kept exactly as typed, with no member linked, and flagged `outside_basis`
for the office, so the answer is the same whether or not the person is a member. Members employed at the
employer but not on its basis are not resolved either: that someone is a member is not the employer's to learn.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionBasisLine, DeductionList, DeductionListLine, Member
from webapp.models.choices import DeviationReason, ListKind, ListStatus
from webapp.security.privacy import mask_national_id
from webapp.services import audit, transitions
from webapp.services.bounds import bounded_text
from webapp.services.export_cells import neutralised_row, restored
from webapp.services.money import decimal_text, kroner, parse_kroner
from webapp.services.periods import Month
from webapp.services.reconciliation import reconcile
from webapp.services.validation import FieldError
from webapp.services.validation import national_id as check_national_id

# The template names members by member number (national ids are masked for employers);
# a full national id is needed only for someone not on the basis.
CSV_COLUMNS = ["medlemsnummer", "fodselsnummer", "navn", "belop", "avvik", "kommentar"]
# An upload with many bad rows names the first ones and counts the rest.
ERRORS_SHOWN = 25
# The most a line may report for one member and month: 100,000 kr (far above any dues; a typo is refused).
MAX_LINE_AMOUNT_ORE = 10_000_000
# Lengths of what a contact types on a line (the columns' sizes): refused when longer, never cut.
NAME_MAX_LENGTH = 160
COMMENT_MAX_LENGTH = 500
# How much of a refused value a message repeats.
ECHO_MAX_LENGTH = 20


class ListError(ValueError):
    """A list operation was refused; the message says why and names the field."""


class ListLocked(ListError):
    pass


class ListGone(ListError):
    """The list was deleted by another request."""


@dataclass
class LineInput:
    """One row of a list as entered on screen or read from a file."""

    national_id: str = ""
    name: str = ""
    amount: str = ""
    deviation: str = ""
    comment: str = ""
    member_no: str = ""


def lists_for(employer_id: int, period: str) -> list[DeductionList]:
    return db.session.scalars(
        select(DeductionList)
        .where(DeductionList.employer_id == employer_id, DeductionList.period == period)
        .order_by(DeductionList.created_at, DeductionList.id)
    ).all()


def basis_for(employer_id: int, period: str) -> DeductionBasis | None:
    return db.session.scalars(
        select(DeductionBasis).where(DeductionBasis.employer_id == employer_id, DeductionBasis.period == period)
    ).first()


def stored_month(period: str) -> Month:
    """The month of a stored list or basis. Our code wrote it, so it is not held to the window of typed
    months (Month.parse): a list or basis from before that window was drawn must still open."""
    year, month = period.split("-")
    return Month(int(year), int(month))


def no_basis(period: str) -> ListError:
    """The refusal of a list for a month without a basis for the employer."""
    return ListError(_("Month: there is no deduction basis for %(month)s for the employer; a list can only be "
                       "registered for a month with a basis.", month=stored_month(period).label))


@dataclass
class BasisMembers:
    """The members a list may name: those on its employer's basis for its month."""

    names_by_national_id: dict[str, tuple[int, str]]  # national id -> (member id, name)
    national_ids_by_member_no: dict[str, str]


def basis_members(employer_id: int, period: str) -> BasisMembers:
    """The members on the employer's basis for the month, in one query; refused when there is no basis."""
    basis = basis_for(employer_id, period)
    if basis is None:
        raise no_basis(period)
    rows = db.session.execute(
        select(Member.id, Member.member_no, Member.national_id, Member.first_name, Member.last_name)
        .join(DeductionBasisLine, DeductionBasisLine.member_id == Member.id)
        .where(DeductionBasisLine.basis_id == basis.id)
    ).all()
    return BasisMembers(
        names_by_national_id={nid: (member_id, f"{first} {last}") for member_id, _no, nid, first, last in rows},
        national_ids_by_member_no={member_no: nid for _id, member_no, nid, _first, _last in rows},
    )


def create_list(employer_id: int, period: str, user_id: int | None) -> DeductionList:
    """A new draft: the main list prefilled from the basis, or a supplementary list once one is delivered.

    Only for a month with a basis for the employer: a list for any other month would report dues nobody owes."""
    Month.parse(period)
    if basis_for(employer_id, period) is None:
        raise no_basis(period)
    existing = lists_for(employer_id, period)
    if any(lst.status == ListStatus.draft for lst in existing):
        raise ListError(_("Month: a list for this month is already being worked on; finish or delete it first."))
    delivered = [lst for lst in existing if lst.status == ListStatus.delivered]
    kind = ListKind.supplementary if delivered else ListKind.main
    deduction_list = DeductionList(
        employer_id=employer_id, period=period, kind=kind, status=ListStatus.draft,
        created_at=dt.datetime.now(), created_by_id=user_id,
    )
    db.session.add(deduction_list)
    if kind == ListKind.main:
        basis = basis_for(employer_id, period)
        if basis is not None:
            rows = db.session.execute(
                select(Member.id, Member.national_id, Member.first_name, Member.last_name,
                       DeductionBasisLine.fixed_amount_ore)
                .join(DeductionBasisLine, DeductionBasisLine.member_id == Member.id)
                .where(DeductionBasisLine.basis_id == basis.id, DeductionBasisLine.on_deduction.is_(True))
                .order_by(Member.last_name, Member.first_name)
            ).all()
            # The fixed part is what the union knows; an amount of 0 would only look like a report.
            deduction_list.lines = [
                DeductionListLine(member_id=m_id, national_id=nid, name=f"{first} {last}", amount_ore=fixed or None)
                for m_id, nid, first, last, fixed in rows
            ]
    db.session.commit()
    return deduction_list


def _locked(deduction_list: DeductionList) -> DeductionList:
    """The list as committed now, locked for this transaction, so that saving its lines, approving,
    reopening and deleting it happen one after the other; refused when it was deleted meanwhile."""
    locked = transitions.lock(DeductionList, deduction_list.id)
    if locked is None:
        raise ListGone(_("List: the list was deleted meanwhile."))
    return locked


def _check_draft(deduction_list: DeductionList) -> None:
    """Lock the list and refuse unless it is (still) a draft: a change racing an approval waits for it."""
    if _locked(deduction_list).status != ListStatus.draft:
        raise delivered_and_locked()


def delivered_and_locked() -> ListLocked:
    """The refusal of any change to a list that is no longer a draft."""
    return ListLocked(_("Status: the list is delivered and locked; only the union office can reopen it."))


def joined(errors: list[str], shown: int = ERRORS_SHOWN) -> str:
    """The errors as one text: each is a sentence; past `shown` of them, only how many more there are."""
    text = " ".join(str(error) for error in errors[:shown])
    if len(errors) > shown:
        text += " " + _("… and %(count)s more errors.", count=len(errors) - shown)
    return text


def _on_line(line_no: int | None, message) -> str:
    """The message, prefixed with the line number of the file or list it is about (when there is one)."""
    return str(message) if line_no is None else _("Line %(number)s: %(message)s", number=line_no, message=message)


def _echo(value) -> str:
    """A refused value as a message repeats it: its start only."""
    text = str(value)
    return text if len(text) <= ECHO_MAX_LENGTH else text[:ECHO_MAX_LENGTH] + "…"


def _national_id_of(row: LineInput, line_no: int | None, basis: BasisMembers | None) -> str:
    """The national id of a row: as typed, or that of the basis member with the typed membership number.

    A membership number off the basis is refused in the same words whether or not anyone has it."""
    member_no = str(row.member_no or "").strip()
    if not member_no:
        try:
            return check_national_id(row.national_id)
        except FieldError as exc:
            raise ListError(_on_line(line_no, exc.message)) from None
    nid = basis.national_ids_by_member_no.get(member_no) if basis else None
    if nid is None:
        raise ListError(_on_line(line_no, _(
            "Membership number: %(number)s is not on the employer's deduction basis for the month; give the "
            "national identity number and the name instead.", number=_echo(member_no))))
    return nid


def _amount_ore(text, line_no: int | None) -> int | None:
    """The amount typed, in øre: empty, or from 0 to MAX_LINE_AMOUNT_ORE."""
    if not str(text or "").strip():
        return None
    try:
        amount = parse_kroner(text)
    except (ValueError, ArithmeticError):
        raise ListError(_on_line(line_no, _("Amount: '%(value)s' is not an amount in kroner (e.g. 312,50).",
                                               value=_echo(text)))) from None
    if amount < 0:
        raise ListError(_on_line(line_no, _("Amount: must not be negative.")))
    if amount > MAX_LINE_AMOUNT_ORE:
        raise ListError(_on_line(line_no, _("Amount: at most %(max)s kroner per member and month.",
                                               max=kroner(MAX_LINE_AMOUNT_ORE))))
    return amount


def _bounded_text(text, label, max_length: int, line_no: int | None) -> str:
    """Typed text, stripped; refused (never cut) when longer than its column or holding a NUL byte."""
    try:
        return bounded_text(label, max_length)(text)
    except FieldError as exc:
        raise ListError(_on_line(line_no, exc.message)) from None


def parse_line(row: LineInput, line_no: int | None = None, basis: BasisMembers | None = None) -> dict:
    """A checked line as column values; raises ListError naming the line and the field.

    Only the form of what is typed is checked here: a draft line may lack its amount (see `incomplete_lines`).
    A membership number resolves only among the `basis` members (without a basis, none does)."""
    nid = _national_id_of(row, line_no, basis)
    amount = _amount_ore(row.amount, line_no)
    name = _bounded_text(row.name, _("Name"), NAME_MAX_LENGTH, line_no)
    comment = _bounded_text(row.comment, _("Comment"), COMMENT_MAX_LENGTH, line_no)
    deviation = None
    if str(row.deviation or "").strip():
        try:
            deviation = DeviationReason[row.deviation.strip()]
        except KeyError:
            allowed = ", ".join(reason.name for reason in DeviationReason)
            raise ListError(_on_line(line_no, _("Deviation: '%(value)s' is not one of %(allowed)s.",
                                                   value=row.deviation, allowed=allowed))) from None
    return {"national_id": nid, "name": name, "amount_ore": amount, "deviation": deviation, "comment": comment or None}


def _basis_of(deduction_list: DeductionList) -> BasisMembers:
    return basis_members(deduction_list.employer_id, deduction_list.period)


def _resolved(values: dict, basis: BasisMembers) -> dict:
    """The line's values with its member when the person is on the basis, else flagged outside it, as typed."""
    known = basis.names_by_national_id.get(values["national_id"])
    if known is None:
        return {**values, "member_id": None, "outside_basis": True}
    member_id, register_name = known
    return {**values, "member_id": member_id, "name": values["name"] or register_name, "outside_basis": False}


def replace_lines(deduction_list: DeductionList, rows: list[LineInput], line_numbers: list[int] | None = None) -> None:
    """Replace a draft's lines with `rows`: all of them valid, or nothing changes.

    Errors name each row by its number in `line_numbers` (a file's line numbers), else by its place from 1."""
    _check_draft(deduction_list)
    basis = _basis_of(deduction_list)
    parsed, errors, seen = [], [], set()
    for number, row in zip(line_numbers or range(1, len(rows) + 1), rows, strict=True):
        try:
            values = parse_line(row, number, basis)
        except ListError as exc:
            errors.append(str(exc))
            continue
        if values["national_id"] in seen:
            errors.append(_on_line(number, _("National identity number: %(value)s appears twice.",
                                               value=mask_national_id(values["national_id"]))))
            continue
        seen.add(values["national_id"])
        parsed.append(values)
    if errors:
        raise ListError(joined(errors))
    deduction_list.lines = []
    for values in parsed:
        values = _resolved(values, basis)
        values["name"] = values["name"] or "?"
        deduction_list.lines.append(DeductionListLine(**values))
    db.session.commit()


def update_entries(deduction_list: DeductionList, entries: dict[int, LineInput]) -> None:
    """Set amount, deviation and comment of existing lines (by line id): all valid, or nothing changes.

    Raises ListError whose `errors` maps each bad line id to its message."""
    _check_draft(deduction_list)
    _set_entries(deduction_list, entries)
    db.session.commit()


def _set_entries(deduction_list: DeductionList, entries: dict[int, LineInput]) -> None:
    """Check and set the entries on the (locked) draft's lines; the caller commits."""
    by_id = {line.id: line for line in deduction_list.lines}
    errors: dict[int, str] = {}
    checked = {}
    for line_id, entry in entries.items():
        line = by_id.get(line_id)
        if line is None:
            errors[line_id] = _("Line: not on this list.")
            continue
        try:
            checked[line_id] = parse_line(LineInput(line.national_id, line.name, entry.amount, entry.deviation,
                                                    entry.comment))
        except ListError as exc:
            errors[line_id] = str(exc)
    if errors:
        error = ListError(joined([f"{by_id[i].name if i in by_id else i}: {m}" for i, m in errors.items()]))
        error.errors = errors
        raise error
    for line_id, values in checked.items():
        line = by_id[line_id]
        line.amount_ore, line.deviation, line.comment = values["amount_ore"], values["deviation"], values["comment"]


def remove_line(deduction_list: DeductionList, line_id: int) -> None:
    _check_draft(deduction_list)
    line = next((line for line in deduction_list.lines if line.id == line_id), None)
    if line is None:
        raise ListError(_("Line: not on this list."))
    deduction_list.lines.remove(line)
    db.session.commit()


def add_line(deduction_list: DeductionList, row: LineInput) -> DeductionListLine:
    """Add someone by national id: a member of the basis by name, anyone else as typed (the name is needed)."""
    _check_draft(deduction_list)
    basis = _basis_of(deduction_list)
    values = parse_line(row, None, basis)
    if any(line.national_id == values["national_id"] for line in deduction_list.lines):
        raise ListError(_("National identity number: %(value)s is already on the list.",
                          value=mask_national_id(values["national_id"])))
    values = _resolved(values, basis)
    if not values["name"]:
        raise ListError(_("Name: the person is not on the employer's deduction basis for the month; give the name."))
    line = DeductionListLine(**values)
    deduction_list.lines.append(line)
    db.session.commit()
    return line


def lines_total_ore(list_id: int) -> int:
    """The sum of a list's amounts as saved: the draft's running total, and the total a delivery records."""
    return db.session.scalar(
        select(func.coalesce(func.sum(DeductionListLine.amount_ore), 0)).where(DeductionListLine.list_id == list_id)
    )


# ------------------------------------------------------------------ what the union knows of a line


@dataclass(frozen=True)
class LineHint:
    """What the union knows of one line: the fixed part of the member's dues on the month's basis (None when the
    person is not on its deduction), whether the percentage of pay comes on top (`percent` of it), and the amount
    the employer reported for the same person the month before (None when it reported none)."""

    fixed_ore: int | None = None
    percent: Decimal | None = None
    last_month_ore: int | None = None

    def only_fixed(self, line: DeductionListLine) -> bool:
        """True when an ordinary member's line holds the fixed part alone, with no deviation to explain it: the
        percentage of pay has not been added to what the union prefilled."""
        return (self.percent is not None and line.deviation is None and line.amount_ore is not None
                and line.amount_ore == (self.fixed_ore or 0))

    def waiting(self, line: DeductionListLine) -> bool:
        """True when the line still waits for its amount (none yet, or the prefilled fixed part alone)."""
        return line.deviation is None and (line.amount_ore is None or self.only_fixed(line))


def last_month_amounts(employer_id: int, period: str) -> dict[str, int]:
    """What the employer reported per person (by national id) in its delivered lists of the month before."""
    previous = str(stored_month(period).previous)
    rows = db.session.execute(
        select(DeductionListLine.national_id, func.sum(DeductionListLine.amount_ore))
        .join(DeductionList, DeductionList.id == DeductionListLine.list_id)
        .where(DeductionList.employer_id == employer_id, DeductionList.period == previous,
               DeductionList.status == ListStatus.delivered, DeductionListLine.amount_ore.is_not(None))
        .group_by(DeductionListLine.national_id)
    ).all()
    # A main and a supplementary list together may exceed what one line may hold: then there is nothing to copy.
    return {nid: int(total) for nid, total in rows if total <= MAX_LINE_AMOUNT_ORE}


def line_hints(deduction_list: DeductionList) -> dict[int, LineHint]:
    """The hint of every line of the list, by line id (a few queries, whatever the list's length)."""
    basis = basis_for(deduction_list.employer_id, deduction_list.period)
    components: dict[int, tuple[int, bool]] = {}
    if basis is not None:
        components = {member_id: (fixed, ordinary) for member_id, fixed, ordinary in db.session.execute(
            select(DeductionBasisLine.member_id, DeductionBasisLine.fixed_amount_ore, DeductionBasisLine.ordinary_dues)
            .where(DeductionBasisLine.basis_id == basis.id, DeductionBasisLine.on_deduction.is_(True))
        )}
    percent = Decimal(basis.rate.percent) if basis is not None else None
    last = last_month_amounts(deduction_list.employer_id, deduction_list.period)
    hints = {}
    for line in deduction_list.lines:
        fixed, ordinary = components.get(line.member_id, (None, False)) if line.on_basis else (None, False)
        hints[line.id] = LineHint(fixed, percent if ordinary else None, last.get(line.national_id))
    return hints


def incomplete_lines(deduction_list: DeductionList) -> dict[int, str]:
    """What keeps each line from being delivered, by line id (empty when the list is complete).

    A line needs an amount or a deviation, a deviation 'other' its comment, and on a main list an ordinary
    member's line more than the fixed part the union prefilled (or a deviation saying why not)."""
    hints = line_hints(deduction_list) if deduction_list.kind == ListKind.main else {}
    problems: dict[int, str] = {}
    for line in deduction_list.lines:
        hint = hints.get(line.id)
        if line.amount_ore is None and line.deviation is None:
            problems[line.id] = _("Amount: give the amount deducted, or a deviation with its reason.")
        elif line.deviation == DeviationReason.other and not line.comment:
            problems[line.id] = _("Comment: a deviation 'other' needs a comment.")
        elif hint is not None and hint.only_fixed(line):
            problems[line.id] = _(
                "Amount: %(amount)s kroner is only the fixed part from the basis; add the dues of %(percent)s %% of "
                "pay, or give a deviation with its reason.", amount=kroner(line.amount_ore),
                percent=decimal_text(hint.percent))
    return problems


def same_as_last_month(deduction_list: DeductionList, entries: dict[int, LineInput],
                       line_id: int | None = None) -> int:
    """Save the typed `entries`, then give lines the amount the employer reported for the same person the month
    before: the one line `line_id` (whatever it held), or else every line still waiting for its amount (typed
    amounts and deviations stay). Returns how many lines got an amount; all in one transaction."""
    _check_draft(deduction_list)
    _set_entries(deduction_list, entries)
    if line_id is not None and all(line.id != line_id for line in deduction_list.lines):
        raise ListError(_("Line: not on this list."))
    hints = line_hints(deduction_list)
    filled = 0
    for line in deduction_list.lines:
        hint = hints[line.id]
        chosen = line.id == line_id if line_id is not None else hint.waiting(line)
        if chosen and hint.last_month_ore is not None:
            line.amount_ore = hint.last_month_ore
            filled += 1
    db.session.commit()
    return filled


def approve(deduction_list: DeductionList, user_id: int | None, entries: dict[int, LineInput] | None = None,
            expected_total_ore: int | None = None) -> None:
    """Deliver and lock the list, after saving `entries` (when given) in the same transaction;
    every line must be complete (`incomplete_lines`), else ListError whose `errors` maps line ids to messages.

    `expected_total_ore` is the total the contact confirmed: when the lines were changed since (in another tab),
    the approval is refused so that nobody delivers a list they have not seen.
    The list row stays locked from the check to the commit, so a save in another tab either comes
    before (and is delivered) or after (and is refused): the total is always the sum of the lines."""
    _check_draft(deduction_list)
    if entries is not None:
        _set_entries(deduction_list, entries)
    problems = incomplete_lines(deduction_list)
    if problems:
        raise incomplete_error(deduction_list, problems)
    db.session.flush()
    total = lines_total_ore(deduction_list.id)
    if expected_total_ore is not None and total != expected_total_ore:
        raise ListError(_("List: the list was changed meanwhile (the total is now %(total)s kroner); check it and "
                          "approve it again.", total=kroner(total)))
    if not transitions.claim(DeductionList, deduction_list.id, ListStatus.draft, status=ListStatus.delivered,
                             total_ore=total, delivered_at=dt.datetime.now(), delivered_by_id=user_id):
        raise delivered_and_locked()
    reconcile(deduction_list.period, [deduction_list.employer_id])
    db.session.commit()


def incomplete_error(deduction_list: DeductionList, problems: dict[int, str]) -> ListError:
    """The refusal of an approval: how many lines are not complete, the first of them by name."""
    names = {line.id: line.name for line in deduction_list.lines}
    error = ListError(_("The list cannot be delivered yet: %(count)s lines are not complete.", count=len(problems))
                      + " " + joined([f"{names.get(line_id, line_id)}: {message}"
                                      for line_id, message in problems.items()], shown=5))
    error.errors = problems
    return error


def reopen(deduction_list: DeductionList, user_id: int | None, reason: str = "") -> None:
    """The office opens a delivered list for changes again; the reopening is logged (once, by the one who did it)."""
    deduction_list = _locked(deduction_list)
    if not transitions.claim(DeductionList, deduction_list.id, ListStatus.delivered, status=ListStatus.draft,
                             reopened_at=dt.datetime.now(), reopened_by_id=user_id):
        raise ListError(_("Status: only a delivered list can be reopened."))
    audit.record("reopen", "deduction_list", deduction_list.id, period=deduction_list.period,
                 employer_id=deduction_list.employer_id, reason=reason)
    db.session.flush()
    reconcile(deduction_list.period, [deduction_list.employer_id])
    db.session.commit()


def delete_draft(deduction_list: DeductionList) -> None:
    _check_draft(deduction_list)
    db.session.delete(deduction_list)
    db.session.commit()


# ------------------------------------------------------------------ CSV


def csv_template(deduction_list: DeductionList | None = None) -> str:
    """The upload template: the header, and the list's lines when given (national ids masked)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in deduction_list.lines if deduction_list else []:
        amount = "" if line.amount_ore is None else f"{line.amount_ore / 100:.2f}".replace(".", ",")
        member_no = line.basis_member.member_no if line.basis_member else ""
        shown_id = mask_national_id(line.national_id) if member_no else line.national_id
        writer.writerow(neutralised_row(
            [member_no, shown_id, line.name, amount, line.deviation.name if line.deviation else "",
             line.comment or ""]))
    return out.getvalue()


def parse_csv(data: bytes) -> list[LineInput | None]:
    """Rows of an uploaded CSV file (';' or ',' separated, UTF-8 or Latin-1); raises ListError on a bad header.

    Blank rows come back as None so that line numbers stay those of the file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("iso-8859-1")
    if not text.strip():
        raise ListError(_("File: the file is empty."))
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,\t")
        dialect.doublequote = True  # a header has no quotes to learn from; our template doubles them ("a ""b""")
    except csv.Error:
        dialect = csv.excel
    try:
        return _read_rows(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise ListError(_("File: not a CSV file that can be read (%(error)s).", error=exc)) from None


def _read_rows(reader) -> list[LineInput | None]:
    header = [h.strip().lower() for h in next(reader, [])]
    if "belop" not in header or not ({"medlemsnummer", "fodselsnummer"} & set(header)):
        raise ListError(_on_line(1, _("Header: it must have belop, and medlemsnummer or fodselsnummer; "
                                      "expected %(columns)s.", columns=";".join(CSV_COLUMNS))))
    index = {name: header.index(name) for name in CSV_COLUMNS if name in header}

    def cell(cells, name):
        position = index.get(name)
        return restored(cells[position].strip()) if position is not None and position < len(cells) else ""

    rows: list[LineInput | None] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            rows.append(None)
            continue
        rows.append(LineInput(
            national_id=cell(cells, "fodselsnummer"), name=cell(cells, "navn"), amount=cell(cells, "belop"),
            deviation=cell(cells, "avvik"), comment=cell(cells, "kommentar"), member_no=cell(cells, "medlemsnummer"),
        ))
    return rows


def import_csv(deduction_list: DeductionList, data: bytes, max_lines: int | None = None) -> int:
    """Replace a draft's lines with the file's rows. Errors name the file's line numbers (header = line 1).

    A file of more than `max_lines` rows (default: the setting DEDUCTION_UPLOAD_MAX_LINES) is refused whole."""
    numbered = [(number, row) for number, row in enumerate(parse_csv(data), start=2) if row is not None]
    if max_lines is None:
        max_lines = current_app.config["DEDUCTION_UPLOAD_MAX_LINES"]
    if len(numbered) > max_lines:
        raise ListError(_("File: it has %(count)s lines; a file may have at most %(max)s.",
                          count=len(numbered), max=max_lines))
    replace_lines(deduction_list, [row for _number, row in numbered], [number for number, _row in numbered])
    return len(numbered)
