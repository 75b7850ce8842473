"""Long tables as PDF with reportlab's own table layout (platypus, which xhtml2pdf is built on), page by page.

xhtml2pdf lays out a whole HTML document in memory and takes about 0.26 ms per row of a member list, so a list of
350,000 members took 95 s and 1.8 GB. Here the rows come from an iterator (a streamed query) and are read only
as far as the page being laid out: `StreamedTable` asks for the rows that fit the rest of the frame, makes one
platypus `Table` of them (column headings first) and leaves the rest for the next page. Memory holds one page of
rows and the PDF being written; the time is reportlab's table drawing, about 0.03 ms per cell.

The page looks like the HTML documents of reports/templates/pdf/_base.html: A4, DejaVu 9.5 pt, a heading, short
paragraphs and notices above the table, and a footer "union · title · page/pages". The page count is written
once at the end into a form every page's footer shows, so the document is laid out once.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from xml.sax.saxutils import escape

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Table, TableStyle
from reportlab.platypus.tables import CellStyle

from webapp.services.pdf import FONTS_DIR

FONT, BOLD = "TableDejaVu", "TableDejaVu-Bold"
FONT_SIZE = 9.5
LEADING = 11.5
PADDING = 1.5  # above and below a cell's text
SIDE_PADDING = 2
TEXT_COLOR, MUTED = HexColor("#222222"), HexColor("#666666")
RULE, STRONG_RULE = HexColor("#cccccc"), HexColor("#555555")
MARGINS = {"leftMargin": 1.8 * cm, "rightMargin": 1.8 * cm, "topMargin": 2 * cm, "bottomMargin": 2.4 * cm}
FOOTER_BASELINE = 1.3 * cm
PAGE_COUNT_FORM = "page_count"

STYLES = {
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=16, leading=19, spaceAfter=6, textColor=TEXT_COLOR),
    "heading": ParagraphStyle("heading", fontName=BOLD, fontSize=12, leading=14.5, spaceBefore=12, spaceAfter=4,
                              textColor=TEXT_COLOR),
    "text": ParagraphStyle("text", fontName=FONT, fontSize=FONT_SIZE, leading=LEADING + 1, spaceAfter=5,
                           textColor=TEXT_COLOR),
    "muted": ParagraphStyle("muted", fontName=FONT, fontSize=FONT_SIZE, leading=LEADING + 1, spaceAfter=5,
                            textColor=MUTED),
    "notice": ParagraphStyle("notice", fontName=FONT, fontSize=FONT_SIZE, leading=LEADING + 1, spaceBefore=8,
                             spaceAfter=10, textColor=TEXT_COLOR, borderColor=HexColor("#b58a00"), borderWidth=1,
                             borderPadding=4, backColor=HexColor("#fff8e0")),
}


def register_fonts() -> None:
    """The DejaVu fonts (æøå and every other letter of a name), registered once per process."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, os.path.join(FONTS_DIR, "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, os.path.join(FONTS_DIR, "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def paragraph(markup: str, style: str = "text") -> Paragraph:
    """A paragraph of reportlab's mini-markup (<b>, <font color>): escape the data put into it (`escape`)."""
    register_fonts()
    return Paragraph(markup, STYLES[style])


def muted(text: str) -> str:
    """Markup for grey text inside a paragraph (the HTML documents' class "muted")."""
    return f'<font color="#666666">{escape(text)}</font>'


@dataclass(frozen=True)
class Column:
    heading: str
    width: float  # a share of the text width; the shares of a table add up to 1
    align: str = "LEFT"


@dataclass
class Section:
    """A heading (markup) and its `count` rows, taken from `rows` as the pages need them."""

    heading: str
    count: int
    rows: Iterator[tuple]


class StreamedTable(Flowable):
    """A section's rows as one platypus Table per page: never fits as a whole, so the frame splits it, and the
    split takes the rows that fit (with the heading on the first page, so a heading never ends a page)."""

    def __init__(self, layout: TableLayout, rows: Iterator[tuple], count: int, heading: Paragraph | None = None):
        super().__init__()
        self.layout, self.rows, self.count, self.heading = layout, rows, count, heading
        self.pending: list[tuple[tuple, float]] = []  # rows read but not laid out yet, with their heights

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return available_width, available_height + 1  # always split (see split)

    def _peek(self, index: int) -> tuple[tuple, float] | None:
        """The `index`-th row not laid out yet (read from the iterator when needed), or None after the last."""
        while len(self.pending) <= index and self.count:
            row = next(self.rows)
            self.count -= 1
            self.pending.append(self.layout.cells(row))
        return self.pending[index] if index < len(self.pending) else None

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        parts: list[Flowable] = []
        if self.heading is not None:
            _, heading_height = self.heading.wrap(available_width, available_height)
            available_height -= heading_height + self.heading.getSpaceBefore() + self.heading.getSpaceAfter()
            parts.append(self.heading)
        used, taken = self.layout.header_height, 0
        while (peeked := self._peek(taken)) is not None and used + peeked[1] <= available_height:
            used += peeked[1]
            taken += 1
        if taken == 0:
            return []  # not even one row fits here: the next page
        rows, self.pending = self.pending[:taken], self.pending[taken:]
        parts.append(self.layout.table(rows))
        if self.pending or self.count:
            rest = StreamedTable(self.layout, self.rows, self.count)
            rest.pending = self.pending
            parts.append(rest)
        return parts

    def draw(self) -> None:  # pragma: no cover - the frame always splits it
        raise RuntimeError("a StreamedTable is drawn through its split parts")


class TextTable(Table):
    """reportlab's Table for cells of text only, which it draws through one PDF text object per table instead of
    one per cell (half of a cell's drawing time); layout, splitting and rules are the Table's own."""

    def draw(self) -> None:
        self._text = self.canv.beginText()
        self._text.setFillColor(TEXT_COLOR)
        self._font = None
        super().draw()

    def _drawCell(self, value: str, style: CellStyle, position: tuple, size: tuple) -> None:
        text = self._text
        if self._font != (style.fontname, style.fontsize):
            self._font = (style.fontname, style.fontsize)
            text.setFont(style.fontname, style.fontsize, style.leading)
        left, bottom = position
        width, height = size
        y = bottom + height - style.topPadding - style.fontsize
        for line in value.split("\n"):
            x = left + style.leftPadding
            if style.alignment == "RIGHT":
                x = left + width - style.rightPadding - pdfmetrics.stringWidth(line, style.fontname, style.fontsize)
            text.setTextOrigin(x, y)
            text.textOut(line)
            y -= style.leading

    def _drawLines(self) -> None:
        self.canv.drawText(self._text)  # the cells' text, before the rules as Table.draw has it
        super()._drawLines()


def _wrapped(text: str, font: str, width: float) -> str:
    """The text in lines no wider than `width` (a word wider than that stands alone on its line)."""
    if pdfmetrics.stringWidth(text, font, FONT_SIZE) <= width:
        return text
    return "\n".join(simpleSplit(text, font, FONT_SIZE, width)) or text


class TableLayout:
    """The columns of a table on the page: their widths, the headings row and each row's cells and height (a
    text wider than its column wraps over lines)."""

    def __init__(self, columns: list[Column], width: float):
        self.columns = columns
        self.widths = [column.width * width for column in columns]
        # One style per column, shared by every row (the styles of reportlab's TableStyle commands are made and
        # set cell by cell, which costs as much as drawing the cell); only the rules are commands.
        self.header_styles = [self._cell_style(column, BOLD) for column in columns]
        self.row_styles = [self._cell_style(column, FONT) for column in columns]
        self.rules = TableStyle([("LINEBELOW", (0, 0), (-1, 0), 1, STRONG_RULE),
                                 ("LINEBELOW", (0, 1), (-1, -1), 0.5, RULE)])
        self.inner = [width - 2 * SIDE_PADDING for width in self.widths]
        self.headings, self.header_height = self.cells(tuple(column.heading for column in columns), BOLD)

    @staticmethod
    def _cell_style(column: Column, font: str) -> CellStyle:
        style = CellStyle(column.heading)
        style.fontname, style.fontsize, style.leading, style.color = font, FONT_SIZE, LEADING, TEXT_COLOR
        style.topPadding = style.bottomPadding = PADDING
        style.leftPadding = style.rightPadding = SIDE_PADDING
        style.alignment = column.align
        return style

    def cells(self, row: tuple, font: str = FONT) -> tuple[tuple, float]:
        """The row's texts, wrapped where wider than the column, and its height."""
        texts = [_wrapped("" if value is None else str(value), font, inner)
                 for value, inner in zip(row, self.inner, strict=True)]
        lines = max(text.count("\n") for text in texts) + 1
        return tuple(texts), lines * LEADING + 2 * PADDING

    def table(self, rows: list[tuple[tuple, float]]) -> Table:
        data = [list(self.headings)] + [list(texts) for texts, _ in rows]
        heights = [self.header_height] + [height for _, height in rows]
        styles = [self.header_styles] + [self.row_styles] * len(rows)
        return TextTable(data, colWidths=self.widths, rowHeights=heights, style=self.rules, cellStyles=styles,
                     normalizedData=1, hAlign="LEFT")


def _footer(text: str):
    def draw(canvas, _document) -> None:
        canvas.saveState()
        canvas.setFont(FONT, FONT_SIZE)
        canvas.setFillColor(MUTED)
        line = f"{text} · {canvas.getPageNumber()}/"
        canvas.drawString(MARGINS["leftMargin"], FOOTER_BASELINE, line)
        canvas.translate(MARGINS["leftMargin"] + pdfmetrics.stringWidth(line, FONT, FONT_SIZE), FOOTER_BASELINE)
        canvas.doForm(PAGE_COUNT_FORM)  # the page count, written at the end
        canvas.restoreState()

    return draw


class _PageCountCanvas(Canvas):
    """reportlab's canvas, keeping each finished page compressed (it keeps every page's drawing as text until the
    file is written: some 10 kB a page of a long table) and writing the page count the footers show at the end."""

    def showPage(self) -> None:
        super().showPage()
        page = self._doc.Pages.pages[-1]
        if page.stream:
            # A stream whose dictionary names its filter already is written as it is (PDFStream.format).
            page.Contents = PDFStream(PDFDictionary({"Filter": PDFArray([PDFName("FlateDecode")])}),
                                      zlib.compress(page.stream.encode("utf8")))
            page.stream = None

    def save(self) -> None:
        self.beginForm(PAGE_COUNT_FORM)
        self.setFont(FONT, FONT_SIZE)
        self.setFillColor(MUTED)
        self.drawString(0, 0, str(self.getPageNumber() - 1))
        self.endForm()
        super().save()


def render_table_pdf(title: str, intro: list[Flowable], columns: list[Column], sections: Iterable[Section],
                     footer: str, empty: str) -> bytes:
    """The PDF: `intro` (paragraphs), then each section's heading and its rows in a table of `columns` (`empty`,
    a paragraph's text, when there is no section); `footer` on every page with the page number."""
    register_fonts()
    buffer = io.BytesIO()
    document = BaseDocTemplate(buffer, pagesize=A4, title=title, **MARGINS)
    frame = Frame(document.leftMargin, document.bottomMargin, document.width, document.height,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    document.addPageTemplates([PageTemplate("page", [frame], onPage=_footer(footer))])
    layout = TableLayout(columns, document.width)
    story = list(intro)
    for section in sections:
        heading = paragraph(section.heading, "heading") if section.heading else None  # "": the table alone
        story.append(StreamedTable(layout, section.rows, section.count, heading))
    if len(story) == len(intro):
        story.append(paragraph(escape(empty)))
    document.build(story, canvasmaker=_PageCountCanvas)
    return buffer.getvalue()


def sections_of(groups: list[tuple[str, int]], rows: Iterator[tuple]) -> list[Section]:
    """Sections over one stream of rows ordered by section: each (heading, count) takes its `count` rows."""
    rows = iter(rows)
    return [Section(heading, count, islice(rows, count)) for heading, count in groups]
