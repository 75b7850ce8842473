# The reconciliation dashboard, for the union office: per month what the bases expected, what the employers
# reported on their deduction lists and what they paid; the employers with open issues; deviations by reason.
# Then the direct payments: per billing period what was billed to the members who pay the union themselves,
# what they paid and what is outstanding, and per month what came in from the bank and what became of it
# (member credit, unmatched, returned), with the øre no part explains (which must be none).
# The notebook speaks Norwegian and shows aggregated figures only, no member rows.
#
#   DATABASE_URL=... marimo edit notebooks/reconciliation.py
#   (or, from the project root: python -m notebooks.reconciliation)
#
# Every figure comes from reports.reconciliation, which reads the reconciliation that the app keeps on each
# deduction basis, and reports.direct_payments, which reads webapp.services.direct_reconciliation; the notebook
# only shows them. Click a month in the trend, a status in the status chart or a
# reason in the deviation chart to filter the tables below them. marimo has no login of its own: never serve
# this notebook beyond localhost without authentication in front of it, since it reads the register.

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")

with app.setup:
    import datetime as dt

    import altair as alt
    import marimo as mo
    import polars as pl

    from reports import direct_payments as direct
    from reports import reconciliation as figures
    from reports.notebook_support import (
        app_reader,
        chosen,
        count_text,
        keep,
        kr_text,
        kroner_text,
        month_text,
        month_x,
        norwegian,
        quarter_text,
        table,
        with_month_label,
    )
    from webapp.services.periods import Month

    EMPLOYER_COLUMNS = {"month": ("Måned", month_text), "org_number": ("Org.nr.", None),
                        "employer": ("Arbeidsgiver", None)}
    ISSUE_COLUMNS = {
        **EMPLOYER_COLUMNS,
        "status": ("Avstemming", None),
        "flags": ("Merknader", None),
        "expected_kr": ("Forventet", kroner_text),
        "reported_kr": ("Rapportert", kroner_text),
        "paid_kr": ("Betalt", kroner_text),
        "unpaid_kr": ("Ubetalt", kroner_text),
        "not_reported": ("Ikke rapportert", count_text),
        "unknown_reported": ("Ukjente på listen", count_text),
        "deviations": ("Avvik", count_text),
    }
    PERIOD_COLUMNS = {
        "periode": ("Periode", None),
        "invoices": ("Fakturaer", count_text),
        "billed_ore": ("Fakturert", kr_text),
        "paid_ore": ("Betalt", kr_text),
        "credited_ore": ("Kreditert", kr_text),
        "written_off_ore": ("Avskrevet", kr_text),
        "outstanding_ore": ("Utestående", kr_text),
        "overdue_count": ("Forfalte", count_text),
        "overdue_ore": ("Forfalt beløp", kr_text),
    }
    PAYMENT_COLUMNS = {
        "month": ("Måned", month_text),
        "payments": ("Innbetalinger", count_text),
        "total_ore": ("Innbetalt", kr_text),
        "employer_ore": ("Arbeidsgivere", kr_text),
        "allocated_ore": ("Til fakturaer", kr_text),
        "credit_ore": ("Medlemmenes kreditt", kr_text),
        "unmatched_ore": ("Uavklart", kr_text),
        "returned_ore": ("Returnert", kr_text),
        "unexplained_ore": ("Uforklart", kr_text),
    }


@app.function
def reconciliation_figures(first: Month, last: Month) -> dict[str, list[dict]]:
    """Everything the dashboard shows for the months, with the months also written out for the charts.
    Call it through `read`: statuses and reasons are labelled in the app's language."""
    monthly = figures.monthly_figures(first, last)
    deviations = figures.deviations_by_reason(first, last)
    return {
        "monthly": monthly,
        "amounts": with_month_label(figures.amounts_long(monthly)),
        "statuses": with_month_label(figures.status_counts(first, last)),
        "issues": figures.open_issues(first, last),
        "employers_open": figures.employers_with_open_issues(first, last),
        "deviations": deviations,
        "reasons": figures.reason_totals(deviations),
    }


