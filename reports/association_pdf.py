"""The employer-association report's PDF, laid out with reportlab's own platypus table.

xhtml2pdf (webapp.services.pdf) lays out a table row by row through its HTML flowables, about 12 ms a row: an
association with a thousand member enterprises took seconds. Here the rows are plain strings in one platypus
Table split over pages (the column headings repeated on each), in the look of `pdf/_base.html`: the same page
margins, DejaVu fonts, rules and the footer "union · title · date · page/pages" below the content frame.
"""

from __future__ import annotations

import io
import os

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.tables import TableStyle

from webapp.services.money import decimal_text
from webapp.services.pdf import FONTS_DIR

FONT, BOLD = "ReportDejaVu", "ReportDejaVu-Bold"
SIZE = 9.5
TEXT = colors.HexColor("#222222")
MUTED = colors.HexColor("#666666")
LEFT = RIGHT = 1.8 * cm
TOP, BOTTOM, FOOTER_Y = 2 * cm, 2.4 * cm, 1.2 * cm
ORG_WIDTH, MEMBERS_WIDTH = 3.2 * cm, 2.6 * cm
ROW_HEIGHT = SIZE * 1.2 + 4  # one line and the cell's padding above and below


def _register_fonts() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, os.path.join(FONTS_DIR, "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, os.path.join(FONTS_DIR, "DejaVuSans-Bold.ttf")))


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _numbered_canvas(footer: str):
    """A canvas that writes each page's footer once the page count is known ("… · 3/7")."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            count = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self.setFont(FONT, SIZE)
                self.setFillColor(MUTED)
                self.drawString(LEFT, FOOTER_Y, f"{footer} · {number}/{count}")
                super().showPage()
            super().save()

    return NumberedCanvas


def association_pdf(report, union_name: str) -> bytes:
    """The report's PDF: title, date, the summary line, and one table of the enterprises with a total row."""
    _register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=SIZE, leading=SIZE * 1.25, textColor=TEXT,
                          spaceAfter=6)
    muted = ParagraphStyle("muted", parent=body, textColor=MUTED)
    title = ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=16, leading=20, spaceAfter=6)
    cell = ParagraphStyle("cell", parent=body, spaceAfter=0, leading=SIZE * 1.2)
    day = report.day.strftime("%d.%m.%Y")

    story = [
        Paragraph(_escape(report.title), title),
        Paragraph(f"<b>{_escape(union_name)}</b> · {_escape(_('Members at %(date)s', date=day))}", body),
        Paragraph(_escape(_("Members employed at each member enterprise at the date. A member employed at two "
                            "enterprises counts at each of them.")), muted),
        Paragraph(f"{_escape(_('Enterprises'))}: {decimal_text(len(report.rows))} · "
                  f"{_escape(_('Members employed'))}: <b>{decimal_text(report.total)}</b> · "
                  f"{_escape(_('Different members'))}: {decimal_text(report.distinct_members)}", body),
        Spacer(1, 4),
    ]
    width = A4[0] - LEFT - RIGHT
    name_width = width - ORG_WIDTH - MEMBERS_WIDTH
    if report.rows:
        # Plain strings lay out fastest; only a name too long for its column is a (wrapping) paragraph.
        fits = name_width - 6
        rows = [[_("Organisation number"), _("Enterprise"), _("Members")]]
        rows += [[row.org_number,
                  row.name if stringWidth(row.name, FONT, SIZE) <= fits else Paragraph(_escape(row.name), cell),
                  decimal_text(row.members)] for row in report.rows]
        rows.append([_("Total"), "", decimal_text(report.total)])
        last = len(rows) - 1
        # A row of plain strings is one line high; giving its height spares the table measuring every cell.
        heights = [None if isinstance(row[1], Paragraph) else ROW_HEIGHT for row in rows]
        table = LongTable(rows, colWidths=[ORG_WIDTH, name_width, MEMBERS_WIDTH], rowHeights=heights, repeatRows=1)
        table.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), FONT, SIZE),
            ("TEXTCOLOR", (0, 0), (-1, -1), TEXT),
            ("FONT", (0, 0), (-1, 0), BOLD, SIZE),
            ("FONT", (0, last), (-1, last), BOLD, SIZE),
            ("SPAN", (0, last), (1, last)),
            ("ALIGN", (2, 0), (2, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LINEBELOW", (0, 0), (-1, 0), 1, colors.HexColor("#555555")),
            ("LINEBELOW", (0, 1), (-1, last - 1), 0.5, colors.HexColor("#cccccc")),
            ("LINEABOVE", (0, last), (-1, last), 1, colors.HexColor("#555555")),
        ]))
        story.append(table)
    else:
        story.append(Paragraph(_escape(_("The association has no member enterprises in the register.")), body))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=LEFT, rightMargin=RIGHT, topMargin=TOP,
                                 bottomMargin=BOTTOM, title=report.title, author=union_name)
    footer = f"{union_name or ''} · {report.title} · {day}"
    document.build(story, canvasmaker=_numbered_canvas(footer))
    return buffer.getvalue()
