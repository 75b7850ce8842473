"""Invoice and reminder runs as background jobs: the invoices made and mailed to a real SMTP server, the progress
batch by batch, the print-ready PDF as the job's result file, a retry after a failure half-way that sends no
invoice twice, the office's form (bad input named, nothing started) and every other role turned away."""

from __future__ import annotations

import datetime as dt

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from tests.billing_helpers import add_direct_rates, direct_member
from tests.factories import add_initial_rate
from tests.helpers import login_as
from tests.test_invoice_mail import page_texts, pdf_text
from webapp import jobs
from webapp.extensions import db
from webapp.models import Invoice
from webapp.models.choices import InvoiceDelivery, JobStatus, PaymentMethod
from webapp.models.outreach import Job
from webapp.services import billing_jobs, invoice_documents, invoices
from webapp.services.periods import Quarter

Q1 = Quarter(2027, 1)
Q3_2026 = Quarter(2026, 3)
OTHER_ROLES = ("leader", "treasurer", "member_data_admin", "workplace_trustee", "deduction_contact", "member",
               "analyst")


def office_id(world) -> int:
    return db.session.scalar(select(User.id).where(User.username == world.logins["office"]))


def fresh(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def log_of(job: Job) -> str:
    return "\n".join(jobs.log_lines(job))


def invoice_count(*conditions) -> int:
    return db.session.scalar(select(func.count(Invoice.id)).where(Invoice.method == PaymentMethod.invoice,
                                                                  *conditions))


@pytest.fixture()
def payers(app_ctx, world, tmp_path):
    """Rates and the world's five direct payers with e-mail, and two without (Per Papir, Pia Post); nothing billed.
    The print directory is the test's own."""
    add_initial_rate()
    add_direct_rates()
    saved = app_ctx.config["INVOICE_PRINT_DIR"]
    app_ctx.config["INVOICE_PRINT_DIR"] = str(tmp_path / "print")
    direct_member(world, "Per", "Papir", email=None, address="Postveien 2", postcode="5003", city="Bergen")
    direct_member(world, "Pia", "Post", email=None)
    db.session.commit()
    yield
    app_ctx.config["INVOICE_PRINT_DIR"] = saved


def test_the_invoice_run_makes_and_sends_the_invoices_with_progress_and_the_print_file(payers, world, smtp_server):
    job = billing_jobs.start_invoice_run(Q1, office_id(world))
    job = fresh(job.id)
    assert (job.status, job.error) == (JobStatus.done, None)
    assert invoice_count() == 7 and invoice_count(Invoice.sent_at.is_(None)) == 0
    assert (job.done, job.total) == (7, 7) and jobs.percent(job) == 100
    assert len(smtp_server.messages) == 5
    assert len({m["to"][0] for m in smtp_server.messages}) == 5
    log = log_of(job)
    assert "Lager fakturaene for 1. kvartal 2027" in log
    assert "7 fakturaer og AvtaleGiro-krav laget for 7 medlemmer" in log
    assert "5 fakturaer sendt med e-post, 2 til utskrift" in log
    assert job.result_url == "/invoiceview/list/"
    [print_file] = jobs.result_files(job.id)
    assert (print_file.filename, print_file.content_type) == ("fakturaer-2027-Q1-utskrift.pdf", "application/pdf")
    data = db.session.get(type(print_file), print_file.id).data
    pages = page_texts(data)
    assert len(pages) == 2
    assert "Per Papir" in pdf_text(data) and "Postveien 2" in pdf_text(data) and "Pia Post" in pdf_text(data)
    paper = db.session.scalars(select(Invoice).where(Invoice.delivery == InvoiceDelivery.print)).all()
    assert all(invoice.kid in pdf_text(data) for invoice in paper) and len(paper) == 2

    again = fresh(billing_jobs.start_invoice_run(Q1, office_id(world)).id)
    assert again.status == JobStatus.done and len(smtp_server.messages) == 5
    assert "7 fakturaer var sendt fra før" in log_of(again) and jobs.result_files(again.id) == []
    assert invoice_count() == 7


def test_the_sending_reports_progress_after_each_batch(payers, world, smtp_server, monkeypatch):
    monkeypatch.setattr(invoice_documents, "BATCH", 2)
    reported = []
    real = billing_jobs.report_progress

    def recording(job_id, done, total=None, line=None):
        reported.append((done, total))
        real(job_id, done, total, line)

    monkeypatch.setattr(billing_jobs, "report_progress", recording)
    job = fresh(billing_jobs.start_invoice_run(Q1, office_id(world)).id)
    assert job.status == JobStatus.done
    counted = [(done, total) for done, total in reported if total is not None]
    assert {total for _done, total in counted} == {7}
    dones = [done for done, _total in counted]
    assert dones == sorted(dones) and dones[-1] == 7
    assert len(set(dones)) >= 4  # four batches of at most two invoices (the last two: the print file)


def test_a_retry_after_a_failure_half_way_sends_no_invoice_twice(payers, world, smtp_server, monkeypatch):
    monkeypatch.setattr(invoice_documents, "BATCH", 2)
    real_message, calls = invoice_documents._message, {"n": 0}

    def breaks_on_the_fourth(*args):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("the mail could not be made")
        return real_message(*args)

    monkeypatch.setattr(invoice_documents, "_message", breaks_on_the_fourth)
    job = fresh(billing_jobs.start_invoice_run(Q1, office_id(world)).id)
    assert job.status == JobStatus.failed and "the mail could not be made" in job.error
    # The three mails claimed before the failure went (the broken batch's one too); the fourth stays unclaimed.
    assert len(smtp_server.messages) == 3
    assert invoice_count(Invoice.sent_at.is_not(None)) == 3
    assert 0 < job.done < 7

    assert jobs.retry_job(job.id)
    job = fresh(job.id)
    assert (job.status, job.attempts) == (JobStatus.done, 2)
    addresses = [m["to"][0] for m in smtp_server.messages]
    assert len(addresses) == 5 and len(set(addresses)) == 5
    assert invoice_count(Invoice.sent_at.is_(None)) == 0
    assert invoice_count() == 7  # generate ran again and made nothing twice
    assert "3 fakturaer var sendt fra før" in log_of(job)
    [print_file] = jobs.result_files(job.id)
    assert len(page_texts(db.session.get(type(print_file), print_file.id).data)) == 2


def test_a_retry_after_the_print_went_in_and_the_job_broke_still_keeps_the_print_file(payers, world, smtp_server,
                                                                                        monkeypatch):
    real, calls = billing_jobs.add_file, {"n": 0}

    def breaks_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the worker was stopped")
        return real(*args, **kwargs)

    monkeypatch.setattr(billing_jobs, "add_file", breaks_once)
    job = fresh(billing_jobs.start_invoice_run(Q1, office_id(world)).id)
    assert job.status == JobStatus.failed and jobs.result_files(job.id) == []
    assert invoice_count(Invoice.sent_at.is_(None)) == 0 and len(smtp_server.messages) == 5
    assert jobs.retry_job(job.id)
    job = fresh(job.id)
    assert job.status == JobStatus.done and len(smtp_server.messages) == 5
    [print_file] = jobs.result_files(job.id)
    assert print_file.filename == "fakturaer-2027-Q1-utskrift.pdf"
    assert "Per Papir" in pdf_text(db.session.get(type(print_file), print_file.id).data)
    # A later run of its own prints nothing and keeps no file of the earlier job's.
    later = fresh(billing_jobs.start_invoice_run(Q1, office_id(world)).id)
    assert later.status == JobStatus.done and jobs.result_files(later.id) == []


@pytest.fixture()
def sent_q3(app_ctx, world, tmp_path, smtp_server):
    """2026-Q3 billed and sent in June 2026 (due 15 July 2026): the five with e-mail and Per Papir on paper."""
    add_initial_rate()
    add_direct_rates()
    saved = app_ctx.config["INVOICE_PRINT_DIR"]
    app_ctx.config["INVOICE_PRINT_DIR"] = str(tmp_path / "print")
    direct_member(world, "Per", "Papir", email=None)
    db.session.commit()
    invoices.generate(Q3_2026, today=dt.date(2026, 6, 10))
    invoice_documents.send(Q3_2026, dt.date(2026, 6, 10))
    smtp_server.messages.clear()
    yield smtp_server
    app_ctx.config["INVOICE_PRINT_DIR"] = saved


def test_the_reminder_run_sends_each_reminder_once_with_the_print_file(sent_q3, world):
    day = dt.date(2026, 7, 29)
    job = fresh(billing_jobs.start_reminder_run(day, office_id(world)).id)
    assert (job.status, job.error) == (JobStatus.done, None)
    assert (job.done, job.total) == (6, 6)
    assert len(sent_q3.messages) == 5
    assert str(sent_q3.messages[0]["message"]["subject"]).startswith("Påminnelse: ubetalt medlemskontingent")
    assert "6 første og 0 andre purringer: 5 med e-post, 1 til utskrift" in log_of(job)
    assert job.title == "Purringer på ubetalte fakturaer, purredag 29.07.2026"
    [print_file] = jobs.result_files(job.id)
    assert print_file.filename == "purringer-2026-07-29-utskrift.pdf"
    text = pdf_text(db.session.get(type(print_file), print_file.id).data)
    assert "Per Papir" in text and "Påminnelse: faktura" in text
    assert job.result_url == "/invoiceview/list/"

    again = fresh(billing_jobs.start_reminder_run(day, office_id(world)).id)
    assert again.status == JobStatus.done and len(sent_q3.messages) == 5
    assert "0 første og 0 andre purringer" in log_of(again)


def test_a_reminder_run_for_a_day_after_today_is_refused(app_ctx, world):
    with pytest.raises(ValueError):
        billing_jobs.start_reminder_run(dt.date.today() + dt.timedelta(days=1), office_id(world))
    assert db.session.scalar(select(func.count(Job.id))) == 0


# ------------------------------------------------------------------ the office's form


def test_the_office_starts_an_invoice_run_and_lands_on_the_job_page(client, world, payers, smtp_server):
    login_as(client, world.logins["office"])
    page = client.get("/invoiceruns/")
    assert page.status_code == 200 and "Fakturakjøring" in page.get_data(as_text=True)
    response = client.post("/invoiceruns/invoices", data={"period": "2027-q1"})
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert response.headers["Location"].endswith(f"/jobs/{job_id}")
    job = fresh(job_id)
    assert (job.kind, job.status, job.key) == ("invoice_run", JobStatus.done, "invoice_run:2027-Q1")
    assert job.title == "Fakturaer for 1. kvartal 2027: lag og send"
    assert len(smtp_server.messages) == 5
    shown = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "fakturaer-2027-Q1-utskrift.pdf" in shown
    [print_file] = jobs.result_files(job_id)
    download = client.get(f"/jobs/{job_id}/files/{print_file.id}")
    assert download.status_code == 200 and "Per Papir" in pdf_text(download.data)
    assert client.get("/invoiceruns/").get_data(as_text=True).count(f'data-job="{job_id}"') == 1

    response = client.post("/invoiceruns/reminders", data={"day": dt.date.today().isoformat()})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]