@app.function
def totals_text(monthly: list[dict], first: Month, last: Month) -> str:
    """The months added up, in a sentence."""
    def total(key):
        return sum(row[key] for row in monthly)

    return (
        f"## Trekkmåneder fra {month_text(first)} til {month_text(last)}\n\n"
        f"{count_text(total('employers'))} arbeidsgivermåneder, {count_text(total('delivered'))} levert, "
        f"{count_text(total('reconciled'))} avstemt, **{count_text(total('open'))} åpne**. "
        f"Forventet (faste beløp) {kr_text(total('expected_ore'))}, rapportert {kr_text(total('reported_ore'))}, "
        f"betalt {kr_text(total('paid_ore'))}."
    )


@app.cell
def _():
    read = app_reader()
    return (read,)


@app.cell
def _(read):
    latest = read(figures.latest_period)
    mo.stop(latest is None, mo.md("Ingen trekkmåned er generert ennå."))
    month_choice = mo.ui.dropdown(
        options={month_text(latest.shift(-back)): str(latest.shift(-back)) for back in range(36)},
        value=month_text(latest),
        label="Til og med måned",
    )
    span = mo.ui.slider(3, 24, value=12, label="Måneder som vises")
    mo.hstack([month_choice, span], justify="start")
    return month_choice, span


@app.cell
def _(month_choice, read, span):
    first, last = figures.months_back(Month.parse(month_choice.value), span.value)
    _shown = read(reconciliation_figures, first, last)
    monthly, amounts, statuses = _shown["monthly"], _shown["amounts"], _shown["statuses"]
    issues, employers_open = _shown["issues"], _shown["employers_open"]
    deviations, reasons = _shown["deviations"], _shown["reasons"]
    return amounts, deviations, employers_open, first, issues, last, monthly, reasons, statuses


@app.cell
def _(first, last, monthly):
    mo.md(totals_text(monthly, first, last))
    return


@app.cell
def _(amounts):
    _months = alt.selection_point(fields=["month"], name="months")
    trend = mo.ui.altair_chart(norwegian(
        alt.Chart(pl.DataFrame(amounts, schema={"month": pl.String, "measure": pl.String, "kroner": pl.Float64,
                                                "måned": pl.String}))
        .mark_line(point=True)
        .encode(
            x=month_x(),
            y=alt.Y("kroner:Q", title="Kroner"),
            color=alt.Color("measure:N", title=None),
            opacity=alt.condition(_months, alt.value(1), alt.value(0.35)),
            tooltip=[alt.Tooltip("måned:O", title="Måned"), alt.Tooltip("measure:N", title="Beløp"),
                     alt.Tooltip("kroner:Q", title="Kroner", format=",.2f")],
        )
        .add_params(_months)
        .properties(title="Forventet, rapportert og betalt per måned (klikk en måned for å filtrere)",
                    width=640, height=260)
    ))
    trend
    return (trend,)


@app.cell
def _(statuses):
    _status = alt.selection_point(fields=["month", "status"], name="status")
    status_chart = mo.ui.altair_chart(norwegian(
        alt.Chart(pl.DataFrame(statuses, schema={"month": pl.String, "status": pl.String, "status_code": pl.String,
                                                 "employers": pl.Int64, "måned": pl.String}))
        .mark_bar()
        .encode(
            x=month_x(),
            y=alt.Y("employers:Q", title="Arbeidsgivere"),
            color=alt.Color("status:N", title="Avstemming"),
            opacity=alt.condition(_status, alt.value(1), alt.value(0.35)),
            tooltip=[alt.Tooltip("måned:O", title="Måned"), alt.Tooltip("status:N", title="Avstemming"),
                     alt.Tooltip("employers:Q", title="Arbeidsgivere")],
        )
        .add_params(_status)
        .properties(title="Avstemming per måned (klikk en stolpe for å filtrere)", width=640, height=240)
    ))
    status_chart
    return (status_chart,)


@app.cell
def _(issues, status_chart, trend):
    _months = chosen(trend, "month") or chosen(status_chart, "month")
    _statuses = chosen(status_chart, "status")
    _rows = keep(keep(issues, "month", _months), "status", _statuses)
    _what = ", ".join([month_text(month) for month in _months] + _statuses) or "alle viste måneder"
    mo.vstack([
        mo.md(f"### Åpne saker per arbeidsgiver og måned ({_what}): {count_text(len(_rows))}"),
        table(_rows, ISSUE_COLUMNS, page_size=15),
    ])
    return


