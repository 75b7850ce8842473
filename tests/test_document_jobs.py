"""Refund documents, refund calculations and membership reports as background jobs (reports/document_jobs.py and
webapp/services/document_jobs.py): the routes answer at once (a kept PDF, or the job's page), access is checked in
the request, one job per document at a time, and a retry never doubles a kept document or a sent report."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests
from sqlalchemy import func, select, update

from reports import document_jobs
from tests.concurrency import browser_session, fire_together, postgres_only
from tests.document_helpers import get_document, job_of
from tests.helpers import api_token, huey_consumer, login_as
from tests.test_refunds import Q1, make_policy, pdf_text
from webapp import jobs
from webapp.extensions import db
from webapp.models import RefundDocument, RefundRun, RefundUnit, ReportDispatch
from webapp.models.choices import JobStatus, RefundStatus
from webapp.models.outreach import Job, JobFile
from webapp.services import refunds
from webapp.services.document_jobs import CALCULATION_KIND, start_refund_calculation
from webapp.services.periods import Quarter

Q2 = Quarter(2026, 2)
DAY = "2026-03-31"


@pytest.fixture()
def approved_world(world, clean_app):
    """The test world with 2026-Q1 approved (through the service: no document kept yet) and 2026-Q2 a draft; the
    refund units' ids by (quarter, code)."""
    with clean_app.app_context():
        make_policy()
        refunds.calculate(Q1, pool_ore=1000_00)
        refunds.approve(Q1)
        refunds.calculate(Q2, pool_ore=2000_00)
        ids = {(quarter, code): unit_id for quarter, code, unit_id in db.session.execute(
            select(RefundRun.quarter, RefundUnit.code, RefundUnit.id).join(RefundRun, RefundRun.id == RefundUnit.run_id)
        ).all()}
        db.session.remove()
    return ids


def job_count(dbs) -> int:
    dbs.expire_all()
    return dbs.scalar(select(func.count(Job.id)))


def documents_of(dbs) -> list[tuple]:
    dbs.expire_all()
    return sorted(dbs.execute(select(RefundDocument.refund_unit_id, RefundDocument.kind, RefundDocument.locale)).all())


def user_id(dbs, username: str) -> int:
    from flask_appbuilder.security.sqla.models import User

    return dbs.scalar(select(User.id).where(User.username == username))


# ------------------------------------------------------------------ one unit's list


def test_the_list_is_rendered_by_a_job_the_first_time_and_answered_kept_after(client, world, approved_world, dbs):
    unit_id = approved_world["2026-Q1", "AV1"]
    url = f"/refunds/{unit_id}/list.pdf"
    login_as(client, world.logins["treasurer"], "treasurer")
    first = client.get(url)
    assert first.status_code == 303 and re.fullmatch(r"/jobs/\d+", first.headers["Location"])
    state = job_of(client, first)
    assert state["status"] == "done" and state["result_url"] == url and state["done"] == state["total"] == 3
    log = "\n".join(state["log"])
    assert re.search(r"Hentet \d+ medlemmer", log) and "Dokumentet er klart." in log
    job = dbs.get(Job, state["id"])
    assert job.key == f"refund_list:{unit_id}:nb" and job.created_by_id == user_id(dbs, world.logins["treasurer"])
    assert json.loads(job.params) == {"refund_unit_id": unit_id, "kind": "list", "locale": "nb"}
    assert documents_of(dbs) == [(unit_id, "list", "nb")]

    kept = client.get(url)  # kept now: the PDF at once, no second job
    assert kept.status_code == 200 and kept.mimetype == "application/pdf"
    text = pdf_text(kept.data)
    assert "Refusjon liste 1. kvartal 2026" in text and "Avdeling Øst" in text
    assert job_count(dbs) == 1
    # The job page's result link is the list route itself.
    assert f'href="{url}"' in client.get(first.headers["Location"]).get_data(as_text=True)


def test_the_job_renders_in_the_language_that_was_asked(client, world, approved_world, dbs):
    unit_id = approved_world["2026-Q1", "AV1"]
    login_as(client, world.logins["treasurer"], "treasurer")
    client.get("/lang/en")
    response = get_document(client, f"/refunds/{unit_id}/list.pdf")
    assert "Refund list Q1 2026" in pdf_text(response.data)
    assert documents_of(dbs) == [(unit_id, "list", "en")]
    assert dbs.scalars(select(Job.key)).one() == f"refund_list:{unit_id}:en"


