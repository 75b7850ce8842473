"""The notebooks as modules: each imports without running its cells, its @app.function pieces can be called and
write Norwegian; the shared formats; a relative sqlite:/// DATABASE_URL means the project's file.

Running the notebooks on data: tests/test_reports_demo.py (export of each) and
tests/test_refunds.py::test_notebook_runs_as_a_script; the offline page: tests/browser/test_notebook_export.py.
"""

from __future__ import annotations

import importlib
import os
import pathlib
import random
import subprocess
import sys

import marimo
import pytest

from config import resolve_database_url
from reports.notebook_support import change_text, count_text, kr_text, kroner_text, month_text, quarter_text
from tests.test_lifecycle_stats import moving  # noqa: F401  (the fixture)
from webapp.models.choices import OrgLevel
from webapp.services import refunds
from webapp.services.lifecycle_stats import monthly_movements
from webapp.services.periods import Month, Quarter

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(path.stem for path in (ROOT / "notebooks").glob("*.py") if path.stem != "__init__")
NBSP = "\u00a0"


def test_norwegian_formats():
    assert kr_text(313_772_200) == f"kr{NBSP}3{NBSP}137{NBSP}722,00"
    assert kr_text(-5) == f"kr{NBSP}-0,05"
    assert kroner_text(3_137_722.5) == f"kr{NBSP}3{NBSP}137{NBSP}722,50"
    assert quarter_text("2026-Q3") == quarter_text(Quarter(2026, 3)) == "3. kvartal 2026"
    assert month_text("2026-08") == month_text(Month(2026, 8)) == "august 2026"
    assert count_text(1_234_567) == f"1{NBSP}234{NBSP}567"
    assert (change_text(1234), change_text(-5), change_text(0)) == (f"+1{NBSP}234", "-5", "0")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_an_importable_module_in_setup_style(name):
    source = (ROOT / "notebooks" / f"{name}.py").read_text(encoding="utf-8")
    assert "with app.setup:" in source and "@app.function" in source
    assert "sys.path" not in source  # marimo finds the project through pyproject.toml
    module = importlib.import_module(f"notebooks.{name}")
    assert isinstance(module.app, marimo.App)
    assert "read" not in vars(module)  # importing builds no app and opens no database: that happens in a cell


def test_membership_functions_write_norwegian():
    from notebooks.membership import development_text

    overall = [
        {"month": "2026-07", "members": 3000, "joins": 40, "leaves": 10, "net": 30},
        {"month": "2026-08", "members": 3137, "joins": 150, "leaves": 13, "net": 137},
    ]
    text = development_text(overall)
    assert "Medlemsutvikling fra juli 2026 til august 2026" in text
    assert f"3{NBSP}000 medlemmer i juli 2026, **3{NBSP}137** i august 2026" in text
    assert "190 innmeldinger og 23 utmeldinger, netto +167." in text


@pytest.mark.usefixtures("moving")
def test_movement_figures_are_the_services_in_norwegian():
    """The "Inn- og utmeldinger" section: the service's figures per month, the reasons by their Norwegian labels,
    aggregates only (tests/test_lifecycle_stats.py builds the months and counts them by hand)."""
    from notebooks.membership import movements, movements_text, reason_totals

    first, last = Month(2026, 1), Month(2026, 3)
    shown = movements(first, last)
    assert [(row["month"], row["måned"], row["joins"], row["leaves"], row["transfers_in"], row["transfers_out"],
             row["net"]) for row in shown["months"]] == [
        (str(m.month), month_text(m.month), m.joins, m.leaves, m.transfers_in, m.transfers_out, m.net)
        for m in monthly_movements(first, last)]
    assert [(row["joins"], row["leaves"], row["net"]) for row in shown["months"]] == [(2, 1, 1), (2, 2, 0), (1, 2, -1)]
    assert {(row["måned"], row["reason"]): row["leaves"] for row in shown["reasons"]} == {
        ("januar 2026", "Utmeldt"): 1, ("februar 2026", "Manglende betaling"): 1,
        ("februar 2026", "Ingen årsak registrert"): 1, ("mars 2026", "Ny jobb utenfor forbundets område"): 1,
        ("mars 2026", "Overført til annet LO-forbund"): 1}
    text = movements_text(shown["months"])
    assert text.startswith("## Inn- og utmeldinger fra januar 2026 til mars 2026")
    assert "5 innmeldinger og 5 utmeldinger, netto 0; 2 overført inn fra og 1 overført ut til andre LO-forbund." in text
    assert reason_totals(shown["reasons"] + [{"month": "2026-03", "reason": "Utmeldt", "leaves": 2}])[0] == {
        "reason": "Utmeldt", "leaves": 3}
    keys = {key for rows in shown.values() for row in rows for key in row}
    assert not keys & {"member_id", "member_no", "name", "national_id"}


