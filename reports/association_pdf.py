"""The employer-association report's PDF: the enterprises in one table laid out by reportlab page by page
(webapp.services.table_pdf, as the refund member list), in the look of `pdf/_base.html`.

xhtml2pdf laid the table out through its HTML flowables at about 12 ms a row: an association with a thousand
member enterprises took seconds (and 7,000 at a million members, a minute).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask_babel import gettext as _

from webapp.services.money import decimal_text
from webapp.services.table_pdf import Column, Section, muted, paragraph, render_table_pdf


def association_pdf(report, union_name: str) -> bytes:
    """Title, date and the summary line, then the enterprises (organisation number, name, members) and the total."""
    day = report.day.strftime("%d.%m.%Y")
    intro = [
        paragraph(escape(report.title), "title"),
        paragraph(f"<b>{escape(union_name or '')}</b> · {escape(_('Members at %(date)s', date=day))}"),
        paragraph(muted(_("Members employed at each member enterprise at the date. A member employed at two "
                          "enterprises counts at each of them."))),
        paragraph(f"{escape(_('Enterprises'))}: {decimal_text(len(report.rows))} · "
                  f"{escape(_('Members employed'))}: <b>{decimal_text(report.total)}</b> · "
                  f"{escape(_('Different members'))}: {decimal_text(report.distinct_members)}"),
    ]
    columns = [Column(_("Organisation number"), 0.25), Column(_("Enterprise"), 0.59),
               Column(_("Members"), 0.16, "RIGHT")]
    rows = [(row.org_number, row.name, decimal_text(row.members)) for row in report.rows]
    sections = [Section("", len(rows) + 1, iter([*rows, (_("Total"), "", decimal_text(report.total))]))]
    return render_table_pdf(report.title, intro, columns, sections if rows else [],
                            footer=f"{union_name or ''} · {report.title} · {day}",
                            empty=_("The association has no member enterprises in the register."))
