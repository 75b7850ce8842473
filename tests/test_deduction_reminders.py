"""Reminders to employers without a delivered deduction list: who gets one, the text, once per employer and kind."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.concurrency import fire_together, postgres_only
from tests.factories import add_initial_rate
from tests.run_data import add_employers
from webapp.extensions import db
from webapp.models import DeductionList, DeductionReminder, OutboxMail
from webapp.models.choices import ListKind, ListStatus
from webapp.services import deduction_basis, deduction_reminders
from webapp.services.periods import Month

MONTH = Month(2026, 3)


@pytest.fixture()
def month_with_bases(app_ctx, world):
    """World's two employers and four more, all with a basis for March; E1 and one more delivered their list,
    another has only a draft."""
    add_initial_rate()
    extra = add_employers(4)
    deduction_basis.generate(MONTH)
    now = dt.datetime.now()
    for employer_id in (world.employers["E1"].id, extra[0]):
        db.session.add(DeductionList(employer_id=employer_id, period=str(MONTH), kind=ListKind.main,
                                     status=ListStatus.delivered, created_at=now, delivered_at=now))
    db.session.add(DeductionList(employer_id=extra[1], period=str(MONTH), kind=ListKind.main,
                                 status=ListStatus.draft, created_at=now))
    # A delivered list of another month does not count for March.
    db.session.add(DeductionList(employer_id=extra[2], period=str(MONTH.previous), kind=ListKind.main,
                                 status=ListStatus.delivered, created_at=now, delivered_at=now))
    db.session.commit()
    return {"e2": world.employers["E2"].id, "delivered": [world.employers["E1"].id, extra[0]],
            "waiting": sorted([world.employers["E2"].id, *extra[1:]])}


def test_employers_without_a_delivered_list(month_with_bases):
    assert deduction_reminders.employers_without_list(MONTH) == month_with_bases["waiting"]
    assert deduction_reminders.employers_without_list(MONTH.next) == []  # no basis, no reminder


def test_reminders_reach_the_contacts_once_per_kind(month_with_bases, smtp_server):
    first = deduction_reminders.remind(MONTH, "20th", batch_size=2)
    assert (first.employers, first.emails, first.already_reminded, first.waiting) == (4, 4, 0, 0)
    assert len(smtp_server.messages) == 4
    to_e2 = [m for m in smtp_server.messages if m["to"] == ["20000002@test.invalid"]]
    assert len(to_e2) == 1
    message = to_e2[0]["message"]
    assert message["Subject"] == "Påminnelse: trekkliste 2026/03 – Virksomhet E2"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Vi har ennå ikke mottatt trekklisten for Virksomhet E2 for perioden 03/2026." in body
    assert "http://127.0.0.1:5000/portal/" in body
    assert "andre påminnelse" not in body

    again = deduction_reminders.remind(MONTH, "20th")
    assert (again.employers, again.emails, again.already_reminded) == (0, 0, 4)
    assert len(smtp_server.messages) == 4

    last = deduction_reminders.remind(MONTH, "last_day")
    assert (last.employers, last.emails) == (4, 4)
    assert len(smtp_server.messages) == 8
    assert "andre påminnelse" in smtp_server.bodies()[-1]
    kinds = db.session.execute(select(DeductionReminder.kind, func.count()).group_by(DeductionReminder.kind)).all()
    assert dict(kinds) == {"20th": 4, "last_day": 4}


def test_an_unknown_kind_is_refused(month_with_bases):
    with pytest.raises(ValueError, match="which"):
        deduction_reminders.remind(MONTH, "21st")


def test_cli_reminds_and_refuses_a_bad_month(month_with_bases, app_ctx):
    runner = CliRunner()
    from webapp.cli import deductions_group

    result = runner.invoke(deductions_group, ["remind", "2026-03", "--which", "20th"], obj=_script_info(app_ctx))
    assert result.exit_code == 0, result.output
    assert "4 reminders sent to 4 employers" in result.output
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 4
    bad = runner.invoke(deductions_group, ["remind", "2026-13", "--which", "20th"], obj=_script_info(app_ctx))
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    wrong_kind = runner.invoke(deductions_group, ["remind", "2026-03", "--which", "first"], obj=_script_info(app_ctx))
    assert wrong_kind.exit_code == 2 and "--which" in wrong_kind.output


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


@postgres_only
def test_two_runs_at_the_same_moment_remind_once(clean_app, world):
    with clean_app.app_context():
        add_initial_rate()
        add_employers(6)
        deduction_basis.generate(MONTH)
        db.session.remove()

    def run():
        with clean_app.app_context():
            try:
                return deduction_reminders.remind(MONTH, "20th", batch_size=3).employers
            finally:
                db.session.remove()

    counts = fire_together([run, run])
    assert sum(counts) == 8
    with clean_app.app_context():
        assert db.session.scalar(select(func.count(DeductionReminder.id))) == 8
        assert db.session.scalar(select(func.count(OutboxMail.id))) == 8