def test_reconciliation_functions_write_norwegian():
    from notebooks.reconciliation import totals_text

    months = [{"employers": 40, "delivered": 38, "reconciled": 35, "open": 5, "expected_ore": 313_772_200,
               "reported_ore": 400_000_000, "paid_ore": 399_000_050}]
    text = totals_text(months, Month(2026, 7), Month(2026, 9))
    assert text.startswith("## Trekkmåneder fra juli 2026 til september 2026")
    assert "40 arbeidsgivermåneder, 38 levert, 35 avstemt, **5 åpne**" in text
    assert f"Forventet (faste beløp) kr{NBSP}3{NBSP}137{NBSP}722,00" in text
    assert f"betalt kr{NBSP}3{NBSP}990{NBSP}000,50." in text


def test_direct_payments_text_writes_norwegian():
    from notebooks.reconciliation import direct_totals_text, period_text

    assert (period_text("2026-Q3"), period_text("2026-08")) == ("3. kvartal 2026", "august 2026")
    periods = [
        {"period": "2026-07", "invoices": 10, "billed_ore": 500_000, "paid_ore": 300_000, "credited_ore": 10_000,
         "written_off_ore": 0, "outstanding_ore": 190_000, "overdue_ore": 90_000, "overdue_count": 3},
        {"period": "2026-Q3", "invoices": 30, "billed_ore": 313_772_200, "paid_ore": 0, "credited_ore": 0,
         "written_off_ore": 5_000, "outstanding_ore": 313_767_200, "overdue_ore": 0, "overdue_count": 0},
    ]
    totals = {"payments": 1234, "total_ore": 1_000_000, "employer_ore": 600_000, "allocated_ore": 300_000,
              "credit_ore": 50_000, "members_with_credit": 7, "unmatched_ore": 40_000, "unmatched_count": 2,
              "returned_ore": 10_000, "returned_count": 1, "unexplained_ore": 0}
    text = direct_totals_text(periods, totals)
    assert text.startswith("## Direktebetaling")
    assert f"40 fakturaer fra juli 2026 til 3. kvartal 2026: fakturert kr{NBSP}3{NBSP}142{NBSP}722,00" in text
    assert f"**utestående kr{NBSP}3{NBSP}139{NBSP}572,00**, herav forfalt kr{NBSP}900,00 (3 fakturaer)" in text
    assert f"1{NBSP}234 innbetalinger, i alt kr{NBSP}10{NBSP}000,00" in text
    assert f"medlemmenes kreditt kr{NBSP}500,00 (7 medlemmer), uavklart kr{NBSP}400,00 (2)" in text
    assert text.endswith(f"**Uforklart: kr{NBSP}0,00**.")
    assert "Ingen fakturaer ennå." in direct_totals_text([], totals)


def test_direct_payment_figures_are_aggregates_in_norwegian(app_ctx):
    from notebooks.reconciliation import direct_payment_figures
    from tests.test_direct_reconciliation import TODAY, _random_year

    _random_year(random.Random(4))
    shown = direct_payment_figures(TODAY)
    assert {row["periode"] for row in shown["periods"]} == {
        "4. kvartal 2025", "2. kvartal 2026", "januar 2026", "februar 2026", "mars 2026"}
    assert {row["measure"] for row in shown["period_amounts"]} == {"Fakturert", "Betalt", "Utestående"}
    assert {row["measure"] for row in shown["month_amounts"]} == {"Medlemmenes kreditt", "Uavklart", "Returnert"}
    assert [row["month"] for row in shown["months"]] == ["2026-06"]
    assert shown["month_amounts"][0]["måned"] == "juni 2026"
    assert shown["totals"]["unexplained_ore"] == 0 and shown["totals"]["returned_ore"] == 77_700
    # Aggregates only: no member, name or national id in any row.
    keys = {key for rows in shown.values() if isinstance(rows, list) for row in rows for key in row}
    assert not keys & {"member_id", "member_no", "name", "national_id", "kid"}


