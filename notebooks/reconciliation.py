# The reconciliation dashboard, for the union office: per month what the bases expected, what the employers
# reported on their deduction lists and what they paid; the employers with open issues; deviations by reason.
#
#   DATABASE_URL=... marimo edit notebooks/reconciliation.py     (or: python notebooks/reconciliation.py)
#
# Every figure comes from reports.reconciliation, which reads the reconciliation that the app keeps on each
# deduction basis; the notebook only shows it. Click a month in the trend, a status in the status chart or a
# reason in the deviation chart to filter the tables below them. marimo has no login of its own: never serve
# this notebook beyond localhost without authentication in front of it, since it reads the register.

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os
    import sys

    import altair as alt
    import marimo as mo
    import polars as pl

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return alt, mo, pl


@app.cell
def _():
    from reports import reconciliation as figures
    from reports.notebook_support import app_reader, chosen
    from webapp.services.periods import Month

    read = app_reader()

    return Month, chosen, figures, read


@app.cell
def _(figures, mo, read):
    latest = read(figures.latest_period)
    mo.stop(latest is None, mo.md("No deduction month has been generated yet."))
    month_choice = mo.ui.dropdown(
        options=[str(latest.shift(-back)) for back in range(36)], value=str(latest), label="Up to month"
    )
    span = mo.ui.slider(3, 24, value=12, label="Months shown")
    mo.hstack([month_choice, span], justify="start")
    return month_choice, span


@app.cell
def _(Month, figures, month_choice, read, span):
    first, last = figures.months_back(Month.parse(month_choice.value), span.value)
    monthly = read(figures.monthly_figures, first, last)
    statuses = read(figures.status_counts, first, last)
    issues = read(figures.open_issues, first, last)
    employers_open = read(figures.employers_with_open_issues, first, last)
    deviations = read(figures.deviations_by_reason, first, last)
    reasons = figures.reason_totals(deviations)
    amounts = figures.amounts_long(monthly)
    return amounts, deviations, employers_open, first, issues, last, monthly, reasons, statuses


@app.cell
def _(first, last, mo, monthly):
    def _sum(key):
        return sum(row[key] for row in monthly)

    mo.md(
        f"## Deduction months {first} to {last}\n\n"
        f"{_sum('employers')} employer-months, {_sum('delivered')} delivered, {_sum('reconciled')} reconciled, "
        f"**{_sum('open')} open**. Expected (fixed amounts) kr {_sum('expected_kr'):,.2f}, "
        f"reported kr {_sum('reported_kr'):,.2f}, paid kr {_sum('paid_kr'):,.2f}."
    )
    return


@app.cell
def _(alt, amounts, mo, pl):
    _months = alt.selection_point(fields=["month"], name="months")
    trend = mo.ui.altair_chart(
        alt.Chart(pl.DataFrame(amounts, schema={"month": pl.String, "measure": pl.String, "kroner": pl.Float64}))
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title="Month"),
            y=alt.Y("kroner:Q", title="Kroner"),
            color=alt.Color("measure:N", title=None),
            opacity=alt.condition(_months, alt.value(1), alt.value(0.35)),
            tooltip=["month:O", "measure:N", alt.Tooltip("kroner:Q", format=",.2f")],
        )
        .add_params(_months)
        .properties(title="Expected, reported and paid per month (click a month to filter)", width=640, height=260)
    )
    trend
    return (trend,)


@app.cell
def _(alt, mo, pl, statuses):
    _status = alt.selection_point(fields=["month", "status"], name="status")
    status_chart = mo.ui.altair_chart(
        alt.Chart(pl.DataFrame(statuses, schema={"month": pl.String, "status": pl.String, "status_code": pl.String,
                                                 "employers": pl.Int64}))
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month"),
            y=alt.Y("employers:Q", title="Employers"),
            color=alt.Color("status:N", title="Reconciliation"),
            opacity=alt.condition(_status, alt.value(1), alt.value(0.35)),
            tooltip=["month:O", "status:N", "employers:Q"],
        )
        .add_params(_status)
        .properties(title="Reconciliation status per month (click a bar to filter)", width=640, height=240)
    )
    status_chart
    return (status_chart,)


@app.cell
def _(chosen, issues, mo, pl, status_chart, trend):
    _table = pl.DataFrame(issues) if issues else pl.DataFrame()
    _months = chosen(trend, "month") or chosen(status_chart, "month")
    _statuses = chosen(status_chart, "status")
    if _months and len(_table):
        _table = _table.filter(pl.col("month").is_in(_months))
    if _statuses and len(_table):
        _table = _table.filter(pl.col("status").is_in(_statuses))
    _what = ", ".join(_months + _statuses) or "all months shown"
    mo.vstack([
        mo.md(f"### Open issues per employer and month ({_what}): {len(_table)}"),
        mo.ui.table(_table.drop("status_code") if len(_table) else [], selection=None, page_size=15),
    ])
    return


@app.cell
def _(employers_open, mo):
    mo.vstack([
        mo.md(f"### Employers with open issues: {len(employers_open)}"),
        mo.ui.table(employers_open, selection=None, page_size=10),
    ])
    return


@app.cell
def _(alt, mo, pl, reasons):
    _reason = alt.selection_point(fields=["reason"], name="reason")
    reason_chart = mo.ui.altair_chart(
        alt.Chart(pl.DataFrame(reasons, schema={"reason": pl.String, "reason_code": pl.String, "deviations": pl.Int64}))
        .mark_bar()
        .encode(
            x=alt.X("deviations:Q", title="Deviations"),
            y=alt.Y("reason:N", sort="-x", title=None),
            opacity=alt.condition(_reason, alt.value(1), alt.value(0.35)),
            tooltip=["reason:N", "deviations:Q"],
        )
        .add_params(_reason)
        .properties(title="Deviations by reason (click a reason to filter)", width=640, height=180)
    )
    reason_chart
    return (reason_chart,)


@app.cell
def _(chosen, deviations, mo, pl, reason_chart, trend):
    _table = pl.DataFrame(deviations) if deviations else pl.DataFrame()
    _reasons = chosen(reason_chart, "reason")
    _months = chosen(trend, "month")
    if _reasons and len(_table):
        _table = _table.filter(pl.col("reason").is_in(_reasons))
    if _months and len(_table):
        _table = _table.filter(pl.col("month").is_in(_months))
    mo.vstack([
        mo.md(f"### Deviations per employer, month and reason ({', '.join(_reasons + _months) or 'all'})"),
        mo.ui.table(_table.drop("reason_code") if len(_table) else [], selection=None, page_size=15),
    ])
    return


@app.cell
def _(mo, monthly):
    mo.vstack([mo.md("### The months in figures"), mo.ui.table(monthly, selection=None)])
    return


if __name__ == "__main__":
    app.run()
