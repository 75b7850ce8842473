"""Charts of the web pages as Vega-Lite specs, written with altair as the notebooks' are and drawn in the browser by
the app's own copy of Vega (webapp/static/js/charts.js, templates/charts/): nothing is loaded from the internet."""

from __future__ import annotations

from collections.abc import Iterable

NBSP = "\u00a0"
# Norwegian numbers in axes and tooltips: 3 137 722,5 (as reports.notebook_support writes them in the notebooks).
NUMBER_LOCALE = {"decimal": ",", "thousands": NBSP, "grouping": [3], "currency": [f"kr{NBSP}", ""]}


def bar_chart(rows: Iterable[tuple[str, int]], category: str, value: str, description: str) -> dict:
    """A horizontal bar chart of (name, figure) rows, largest first; `description` is what a screen reader says."""
    import altair as alt

    data = [{"name": str(name), "value": figure} for name, figure in rows]
    chart = alt.Chart(alt.Data(values=data), description=str(description)).mark_bar(tooltip=True).encode(
        y=alt.Y("name:N", title=str(category), sort="-x"),
        x=alt.X("value:Q", title=str(value), axis=alt.Axis(format=",d", tickMinStep=1)),
        tooltip=[alt.Tooltip("name:N", title=str(category)), alt.Tooltip("value:Q", title=str(value), format=",")],
    ).properties(width="container")
    return chart.configure(locale={"number": NUMBER_LOCALE}).to_dict()
