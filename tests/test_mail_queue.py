"""Mail down never fails a person's action: the change is saved, the e-mail waits in the outbox and goes out once.

The mail server here is a real SMTP server (aiosmtpd) on a loopback port that is closed at first: the app's
sending fails with a refused connection, as with an unreachable server, until the test brings the server up.
"""

from __future__ import annotations

import re
import socket

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import func, select

from tests.concurrency import fire_together, postgres_only
from tests.conftest import CapturedMail, free_loopback_port, mail_to_loopback
from tests.factories import add_initial_rate
from tests.helpers import login, login_as
from webapp.extensions import db
from webapp.models import AccessRequest, DeductionBasis, DeductionContact, DeductionNotice, OutboxMail
from webapp.services import deduction_basis, notices
from webapp.services import mail as outbox
from webapp.services.periods import Month

LINK_FOLLOWS = "E-posten med lenken for å velge passord kommer så snart e-posttjenesten svarer."
CONTACT_FOLLOWS = "Den nye kontakten er registrert. " + LINK_FOLLOWS
APPROVAL_FOLLOWS = "Godkjent: innloggingen er opprettet. " + LINK_FOLLOWS


class MailServerLater:
    """The app's mail goes to a loopback port where nothing listens until `start()`."""

    def __init__(self, port: int):
        self.port = port
        self.handler = CapturedMail()
        self.controller = None

    def start(self) -> CapturedMail:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self.handler

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture()
def mail_down(app):
    port = free_loopback_port()
    server = MailServerLater(port)
    try:
        with mail_to_loopback(app, port):
            yield server
    finally:
        server.stop()


def mail_retry(app):
    return app.test_cli_runner().invoke(args=["mail", "retry"])


def waiting_mail(dbs) -> list[OutboxMail]:
    dbs.expire_all()
    return dbs.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None))).all()


def test_contact_added_while_mail_is_down_is_saved_and_the_link_follows_once(client, clean_app, world, dbs, mail_down):
    login(client, world.logins["deduction_contact"])
    response = client.post("/portal/contacts", data={"action": "add", "name": "Ny Kontakt", "email": "ny@example.no"})
    assert response.status_code == 302
    assert CONTACT_FOLLOWS in client.get(response.headers["Location"]).get_data(as_text=True)
    contact = dbs.scalars(select(DeductionContact).join(User, DeductionContact.user_id == User.id)
                          .where(User.email == "ny@example.no")).one()
    assert contact.end_date is None
    [waiting] = waiting_mail(dbs)
    assert waiting.attempts == 1 and "ConnectionRefusedError" in waiting.last_error
    assert "/password/set/" in waiting.body

    still_down = mail_retry(clean_app)
    assert still_down.exit_code == 1 and "0 sent, 1 still waiting" in still_down.output

    delivered = mail_down.start()
    result = mail_retry(clean_app)
    assert result.exit_code == 0 and "1 sent, 0 still waiting" in result.output, result.output
    assert [m["to"] for m in delivered.messages] == [["ny@example.no"]]
    username = contact.user.username
    assert username in delivered.bodies()[0] and re.search(r"/password/set/\S+", delivered.bodies()[0])
    assert mail_retry(clean_app).exit_code == 0
    assert len(delivered.messages) == 1  # exactly once
    sent = dbs.get(OutboxMail, waiting.id)
    dbs.refresh(sent)
    assert sent.sent_at is not None and sent.body == ""  # the login link does not stay in the database


def test_access_request_approved_while_mail_is_down_answers_and_the_login_follows(client, clean_app, world, dbs,
                                                                                  mail_down):
    client.post("/access/request", data={"name": "Nina Lønn", "email": "nina@example.no", "phone": "",
                                         "org_number": "974760673"})
    request_row = dbs.scalars(select(AccessRequest)).one()
    login_as(client, world.logins["office"])
    response = client.post("/accessrequestview/action_post", data={"action": "approve", "rowid": [request_row.id]})
    assert response.status_code == 302
    assert APPROVAL_FOLLOWS in client.get(response.headers["Location"]).get_data(as_text=True)
    dbs.expire_all()
    approved = dbs.get(AccessRequest, request_row.id)
    assert approved.status == "approved" and approved.user_id is not None
    assert len(waiting_mail(dbs)) == 1

    delivered = mail_down.start()
    assert mail_retry(clean_app).exit_code == 0
    assert mail_retry(clean_app).exit_code == 0
    assert [m["to"] for m in delivered.messages] == [["nina@example.no"]]