def test_the_runs_page_holds_the_invoice_run_and_upload_forms(client, world):
    login_as(client, world.logins["office"])
    text = client.get("/operations/").get_data(as_text=True)
    for expected in ('action="/invoiceruns/invoices"', 'action="/invoiceruns/reminders"', 'action="/imports/payments"',
                     'action="/imports/postcodes"', "Fakturakjøring", "Purrekjøring", "Importer en bankfil fra Nets",
                     "Importer postnummerregisteret"):
        assert expected in text, expected


@pytest.mark.parametrize("url,data,field,message", [
    ("/invoiceruns/invoices", {"period": "2027-Q5"}, "period", "Periode: «2027-Q5» er ikke et kvartal"),
    ("/invoiceruns/invoices", {"period": ""}, "period", "Periode: «» er ikke et kvartal"),
    ("/invoiceruns/invoices", {"period": "1850-Q1"}, "period", "Periode: «1850-Q1»"),
    ("/invoiceruns/reminders", {"day": "2099-01-01"}, "day", "Dag: skriv en dato"),
    ("/invoiceruns/reminders", {"day": "31.02.2026"}, "day", "Dag: skriv en dato"),
])
def test_bad_input_is_named_and_starts_nothing(client, world, url, data, field, message):
    login_as(client, world.logins["office"])
    response = client.post(url, data=data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f'data-field="{field}"' in text and message in text
    with client.application.app_context():
        assert db.session.scalar(select(func.count(Job.id))) == 0


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_role_but_the_office_is_turned_away(client, world, role):
    login_as(client, world.logins[role], role)
    assert client.get("/invoiceruns/").status_code == 403
    for url, data in (("/invoiceruns/invoices", {"period": "2027-Q1"}),
                      ("/invoiceruns/reminders", {"day": "2026-07-29"})):
        response = client.post(url, data=data)
        assert response.status_code == 403, (role, url)
    with client.application.app_context():
        assert db.session.scalar(select(func.count(Job.id))) == 0
