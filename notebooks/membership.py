# Membership over time and the figures reported to LO / LO Stat and the employer associations, for the union
# office and analysts: aggregated figures only, no member rows. The notebook speaks Norwegian.
#
#   DATABASE_URL=... marimo edit notebooks/membership.py     (or, from the project root: python -m notebooks.membership)
#
# Every figure comes from reports.membership (the functions behind `flask reports ...` and the report screen)
# and webapp.services.lifecycle_stats (joins, leaves by reason and transfers per month, as the LO report shows
# them); the button at the end writes the same files the CLI writes. A member counts in a month when the periodized
# membership covers it (a join from the first of the next month, a leave to the end of its month). Click a
# group in a chart to filter the table below it. marimo has no login of its own: never serve this notebook
# beyond localhost without authentication in front of it, since it reads the register.

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")

with app.setup:
    import datetime as dt

    import altair as alt
    import marimo as mo
    import polars as pl

    from reports import exports, membership
    from reports.notebook_support import (
        app_reader,
        change_text,
        chosen,
        count_text,
        date_text,
        keep,
        month_text,
        month_x,
        norwegian,
        table,
        with_month_label,
    )
    from webapp.services import lifecycle_stats
    from webapp.services.periods import Month

    DEVELOPMENT_COLUMNS = {
        "month": ("Måned", month_text),
        "group": ("Gruppe", None),
        "members": ("Medlemmer", count_text),
        "joins": ("Innmeldinger", count_text),
        "leaves": ("Utmeldinger", count_text),
        "net": ("Netto", change_text),
    }
    MOVEMENT_COLUMNS = {
        "month": ("Måned", month_text),
        "joins": ("Innmeldinger", count_text),
        "transfers_in": ("Overført inn", count_text),
        "leaves": ("Utmeldinger", count_text),
        "transfers_out": ("Overført ut", count_text),
        "net": ("Netto", change_text),
    }


@app.function
def development(first: Month, last: Month) -> dict[str, list[dict]]:
    """Members, joins, leaves and net per month: 'overall', by 'category' and by 'org_unit' (national
    association). Call it through `read`: the group names need the app."""
    rows = membership.membership_development(first, last)
    return {
        by or "overall": with_month_label(summary.as_dict() for summary in membership.summarise_development(rows, by))
        for by in (None, "category", "org_unit")
    }


@app.function
def development_text(overall: list[dict]) -> str:
    """The first and last month and what happened between them, in a sentence."""
    first, last = overall[0], overall[-1]
    return (
        f"## Medlemsutvikling fra {month_text(first['month'])} til {month_text(last['month'])}\n\n"
        f"{count_text(first['members'])} medlemmer i {month_text(first['month'])}, "
        f"**{count_text(last['members'])}** i {month_text(last['month'])}: "
        f"{count_text(sum(row['joins'] for row in overall))} innmeldinger og "
        f"{count_text(sum(row['leaves'] for row in overall))} utmeldinger, "
        f"netto {change_text(sum(row['net'] for row in overall))}."
    )


@app.function
def development_table(rows: list[dict], chart, grouped_by: str):
    """The table under a development chart: the groups clicked in it (all when none), newest month first."""
    groups = chosen(chart, "group")
    return table(sorted(keep(rows, "group", groups), key=lambda row: row["month"], reverse=True),
                 DEVELOPMENT_COLUMNS, label=f"Utvikling per {grouped_by} ({', '.join(groups) or 'alle'})")


@app.function
def movements(first: Month, last: Month) -> dict[str, list[dict]]:
    """Joins, leaves and transfers per month by their registered dates (webapp.services.lifecycle_stats): 'months'
    one row a month, 'reasons' one row a month and leave reason with leaves. Whole-register figures, no member
    rows. Call it through `read`: the reasons are labelled in the app's language."""
    counted = lifecycle_stats.monthly_movements(first, last)
    months = [{"month": str(m.month), "joins": m.joins, "leaves": m.leaves, "transfers_in": m.transfers_in,
               "transfers_out": m.transfers_out, "net": m.net} for m in counted]
    reasons = [{"month": str(m.month), "reason": lifecycle_stats.reason_label(reason), "leaves": leaves}
               for m in counted for reason, leaves in m.leaves_by_reason.items()]
    return {"months": with_month_label(months), "reasons": with_month_label(reasons)}


