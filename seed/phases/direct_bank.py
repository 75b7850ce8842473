"""The bank's side of the direct-billing demo: the members' paying habits, the transactions they make, the
files the bank sends (AvtaleGiro agreements and OCR giro transactions, written with netsgiro), and the demo
clock that runs the services on the simulated days.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import netsgiro
import time_machine
from flask import current_app
from sqlalchemy import text

from webapp.extensions import db
from webapp.services import payments

# How a member who pays by invoice pays. The shares are of the members paying directly.
RELIABLE, LATE, PARTIAL, OVERPAYS, STOPS, NEVER = "reliable", "late", "partial", "overpays", "stops", "never"
HABITS = [(RELIABLE, 0.84), (LATE, 0.08), (PARTIAL, 0.03), (OVERPAYS, 0.03), (STOPS, 0.015), (NEVER, 0.005)]
# An AvtaleGiro claim the payer's bank did not pay (no cover on the account).
AVTALEGIRO_UNPAID = 0.002

GIRO = netsgiro.TransactionType.FROM_GIRO_DEBITED_ACCOUNT
AVTALEGIRO = netsgiro.TransactionType.FROM_AVTALEGIRO
NEW_OR_CHANGED = netsgiro.AvtaleGiroRegistrationType.NEW_OR_UPDATED_AGREEMENT
DELETED = netsgiro.AvtaleGiroRegistrationType.DELETED_AGREEMENT
# The files come from Nets (data transmitter) to the union (data recipient).
NETS, UNION = "00008080", "00010200"
IMPORTED_BY = "seed: direct billing"


@dataclass(frozen=True, order=True, slots=True)
class BankTransaction:
    """A payment the bank will report: on `day`, `amount_ore` (negative: a reversal) with `kid`."""

    day: dt.date
    kid: str
    amount_ore: int
    kind: int = GIRO

    def entry(self) -> tuple:
        if self.amount_ore < 0:
            return (self.kid, self.amount_ore, self.day)  # the import's reversal (type 18, minus sign)
        return (self.kid, self.amount_ore, self.day, self.kind)


def choose_habit(rng: random.Random) -> str:
    return rng.choices([habit for habit, _ in HABITS], [share for _, share in HABITS])[0]


def _whole_kroner(ore: int) -> int:
    return max(100, ore // 100 * 100)


def invoice_payments(invoice, habit: str, rng: random.Random, stopped: bool) -> list[BankTransaction]:
    """What a member of this habit pays for an invoice (what it still owes after any credit was applied)."""
    owed = invoice.amount_ore - invoice.paid_ore - invoice.credited_ore - invoice.written_off_ore
    if owed <= 0 or habit == NEVER or (habit == STOPS and stopped):
        return []
    on_time = max(invoice.issued_on, invoice.due_date - dt.timedelta(days=rng.randint(0, 9)))
    late = invoice.due_date + dt.timedelta(days=rng.randint(17, 50))
    if habit == LATE:
        return [BankTransaction(late, invoice.kid, owed)]
    if habit == PARTIAL:
        first = _whole_kroner(owed // 2)
        rest = [BankTransaction(late, invoice.kid, owed - first)] if rng.random() < 0.5 else []
        return [BankTransaction(on_time, invoice.kid, first), *rest]
    if habit == OVERPAYS:
        return [BankTransaction(on_time, invoice.kid, owed + rng.randint(5, 40) * 1000)]
    return [BankTransaction(on_time, invoice.kid, owed)]


def claim_payments(claims: list, rng: random.Random) -> list[BankTransaction]:
    """The AvtaleGiro claims the payers' banks pay on the due day: (kid, due date, øre) each."""
    return [BankTransaction(due, kid, amount, AVTALEGIRO) for kid, due, amount in claims
            if rng.random() >= AVTALEGIRO_UNPAID]