def test_an_officer_outside_the_subtree_gets_404_and_never_a_job(client, world, approved_world, dbs):
    login_as(client, world.logins["leader"], "leader")  # AV1's leader
    for code in ("AV2", "LF1", "LF2"):
        for kind in ("list", "letter"):
            assert client.get(f"/refunds/{approved_world['2026-Q1', code]}/{kind}.pdf").status_code == 404
    assert client.get(f"/refunds/{approved_world['2026-Q2', 'AV1']}/list.pdf").status_code == 404  # a draft
    headers = api_token(client, world.logins["leader"])
    assert client.get(f"/api/v1/refund/{approved_world['2026-Q1', 'AV2']}/list", headers=headers).status_code == 404
    assert job_count(dbs) == 0 and documents_of(dbs) == []


def test_a_job_is_not_visible_to_another_non_office_user(client, world, approved_world, dbs):
    unit_id = approved_world["2026-Q1", "AV1"]
    url = f"/refunds/{unit_id}/list.pdf"
    login_as(client, world.logins["treasurer"], "treasurer")
    job_page = client.get(url).headers["Location"]
    client.get("/logout/")
    login_as(client, world.logins["leader"], "leader")  # same unit, another user
    assert client.get(job_page).status_code == 404 and client.get(job_page + ".json").status_code == 404
    assert job_page not in client.get("/jobs/").get_data(as_text=True)
    # The document itself is reached again through the scoped route: the leader may have it.
    assert client.get(url).status_code == 200
    client.get("/logout/")
    login_as(client, world.logins["office"], "office")
    assert client.get(job_page + ".json").json["status"] == "done"  # the office sees every job


def test_a_download_joined_to_another_users_job_waits_without_seeing_it(client, world, approved_world, dbs):
    """While the treasurer's job renders the list, the leader's download joins it: a page that reloads, and the
    API's 202 without the job's id; no second job."""
    unit_id = approved_world["2026-Q1", "AV1"]
    treasurer = user_id(dbs, world.logins["treasurer"])
    running = Job(kind=document_jobs.DOCUMENT_KIND, title="x", status=JobStatus.running, params="{}", done=1,
                  created_by_id=treasurer, created_at=jobs._now(), attempts=1, key=f"refund_list:{unit_id}:nb")
    dbs.add(running)
    dbs.commit()
    login_as(client, world.logins["leader"], "leader")
    page = client.get(f"/refunds/{unit_id}/list.pdf")
    assert page.status_code == 202 and page.headers["Refresh"].endswith(f"/refunds/{unit_id}/list.pdf")
    html = page.get_data(as_text=True)
    assert f"/jobs/{running.id}" not in html and "Dokumentet lages" in html
    api = client.get(f"/api/v1/refund/{unit_id}/list", headers=api_token(client, world.logins["leader"]))
    assert api.status_code == 202 and api.json["job_id"] is None and api.json["status_url"] is None
    assert api.json["result_url"] == f"/api/v1/refund/{unit_id}/list"
    assert job_count(dbs) == 1


def test_the_api_answers_202_with_the_job_then_the_pdf(client, world, approved_world, dbs):
    unit_id = approved_world["2026-Q1", "KL1"]
    headers = api_token(client, world.logins["treasurer"])
    for kind, title in (("list", "Refusjon liste"), ("letter", "Refusjon 1. kvartal 2026")):
        url = f"/api/v1/refund/{unit_id}/{kind}"
        accepted = client.get(url, headers=headers)
        assert accepted.status_code == 202, kind
        body = accepted.json
        assert body["status_url"] == f"/jobs/{body['job_id']}.json" == accepted.headers["Location"]
        assert body["result_url"] == url and body["status"] == "done"
        pdf = client.get(url, headers=headers)
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and title in pdf_text(pdf.data)
    assert documents_of(dbs) == [(unit_id, "letter", "nb"), (unit_id, "list", "nb")]


def test_a_drafts_documents_are_rendered_in_the_request_for_the_office(client, world, approved_world, dbs):
    login_as(client, world.logins["office"], "office")
    draft = client.get(f"/refunds/{approved_world['2026-Q2', 'AV1']}/list.pdf")
    assert draft.status_code == 200 and "UTKAST" in pdf_text(draft.data).upper()
    assert job_count(dbs) == 0 and documents_of(dbs) == []


# ------------------------------------------------------------------ approving: all documents, once


