# Quarterly refunds to org units, for the union office and analysts.
#
#   DATABASE_URL=... marimo edit notebooks/refunds.py     (or: python notebooks/refunds.py)
#
# It reads the runs that `flask --app run refunds calculate` (or the office's screen) stored, through the
# same service functions; it calculates nothing itself. marimo has no login of its own: never serve this
# notebook beyond localhost without authentication in front of it, since it reads the register.

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os
    import sys

    import altair as alt
    import marimo as mo

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return alt, mo


@app.cell
def _():
    from reports.notebook_support import app_reader
    from webapp.services import refunds
    from webapp.services.money import kroner
    from webapp.services.periods import Quarter

    read = app_reader()

    return Quarter, kroner, read, refunds


@app.cell
def _(mo, read, refunds):
    quarters = read(lambda: [run.quarter for run in refunds.runs()])
    quarter_choice = mo.ui.dropdown(options=quarters, value=quarters[0] if quarters else None, label="Quarter")
    quarter_choice
    return quarter_choice, quarters


@app.cell
def _(Quarter, kroner, mo, quarter_choice, read, refunds):
    mo.stop(quarter_choice.value is None, mo.md("No quarter has been calculated yet."))
    quarter = Quarter.parse(quarter_choice.value)

    def summary():
        run = refunds.get_run(quarter)
        levels = [
            {"level": row["level"].label, "share %": str(row["share_percent"]), "amount": kroner(row["level_pool_ore"]),
             "units receiving": row["units"]}
            for row in refunds.level_summary(run.id)
        ]
        facts = {"status": run.status.label, "pool": kroner(run.pool_ore),
                 "source": str(refunds.POOL_SOURCES[run.pool_source]), "members": run.member_count,
                 "member_months": run.member_months}
        return facts, levels

    facts, levels = read(summary)
    mo.vstack([
        mo.md(
            f"## Refund {quarter} ({facts['status']})\n\n"
            f"Pool **kr {facts['pool']}** ({facts['source']}); {facts['members']} members counted, "
            f"{facts['member_months']} member-months."
        ),
        mo.ui.table(levels, selection=None, label="By level"),
    ])
    return (quarter,)


@app.cell
def _(kroner, quarter, read, refunds):
    def unit_rows():
        return [
            {"unit": f"{row['code']} {row['name']}", "level": row["level"].label, "amount": kroner(row["amount_ore"]),
             "previous quarter": kroner(row["previous_ore"]), "change": kroner(row["change_ore"]),
             "amount_kr": row["amount_ore"] / 100}
            for row in refunds.compare_with_previous(quarter)
        ]

    units = read(unit_rows)
    return (units,)


@app.cell
def _(alt, mo, units):
    chart = (
        alt.Chart(alt.Data(values=[row for row in units if row["amount_kr"] > 0]))
        .mark_bar()
        .encode(
            x=alt.X("amount_kr:Q", title="Amount (kr)"),
            y=alt.Y("unit:N", sort="-x", title=None),
            color=alt.Color("level:N", title="Level"),
            tooltip=["unit:N", "level:N", "amount:N", "change:N"],
        )
        .properties(title="Refund per unit", height=alt.Step(12))
    )
    mo.vstack([chart, mo.ui.table([{k: v for k, v in row.items() if k != "amount_kr"} for row in units],
                                  selection=None, label="Per unit, against the previous quarter")])
    return


@app.cell
def _(kroner, mo, quarter, read, refunds):
    movers = read(lambda: [
        {"unit": f"{row['code']} {row['name']}", "amount": kroner(row["amount_ore"]),
         "previous quarter": kroner(row["previous_ore"]), "change": kroner(row["change_ore"])}
        for row in refunds.largest_changes(quarter, 10)
    ])
    mo.vstack([mo.md(f"### The units that moved most since {quarter.previous}"),
               mo.ui.table(movers, selection=None)])
    return


if __name__ == "__main__":
    app.run()