def agreements_file(agreements: list[tuple[str, int, bool]], day: dt.date, number: int) -> bytes:
    """Nets' AvtaleGiro agreements file: (KID, registration type, notify) per mandate, dated `day`."""
    assignment = payments.StreamedAssignment(
        service_code=netsgiro.ServiceCode.AVTALEGIRO, type=netsgiro.AssignmentType.AVTALEGIRO_AGREEMENTS,
        number=f"{number:07d}", account=current_app.config["UNION_ACCOUNT_NUMBER"],
    ).of(
        netsgiro.Agreement(service_code=netsgiro.ServiceCode.AVTALEGIRO, number=index, registration_type=kind,
                           kid=kid, notify=notify)
        for index, (kid, kind, notify) in enumerate(agreements, start=1)
    )
    return payments.write_transmission(netsgiro.Transmission(
        number=f"{number:07d}", data_transmitter=NETS, data_recipient=UNION, date=day, assignments=[assignment]))


def ocr_file(transactions: list[BankTransaction], number: int) -> bytes:
    """The OCR giro file with these transactions, as the bank sends it (payments.build_ocr_file)."""
    return payments.build_ocr_file([t.entry() for t in sorted(transactions)],
                                   current_app.config["UNION_ACCOUNT_NUMBER"], file_number=number)


def typo_kid(kid: str) -> str:
    """The KID with two neighbouring digits swapped, as a member types it by mistake (the check digit fails)."""
    for index in range(len(kid) - 3, 2, -1):
        if kid[index] != kid[index + 1]:
            return kid[:index] + kid[index + 1] + kid[index] + kid[index + 2:]
    return kid[:-1] + str((int(kid[-1]) + 1) % 10)


def unmatched_kid(rng: random.Random) -> str:
    """A reference that is no KID of ours (another payee's, or typed wrongly)."""
    return f"{rng.randint(10**11, 10**12 - 1)}"


# ------------------------------------------------------------------ the demo clock and the demo's mail

@contextmanager
def demo_clock(moment: dt.datetime) -> Iterator[None]:
    """Run the services as on `moment`: the process's clock (`datetime.now`, `date.today`, `time.time`) starts at
    `moment` and ticks on meanwhile (time_machine), so every stamp the services write from the wall clock falls on
    the simulated day, as if the office had worked then. A moment in the future of the wall clock (a step later
    today) is moved to the present: nothing is stamped after the real now."""
    moment = min(moment, dt.datetime.now())
    with time_machine.travel(moment, tick=True):
        yield
    db.session.expunge_all()  # every commit of the services expires what the session holds: keep it small


@contextmanager
def mail_stays_here() -> Iterator[None]:
    """The demo's mail: the outbox records every mail as sent, and nothing leaves the machine (Flask-Mail's
    suppress switch); the members' addresses are made up but their domains are real."""
    state = current_app.extensions["mail"]
    before = state.suppress
    state.suppress = True
    try:
        yield
    finally:
        state.suppress = before


@contextmanager
def unrendered_attachments() -> Iterator[None]:
    """The PDF attached to each e-mailed invoice and reminder is not rendered while the demo plays: the mail
    stays here (mail_stays_here) and the outbox drops a sent mail's attachments, so nobody could ever see it,
    and rendering thousands of them would make the demo slow. The invoices' PDFs are rendered for real when
    the screens show them, and so are the print files for the office."""
    from webapp.services import invoice_documents

    real = invoice_documents.invoice_pdf
    invoice_documents.invoice_pdf = _unrendered
    try:
        yield
    finally:
        invoice_documents.invoice_pdf = real


def _unrendered(invoice, reminder: int = 0) -> bytes:
    return b"%PDF-1.4\n% demo: not rendered, the mail never left the machine\n"


@contextmanager
def fast_commits() -> Iterator[None]:
    """The services commit once per invoice or mail (one winner each); for the demo's thousands of them the
    database need not wait for the disk at every commit. Crash safety of the demo's own writes is not needed
    (the demo is made again), and the setting lasts only as long as the demo's connection: the pool is emptied
    after, so the app's connections keep the engine's defaults."""
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        db.session.execute(text("PRAGMA synchronous = OFF"))
    elif dialect == "postgresql":
        db.session.execute(text("SET synchronous_commit TO off"))
    db.session.commit()
    try:
        yield
    finally:
        db.session.remove()
        if db.engine.url.database not in (None, "", ":memory:"):  # an in-memory database lives in its connection
            db.engine.dispose()
