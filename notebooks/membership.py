# Membership over time and the figures reported to LO / LO Stat and the employer associations, for the union
# office and analysts: aggregated figures only, no member rows.
#
#   DATABASE_URL=... marimo edit notebooks/membership.py     (or: python notebooks/membership.py)
#
# Every figure comes from reports.membership (the functions behind `flask reports ...` and the report screen);
# the button at the end writes the same files the CLI writes. A member counts in a month when the periodized
# membership covers it (a join from the first of the next month, a leave to the end of its month). Click a
# group in a chart to filter the table below it. marimo has no login of its own: never serve this notebook
# beyond localhost without authentication in front of it, since it reads the register.

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import datetime as dt
    import os
    import sys

    import altair as alt
    import marimo as mo
    import polars as pl

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return alt, dt, mo, pl


@app.cell
def _():
    from reports import exports, membership
    from reports.notebook_support import app_reader, chosen
    from webapp.services.periods import Month

    read = app_reader()

    return Month, chosen, exports, membership, read


@app.cell
def _(dt, membership, mo):
    today = dt.date.today()
    day_choice = mo.ui.date(value=today, stop=today, label="Report date")
    span = mo.ui.slider(6, 36, value=24, label="Months of development")
    association_choice = mo.ui.dropdown(
        options={str(a.label): a.name for a in membership.REPORTED_ASSOCIATIONS},
        value=str(membership.REPORTED_ASSOCIATIONS[0].label),
        label="Employer association",
    )
    mo.hstack([day_choice, span, association_choice], justify="start")
    return association_choice, day_choice, span


@app.cell
def _(Month, day_choice, membership, read, span):
    last_month = Month.of(day_choice.value)
    first_month = last_month.shift(-(span.value - 1))
    development = read(membership.membership_development, first_month, last_month)
    overall = [row.as_dict() for row in membership.summarise_development(development)]
    by_category = [row.as_dict() for row in membership.summarise_development(development, "category")]
    by_unit = [row.as_dict() for row in membership.summarise_development(development, "org_unit")]
    return by_category, by_unit, first_month, last_month, overall


@app.cell
def _(first_month, last_month, mo, overall):
    mo.stop(not overall, mo.md("No members in the register for these months."))
    _first, _last = overall[0], overall[-1]
    mo.md(
        f"## Membership {first_month} to {last_month}\n\n"
        f"{_first['members']} members in {first_month}, **{_last['members']}** in {last_month}: "
        f"{sum(r['joins'] for r in overall)} joins and {sum(r['leaves'] for r in overall)} leaves, "
        f"net {sum(r['net'] for r in overall):+d}."
    )
    return


@app.cell
def _(alt, mo, overall, pl):
    _flows = pl.DataFrame(overall).unpivot(index="month", on=["joins", "leaves", "net"], variable_name="movement",
                                           value_name="count")
    _members = (
        alt.Chart(pl.DataFrame(overall))
        .mark_line(point=True)
        .encode(x=alt.X("month:O", title="Month"), y=alt.Y("members:Q", title="Members", scale=alt.Scale(zero=False)),
                tooltip=["month:O", "members:Q", "joins:Q", "leaves:Q", "net:Q"])
        .properties(title="Members per month", width=640, height=200)
    )
    _movements = (
        alt.Chart(_flows)
        .mark_bar()
        .encode(x=alt.X("month:O", title="Month"), xOffset="movement:N", y=alt.Y("count:Q", title="Members"),
                color=alt.Color("movement:N", title=None), tooltip=["month:O", "movement:N", "count:Q"])
        .properties(title="Joins, leaves and net growth per month", width=640, height=200)
    )
    mo.vstack([_members, _movements])
    return


@app.cell
def _(alt, by_category, mo, pl):
    _pick = alt.selection_point(fields=["group"], bind="legend", name="category")
    category_chart = mo.ui.altair_chart(
        alt.Chart(pl.DataFrame(by_category))
        .mark_line(point=True)
        .encode(x=alt.X("month:O", title="Month"), y=alt.Y("members:Q", title="Members"),
                color=alt.Color("group:N", title="Category"),
                opacity=alt.condition(_pick, alt.value(1), alt.value(0.2)),
                tooltip=["month:O", "group:N", "members:Q", "joins:Q", "leaves:Q", "net:Q"])
        .add_params(_pick)
        .properties(title="Members by category (click a line or a legend entry to filter)", width=640, height=240)
    )
    category_chart
    return (category_chart,)


@app.cell
def _(by_category, category_chart, chosen, mo, pl):
    _table = pl.DataFrame(by_category)
    _groups = chosen(category_chart, "group")
    if _groups:
        _table = _table.filter(pl.col("group").is_in(_groups))
    mo.ui.table(_table.sort("month", descending=True), selection=None, page_size=10,
                label=f"Development by category ({', '.join(_groups) or 'all'})")
    return


