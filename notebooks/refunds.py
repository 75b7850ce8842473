# Quarterly refunds to org units, for the union office and analysts (the notebook speaks Norwegian).
#
#   DATABASE_URL=... marimo edit notebooks/refunds.py     (or, from the project root: python -m notebooks.refunds)
#
# It reads the runs that `flask --app run refunds calculate` (or the office's screen) stored, through the
# same service functions; it calculates nothing itself. marimo has no login of its own: never serve this
# notebook beyond localhost without authentication in front of it, since it reads the register.

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")

with app.setup:
    import altair as alt
    import marimo as mo

    from reports.notebook_support import app_reader, count_text, kr_text, norwegian, quarter_text, table
    from webapp.services import refunds
    from webapp.services.money import decimal_text
    from webapp.services.periods import Quarter

    UNIT_COLUMNS = {
        "unit": ("Enhet", None),
        "level": ("Nivå", None),
        "amount_ore": ("Beløp", kr_text),
        "previous_ore": ("Forrige kvartal", kr_text),
        "change_ore": ("Endring", kr_text),
    }


@app.function
def run_summary(quarter: Quarter) -> tuple[str, list[dict]]:
    """The quarter's run in a few words and its levels (call it through `read`: labels need the app)."""
    run = refunds.get_run(quarter)
    text = (
        f"## Refusjon for {quarter_text(quarter)} ({run.status.label})\n\n"
        f"Pott **{kr_text(run.pool_ore)}** ({refunds.POOL_SOURCES[run.pool_source]}); "
        f"{count_text(run.member_count)} medlemmer telt, {count_text(run.member_months)} medlemsmåneder."
    )
    levels = [
        {"level": row["level"].label, "share": row["share_percent"], "amount_ore": row["level_pool_ore"],
         "units": row["units"]}
        for row in refunds.level_summary(run.id)
    ]
    return text, levels


@app.function
def unit_rows(rows: list[dict]) -> list[dict]:
    """Service rows per unit (compare_with_previous, largest_changes) as the tables and the chart show them."""
    return [
        {"unit": f"{row['code']} {row['name']}", "level": row["level"].label, "amount_ore": row["amount_ore"],
         "previous_ore": row["previous_ore"], "change_ore": row["change_ore"], "amount_kr": row["amount_ore"] / 100,
         "amount": kr_text(row["amount_ore"]), "change": kr_text(row["change_ore"])}
        for row in rows
    ]


@app.cell
def _():
    read = app_reader()
    return (read,)


@app.cell
def _(read):
    quarters = read(lambda: [run.quarter for run in refunds.runs()])
    quarter_choice = mo.ui.dropdown(
        options={quarter_text(quarter): quarter for quarter in quarters},
        value=quarter_text(quarters[0]) if quarters else None,
        label="Kvartal",
    )
    quarter_choice
    return (quarter_choice,)


@app.cell
def _(quarter_choice, read):
    mo.stop(quarter_choice.value is None, mo.md("Ingen kvartaler er beregnet ennå."))
    quarter = Quarter.parse(quarter_choice.value)
    _text, _levels = read(run_summary, quarter)
    mo.vstack([
        mo.md(_text),
        table(_levels, {"level": ("Nivå", None), "share": ("Andel %", decimal_text), "amount_ore": ("Beløp", kr_text),
                        "units": ("Enheter som får refusjon", None)}, label="Per nivå"),
    ])
    return (quarter,)


@app.cell
def _(quarter, read):
    units = read(lambda: unit_rows(refunds.compare_with_previous(quarter)))
    return (units,)


@app.cell
def _(units):
    _chart = (
        alt.Chart(alt.Data(values=[row for row in units if row["amount_kr"] > 0]))
        .mark_bar()
        .encode(
            x=alt.X("amount_kr:Q", title="Beløp (kr)"),
            y=alt.Y("unit:N", sort="-x", title=None),
            color=alt.Color("level:N", title="Nivå"),
            tooltip=[alt.Tooltip("unit:N", title="Enhet"), alt.Tooltip("level:N", title="Nivå"),
                     alt.Tooltip("amount:N", title="Beløp"), alt.Tooltip("change:N", title="Endring")],
        )
        .properties(title="Refusjon per enhet", height=alt.Step(12))
    )
    mo.vstack([norwegian(_chart), table(units, UNIT_COLUMNS, label="Per enhet, mot forrige kvartal")])
    return


@app.cell
def _(quarter, read):
    _movers = read(lambda: unit_rows(refunds.largest_changes(quarter, 10)))
    mo.vstack([mo.md(f"### Enhetene som endret seg mest siden {quarter_text(quarter.previous)}"),
               table(_movers, UNIT_COLUMNS)])
    return


if __name__ == "__main__":
    app.run()
