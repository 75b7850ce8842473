"""The runs as jobs (webapp/services/runs.py) and the office's Runs page (webapp/views/operations.py).

Jobs run at once in the tests (immediate mode); the mail goes to a real SMTP server on loopback. A run that
breaks half-way (an exception raised in a later batch) is retried by the office and finishes without doubling a
row or a mail.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.factories import add_initial_rate, make_member
from tests.helpers import login_as
from tests.run_data import add_employers
from webapp import jobs
from webapp.extensions import db
from webapp.models import DeductionList, DeductionNotice, DeductionReminder, Member, OrgUnit, OutboxMail
from webapp.models.choices import JobStatus, ListKind, ListStatus
from webapp.models.outreach import Job, JobFile
from webapp.services import deduction_basis, deduction_reminders, notices, retention, runs
from webapp.services.periods import Month

MONTH = Month(2026, 3)


def office_id(app, world) -> int:
    return app.appbuilder.sm.find_user(username=world.logins["office"]).id


def received_by(smtp_server) -> Counter:
    return Counter(address for message in smtp_server.messages for address in message["to"])


def log_of(job_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Job, job_id).log or ""


@pytest.fixture()
def register(app_ctx, world):
    """World's two employers and five more, each with a member on deduction and a contact."""
    add_initial_rate()
    add_employers(5)
    return world


# ------------------------------------------------------------------ the deduction run


def test_the_deduction_run_makes_the_basis_and_sends_each_notice_once(register, smtp_server, app_ctx):
    job = runs.start_deduction_run(MONTH, office_id(app_ctx, register), key=f"deduction_run:{MONTH}")
    assert job.status == JobStatus.done, job.error
    assert (job.done, job.total, job.result_url) == (7, 7, "/deductionmonthview/list/")
    assert job.title == "Trekkgrunnlag og varsler for 2026/03" and job.kind == "deduction_run"
    log = log_of(job.id)
    assert "Lager trekkgrunnlag for 2026/03" in log
    assert "Grunnlag laget for 7 arbeidsgivere" in log
    assert "Varsel sendt til 7 kontakter hos 7 arbeidsgivere" in log
    assert set(received_by(smtp_server).values()) == {1} and len(smtp_server.messages) == 7

    again = runs.start_deduction_run(MONTH, None)
    assert again.status == JobStatus.done
    log = log_of(again.id)
    assert "Grunnlag laget for 0 arbeidsgivere; 7 hadde det fra før" in log
    assert "Varsel sendt til 0 kontakter hos 0 arbeidsgivere" in log
    assert "7 arbeidsgivere hadde fått varselet fra før" in log
    assert len(smtp_server.messages) == 7


def test_a_deduction_run_broken_half_way_and_retried_sends_each_notice_once(register, smtp_server, app_ctx,
                                                                               monkeypatch):
    monkeypatch.setitem(app_ctx.config, "NOTICE_BATCH", 2)
    real_text, calls = notices.notice_text, []

    def breaks_on_the_fifth(basis):
        calls.append(basis.id)
        if len(calls) == 5:
            raise RuntimeError("the template broke")
        return real_text(basis)

    monkeypatch.setattr(notices, "notice_text", breaks_on_the_fifth)
    job = runs.start_deduction_run(MONTH, office_id(app_ctx, register))
    assert job.status == JobStatus.failed and "the template broke" in job.error
    # Two batches went (4 employers); the broken batch's first employer was rolled back with it.
    assert db.session.scalar(select(func.count(DeductionNotice.id))) == 4
    assert len(smtp_server.messages) == 4 and job.done == 4

    monkeypatch.setattr(notices, "notice_text", real_text)
    assert jobs.retry_job(job.id)
    db.session.expire_all()
    retried = db.session.get(Job, job.id)
    assert retried.status == JobStatus.done and retried.attempts == 2 and retried.done == 7
    assert "3 kontakter hos 3 arbeidsgivere" in retried.log
    assert "4 arbeidsgivere hadde fått varselet fra før" in retried.log
    per_contact = Counter(db.session.execute(select(DeductionNotice.basis_id, DeductionNotice.user_id)).all())
    assert len(per_contact) == 7 and set(per_contact.values()) == {1}
    assert db.session.scalar(select(func.count(OutboxMail.id))) == 7
    assert len(received_by(smtp_server)) == 7 and set(received_by(smtp_server).values()) == {1}


def test_counts_in_the_log_are_grouped_as_norwegians_read_them(app_ctx):
    with force_locale("nb"):
        assert runs._n(1234) == "1\xa0234"


# ------------------------------------------------------------------ employer reminders


@pytest.fixture()
def without_lists(register, app_ctx):
    """March bases for all seven employers; E1 delivered its list."""
    deduction_basis.generate(MONTH)
    now = dt.datetime.now()
    db.session.add(DeductionList(employer_id=register.employers["E1"].id, period=str(MONTH), kind=ListKind.main,
                                 status=ListStatus.delivered, created_at=now, delivered_at=now))
    db.session.commit()
    return register


