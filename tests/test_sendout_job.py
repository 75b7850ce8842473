"""A send-out runs as a background job in a real Huey consumer (threads of this process, a SQLite queue): the
office's "Send" answers at once, without waiting for the mail, and the job's page and the send-out list show the
progress while the job is half-way; then every recipient is sent, once. 300 recipients, batches of 100."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select

from tests.factories import make_member
from tests.helpers import huey_consumer, login_as
from webapp.extensions import db
from webapp.models import OrgUnit
from webapp.models.choices import JobStatus, RecipientStatus, SendOutStatus
from webapp.models.outreach import SendOut, SendOutRecipient
from webapp.services import sendouts

RECIPIENTS, BATCH = 300, 100


@pytest.fixture()
def consumer(clean_app, tmp_path):
    clean_app.config["SENDOUT_BATCH"] = BATCH
    try:
        with huey_consumer(clean_app, tmp_path / "huey.db") as running:
            yield running
    finally:
        clean_app.config["SENDOUT_BATCH"] = 500


@pytest.fixture()
def crowd(clean_app, world):
    """300 members in a club of their own, each with an e-mail address."""
    with clean_app.app_context():
        club = OrgUnit(code="KL9", name="Klubb Stor", level="club", parent_id=world.units["AV2"].id)
        db.session.add(club)
        db.session.flush()
        for n in range(RECIPIENTS):
            make_member(club, f"Medlem{n}", "Mengde", birth=dt.date(1960, 1, 1) + dt.timedelta(days=n))
        db.session.commit()
        club_id = club.id
        db.session.remove()
    return club_id


def test_the_send_answers_at_once_and_the_job_page_shows_the_progress(client, world, crowd, consumer, monkeypatch):
    half_way, gate = threading.Event(), threading.Event()
    real_message, calls = sendouts.email_message, {"n": 0}

    def gated(*args):
        calls["n"] += 1
        if calls["n"] == BATCH + 1:  # the first batch is committed and reported; hold the second
            half_way.set()
            if not gate.wait(timeout=30):
                raise TimeoutError("the test never opened the gate")
        return real_message(*args)

    monkeypatch.setattr(sendouts, "email_message", gated)
    login_as(client, world.logins["office"])
    response = client.post("/sendouts/new", data={"unit_id": str(crowd), "unit_below": "1", "channel": "email",
                                                  "subject": "Stor utsendelse", "body": "Hei alle!",
                                                  "action": "preview"})
    send_out_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    started = time.monotonic()
    response = client.post(f"/sendouts/{send_out_id}/send")
    answered_in = time.monotonic() - started
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    # The request did not wait for the sending: the gate is still shut, so no more than a batch can have gone.
    assert not gate.is_set() and answered_in < 10
    state = client.get(f"/jobs/{job_id}.json").json
    assert state["status"] in ("queued", "running") and state["done"] <= BATCH

    assert half_way.wait(timeout=30), "the worker never reached the second batch"
    state = client.get(f"/jobs/{job_id}.json").json
    assert (state["status"], state["done"], state["total"], state["percent"]) == ("running", BATCH, RECIPIENTS, 33)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'aria-valuenow="33"' in page
    listing = client.get("/sendouts/").get_data(as_text=True)
    assert f'data-sendout="{send_out_id}" data-status="sending"' in listing and "33 %" in listing

    gate.set()
    deadline = time.monotonic() + 60
    while state["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.1)
        state = client.get(f"/jobs/{job_id}.json").json
    assert (state["status"], state["percent"], state["done"]) == ("done", 100, RECIPIENTS), state
    with client.application.app_context():
        send_out = db.session.get(SendOut, send_out_id)
        assert (send_out.status, send_out.sent_count, send_out.job.status) == (
            SendOutStatus.sent, RECIPIENTS, JobStatus.done)
        statuses = dict(db.session.execute(
            select(SendOutRecipient.status, func.count()).where(SendOutRecipient.send_out_id == send_out_id)
            .group_by(SendOutRecipient.status)).all())
        db.session.remove()
    assert statuses == {RecipientStatus.sent: RECIPIENTS}
    assert calls["n"] == RECIPIENTS  # each message made (and sent) once
