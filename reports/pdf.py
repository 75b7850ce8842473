"""The blueprint that puts `reports/templates` on the template path, for the PDFs and report pages.

Rendering itself is `webapp.services.pdf.render_pdf` (services render PDFs too, and services
never import `reports`).
"""

from __future__ import annotations

from flask import Blueprint

from webapp.services.pdf import TEMPLATES_DIR

blueprint = Blueprint("reports", __name__, template_folder=TEMPLATES_DIR)
