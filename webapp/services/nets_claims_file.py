"""The AvtaleGiro payment-claims file (Nets' OCR format) written record by record with string formatting.

The file is byte for byte what netsgiro writes for one transmission holding one assignment of payment requests
(`netsgiro.Transmission(...).to_ocr()`, lines joined by newlines, ISO-8859-1 with '?' for what it cannot encode,
a newline after the last line): tests/test_claims_file.py builds both and compares them. netsgiro makes an attrs
object with converters and validators for each of a claim's two to six records and counts an assignment's records
by making them again, which is most of the time for 100,000 claims; here each claim becomes its lines as soon as
it is added and only the counts, the total and the earliest and latest due date are kept. netsgiro still reads
the files (payments.py).

Records (80 characters each):
- transmission start `NY000010` and end `NY000089` (claims, records, total øre, the earliest due date);
- assignment start `NY210020` (agreement id, assignment number, account) and end `NY210088` (claims, records,
  total øre, earliest and latest due date);
- per claim: amount item 1 `NY21tt30` (number, due date, amount in øre, KID), amount item 2 `NY21tt31` (payer
  name, reference), and with the bank's notice (type 21 instead of 02) two specification records `NY212149` per
  line of the notice text (its first and last 40 characters).
"""

from __future__ import annotations

import datetime as dt
from typing import BinaryIO

PAYEE_NOTIFICATION = 2  # netsgiro.TransactionType.AVTALEGIRO_WITH_PAYEE_NOTIFICATION
BANK_NOTIFICATION = 21  # netsgiro.TransactionType.AVTALEGIRO_WITH_BANK_NOTIFICATION
ENCODING = "iso-8859-1"
MAX_NOTICE_LINES = 42
MAX_NOTICE_LINE_LENGTH = 80


def _exact(name: str, value: str, length: int) -> str:
    if not isinstance(value, str) or len(value) != length:
        raise ValueError(f"{name} must be exactly {length} characters, got {value!r}")
    return value


def _clean(value: str | None) -> str | None:
    """A text field as netsgiro stores it: stripped, without line breaks, None when nothing is left."""
    if value is None:
        return None
    return value.strip().replace("\r", "").replace("\n", "") or None


def _date(value: dt.date | None) -> str:
    return f"{value:%d%m%y}" if value else "000000"


def notice_records(number: int, text: str) -> list[str]:
    """The specification records of a claim's bank notice: each line in two halves of 40 characters."""
    lines = text.splitlines()
    if len(lines) > MAX_NOTICE_LINES:
        raise ValueError(f"The bank notice may have at most {MAX_NOTICE_LINES} lines, got {len(lines)}")
    records = []
    for line_number, line in enumerate(lines, 1):
        if len(line) > MAX_NOTICE_LINE_LENGTH:
            raise ValueError(f"A bank notice line may be at most {MAX_NOTICE_LINE_LENGTH} characters, got "
                             f"{len(line)}: {line!r}")
        records.append(f"NY212149{number:07d}4{line_number:03d}1{line[:40]:40}" + "0" * 20)
        records.append(f"NY212149{number:07d}4{line_number:03d}2{line[40:80]:40}" + "0" * 20)
    return records


class ClaimsFileWriter:
    """Writes a claims transmission to `out` (a binary file) as the claims are added; `close()` writes the end
    records. The transmission number is also the assignment number."""

    def __init__(self, out: BinaryIO, *, transmission_number: str, data_transmitter: str, data_recipient: str,
                 agreement_id: str | None, account: str):
        self.out = out
        self.claims = 0
        self.claim_records = 0
        self.total_ore = 0
        self.earliest: dt.date | None = None
        self.latest: dt.date | None = None
        self._dates: dict[dt.date, str] = {}  # due date -> DDMMYY
        self._reference: tuple[str | None, str | None] = (None, None)  # the last reference given, cleaned
        number = _exact("The transmission number", transmission_number, 7)
        agreement = "0" * 9 if agreement_id is None else _exact("The AvtaleGiro agreement id", agreement_id, 9)
        self._write([
            f"NY000010{_exact('The data transmitter', data_transmitter, 8)}{number}"
            f"{_exact('The data recipient', data_recipient, 8)}" + "0" * 49,
            f"NY210020{agreement}{number}{_exact('The account number', account, 11)}" + "0" * 45,
        ])

    def _write(self, lines: list[str]) -> None:
        self.out.write(("\n".join(lines) + "\n").encode(ENCODING, errors="replace"))

    def add_claim(self, *, kid: str, due_date: dt.date, amount_ore: int, reference: str | None = None,
                  payer_name: str | None = None, notice: str | None = None) -> None:
        """One payment claim; with a notice text the bank notifies the payer with it."""
        if not isinstance(due_date, dt.date):
            raise ValueError(f"The due date must be a date, got {due_date!r}")
        kid = _clean(kid)
        if kid is None or len(kid) > 25:
            raise ValueError(f"The KID must be 1 to 25 characters, got {kid!r}")
        self.claims += 1
        number = self.claims
        kind = BANK_NOTIFICATION if notice else PAYEE_NOTIFICATION
        payer_name = _clean(payer_name)
        if reference != self._reference[0]:  # a file's claims mostly share one reference
            self._reference = (reference, _clean(reference))
        reference = self._reference[1]
        due = self._dates.get(due_date)
        if due is None:  # strftime costs more than the rest of a record; a file has a few due dates
            due = self._dates[due_date] = _date(due_date)
        lines = [
            f"NY21{kind:02d}30{number:07d}{due}{' ' * 11}{amount_ore:017d}{kid:>25}000000",
            f"NY21{kind:02d}31{number:07d}{payer_name[:10] if payer_name else '':10}{' ' * 25}"
            f"{reference or '':25}00000",
        ]
        if notice:
            lines += notice_records(number, notice)
        self._write(lines)
        self.claim_records += len(lines)
        self.total_ore += amount_ore
        if self.earliest is None or due_date < self.earliest:
            self.earliest = due_date
        if self.latest is None or due_date > self.latest:
            self.latest = due_date

    def close(self) -> None:
        """The assignment's and the transmission's end records (the transmission's date: the earliest due date)."""
        if not self.claims:
            raise ValueError("A claims file needs at least one claim")
        total = f"{self.total_ore:017d}" if self.total_ore else "0" * 17
        self._write([
            f"NY210088{self.claims:08d}{self.claim_records + 2:08d}{total}{_date(self.earliest)}"
            f"{_date(self.latest)}000000" + "0" * 21,
            f"NY000089{self.claims:08d}{self.claim_records + 4:08d}{self.total_ore:017d}{self.earliest:%d%m%y}"
            + "0" * 33,
        ])
