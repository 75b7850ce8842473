"""What the notebooks share, so that no notebook copies it: a reader that runs service and report functions in
the app's context, the Norwegian number and period formats, chart selections and the tables below the charts.

The notebooks import these in their `with app.setup:` cell; everything they compute comes from webapp.services
and the report modules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from html import escape
from typing import Any

import altair as alt
from babel.dates import format_date

from webapp.services.money import kroner
from webapp.services.periods import Month, Quarter

NBSP = "\u00a0"  # between "kr" and the amount and between groups of digits, so a figure never breaks over two lines
LOCALE = "nb"
NUMBER_LOCALE = alt.Locale(number=alt.NumberLocale(decimal=",", thousands=NBSP, grouping=[3],
                                                   currency=[f"kr{NBSP}", ""]))


def app_reader(**settings: Any) -> Callable[..., Any]:
    """An app with the same settings as the web app (DATABASE_URL chooses the database; `settings` override), and
    `read(function, *args)` that calls a service or report function inside its context (so labels are Norwegian),
    reading from the reports' database (REPORTS_DATABASE_URL, a read replica, when set)."""
    from webapp import create_app
    from webapp.services.database import reports_reader

    flask_app = create_app(**settings)

    def read(function: Callable[..., Any], *args: Any) -> Any:
        with flask_app.app_context(), reports_reader():
            return function(*args)

    return read


# ------------------------------------------------------------------ Norwegian formats


def kr_text(ore: int | None) -> str:
    """313772200 øre -> 'kr 3 137 722,00' (with non-breaking spaces)."""
    return "" if ore is None else f"kr{NBSP}{kroner(ore)}"


def kroner_text(amount: float | Decimal | None) -> str:
    """An amount in kroner (as the report rows carry it, rounded to øre) -> 'kr 3 137 722,00'."""
    return "" if amount is None else kr_text(int((Decimal(str(amount)) * 100).to_integral_value()))


def count_text(number: int) -> str:
    """12345 -> '12 345'."""
    return f"{number:,}".replace(",", NBSP)


def change_text(number: int) -> str:
    """A change with its sign: 1234 -> '+1 234', -5 -> '-5', 0 -> '0'."""
    return f"{number:+,}".replace(",", NBSP) if number else "0"


def month_text(month: Month | str) -> str:
    """'2026-08' -> 'august 2026'."""
    month = month if isinstance(month, Month) else Month.parse(month)
    return format_date(month.first_day, "MMMM y", locale=LOCALE)


def quarter_text(quarter: Quarter | str) -> str:
    """'2026-Q3' -> '3. kvartal 2026'."""
    quarter = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    return f"{quarter.number}. kvartal {quarter.year}"


def date_text(day: dt.date) -> str:
    """2026-08-01 -> '01.08.2026'."""
    return f"{day:%d.%m.%Y}"


def with_month_label(rows: Iterable[dict], field: str = "month", label: str = "måned") -> list[dict]:
    """The rows with the month also written out ('august 2026') for chart axes and tooltips; the `YYYY-MM`
    field stays for sorting and for the selections the tables filter on."""
    return [{**row, label: month_text(row[field])} for row in rows]


# ------------------------------------------------------------------ charts and the tables below them


def month_x(title: str = "Måned") -> alt.X:
    """An x axis of months written out ('august 2026', the rows' `måned` from with_month_label), in time order."""
    return alt.X("måned:O", title=title, sort=alt.EncodingSortField(field="month", op="min"))


def chosen(chart, field: str) -> list:
    """The values of `field` in a marimo altair chart's selection; empty when nothing is selected."""
    value = chart.value
    if value is None or len(value) == 0 or field not in value.columns:
        return []
    return sorted(set(value[field].to_list()))


def norwegian(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart with Norwegian numbers in its axes and tooltips: '3 137 722,5'."""
    return chart.configure(locale=NUMBER_LOCALE)


def keep(rows: Iterable[dict], field: str, values: list) -> list[dict]:
    """The rows whose `field` is one of `values`; all rows when nothing is chosen."""
    rows = list(rows)
    return [row for row in rows if row[field] in values] if values else rows


ROWS_AT_MOST = 2000  # a table longer than this shows its first rows and says so


def table(rows: Iterable[dict], columns: dict[str, tuple[str, Callable[[Any], str] | None]], label: str = "",
          page_size: int = 10):
    """A table of `rows` showing only `columns` ({key: (Norwegian heading, formatter)}), `page_size` rows high
    and scrolling beyond that. The formatter writes a value the Norwegian way; numbers are right-aligned.

    A plain HTML table rather than marimo's table widget: the widget's own words ("3 rows, 4 columns",
    "No selection", "Showing the first 10 of 92 rows") are English and cannot be translated."""
    import marimo as mo

    rows = list(rows)
    shown = rows[:ROWS_AT_MOST]
    align = {key: "right" if any(_is_number(row[key]) for row in shown) else "left" for key in columns}
    head = "".join(f'<th scope="col" style="padding: 3px 8px; text-align: {align[key]}">{escape(heading)}</th>'
                   for key, (heading, _format) in columns.items())
    body = "".join(
        "<tr>" + "".join(_cell(row[key], format_value, align[key]) for key, (_heading, format_value) in columns.items())
        + "</tr>"
        for row in shown
    ) or f'<tr><td colspan="{len(columns)}" style="padding: 3px 8px">Ingen rader.</td></tr>'
    count = "1 rad" if len(rows) == 1 else f"{count_text(len(rows))} rader"
    caption = f"{escape(label)}: {count}" if label else count
    if len(shown) < len(rows):
        caption += f", de første {count_text(len(shown))} vises"
    height = f"{page_size * 2.1 + 2.6:.1f}em"
    return mo.Html(
        f'<div style="max-height: {height}; overflow: auto; margin-bottom: 1em">'
        f'<table style="border-collapse: collapse; width: 100%; font-size: 0.9em">'
        f'<caption style="caption-side: top; text-align: left; padding: 4px 0">{caption}</caption>'
        f'<thead style="position: sticky; top: 0; background: #fff">'
        f'<tr style="border-bottom: 2px solid #ccc">{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _cell(value: Any, format_value: Callable[[Any], str] | None, align: str) -> str:
    text = "" if value is None else format_value(value) if format_value else str(value)
    return f'<td style="padding: 3px 8px; text-align: {align}; border-bottom: 1px solid #eee">{escape(text)}</td>'