@app.cell
def _(employers_open):
    mo.vstack([
        mo.md(f"### Arbeidsgivere med åpne saker: {count_text(len(employers_open))}"),
        table(employers_open, {
            "org_number": ("Org.nr.", None), "employer": ("Arbeidsgiver", None),
            "open_months": ("Åpne måneder", count_text), "latest_month": ("Siste åpne måned", month_text),
            "latest_status": ("Avstemming", None), "unpaid_kr": ("Ubetalt", kroner_text),
            "deviations": ("Avvik", count_text),
        }),
    ])
    return


@app.cell
def _(reasons):
    _reason = alt.selection_point(fields=["reason"], name="reason")
    reason_chart = mo.ui.altair_chart(norwegian(
        alt.Chart(pl.DataFrame(reasons, schema={"reason": pl.String, "reason_code": pl.String, "deviations": pl.Int64}))
        .mark_bar()
        .encode(
            x=alt.X("deviations:Q", title="Avvik"),
            y=alt.Y("reason:N", sort="-x", title=None),
            opacity=alt.condition(_reason, alt.value(1), alt.value(0.35)),
            tooltip=[alt.Tooltip("reason:N", title="Årsak"), alt.Tooltip("deviations:Q", title="Avvik")],
        )
        .add_params(_reason)
        .properties(title="Avvik per årsak (klikk en årsak for å filtrere)", width=640, height=180)
    ))
    reason_chart
    return (reason_chart,)


@app.cell
def _(deviations, reason_chart, trend):
    _reasons = chosen(reason_chart, "reason")
    _months = chosen(trend, "month")
    _rows = keep(keep(deviations, "reason", _reasons), "month", _months)
    _what = ", ".join(_reasons + [month_text(month) for month in _months]) or "alle"
    mo.vstack([
        mo.md(f"### Avvik per arbeidsgiver, måned og årsak ({_what})"),
        table(_rows, {**EMPLOYER_COLUMNS, "reason": ("Årsak", None), "deviations": ("Avvik", count_text)},
              page_size=15),
    ])
    return


@app.cell
def _(monthly):
    mo.vstack([
        mo.md("### Månedene i tall"),
        table(monthly, {
            "month": ("Måned", month_text), "employers": ("Arbeidsgivere", count_text),
            "delivered": ("Levert", count_text), "reconciled": ("Avstemt", count_text),
            "open": ("Åpne", count_text), "deviations": ("Avvik", count_text),
            "expected_ore": ("Forventet", kr_text), "reported_ore": ("Rapportert", kr_text),
            "paid_ore": ("Betalt", kr_text), "unpaid_ore": ("Ubetalt", kr_text),
        }, page_size=24),
    ])
    return


@app.function
def period_text(period: str) -> str:
    """A billing period written out: '2026-Q3' -> '3. kvartal 2026', '2026-08' -> 'august 2026'."""
    return quarter_text(period) if "Q" in period else month_text(period)


@app.function
def direct_payment_figures(today: dt.date) -> dict:
    """Everything the direct-payments part shows, with the periods and months also written out for the charts.
    Call it through `read`: the measures are labelled in the app's language."""
    periods = [{**row, "periode": period_text(row["period"])} for row in direct.period_figures(today)]
    months = direct.payment_months()
    return {
        "periods": periods,
        "period_amounts": [{**row, "periode": period_text(row["period"])}
                           for row in direct.period_amounts_long(periods)],
        "statuses": [{**row, "periode": period_text(row["period"])} for row in direct.status_figures(today)],
        "months": months,
        "month_amounts": with_month_label(direct.payment_amounts_long(months)),
        "totals": direct.payment_totals(),
    }


