"""The PDF of a large deduction list (issue 11, item 10).

    python bench/bench_deduction_list_pdf.py [--lines 20000] [--runs 1]

Renders, through the portal's own function, a list of `--lines` lines (names,
national ids, amounts, every tenth line a deviation with a comment) that is
built in memory: the PDF does not depend on the database. Prints the seconds
per rendering and the PDF's size. Target: a list of the largest upload
(DEDUCTION_UPLOAD_MAX_LINES, 20,000 lines) in seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def large_list(lines: int):
    from webapp.models import DeductionList, DeductionListLine, Employer
    from webapp.models.choices import DeviationReason, ListKind, ListStatus

    employer = Employer(name="Virksomhet Stor AS", org_number="974760673", customer_no="94001761")
    deduction_list = DeductionList(employer=employer, period="2026-03", kind=ListKind.main, status=ListStatus.delivered,
                                   delivered_at=dt.datetime(2026, 3, 20, 12, 0), total_ore=0)
    for number in range(lines):
        deviation = DeviationReason.other if number % 10 == 0 else None
        deduction_list.lines.append(DeductionListLine(
            member_id=number + 1, national_id=f"{17058000000 + number:011d}", name=f"Medlem Nummer{number:05d} Æsøy",
            amount_ore=None if deviation else 31250, deviation=deviation,
            comment="Permisjon uten lønn hele måneden" if deviation else None,
        ))
        deduction_list.total_ore += 0 if deviation else 31250
    return deduction_list


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    from webapp import create_app
    from webapp.views.portal import render_deduction_list_pdf

    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.test_request_context("/"):
        deduction_list = large_list(args.lines)
        for _ in range(args.runs):
            started = time.perf_counter()
            pdf = render_deduction_list_pdf(deduction_list)
            print(f"{args.lines} lines: {time.perf_counter() - started:.1f} s, {len(pdf) / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