def test_the_reminder_job_reminds_employers_without_a_list(without_lists, smtp_server, app_ctx):
    job = runs.start_employer_reminders(MONTH, "last_day", office_id(app_ctx, without_lists))
    assert job.status == JobStatus.done, job.error
    assert (job.done, job.total) == (6, 6)
    assert job.title == "Påminnelser til arbeidsgivere uten trekkliste for 2026/03 (siste dag)"
    assert "Påminnelse sendt til 6 kontakter hos 6 arbeidsgivere" in log_of(job.id)
    assert "20000001@test.invalid" not in received_by(smtp_server)  # E1 delivered
    assert len(smtp_server.messages) == 6
    again = runs.start_employer_reminders(MONTH, "last_day", None)
    assert "6 arbeidsgivere hadde fått påminnelsen fra før" in log_of(again.id)
    assert len(smtp_server.messages) == 6
    with pytest.raises(ValueError):
        runs.start_employer_reminders(MONTH, "first", None)


def test_a_reminder_run_broken_half_way_and_retried_reminds_each_once(without_lists, smtp_server, app_ctx,
                                                                        monkeypatch):
    monkeypatch.setitem(app_ctx.config, "NOTICE_BATCH", 2)
    real_text, calls = deduction_reminders.reminder_text, []

    def breaks_on_the_third(*args):
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("the template broke")
        return real_text(*args)

    monkeypatch.setattr(deduction_reminders, "reminder_text", breaks_on_the_third)
    job = runs.start_employer_reminders(MONTH, "20th", None)
    assert job.status == JobStatus.failed
    assert db.session.scalar(select(func.count(DeductionReminder.id))) == 2 and len(smtp_server.messages) == 2
    monkeypatch.setattr(deduction_reminders, "reminder_text", real_text)
    assert jobs.retry_job(job.id)
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == JobStatus.done
    assert db.session.scalar(select(func.count(DeductionReminder.id))) == 6
    assert len(received_by(smtp_server)) == 6 and set(received_by(smtp_server).values()) == {1}


# ------------------------------------------------------------------ the privacy purge


@pytest.fixture()
def purgeable(app_ctx, world):
    """A member who left in 2015, a job file of ten days ago and one of today."""
    unit = db.session.scalars(select(OrgUnit).where(OrgUnit.code == "AV1")).one()
    leaver = make_member(unit, "Gunnhild", "Gammelslutt")
    leaver.left_on = dt.date(2015, 6, 30)
    job = Job(kind="report", title="Rapport", status=JobStatus.done, params="{}", done=0, attempts=1,
              created_at=dt.datetime.now())
    db.session.add(job)
    db.session.flush()
    for age in (10, 0):
        db.session.add(JobFile(job_id=job.id, purpose="result", filename=f"r{age}.pdf", content_type="application/pdf",
                               size=3, data=b"pdf", created_at=dt.datetime.now() - dt.timedelta(days=age)))
    db.session.commit()
    return {"leaver": leaver.id, "national_id": leaver.national_id}


def test_a_dry_run_purge_job_logs_the_counts_and_mails_the_office_no_names(purgeable, smtp_server, app_ctx):
    job = runs.start_purge(True, None, report_to_office=True)
    assert job.status == JobStatus.done, job.error
    assert job.title == "Personvernsletting (prøvekjøring)"
    log = log_of(job.id)
    assert re.search(r"Medlemmer som sluttet før \d\d\.\d\d\.\d{4}: ville anonymisert 1", log)
    assert re.search(r"Jobbfiler eldre enn \d\d\.\d\d\.\d{4}: ville slettet 1", log)
    assert "Sammendrag sendt til kontoret på e-post" in log
    [message] = smtp_server.messages
    assert message["to"] == [app_ctx.config["OFFICE_EMAIL"]]
    assert message["message"]["Subject"] == "Personvernsletting (prøvekjøring): 1 medlemmer"
    body = smtp_server.bodies()[0]
    assert "ville anonymisert 1" in body and "ville slettet 1" in body
    for secret in ("Gunnhild", "Gammelslutt", purgeable["national_id"]):
        assert secret not in body and secret not in log
    # Nothing changed.
    assert db.session.scalar(select(func.count(JobFile.id))) == 2
    assert db.session.get(Member, purgeable["leaver"]).anonymised_at is None