@app.function
def direct_totals_text(periods: list[dict], totals: dict) -> str:
    """The billing periods and all payments added up, in a sentence each; the unexplained øre last."""
    def total(key):
        return sum(row[key] for row in periods)

    text = "## Direktebetaling\n\n"
    if periods:
        text += (
            f"{count_text(total('invoices'))} fakturaer fra {period_text(periods[0]['period'])} til "
            f"{period_text(periods[-1]['period'])}: fakturert {kr_text(total('billed_ore'))}, "
            f"betalt {kr_text(total('paid_ore'))}, kreditert {kr_text(total('credited_ore'))}, "
            f"avskrevet {kr_text(total('written_off_ore'))}, **utestående {kr_text(total('outstanding_ore'))}**, "
            f"herav forfalt {kr_text(total('overdue_ore'))} ({count_text(total('overdue_count'))} fakturaer).\n\n"
        )
    else:
        text += "Ingen fakturaer ennå.\n\n"
    return text + (
        f"{count_text(totals['payments'])} innbetalinger, i alt {kr_text(totals['total_ore'])}: "
        f"arbeidsgivere {kr_text(totals['employer_ore'])}, til fakturaer {kr_text(totals['allocated_ore'])}, "
        f"medlemmenes kreditt {kr_text(totals['credit_ore'])} "
        f"({count_text(totals['members_with_credit'])} medlemmer), "
        f"uavklart {kr_text(totals['unmatched_ore'])} ({count_text(totals['unmatched_count'])}), "
        f"returnert {kr_text(totals['returned_ore'])} ({count_text(totals['returned_count'])}). "
        f"**Uforklart: {kr_text(totals['unexplained_ore'])}**."
    )


@app.cell
def _(read):
    _direct = read(direct_payment_figures, dt.date.today())
    direct_periods, direct_period_amounts = _direct["periods"], _direct["period_amounts"]
    direct_months, direct_month_amounts = _direct["months"], _direct["month_amounts"]
    mo.md(direct_totals_text(direct_periods, _direct["totals"]))
    return direct_month_amounts, direct_months, direct_period_amounts, direct_periods


@app.cell
def _(direct_period_amounts):
    _periods = alt.selection_point(fields=["period"], name="periods")
    direct_chart = mo.ui.altair_chart(norwegian(
        alt.Chart(pl.DataFrame(direct_period_amounts, schema={"period": pl.String, "measure": pl.String,
                                                             "kroner": pl.Float64, "periode": pl.String}))
        .mark_bar()
        .encode(
            x=alt.X("periode:O", title="Periode", sort=alt.EncodingSortField(field="period", op="min")),
            xOffset=alt.XOffset("measure:N"),
            y=alt.Y("kroner:Q", title="Kroner"),
            color=alt.Color("measure:N", title=None),
            opacity=alt.condition(_periods, alt.value(1), alt.value(0.35)),
            tooltip=[alt.Tooltip("periode:O", title="Periode"), alt.Tooltip("measure:N", title="Beløp"),
                     alt.Tooltip("kroner:Q", title="Kroner", format=",.2f")],
        )
        .add_params(_periods)
        .properties(title="Fakturert, betalt og utestående per periode (klikk en periode for å filtrere)",
                    width=640, height=260)
    ))
    direct_chart
    return (direct_chart,)


@app.cell
def _(direct_chart, direct_periods):
    _chosen = chosen(direct_chart, "period")
    _rows = keep(direct_periods, "period", _chosen)
    _what = ", ".join(period_text(period) for period in _chosen) or "alle perioder"
    mo.vstack([
        mo.md(f"### Fakturaperiodene ({_what}): {count_text(sum(row['invoices'] for row in _rows))} fakturaer"),
        table(_rows, PERIOD_COLUMNS, page_size=16),
    ])
    return


@app.cell
def _(direct_month_amounts):
    direct_money_chart = mo.ui.altair_chart(norwegian(
        alt.Chart(pl.DataFrame(direct_month_amounts, schema={"month": pl.String, "measure": pl.String,
                                                            "kroner": pl.Float64, "måned": pl.String}))
        .mark_bar()
        .encode(
            x=month_x(),
            xOffset=alt.XOffset("measure:N"),
            y=alt.Y("kroner:Q", title="Kroner"),
            color=alt.Color("measure:N", title=None),
            tooltip=[alt.Tooltip("måned:O", title="Måned"), alt.Tooltip("measure:N", title="Beløp"),
                     alt.Tooltip("kroner:Q", title="Kroner", format=",.2f")],
        )
        .properties(title="Medlemmenes kreditt, uavklarte og returnerte innbetalinger per måned",
                    width=640, height=240)
    ))
    direct_money_chart
    return


@app.cell
def _(direct_months):
    mo.vstack([
        mo.md(f"### Innbetalingene per måned: {count_text(sum(row['payments'] for row in direct_months))} "
              "innbetalinger"),
        table(direct_months, PAYMENT_COLUMNS, page_size=24),
    ])
    return

if __name__ == "__main__":
    app.run()
