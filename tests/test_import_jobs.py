"""Imports of large files as background jobs: the office uploads Nets' own sample files and Posten's postcode
register, the request checks the file at once (empty, wrong kind, too large: the field named, nothing stored),
the job imports it with progress and counts, a file the parser refuses fails the job with the parser's message
and writes nothing, the same file twice books no payment twice, and every other role is turned away."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.helpers import login_as
from tests.payment_helpers import (
    SAMPLE_AGREEMENTS,
    SAMPLE_CLAIMS,
    SAMPLE_OCR,
    count,
    make_invoice,
    nothing_saved,
    ocr,
    sample,
)
from tests.test_billing_jobs import OTHER_ROLES, fresh, log_of
from webapp import jobs
from webapp.extensions import db
from webapp.models import AvtaleGiroMandate, Member, Payment, PaymentImport, Postcode
from webapp.models.choices import JobStatus
from webapp.models.outreach import Job, JobFile
from webapp.services import import_jobs
from webapp.services.periods import Month

POSTCODES_UTF8 = "tests/data/postnummerregister-utf8.txt"
POSTCODES_ANSI = "tests/data/postnummerregister-ansi.txt"


def upload(client, url: str, field: str, data: bytes, filename: str = "fil.txt", **form):
    return client.post(url, data={field: (io.BytesIO(data), filename), **form}, content_type="multipart/form-data")


def upload_bank_file(client, data: bytes, filename: str = "ocr.txt"):
    return upload(client, "/imports/payments", "bank_file", data, filename)


def job_of(response) -> Job:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert "/jobs/" in location
    return fresh(int(location.rstrip("/").rsplit("/", 1)[1]))


def job_count() -> int:
    return db.session.scalar(select(func.count(Job.id)))


def postcode_count() -> int:
    return db.session.scalar(select(func.count(Postcode.code)))


@pytest.fixture()
def office(client, world, app_ctx):
    login_as(client, world.logins["office"])
    return client


# ------------------------------------------------------------------ Nets bank files


def test_nets_sample_ocr_file_is_imported_by_a_job_with_progress_and_counts(office):
    job = job_of(upload_bank_file(office, sample(SAMPLE_OCR), "ocr_giro_transactions.txt"))
    assert (job.kind, job.status, job.error) == ("payment_import", JobStatus.done, None)
    assert job.title == "Import av bankfilen ocr_giro_transactions.txt"
    assert (job.done, job.total) == (2, 2) and jobs.percent(job) == 100
    log = log_of(job)
    assert "Leser ocr_giro_transactions.txt (" in log
    assert "Importert 20 betalinger; 20 ikke matchet" in log
    batch = db.session.scalars(select(PaymentImport)).one()
    assert (batch.filename, batch.transaction_count, batch.imported_by) == ("ocr_giro_transactions.txt", 20, "kontor")
    assert count(Payment) == 20
    assert job.result_url == f"/paymentimportview/show/{batch.id}"
    assert office.get(job.result_url).status_code == 200
    kept = jobs.input_file(job.id)
    assert (kept.filename, kept.data) == ("ocr_giro_transactions.txt", sample(SAMPLE_OCR))


def test_an_ocr_file_with_our_kids_is_matched_and_the_counts_say_so(office, world):
    member = db.session.get(Member, world.members["lf1_direct"].id)
    invoice = make_invoice(member.id, member.member_no, Month(2027, 1), 127_800)
    data = ocr([(invoice.kid, 127_800), ("9" * 16, 5_000)])
    job = job_of(upload_bank_file(office, data))
    assert job.status == JobStatus.done
    log = log_of(job)
    assert "Importert 2 betalinger; 1 ikke matchet" in log
    assert "0 matchet mot arbeidsgivermåneder, 1 mot fakturaer" in log


def test_nets_sample_agreements_file_updates_the_mandates_by_a_job(office):
    job = job_of(upload_bank_file(office, sample(SAMPLE_AGREEMENTS), "avtalegiro_agreements.txt"))
    assert job.status == JobStatus.done
    assert "16 AvtaleGiro-avtaler: 16 nye, 0 endret, 0 slettet, 0 uendret" in log_of(job)
    assert "16 avtaler gjelder ingen av våre medlemmer" in log_of(job)
    assert count(AvtaleGiroMandate) == 16 and count(Payment) == 0


def test_a_payment_claims_file_fails_the_job_and_writes_nothing(office):
    job = job_of(upload_bank_file(office, sample(SAMPLE_CLAIMS), "avtalegiro_payment_request.txt"))
    assert job.status == JobStatus.failed
    assert "avtalegiro_payment_request.txt inneholder AvtaleGiro-betalingskrav" in job.error
    assert nothing_saved()


def test_a_file_the_parser_refuses_fails_the_job_with_its_message_and_nothing_is_written(office):
    lines = sample(SAMPLE_OCR).decode("iso-8859-1").splitlines()
    lines[6] = lines[6][:70]  # one transaction record cut short, after four good transactions' worth of lines
    job = job_of(upload_bank_file(office, ("\n".join(lines) + "\n").encode("iso-8859-1"), "kuttet.txt"))
    assert job.status == JobStatus.failed
    assert "Linje 7: en post er 80 tegn lang; denne linjen har 70. Ingenting ble importert." in job.error
    assert nothing_saved()
    # Retried, it fails again the same way: nothing is written by a retry either.
    assert jobs.retry_job(job.id)
    job = fresh(job.id)
    assert (job.status, job.attempts) == (JobStatus.failed, 2) and "Linje 7:" in job.error
    assert nothing_saved()
    page = office.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Linje 7: en post er 80 tegn lang" in page


def test_the_same_file_twice_books_no_payment_twice_and_the_second_job_says_why(office):
    first = job_of(upload_bank_file(office, sample(SAMPLE_OCR), "ocr.txt"))
    assert first.status == JobStatus.done and count(Payment) == 20
    second = job_of(upload_bank_file(office, sample(SAMPLE_OCR), "ocr-igjen.txt"))
    assert second.status == JobStatus.failed
    assert "Filen er importert før (ocr.txt, " in second.error and "av kontor): ingenting ble lagt til." in second.error
    assert count(Payment) == 20 and count(PaymentImport) == 1
    assert jobs.retry_job(second.id)
    assert fresh(second.id).status == JobStatus.failed and count(Payment) == 20


def test_a_retry_after_the_import_went_in_and_the_job_broke_finishes_without_doubling(office, monkeypatch):
    real, calls = import_jobs.set_result, {"n": 0}

    def breaks_once(job_id, url):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the worker was stopped")
        real(job_id, url)

    monkeypatch.setattr(import_jobs, "set_result", breaks_once)
    job = job_of(upload_bank_file(office, sample(SAMPLE_OCR)))
    assert job.status == JobStatus.failed and count(Payment) == 20
    assert jobs.retry_job(job.id)
    job = fresh(job.id)
    assert (job.status, job.attempts) == (JobStatus.done, 2)
    assert "Filen ble importert av et tidligere forsøk på denne jobben." in log_of(job)
    assert count(Payment) == 20 and count(PaymentImport) == 1
    assert job.result_url == f"/paymentimportview/show/{db.session.scalar(select(PaymentImport.id))}"


# ------------------------------------------------------------------ checked in the request: nothing stored


@pytest.mark.parametrize("data,message", [
    (b"", "Fil: filen er tom."),
    (b"\n  \n", "Fil: filen er tom."),
    (b"Postnummer\tPoststed\tKommunenummer\tKommunenavn\tKategori\n", "Fil: x.txt er ikke en bankfil fra Nets"),
    (b"NY0000100000808001700310001020000000000000000000\n", "Fil: x.txt er ikke en bankfil fra Nets"),
    (b"%PDF-1.4 " + b"x" * 200, "Fil: x.txt er ikke en bankfil fra Nets"),
])
def test_a_bank_file_of_the_wrong_kind_is_refused_at_once_naming_the_field(office, data, message):
    response = upload_bank_file(office, data, "x.txt")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'data-field="bank_file"' in text and message in text
    assert job_count() == 0 and count(JobFile) == 0 and nothing_saved()


def test_a_form_without_a_file_is_refused_naming_the_field(office):
    response = office.post("/imports/payments", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'data-field="bank_file"' in response.get_data(as_text=True)
    assert "Fil: velg filen som skal lastes opp." in response.get_data(as_text=True)
    assert job_count() == 0


def test_an_upload_larger_than_the_limit_answers_413_and_stores_nothing(office, app_ctx):
    saved = app_ctx.config["MAX_CONTENT_LENGTH"]
    app_ctx.config["MAX_CONTENT_LENGTH"] = 5_000
    try:
        data = sample(SAMPLE_OCR) * 3  # 6,720 bytes: more than the limit
        assert len(data) > 5_000
        response = upload_bank_file(office, data)
        assert response.status_code == 413
        assert "Filen eller skjemaet er for stort." in response.get_data(as_text=True)
        response = upload(office, "/imports/postcodes", "postcode_file", b"Postnummer\t" * 600)
        assert response.status_code == 413
    finally:
        app_ctx.config["MAX_CONTENT_LENGTH"] = saved
    assert job_count() == 0 and count(JobFile) == 0 and nothing_saved()


# ------------------------------------------------------------------ Posten's postcode register


def test_the_postcode_register_is_imported_by_a_job_and_a_second_import_changes_nothing(office):
    before = postcode_count()
    with open(POSTCODES_UTF8, "rb") as handle:
        data = handle.read()
    job = job_of(upload(office, "/imports/postcodes", "postcode_file", data, "postnummerregister-utf8.txt"))
    assert (job.kind, job.status, job.error) == ("postcode_import", JobStatus.done, None)
    assert job.result_url == "/postcodeview/list/" and (job.done, job.total) == (1, 1)
    lines = len([line for line in data.decode("utf-8").splitlines()[1:] if line.strip()])
    added = postcode_count() - before
    assert added > 0
    assert f"{lines} postnumre i filen: {added} lagt til" in log_of(job)
    assert db.session.get(Postcode, "0150").place == "Oslo"

    with open(POSTCODES_ANSI, "rb") as handle:
        again = job_of(upload(office, "/imports/postcodes", "postcode_file", handle.read(), "ansi.txt"))
    assert again.status == JobStatus.done and "0 lagt til" in log_of(again) and postcode_count() == before + added


def test_a_postcode_file_with_a_bad_line_fails_the_job_with_the_parsers_message_and_writes_nothing(office):
    before = postcode_count()
    data = ("Postnummer\tPoststed\tKommunenummer\tKommunenavn\tKategori\n"
            "0150\tOSLO\t0301\tOSLO\tG\n015X\tOSLO\t0301\tOSLO\tG\n")
    job = job_of(upload(office, "/imports/postcodes", "postcode_file", data.encode(), "feil.txt"))
    assert job.status == JobStatus.failed
    assert "Linje 3: postnummeret må være 4 sifre." in job.error
    assert postcode_count() == before


@pytest.mark.parametrize("data,message", [
    (b"", "Fil: filen er tom."),
    (b"NY000010" + b"0" * 72 + b"\n", "Fil: x.txt er ikke Postens postnummerregister"),
    (b"0150;OSLO;0301;OSLO;G\n", "Fil: x.txt er ikke Postens postnummerregister"),
    (b"Postnummer\tPoststed\tKommunenummer\tKommunenavn\tKategori\n" + b"0" * 2_000_001,
     "Fil: x.txt er større enn 2\u00a0000\u00a0000 byte"),
])
def test_a_postcode_file_of_the_wrong_kind_is_refused_at_once_naming_the_field(office, data, message):
    response = upload(office, "/imports/postcodes", "postcode_file", data, "x.txt")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'data-field="postcode_file"' in text and message in text
    assert job_count() == 0 and count(JobFile) == 0


# ------------------------------------------------------------------ the office's alone


def test_the_office_sees_the_upload_page_with_its_recent_imports(office):
    job = job_of(upload_bank_file(office, sample(SAMPLE_OCR)))
    page = office.get("/imports/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Importer en bankfil fra Nets" in text and "Importer postnummerregisteret" in text
    assert f'data-job="{job.id}"' in text


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_every_role_but_the_office_is_turned_away(client, world, role):
    login_as(client, world.logins[role], role)
    assert client.get("/imports/").status_code == 403
    for url, field in (("/imports/payments", "bank_file"), ("/imports/postcodes", "postcode_file")):
        response = upload(client, url, field, sample(SAMPLE_OCR))
        assert response.status_code == 403, (role, url)
    with client.application.app_context():
        assert job_count() == 0 and nothing_saved()


# ------------------------------------------------------------------ in a real worker


def test_an_upload_answers_with_the_job_page_at_once_and_a_real_worker_imports_it(client, world, clean_app,
                                                                                    tmp_path, monkeypatch):
    """The request stores the upload and queues the job; a Huey consumer (threads, a SQLite queue) reads the input
    file from the database and imports it while the request has long answered."""
    import threading
    import time

    from tests.helpers import huey_consumer
    from webapp.services import payments

    gate, real_import = threading.Event(), payments.import_file

    def gated(*args, **kwargs):
        if not gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        return real_import(*args, **kwargs)

    monkeypatch.setattr(payments, "import_file", gated)
    login_as(client, world.logins["office"])
    with huey_consumer(clean_app, tmp_path / "huey.db"):
        response = upload_bank_file(client, sample(SAMPLE_OCR), "ocr_giro_transactions.txt")
        assert response.status_code == 302
        job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        state = client.get(f"/jobs/{job_id}.json").json
        assert state["status"] in ("queued", "running") and state["percent"] == 0
        gate.set()
        deadline = time.monotonic() + 60
        while state["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
            state = client.get(f"/jobs/{job_id}.json").json
    assert (state["status"], state["percent"]) == ("done", 100), state
    assert any("Importert 20 betalinger; 20 ikke matchet" in line for line in state["log"])
    with clean_app.app_context():
        assert count(Payment) == 20
        db.session.remove()