def test_the_real_purge_job_deletes_old_job_files_and_a_retry_after_a_failure_finishes(purgeable, smtp_server,
                                                                                        app_ctx, monkeypatch):
    def broken(ids, today):
        raise RuntimeError("the disk is full")

    real = retention._anonymise
    monkeypatch.setattr(retention, "_anonymise", broken)
    job = runs.start_purge(False, None)
    assert job.status == JobStatus.failed
    assert db.session.scalar(select(func.count(JobFile.id))) == 2  # one transaction: nothing was deleted
    monkeypatch.setattr(retention, "_anonymise", real)
    assert jobs.retry_job(job.id)
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == JobStatus.done
    assert [f.filename for f in db.session.scalars(select(JobFile))] == ["r0.pdf"]
    assert db.session.get(Member, purgeable["leaver"]).anonymised_at is not None
    log = log_of(job.id)
    assert "anonymisert 1" in log and "slettet 1" in log
    assert smtp_server.messages == []  # no report asked for


# ------------------------------------------------------------------ the Runs page


def errors_of(response) -> dict[str, str]:
    text = response.get_data(as_text=True)
    return dict(re.findall(r'data-field="([a-z_]+)">([^<]*)<', text))


def job_count() -> int:
    count = db.session.scalar(select(func.count(Job.id)))
    db.session.commit()
    return count


def test_the_office_starts_each_run_from_the_page(client, register, app_ctx):
    login_as(client, register.logins["office"], "office")
    page = client.get("/operations/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'value="{Month.of(dt.date.today()).next}"' in text  # the deduction run's month: next month
    for form in ("deduction-run-form", "employer-reminders-form", "privacy-purge-form"):
        assert f'id="{form}"' in text
    response = client.post("/operations/deductions", data={"deduction_month": "2026-03"})
    assert response.status_code == 302
    job = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")
    assert (job.kind, job.key, job.status) == ("deduction_run", "deduction_run:2026-03", JobStatus.done)
    response = client.post("/operations/reminders", data={"reminder_month": "2026-03", "which": "20th"})
    assert response.status_code == 302
    response = client.post("/operations/purge", data={"mode": "dry_run"})
    assert response.status_code == 302
    db.session.expire_all()
    kinds = [j.kind for j in db.session.scalars(select(Job).order_by(Job.id))]
    assert kinds == ["deduction_run", "employer_reminders", "privacy_purge"]
    assert "Personvernsletting (prøvekjøring)" in client.get("/operations/").get_data(as_text=True)  # latest runs


@pytest.mark.parametrize("url,data,field,message", [
    ("/operations/deductions", {"deduction_month": "2026-13"}, "deduction_month",
     "Måned: «2026-13» er ikke en måned på formen ÅÅÅÅ-MM"),
    ("/operations/deductions", {"deduction_month": "abc"}, "deduction_month", "Måned: «abc»"),
    ("/operations/deductions", {}, "deduction_month", "Måned: «»"),
    ("/operations/reminders", {"reminder_month": "2026-3", "which": "20th"}, "reminder_month", "Måned:"),
    ("/operations/reminders", {"reminder_month": "2026-03", "which": "21st"}, "which", "Påminnelse: velg"),
    ("/operations/purge", {"mode": "everything"}, "mode", "Type kjøring: velg"),
    ("/operations/purge", {"mode": "real"}, "confirm", "Bekreftelse: skriv SLETT"),
    ("/operations/purge", {"mode": "real", "confirm": "slett"}, "confirm", "ingenting ble slettet"),
])
def test_bad_input_names_the_field_and_starts_nothing(client, world, app_ctx, url, data, field, message):
    login_as(client, world.logins["office"], "office")
    response = client.post(url, data=data)
    assert response.status_code == 422
    errors = errors_of(response)
    assert list(errors) == [field] and message in errors[field].replace("&#39;", "'"), errors
    assert job_count() == 0


def test_the_real_purge_starts_with_the_confirmation(client, world, app_ctx):
    login_as(client, world.logins["office"], "office")
    response = client.post("/operations/purge", data={"mode": "real", "confirm": " SLETT ",
                                                     "report_to_office": "on"})
    assert response.status_code == 302
    job = db.session.scalars(select(Job)).one()
    assert job.title == "Personvernsletting" and '"dry_run": false' in job.params
    assert '"report_to_office": true' in job.params


@pytest.mark.parametrize("role", ["leader", "treasurer", "member_data_admin", "workplace_trustee",
                                  "deduction_contact", "member", "analyst"])
def test_only_the_office_reaches_the_runs_page(client, world, app_ctx, role):
    login_as(client, world.logins[role], role)
    assert client.get("/operations/").status_code == 403
    for url, data in (("/operations/deductions", {"deduction_month": "2026-03"}),
                      ("/operations/reminders", {"reminder_month": "2026-03", "which": "20th"}),
                      ("/operations/purge", {"mode": "real", "confirm": "SLETT"})):
        assert client.post(url, data=data).status_code == 403
    assert job_count() == 0
    assert 'href="/operations/"' not in client.get("/").get_data(as_text=True)


def test_without_login_the_page_asks_for_one(client, clean_app):
    response = client.get("/operations/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert client.post("/operations/purge", data={"mode": "dry_run"}).status_code == 302
    with clean_app.app_context():
        assert job_count() == 0