def test_approving_starts_the_quarter_documents_job_and_a_retry_keeps_one_of_each(client, world, approved_world, dbs,
                                                                                 monkeypatch):
    login_as(client, world.logins["office"], "office")
    receiving = dbs.scalars(select(RefundUnit.id).join(RefundRun, RefundRun.id == RefundUnit.run_id).where(
        RefundRun.quarter == "2026-Q2", RefundUnit.receives_refunds.is_(True))).all()
    expected = sorted((unit_id, kind, "nb") for unit_id in receiving for kind in ("letter", "list"))

    # The job breaks half-way (the third document): what it kept stays, the job is failed.
    from reports import refunds as documents

    real_letter, calls = documents.render_letter, []

    def breaking_letter(unit):
        calls.append(unit.id)
        if len(calls) == 2:
            raise RuntimeError("the renderer broke")
        return real_letter(unit)

    monkeypatch.setattr(documents, "render_letter", breaking_letter)
    assert client.post("/refundruns/2026-Q2/approve").status_code == 302
    job = dbs.scalars(select(Job).where(Job.kind == document_jobs.QUARTER_KIND)).one()
    assert job.status == JobStatus.failed and "the renderer broke" in job.error
    assert job.key == "refund_documents:2026-Q2:nb"
    half = documents_of(dbs)
    assert 0 < len(half) < len(expected)

    monkeypatch.setattr(documents, "render_letter", real_letter)
    assert jobs.retry_job(job.id)  # the office's retry: goes on, renders only what is missing
    dbs.expire_all()
    job = dbs.get(Job, job.id)
    assert job.status == JobStatus.done and job.attempts == 2 and job.result_url == "/refundruns/2026-Q2"
    assert documents_of(dbs) == expected
    assert f"{len(half)} var lagret fra før" in job.log

    # A second run of the whole job (started again) renders nothing and adds no row.
    with client.application.app_context():
        again = document_jobs.start_quarter_documents(Q2, None)
        assert again.status == JobStatus.done
    assert documents_of(dbs) == expected
    # The unique key holds even when a job and a download keep the same document at once.
    with client.application.app_context():
        from webapp.services.refund_documents import keep

        assert keep(receiving[0], "list", "nb", b"%PDF-late") is False
    assert documents_of(dbs) == expected


def test_approving_again_starts_nothing(client, world, approved_world, dbs):
    login_as(client, world.logins["office"], "office")
    client.post("/refundruns/2026-Q1/approve")  # approved already (by the service, without documents)
    assert job_count(dbs) == 0


# ------------------------------------------------------------------ calculating


def test_calculating_is_a_job_and_an_approved_quarter_is_refused_before_queuing(client, world, approved_world, dbs):
    login_as(client, world.logins["office"], "office")
    response = client.post("/refundruns/calculate", data={"quarter": "2026-Q2", "pool": "3 000"})
    state = job_of(client, response)
    assert state["status"] == "done" and state["result_url"] == "/refundruns/2026-Q2"
    assert dbs.scalars(select(RefundRun.pool_ore).where(RefundRun.quarter == "2026-Q2")).one() == 3000_00
    assert dbs.get(Job, state["id"]).key == "refund_calc:2026-Q2"

    before = job_count(dbs)
    refused = client.post("/refundruns/calculate", data={"quarter": "2026-Q1"}, follow_redirects=True)
    assert "er godkjent og låst" in refused.get_data(as_text=True)
    assert job_count(dbs) == before


def test_two_clicks_on_calculate_make_one_job(client, world, approved_world, dbs):
    """A calculation of the quarter that waits or runs is joined, not doubled (the key refund_calc:<quarter>)."""
    waiting = Job(kind=CALCULATION_KIND, title="x", status=JobStatus.queued, params="{}", done=0,
                  created_at=jobs._now(), attempts=0, key="refund_calc:2026-Q2")
    dbs.add(waiting)
    dbs.commit()
    login_as(client, world.logins["office"], "office")
    response = client.post("/refundruns/calculate", data={"quarter": "2026-Q2", "pool": "3 000"})
    assert response.headers["Location"] == f"/jobs/{waiting.id}"
    assert job_count(dbs) == 1


def test_the_calendars_calculation_tells_the_office(app_ctx, world, smtp_server):
    make_policy()
    job = start_refund_calculation(Q1, None, key="calendar:refund_draft:2026-Q1", notify_office=True,
                                                 pool_ore=500_00)
    assert job.status == JobStatus.done and job.created_by_id is None
    assert job.key == "calendar:refund_draft:2026-Q1"
    assert refunds.get_run(Q1).status == RefundStatus.draft
    (mail,) = smtp_server.messages
    assert mail["message"]["Subject"] == "Refusjonsutkast for 1. kvartal 2026 er beregnet"
    assert "/refundruns/2026-Q1" in smtp_server.bodies()[0]
    refunds.approve(Q1)
    with pytest.raises(refunds.RefundError, match="godkjent og låst"):
        start_refund_calculation(Q1, None)
    assert db.session.scalar(select(func.count(Job.id))) == 1


# ------------------------------------------------------------------ membership reports