def test_notices_queued_while_mail_is_down_count_as_sent_and_go_out_once(app_ctx, world, mail_down):
    add_initial_rate()
    march = Month(2026, 3)
    deduction_basis.generate(march)
    result = notices.notify(march)
    assert result.emails >= 1 and result.waiting == result.emails
    assert "wait for the mail server" in result.summary()
    assert db.session.scalar(select(func.count(DeductionNotice.id))) == result.emails
    assert all(basis.notified_at is not None for basis in db.session.scalars(select(DeductionBasis)))

    delivered = mail_down.start()
    assert notices.notify(march).emails == 0  # recorded as handed over: not made again
    report = outbox.retry_queued()
    assert report.sent == result.emails and report.waiting == 0
    assert len(delivered.messages) == result.emails


def test_the_next_sending_takes_the_waiting_mail_along(client, world, dbs, mail_down):
    login(client, world.logins["deduction_contact"])
    client.post("/portal/contacts", data={"action": "add", "name": "Første Kontakt", "email": "a@example.no"})
    assert len(waiting_mail(dbs)) == 1
    delivered = mail_down.start()
    page = client.post("/portal/contacts", data={"action": "add", "name": "Andre Kontakt", "email": "b@example.no"},
                       follow_redirects=True)
    assert "Den nye kontakten er registrert og har fått en lenke" in page.get_data(as_text=True)
    assert sorted(to for m in delivered.messages for to in m["to"]) == ["a@example.no", "b@example.no"]
    assert waiting_mail(dbs) == []


@postgres_only
def test_retries_at_once_send_every_mail_exactly_once(clean_app, mail_down):
    from flask_mail import Message

    with clean_app.app_context():
        for number in range(40):
            outbox.queue(Message(subject=f"Melding {number}", recipients=[f"m{number}@example.no"], body="Hei"))
        db.session.commit()
        db.session.remove()
    delivered = mail_down.start()

    def retry():
        with clean_app.app_context():
            try:
                return outbox.retry_queued().sent
            finally:
                db.session.remove()

    sent = fire_together([retry] * 4)
    assert sum(sent) == 40
    subjects = sorted(str(m["message"]["subject"]) for m in delivered.messages)
    assert subjects == sorted(f"Melding {number}" for number in range(40))


def test_a_mail_server_that_never_answers_holds_the_request_only_for_the_timeout(client, clean_app, world, dbs):
    """A server that takes the connection and says nothing (a hung relay): the contact is saved and the page
    answers after MAIL_TIMEOUT, with the mail waiting in the outbox."""
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nobody ever reads or greets
    state = clean_app.extensions["mail"]
    saved = (state.server, state.port, state.suppress, clean_app.config["MAIL_TIMEOUT"])
    state.server, state.port, state.suppress = "127.0.0.1", silent.getsockname()[1], False
    clean_app.config["MAIL_TIMEOUT"] = 1
    try:
        login(client, world.logins["deduction_contact"])
        started = time.monotonic()
        response = client.post("/portal/contacts",
                               data={"action": "add", "name": "Ny Kontakt", "email": "ny@example.no"})
        elapsed = time.monotonic() - started
    finally:
        state.server, state.port, state.suppress = saved[:3]
        clean_app.config["MAIL_TIMEOUT"] = saved[3]
        silent.close()
    assert response.status_code == 302
    assert elapsed < 5
    assert CONTACT_FOLLOWS in client.get(response.headers["Location"]).get_data(as_text=True)
    assert [json_recipients for json_recipients in (m.recipients for m in waiting_mail(dbs))
            if "ny@example.no" in json_recipients]