@app.function
def movements_text(months: list[dict]) -> str:
    """The months' movements added up, in a sentence."""
    def total(key):
        return count_text(sum(row[key] for row in months))

    return (
        f"## Inn- og utmeldinger fra {month_text(months[0]['month'])} til {month_text(months[-1]['month'])}\n\n"
        f"{total('joins')} innmeldinger og {total('leaves')} utmeldinger, "
        f"netto {change_text(sum(row['net'] for row in months))}; {total('transfers_in')} overført inn fra og "
        f"{total('transfers_out')} overført ut til andre LO-forbund. Tallene følger datoene i registeret: en "
        "innmelding i måneden for innmeldingsdatoen, en utmelding i måneden for siste dag som medlem."
    )


@app.function
def reason_totals(reasons: list[dict]) -> list[dict]:
    """The leaves of every month added up per reason, the most common first."""
    totals: dict[str, int] = {}
    for row in reasons:
        totals[row["reason"]] = totals.get(row["reason"], 0) + row["leaves"]
    return [{"reason": reason, "leaves": leaves} for reason, leaves in sorted(totals.items(), key=lambda r: -r[1])]


@app.function
def lo_rows(lo: membership.LoReport) -> list[dict]:
    """The LO report one row per group. Call it through `read`: the breakdown names need the app."""
    return [
        {"breakdown": str(membership.BREAKDOWN_LABELS[name]), "group": label, "code": code, "members": members}
        for name, code, label, members in lo.group_rows()
    ]


@app.cell
def _():
    read = app_reader()
    return (read,)


@app.cell
def _(read):
    today = dt.date.today()
    day_choice = mo.ui.date(value=today, stop=today, label="Rapportdato")
    span = mo.ui.slider(6, 36, value=24, label="Måneder med utvikling")
    _associations = read(lambda: {str(a.label): a.name for a in membership.REPORTED_ASSOCIATIONS})
    association_choice = mo.ui.dropdown(
        options=_associations, value=next(iter(_associations)), label="Arbeidsgiverforening"
    )
    mo.hstack([day_choice, span, association_choice], justify="start")
    return association_choice, day_choice, span


@app.cell
def _(day_choice, read, span):
    _last = Month.of(day_choice.value)
    _figures = read(development, _last.shift(-(span.value - 1)), _last)
    overall, by_category, by_unit = _figures["overall"], _figures["category"], _figures["org_unit"]
    return by_category, by_unit, overall


@app.cell
def _(overall):
    mo.stop(not overall, mo.md("Ingen medlemmer i registeret i disse månedene."))
    mo.md(development_text(overall))
    return


@app.cell
def _(overall):
    _names = {"joins": "innmeldinger", "leaves": "utmeldinger", "net": "netto"}
    _flows = (
        pl.DataFrame(overall)
        .unpivot(index=["month", "måned"], on=list(_names), variable_name="bevegelse", value_name="antall")
        .with_columns(pl.col("bevegelse").replace(_names))
    )
    _members = (
        alt.Chart(pl.DataFrame(overall))
        .mark_line(point=True)
        .encode(x=month_x(), y=alt.Y("members:Q", title="Medlemmer", scale=alt.Scale(zero=False)),
                tooltip=[alt.Tooltip("måned:O", title="Måned"), alt.Tooltip("members:Q", title="Medlemmer"),
                         alt.Tooltip("joins:Q", title="Innmeldinger"), alt.Tooltip("leaves:Q", title="Utmeldinger"),
                         alt.Tooltip("net:Q", title="Netto")])
        .properties(title="Medlemmer per måned", width=640, height=200)
    )
    _movements = (
        alt.Chart(_flows)
        .mark_bar()
        .encode(x=month_x(), xOffset="bevegelse:N", y=alt.Y("antall:Q", title="Medlemmer"),
                color=alt.Color("bevegelse:N", title=None),
                tooltip=[alt.Tooltip("måned:O", title="Måned"), "bevegelse:N", "antall:Q"])
        .properties(title="Innmeldinger, utmeldinger og netto vekst per måned", width=640, height=200)
    )
    norwegian(alt.vconcat(_members, _movements))
    return