def test_report_download_is_a_job_with_the_files(client, world, dbs):
    login_as(client, world.logins["analyst"], "analyst")
    response = client.get(f"/reports/download/lo/{DAY}.pdf")
    state = job_of(client, response)
    assert state["status"] == "done"
    files = dbs.scalars(select(JobFile.filename).where(JobFile.job_id == state["id"])).all()
    assert sorted(name.rsplit(".", 1)[1] for name in files) == ["csv", "pdf", "xlsx"]
    pdf = client.get(state["result_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and "LO" in pdf_text(pdf.data)
    client.get("/logout/")
    login_as(client, world.logins["treasurer"], "treasurer")  # another user: neither the job nor its files
    assert client.get(state["result_url"]).status_code in (403, 404)


def test_report_send_is_a_job_and_a_retry_sends_nothing_twice(client, world, dbs, smtp_server, monkeypatch):
    login_as(client, world.logins["office"], "office")
    # The job breaks after the mail was handed over (its result link cannot be written): failed, mail gone once.
    real_set_result = document_jobs.set_result
    monkeypatch.setattr(document_jobs, "set_result", lambda job_id, url: (_ for _ in ()).throw(OSError("gone")))
    state = job_of(client, client.post("/reports/send", data={"report": "spekter", "date": DAY}))
    assert state["status"] == "failed" and len(smtp_server.messages) == 1
    monkeypatch.setattr(document_jobs, "set_result", real_set_result)
    assert jobs.retry_job(state["id"])
    job = dbs.get(Job, state["id"])
    dbs.refresh(job)
    assert job.status == JobStatus.done and "Ikke sendt på nytt" in job.log
    assert len(smtp_server.messages) == 1 and dbs.scalar(select(func.count(ReportDispatch.id))) == 1
    assert job.result_url == f"/reportdispatchview/show/{dbs.scalars(select(ReportDispatch.id)).one()}"

    # Sent again on purpose ("Send again"): once more, and its retry does not send a third time.
    forced = job_of(client, client.post("/reports/send", data={"report": "spekter", "date": DAY, "force": "y"}))
    assert forced["status"] == "done" and len(smtp_server.messages) == 2
    dbs.execute(update(Job).where(Job.id == forced["id"]).values(status=JobStatus.failed))
    dbs.commit()
    assert jobs.retry_job(forced["id"])
    assert len(smtp_server.messages) == 2 and dbs.scalar(select(func.count(ReportDispatch.id))) == 2
    # Not forced, after a sending: refused in the request, no job.
    before = job_count(dbs)
    page = client.post("/reports/send", data={"report": "spekter", "date": DAY}, follow_redirects=True)
    assert "already-sent" in page.get_data(as_text=True) and job_count(dbs) == before


# ------------------------------------------------------------------ a real worker; real concurrency


@pytest.fixture()
def consumer(clean_app, tmp_path):
    with huey_consumer(clean_app, tmp_path / "huey.db") as running:
        yield running


def test_a_real_worker_renders_the_list_and_the_route_then_answers_it(client, world, approved_world, consumer, dbs):
    unit_id = approved_world["2026-Q1", "AV1"]
    url = f"/refunds/{unit_id}/list.pdf"
    login_as(client, world.logins["treasurer"], "treasurer")
    first = client.get(url)
    assert first.status_code == 303
    deadline = time.monotonic() + 60
    while (state := client.get(first.headers["Location"] + ".json").json)["status"] != "done":
        assert state["status"] in ("queued", "running") and time.monotonic() < deadline, state
        time.sleep(0.1)
    assert state["result_url"] == url and state["percent"] == 100
    assert any("Hentet" in line for line in state["log"])
    pdf = client.get(url)
    assert pdf.status_code == 200 and "Refusjon liste 1. kvartal 2026" in pdf_text(pdf.data)
    assert documents_of(dbs) == [(unit_id, "list", "nb")]


@postgres_only
def test_two_downloads_at_once_share_one_job(live_server, world, approved_world, dbs):
    unit_id = approved_world["2026-Q1", "AV1"]
    url = f"{live_server}/refunds/{unit_id}/list.pdf"
    sessions = [browser_session(live_server, world.logins["office"]) for _ in range(4)]
    responses: list[requests.Response] = fire_together(
        [lambda s=s: s.get(url, allow_redirects=False) for s in sessions])
    jobs_made = dbs.scalars(select(Job).where(Job.key == f"refund_list:{unit_id}:nb")).all()
    assert len(jobs_made) == 1
    for response in responses:  # the job's page, or (finished before this request asked) the kept PDF
        joined = response.status_code == 303 and response.headers["Location"].endswith(f"/jobs/{jobs_made[0].id}")
        kept = response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
        assert joined or kept, response.status_code
    assert documents_of(dbs) == [(unit_id, "list", "nb")]
