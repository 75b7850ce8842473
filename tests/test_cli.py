"""The CLI as the office runs it: exit codes, messages, and jobs that can run twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from tests.factories import add_initial_rate
from webapp.extensions import db
from webapp.models import DeductionBasis, DeductionList, Payment
from webapp.services.kid import kid_for
from webapp.services.payments import build_ocr_file
from webapp.services.periods import Month


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_deductions_generate_twice_says_nothing_to_do(clean_app, world):
    with clean_app.app_context():
        add_initial_rate()
    first = run(clean_app, "deductions", "generate", "2026-03")
    assert first.exit_code == 0 and "bases created" in first.output
    second = run(clean_app, "deductions", "generate", "2026-03")
    assert second.exit_code == 0 and "nothing to do" in second.output


def test_deductions_generate_bad_month_names_the_rule(clean_app):
    result = run(clean_app, "deductions", "generate", "2026-13")
    assert result.exit_code != 0 and "YYYY-MM" in result.output


def test_deductions_generate_without_rate_fails_cleanly(clean_app, world):
    result = run(clean_app, "deductions", "generate", "2026-03")
    assert result.exit_code == 2 and "dues rate" in result.output


def test_payments_import_file_twice(clean_app, portal, tmp_path):
    path = tmp_path / "ocr.txt"
    path.write_bytes(build_ocr_file([(kid_for("94001761", Month(2026, 3)), 12345, dt.date(2026, 3, 20)),
                                     ("99999", 500, dt.date(2026, 3, 20))], "90010741504"))
    first = run(clean_app, "payments", "import", str(path))
    assert first.exit_code == 0 and "1 matched, 1 unmatched" in first.output
    again = run(clean_app, "payments", "import", str(path))
    assert again.exit_code == 0 and "already imported" in again.output
    with clean_app.app_context():
        assert db.session.scalar(select(func.count(Payment.id))) == 2


def test_payments_import_refuses_a_bad_file(clean_app, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("hello")
    result = run(clean_app, "payments", "import", str(path))
    assert result.exit_code == 2 and "Linje 1:" in result.output


def test_seed_plays_the_deduction_cycle(clean_app):
    result = run(clean_app, "seed", "--members", "400", "--employers", "40", "--months", "3", "--quiet")
    assert result.exit_code == 0, result.output
    assert "deduction cycle: 3 months" in result.output
    with clean_app.app_context():
        periods = set(db.session.scalars(select(DeductionBasis.period)))
        assert len(periods) == 3
        newest = max(periods)
        delivered_periods = set(db.session.scalars(select(DeductionList.period)))
        assert newest not in delivered_periods and delivered_periods  # the newest month has no lists yet
        assert db.session.scalar(select(func.count(Payment.id))) > 0
        refused = run(clean_app, "seed", "--members", "10", "--quiet")
        assert refused.exit_code == 2 and "--reset" in refused.output
