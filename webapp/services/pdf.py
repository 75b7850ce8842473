"""The one way we make PDFs: an HTML template of ours rendered by xhtml2pdf.

The DejaVu fonts are embedded, so æøå, dashes and quotes always render. The
resource policy lets xhtml2pdf read our fonts and nothing else: no files
elsewhere on disk, no URLs.

It lives among the services (documents, courses and the reports all render
PDFs) and reads its templates and fonts from `reports/` by path: the templates
through the blueprint `reports.pdf` registers, the fonts from FONTS_DIR. So no
service imports the `reports` package.
"""

from __future__ import annotations

import io
import os

from flask import render_template

REPORTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "reports")
TEMPLATES_DIR = os.path.join(REPORTS_DIR, "templates")
FONTS_DIR = os.path.join(REPORTS_DIR, "fonts")


class PdfError(RuntimeError):
    pass


def confined_resources(uri: str, rel: str | None = None) -> str:
    """xhtml2pdf's link callback: only `fonts/<name>` of our own fonts resolves; anything else is refused."""
    name = uri.split("/", 1)[1] if uri.startswith("fonts/") else None
    if name and os.path.basename(name) == name:
        path = os.path.join(FONTS_DIR, name)
        if os.path.isfile(path):
            return path
    raise PdfError(f"resource not allowed in a PDF: {uri}")


def render_pdf(template: str, **context) -> bytes:
    """Render `reports/templates/<template>` with `context` to PDF bytes."""
    from xhtml2pdf import pisa  # here, not at the top: a CLI command that makes no PDF starts half a second sooner

    html = render_template(template, **context)
    buffer = io.BytesIO()
    status = pisa.CreatePDF(html, dest=buffer, encoding="utf-8", link_callback=confined_resources)
    if status.err:
        raise PdfError(f"PDF rendering of {template} failed with {status.err} error(s)")
    return buffer.getvalue()
