"""The LO report PDF as a reader sees it: each table under a heading of its own (not its first column's name
twice), and the footer below the last row of every page, never over it."""

from __future__ import annotations

import datetime as dt
import io
import re

from pypdf import PdfReader

from reports import exports, membership

FOOTER_MARK = "Medlemsrapport til LO / LO Stat · "


def text_lines(page) -> list[tuple[float, str]]:
    """The page's lines of text with the height of their baseline above the page's bottom edge (points)."""
    lines: dict[float, list[str]] = {}

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            baseline = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]  # the text's origin in page space
            lines.setdefault(round(baseline, 1), []).append(text.strip())

    page.extract_text(visitor_text=visit)
    return sorted(((y, " ".join(parts)) for y, parts in lines.items()), reverse=True)


def lo_pdf(app, day: dt.date, more_associations: int = 0) -> PdfReader:
    """The LO report's PDF; `more_associations` made-up national associations make its last table run over pages."""
    with app.test_request_context("/"):
        report = membership.lo_report(day)
        report.breakdowns["org_unit"] += [membership.Group(f"LF{number}", f"Landsforening nr. {number}", number * 123)
                                          for number in range(100, 100 + more_associations)]
        files = exports.lo_files(report)
    [pdf] = [file for file in files if file.name.endswith(".pdf")]
    return PdfReader(io.BytesIO(pdf.data))


def test_lo_report_headings_and_footer(app_ctx, world):
    reader = lo_pdf(app_ctx, dt.date(2026, 3, 15), more_associations=90)
    assert len(reader.pages) >= 3  # the national associations' table fills a page to its bottom and runs over
    text = "\n".join(page.extract_text() for page in reader.pages)
    for heading in ("Medlemmer etter kategori", "Medlemmer etter kjønn", "Medlemmer etter aldersgruppe",
                    "Medlemmer etter fylke", "Medlemmer etter sektor", "Medlemmer etter landsforening",
                    "Inn- og utmeldinger per måned fra januar 2026 til mars 2026", "Utmeldinger etter årsak"):
        assert heading in text
    assert re.search(r"Landsforening nr. 100\n 12\s300\n", text), text[:3000]  # numbers the Norwegian way
    for column in ("Kategori", "Kjønn", "Aldersgruppe", "Fylke", "Sektor", "Landsforening"):
        assert f"\n{column}\n{column} " not in text  # a heading that repeats the column name under it
    for number, page in enumerate(reader.pages, start=1):
        lines = text_lines(page)
        [(footer_y, footer)] = [(y, line) for y, line in lines if FOOTER_MARK in line]
        assert footer.endswith(f"{number}/{len(reader.pages)}")
        lowest_content = min(y for y, line in lines if FOOTER_MARK not in line)
        # The baselines of the page's last row and of the footer at least 25 pt apart (their text 9.5 pt high):
        # the footer stands clear below the row's bottom rule (it touched it at 17 pt).
        assert lowest_content - footer_y >= 25, (number, lowest_content, footer_y)
        # A table that runs over to this page repeats its column headings at the top.
        assert not lines[0][1].startswith("Landsforening nr."), (number, lines[0])
    # The page the national associations' table ends on starts with its column headings (the movements follow).
    [*_, last_of_table] = [page for page in reader.pages if "Landsforening nr." in page.extract_text()]
    assert text_lines(last_of_table)[0][1] == "Landsforening Medlemmer"
