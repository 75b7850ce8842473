"""The reports and the notebooks on the demo data (seeded once for this module through the CLI).

The report figures are checked against a count made here in Python from the raw rows, with the
periodization rule of webapp.services.periods, so a wrong SQL grouping or window cannot hide.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import pathlib
import re
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import select

from reports.membership import (
    AGE_BANDS,
    REPORTED_ASSOCIATIONS,
    all_reports,
    members_counted,
    membership_development,
    summarise_development,
)
from tests.conftest import wipe_database
from webapp.extensions import db
from webapp.models import Employer, Employment, Member, Workplace
from webapp.services.periods import Month, covers_month

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(path for path in (ROOT / "notebooks").glob("*.py") if path.name != "__init__.py")
TODAY = dt.date.today()
DATES = [TODAY, Month.of(TODAY).shift(-3).first_day + dt.timedelta(days=9)]
# Norwegian text each of our notebooks shows only when its cells ran on data (its source has the placeholders
# instead), as the JSON inside the exported page writes it: "å" as \u00e5, a non-breaking space as \u00a0.
COUNT = r"[1-9](?:\d|\\u00a0)*"
MARKERS = {
    "reconciliation.py": [rf"\(alle viste m\\u00e5neder\): {COUNT}", rf"Arbeidsgivere med \\u00e5pne saker: {COUNT}",
                          r"Trekkm\\u00e5neder fra [a-z]+ \d{4} til [a-z]+ \d{4}",
                          # direct payments: invoices of the seeded year, and not one øre unexplained
                          rf"{COUNT} fakturaer fra [1-4a-z. ]+ \d{{4}} til", r"Uforklart: kr\\u00a00,00"],
    "membership.py": [rf"{COUNT} medlemmer i [a-z]+ \d{{4}}", rf"\({COUNT} forskjellige medlemmer\)",
                      r"Medlemsrapport til LO / LO Stat: ", r"Medlemsrapport til [A-Z]\w+ per \d\d\.\d\d\.\d{4}",
                      r"Inn- og utmeldinger fra [a-z]+ \d{4} til [a-z]+ \d{4}\\u003C/h2",
                      rf"{COUNT} innmeldinger og \d", r"Inn- og utmeldinger per m\\u00e5ned: \d+ rader"],
    "refunds.py": [r"Refusjon for [1-4]\. kvartal \d{4}", r"kr\\u00a0[1-9]"],
}


@pytest.fixture(scope="module")
def demo(app):
    with app.app_context():
        wipe_database()
        db.session.remove()
    result = app.test_cli_runner().invoke(
        args=["seed", "--members", "500", "--employers", "50", "--months", "6", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        wipe_database()
        db.session.remove()


@pytest.fixture()
def demo_ctx(demo):
    with demo.app_context():
        yield demo
        db.session.remove()


def age_band(birth: dt.date | None, day: dt.date) -> str:
    if birth is None:
        return "unknown"
    age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    return [code for low, code, _label in AGE_BANDS if age >= low][-1]


def expected_lo(day: dt.date) -> dict[str, Counter]:
    month = Month.of(day)
    members = [m for m in db.session.execute(select(Member.id, Member.category, Member.gender, Member.birth_date,
                                                    Member.joined_on, Member.left_on)).all()
               if covers_month(m.joined_on, m.left_on, month)]
    employments = db.session.execute(
        select(Employment.id, Employment.member_id, Employment.position_pct, Employment.start_date, Employment.end_date,
               Workplace.county, Employer.sector)
        .join(Workplace, Workplace.id == Employment.workplace_id).join(Employer, Employer.id == Employment.employer_id)
    ).all()
    main = {}
    for row in sorted((e for e in employments if covers_month(e.start_date, e.end_date, month)),
                      key=lambda e: (-e.position_pct, e.start_date, e.id)):
        main.setdefault(row.member_id, row)
    result = {name: Counter() for name in ("category", "gender", "age_band", "county", "sector")}
    for m in members:
        job = main.get(m.id)
        result["category"][m.category.name] += 1
        result["gender"][m.gender.name if m.gender else "unknown"] += 1
        result["age_band"][age_band(m.birth_date, day)] += 1
        result["county"][job.county if job else "unknown"] += 1
        result["sector"][job.sector.name if job else "unknown"] += 1
    return result


@pytest.mark.parametrize("day", DATES, ids=["today", "three-months-ago"])
def test_every_lo_breakdown_sums_to_the_members_counted(demo_ctx, day):
    reports = all_reports(day)
    lo = reports.lo
    counted = members_counted(day)
    assert counted > 300 and lo.total == counted
    for name, groups in lo.breakdowns.items():
        assert sum(group.members for group in groups) == counted, name
    expected = expected_lo(day)
    for name, counts in expected.items():
        assert {g.code: g.members for g in lo.breakdowns[name] if g.members} == dict(counts), name
    assert len([g for g in lo.breakdowns["org_unit"] if g.members]) > 3


@pytest.mark.parametrize("day", DATES, ids=["today", "three-months-ago"])
def test_employer_association_reports_list_only_their_enterprises(demo_ctx, day):
    reports = all_reports(day)
    month = Month.of(day)
    counted = {m.id for m in db.session.execute(select(Member.id, Member.joined_on, Member.left_on)).all()
               if covers_month(m.joined_on, m.left_on, month)}
    employed = {
        (e.employer_id, e.member_id)
        for e in db.session.execute(select(Employment.employer_id, Employment.member_id, Employment.start_date,
                                           Employment.end_date)).all()
        if e.member_id in counted and covers_month(e.start_date, e.end_date, month)
    }
    employers = db.session.execute(select(Employer.id, Employer.org_number, Employer.association)).all()
    assert sum(report.total for report in reports.associations.values()) > 0
    for association in REPORTED_ASSOCIATIONS:
        report = reports.associations[association]
        own = {e.org_number: e.id for e in employers if e.association == association}
        listed = [row.org_number for row in report.rows]
        assert len(listed) == len(set(listed)) and set(listed) == set(own), association
        for row in report.rows:
            assert row.members == sum(1 for employer_id, _m in employed if employer_id == own[row.org_number])
        assert report.distinct_members == len({m for employer_id, m in employed if employer_id in own.values()})


def test_development_matches_the_counts(demo_ctx):
    last = Month.of(TODAY)
    overall = summarise_development(membership_development(last.shift(-5), last))
    assert [row.month for row in overall] == [str(last.shift(k)) for k in range(-5, 1)]
    for before, after in itertools.pairwise(overall):
        assert after.members - before.members == after.net
    assert overall[-1].members == members_counted(TODAY)
    assert sum(row.joins for row in overall) > 0


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs_to_completion_on_the_demo_data(demo, notebook, tmp_path):
    # marimo keeps a session snapshot (with the figures shown) under sys.pycache_prefix: keep it out of the tree.
    env = {**os.environ, "DATABASE_URL": demo.config["SQLALCHEMY_DATABASE_URI"], "REPORTS_DIR": str(tmp_path),
           "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")}
    out = tmp_path / f"{notebook.stem}.html"
    result = subprocess.run(
        [sys.executable, "-m", "marimo", "export", "html", str(notebook), "-o", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = out.read_text(encoding="utf-8")
    for marker in MARKERS[notebook.name]:  # every notebook names what it shows on data
        assert re.search(marker, html), marker
    # Tables are our own, in Norwegian: marimo's table widget speaks English ("3 rows, 4 columns").
    assert "<marimo-table" not in html and "Membership report" not in html


def test_reconciliation_chart_selections_pick_what_filters_the_tables(demo, monkeypatch):
    """Clicking a month in the trend, or a bar in the status chart, selects the rows the tables filter on."""
    import importlib.util

    # The notebook builds its app from config.Config, read at import: point it at the demo database.
    monkeypatch.setattr("config.Config.SQLALCHEMY_DATABASE_URI", demo.config["SQLALCHEMY_DATABASE_URI"])
    spec = importlib.util.spec_from_file_location("reconciliation_notebook", ROOT / "notebooks" / "reconciliation.py")
    notebook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(notebook)
    _outputs, defs = notebook.app.run()
    trend, status_chart, chosen = defs["trend"], defs["status_chart"], defs["chosen"]
    assert chosen(trend, "month") == []  # nothing clicked: the tables show every month
    month = defs["monthly"][0]["month"]
    trend._value = trend._convert_value({"months": {"month": [month], "vlPoint": {"or": [{"month": month}]}}})
    assert chosen(trend, "month") == [month]
    status = next(row for row in defs["statuses"] if row["status_code"] != "ok")
    picked = {"month": [status["month"]], "status": [status["status"]],
              "vlPoint": {"or": [{"month": status["month"], "status": status["status"]}]}}
    status_chart._value = status_chart._convert_value({"status": picked})
    assert chosen(status_chart, "status") == [status["status"]] and chosen(status_chart, "month") == [status["month"]]
    # The open-issues table filtered by that selection holds exactly the employers the bar counts.
    selected = [row for row in defs["issues"] if row["month"] == status["month"] and row["status"] == status["status"]]
    assert len(selected) == status["employers"]


def test_direct_payments_chart_selection_picks_the_periods_of_the_table(demo, monkeypatch):
    """Clicking a period in the direct-payments chart selects the period the table below filters on."""
    import importlib.util

    monkeypatch.setattr("config.Config.SQLALCHEMY_DATABASE_URI", demo.config["SQLALCHEMY_DATABASE_URI"])
    spec = importlib.util.spec_from_file_location("reconciliation_direct", ROOT / "notebooks" / "reconciliation.py")
    notebook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(notebook)
    _outputs, defs = notebook.app.run()
    chart, chosen, periods = defs["direct_chart"], defs["chosen"], defs["direct_periods"]
    assert periods and chosen(chart, "period") == []
    period = periods[-1]["period"]
    chart._value = chart._convert_value({"periods": {"period": [period], "vlPoint": {"or": [{"period": period}]}}})
    assert chosen(chart, "period") == [period]
    assert [row["period"] for row in defs["keep"](periods, "period", [period])] == [period]