def test_refunds_functions_write_norwegian(app_ctx, world):
    from notebooks.refunds import run_summary, unit_rows
    from tests.test_refunds import make_policy

    make_policy()
    quarter = Quarter(2026, 1)
    refunds.calculate(quarter, pool_ore=313_772_200)
    text, levels = run_summary(quarter)
    assert text.startswith("## Refusjon for 1. kvartal 2026 (Utkast)")
    assert f"Pott **kr{NBSP}3{NBSP}137{NBSP}722,00**" in text
    assert sum(level["amount_ore"] for level in levels) == 313_772_200
    assert {level["level"] for level in levels} <= {"Landsforening", "Avdeling", "Klubb"}
    [row] = unit_rows([{"code": "AV1", "name": "Avdeling 1", "level": OrgLevel.branch, "amount_ore": 150_000,
                        "previous_ore": 100_000, "change_ore": 50_000}])
    assert row["unit"] == "AV1 Avdeling 1" and row["level"] == "Avdeling"
    assert (row["amount"], row["change"]) == (f"kr{NBSP}1{NBSP}500,00", f"kr{NBSP}500,00")


def test_relative_sqlite_url_resolves_against_the_project_root(tmp_path):
    assert resolve_database_url("sqlite:///instance/medlem.db") == f"sqlite:///{ROOT / 'instance' / 'medlem.db'}"
    for unchanged in ("sqlite:////srv/medlem.db", "sqlite://", "sqlite:///:memory:",
                      "postgresql+psycopg://postgres@127.0.0.1:5432/medlem"):
        assert resolve_database_url(unchanged) == unchanged
    # The app's settings, read from another working directory (as marimo may start a notebook), name the same file.
    env = {**os.environ, "DATABASE_URL": "sqlite:///instance/medlem.db", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", "import config; print(config.Config.SQLALCHEMY_DATABASE_URI)"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == f"sqlite:///{ROOT / 'instance' / 'medlem.db'}", result.stderr


def test_tables_are_norwegian_html_tables():
    from reports.notebook_support import ROWS_AT_MOST, table

    rows = [{"name": "Avdeling <Øst>", "amount": 313_772_200, "month": "2026-08"},
            {"name": "Klubb", "amount": None, "month": "2026-09"}]
    html = table(rows, {"name": ("Enhet", None), "amount": ("Beløp", kr_text), "month": ("Måned", month_text)},
                 label="Per enhet").text
    assert "<caption" in html and "Per enhet: 2 rader" in html
    assert '<th scope="col" style="padding: 3px 8px; text-align: right">Beløp</th>' in html  # numbers right-aligned
    assert f">kr{NBSP}3{NBSP}137{NBSP}722,00</td>" in html and ">august 2026</td>" in html
    assert "Avdeling &lt;Øst&gt;" in html  # names are text, never markup
    assert "<marimo-table" not in html and "rows" not in html
    assert "Ingen rader." in table([], {"name": ("Enhet", None)}).text
    assert "1 rad<" in table(rows[:1], {"name": ("Enhet", None)}).text
    many = table([{"n": number} for number in range(ROWS_AT_MOST + 5)], {"n": ("Nr.", count_text)}).text
    assert f"{count_text(ROWS_AT_MOST + 5)} rader, de første {count_text(ROWS_AT_MOST)} vises" in many
    assert many.count("<tr>") == ROWS_AT_MOST


def test_export_skips_files_that_are_not_notebooks(tmp_path, monkeypatch):
    from reports import notebook_export

    exported = []
    monkeypatch.setattr(notebook_export, "export_offline", lambda notebook, out: exported.append(notebook.name))
    assert notebook_export.main([str(ROOT / "notebooks" / "__init__.py"), str(ROOT / "notebooks" / "refunds.py"),
                                 "-o", str(tmp_path)]) == 0
    assert exported == ["refunds.py"]
    with pytest.raises(SystemExit):
        notebook_export.main([str(ROOT / "notebooks" / "__init__.py"), "-o", str(tmp_path)])