@app.cell
def _(alt, by_unit, mo, pl):
    _pick = alt.selection_point(fields=["group"], name="unit")
    unit_chart = mo.ui.altair_chart(
        alt.Chart(pl.DataFrame(by_unit))
        .mark_bar()
        .encode(x=alt.X("sum(net):Q", title="Net growth over the months"), y=alt.Y("group:N", sort="-x", title=None),
                opacity=alt.condition(_pick, alt.value(1), alt.value(0.35)),
                tooltip=["group:N", alt.Tooltip("sum(joins):Q", title="joins"),
                         alt.Tooltip("sum(leaves):Q", title="leaves"), alt.Tooltip("sum(net):Q", title="net")])
        .add_params(_pick)
        .properties(title="Net growth by national association (click a bar to filter)", width=640, height=220)
    )
    unit_chart
    return (unit_chart,)


@app.cell
def _(by_unit, chosen, mo, pl, unit_chart):
    _table = pl.DataFrame(by_unit)
    _groups = chosen(unit_chart, "group")
    if _groups:
        _table = _table.filter(pl.col("group").is_in(_groups))
    mo.ui.table(_table.sort("month", descending=True), selection=None, page_size=10,
                label=f"Development by national association ({', '.join(_groups) or 'all'})")
    return


@app.cell
def _(day_choice, membership, read):
    lo = read(membership.lo_report, day_choice.value)
    lo_rows = [{"breakdown": str(membership.BREAKDOWN_LABELS[name]), "group": label, "code": code, "members": members}
               for name, code, label, members in lo.group_rows()]
    return lo, lo_rows


@app.cell
def _(alt, lo, lo_rows, mo, pl):
    _pick = alt.selection_point(fields=["breakdown"], bind="legend", name="breakdown")
    lo_chart = mo.ui.altair_chart(
        alt.Chart(pl.DataFrame(lo_rows))
        .mark_bar()
        .encode(x=alt.X("members:Q", title="Members"), y=alt.Y("group:N", sort=None, title=None),
                color=alt.Color("breakdown:N", title="Breakdown"),
                opacity=alt.condition(_pick, alt.value(1), alt.value(0.2)),
                tooltip=["breakdown:N", "group:N", "members:Q"])
        .add_params(_pick)
        .properties(title=f"{lo.title}: {lo.total} members at {lo.day:%d.%m.%Y} (click a breakdown to filter)",
                    width=560, height=alt.Step(11))
    )
    lo_chart
    return (lo_chart,)


@app.cell
def _(chosen, lo_chart, lo_rows, mo, pl):
    _table = pl.DataFrame(lo_rows)
    _picked = chosen(lo_chart, "breakdown")
    if _picked:
        _table = _table.filter(pl.col("breakdown").is_in(_picked))
    mo.ui.table(_table, selection=None, page_size=20, label=f"LO / LO Stat figures ({', '.join(_picked) or 'all'})")
    return


@app.cell
def _(association_choice, day_choice, membership, read):
    association = membership.EmployerAssociation[association_choice.value]
    enterprise_report = read(membership.employer_association_report, association, day_choice.value)
    enterprises = [{"org_number": row.org_number, "enterprise": row.name, "members": row.members}
                   for row in enterprise_report.rows]
    return enterprise_report, enterprises


@app.cell
def _(alt, enterprise_report, enterprises, mo, pl):
    mo.stop(not enterprises, mo.md(f"{enterprise_report.title}: no member enterprises in the register."))
    _top = sorted(enterprises, key=lambda row: -row["members"])[:20]
    mo.vstack([
        mo.md(f"### {enterprise_report.title} at {enterprise_report.day:%d.%m.%Y}\n\n"
              f"{len(enterprises)} enterprises, {enterprise_report.total} members employed "
              f"({enterprise_report.distinct_members} different members)."),
        alt.Chart(pl.DataFrame(_top))
        .mark_bar()
        .encode(x=alt.X("members:Q", title="Members"), y=alt.Y("enterprise:N", sort="-x", title=None),
                tooltip=["org_number:N", "enterprise:N", "members:Q"])
        .properties(title="The 20 enterprises with the most members", width=560, height=alt.Step(14)),
        mo.ui.table(enterprises, selection=None, page_size=15),
    ])
    return


@app.cell
def _(mo):
    export_button = mo.ui.run_button(label="Write the report files (PDF, CSV, XLSX) for the date")
    export_button
    return (export_button,)


@app.cell
def _(day_choice, export_button, exports, mo, read):
    mo.stop(not export_button.value, mo.md("The files go to the reports directory (REPORTS_DIR, default instance/reports/)."))
    _paths = read(exports.write_all, day_choice.value)
    mo.md("Written:\n\n" + "\n".join(f"- `{path}`" for path in _paths))
    return


if __name__ == "__main__":
    app.run()