@app.cell
def _(by_category):
    _pick = alt.selection_point(fields=["group"], bind="legend", name="category")
    category_chart = mo.ui.altair_chart(norwegian(
        alt.Chart(pl.DataFrame(by_category))
        .mark_line(point=True)
        .encode(x=month_x(), y=alt.Y("members:Q", title="Medlemmer"),
                color=alt.Color("group:N", title="Kategori"),
                opacity=alt.condition(_pick, alt.value(1), alt.value(0.2)),
                tooltip=[alt.Tooltip("måned:O", title="Måned"), alt.Tooltip("group:N", title="Kategori"),
                         alt.Tooltip("members:Q", title="Medlemmer"), alt.Tooltip("net:Q", title="Netto")])
        .add_params(_pick)
        .properties(title="Medlemmer per kategori (klikk en linje eller en forklaring for å filtrere)",
                    width=640, height=240)
    ))
    category_chart
    return (category_chart,)


@app.cell
def _(by_category, category_chart):
    development_table(by_category, category_chart, "kategori")
    return


@app.cell
def _(by_unit):
    _pick = alt.selection_point(fields=["group"], name="unit")
    unit_chart = mo.ui.altair_chart(norwegian(
        alt.Chart(pl.DataFrame(by_unit))
        .mark_bar()
        .encode(x=alt.X("sum(net):Q", title="Netto vekst i perioden"), y=alt.Y("group:N", sort="-x", title=None),
                opacity=alt.condition(_pick, alt.value(1), alt.value(0.35)),
                tooltip=[alt.Tooltip("group:N", title="Landsforening"),
                         alt.Tooltip("sum(joins):Q", title="Innmeldinger"),
                         alt.Tooltip("sum(leaves):Q", title="Utmeldinger"), alt.Tooltip("sum(net):Q", title="Netto")])
        .add_params(_pick)
        .properties(title="Netto vekst per landsforening (klikk en stolpe for å filtrere)", width=640, height=220)
    ))
    unit_chart
    return (unit_chart,)


@app.cell
def _(by_unit, unit_chart):
    development_table(by_unit, unit_chart, "landsforening")
    return


@app.cell
def _(day_choice, read, span):
    _last = Month.of(day_choice.value)
    _moved = read(movements, _last.shift(-(span.value - 1)), _last)
    movement_months, movement_reasons = _moved["months"], _moved["reasons"]
    return movement_months, movement_reasons


@app.cell
def _(movement_months, movement_reasons):
    # Every month on each chart's axis (a month without leaves too), whole numbers on the counts' axes.
    _months = month_x().scale(domain=[row["måned"] for row in movement_months])
    _counts = alt.Axis(tickMinStep=1, format="d")

    def _bars(names, title):
        _top = max([row[key] for row in movement_months for key in names], default=0)
        return (
            alt.Chart(pl.DataFrame(movement_months)
                      .unpivot(index=["month", "måned"], on=list(names), variable_name="bevegelse",
                               value_name="antall")
                      .with_columns(pl.col("bevegelse").replace(names)))
            .mark_bar()
            .encode(x=_months, xOffset="bevegelse:N",
                    y=alt.Y("antall:Q", title="Medlemmer", axis=_counts, scale=alt.Scale(domain=[0, max(_top, 1)])),
                    color=alt.Color("bevegelse:N", title=None),
                    tooltip=[alt.Tooltip("måned:O", title="Måned"), alt.Tooltip("bevegelse:N", title="Bevegelse"),
                             alt.Tooltip("antall:Q", title="Antall")])
            .properties(title=title, width=640, height=180)
        )

    _reasons = (
        alt.Chart(pl.DataFrame(movement_reasons, schema={"month": pl.String, "måned": pl.String,
                                                         "reason": pl.String, "leaves": pl.Int64}))
        .mark_bar()
        .encode(x=_months, y=alt.Y("leaves:Q", title="Utmeldinger", axis=_counts),
                color=alt.Color("reason:N", title="Årsak"),
                tooltip=[alt.Tooltip("måned:O", title="Måned"), alt.Tooltip("reason:N", title="Årsak"),
                         alt.Tooltip("leaves:Q", title="Utmeldinger")])
        .properties(title="Utmeldinger etter årsak per måned", width=640, height=180)
    )
    mo.vstack([
        mo.md(movements_text(movement_months)),
        norwegian(alt.vconcat(
            _bars({"joins": "innmeldinger", "leaves": "utmeldinger"}, "Innmeldinger og utmeldinger per måned"),
            _reasons,
            _bars({"transfers_in": "overført inn", "transfers_out": "overført ut"},
                  "Overføringer inn fra og ut til andre LO-forbund per måned"),
        ).resolve_scale(color="independent")),
        table(sorted(movement_months, key=lambda row: row["month"], reverse=True), MOVEMENT_COLUMNS,
              label="Inn- og utmeldinger per måned"),
        table(reason_totals(movement_reasons), {"reason": ("Årsak", None), "leaves": ("Utmeldinger", count_text)},
              label="Utmeldinger etter årsak i perioden"),
    ])
    return


@app.cell
def _(day_choice, read):
    lo = read(membership.lo_report, day_choice.value)
    lo_table = read(lo_rows, lo)
    lo_title = read(getattr, lo, "title")  # a translated title: in the app's context, or it stays English
    return lo, lo_table, lo_title


@app.cell
def _(lo, lo_table, lo_title):
    _pick = alt.selection_point(fields=["breakdown"], bind="legend", name="breakdown")
    lo_chart = mo.ui.altair_chart(norwegian(
        alt.Chart(pl.DataFrame(lo_table))
        .mark_bar()
        .encode(x=alt.X("members:Q", title="Medlemmer"), y=alt.Y("group:N", sort=None, title=None),
                color=alt.Color("breakdown:N", title="Inndeling"),
                opacity=alt.condition(_pick, alt.value(1), alt.value(0.2)),
                tooltip=[alt.Tooltip("breakdown:N", title="Inndeling"), alt.Tooltip("group:N", title="Gruppe"),
                         alt.Tooltip("members:Q", title="Medlemmer")])
        .add_params(_pick)
        .properties(title=f"{lo_title}: {count_text(lo.total)} medlemmer per {date_text(lo.day)} "
                          "(klikk en inndeling for å filtrere)", width=560, height=alt.Step(11))
    ))
    lo_chart
    return (lo_chart,)


@app.cell
def _(lo_chart, lo_table):
    _picked = chosen(lo_chart, "breakdown")
    table(keep(lo_table, "breakdown", _picked),
          {"breakdown": ("Inndeling", None), "group": ("Gruppe", None), "code": ("Kode", None),
           "members": ("Medlemmer", count_text)},
          label=f"Tall til LO / LO Stat ({', '.join(_picked) or 'alle'})", page_size=20)
    return


@app.cell
def _(association_choice, day_choice, read):
    _association = membership.EmployerAssociation[association_choice.value]
    enterprise_report = read(membership.employer_association_report, _association, day_choice.value)
    enterprise_title = read(getattr, enterprise_report, "title")
    enterprises = [{"org_number": row.org_number, "enterprise": row.name, "members": row.members}
                   for row in enterprise_report.rows]
    return enterprise_report, enterprise_title, enterprises


@app.cell
def _(enterprise_report, enterprise_title, enterprises):
    mo.stop(not enterprises, mo.md(f"{enterprise_title}: ingen medlemsvirksomheter i registeret."))
    _top = sorted(enterprises, key=lambda row: -row["members"])[:20]
    mo.vstack([
        mo.md(f"### {enterprise_title} per {date_text(enterprise_report.day)}\n\n"
              f"{count_text(len(enterprises))} virksomheter, {count_text(enterprise_report.total)} medlemmer ansatt "
              f"({count_text(enterprise_report.distinct_members)} forskjellige medlemmer)."),
        norwegian(
            alt.Chart(pl.DataFrame(_top))
            .mark_bar()
            .encode(x=alt.X("members:Q", title="Medlemmer"), y=alt.Y("enterprise:N", sort="-x", title=None),
                    tooltip=[alt.Tooltip("org_number:N", title="Org.nr."),
                             alt.Tooltip("enterprise:N", title="Virksomhet"),
                             alt.Tooltip("members:Q", title="Medlemmer")])
            .properties(title="De 20 virksomhetene med flest medlemmer", width=560, height=alt.Step(14))
        ),
        table(enterprises, {"org_number": ("Org.nr.", None), "enterprise": ("Virksomhet", None),
                            "members": ("Medlemmer", count_text)}, page_size=15),
    ])
    return


@app.cell
def _():
    export_button = mo.ui.run_button(label="Skriv rapportfilene (PDF, CSV, XLSX) for datoen")
    export_button
    return (export_button,)


@app.cell
def _(day_choice, export_button, read):
    mo.stop(not export_button.value,
            mo.md("Filene havner i rapportmappen (REPORTS_DIR, som standard instance/reports/)."))
    _paths = read(exports.write_all, day_choice.value)
    mo.md("Skrevet:\n\n" + "\n".join(f"- `{path}`" for path in _paths))
    return


if __name__ == "__main__":
    app.run()
