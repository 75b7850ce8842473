"""Send-outs through the screens, with a real SMTP server (aiosmtpd): the mail reaches exactly the segment minus
those who said no and those without an address (an independent SQL query says who), each with an unsubscribe
link that works once and cannot be forged; officers reach their own units only; a retry after a failure half-way
sends no one twice; mail the server does not take waits in the outbox; the member page and Min side list what
went to the member; every other role gets 403.

The jobs run in Huey's immediate mode here (TestConfig); tests/test_sendout_job.py runs a real worker."""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text

from tests.conftest import free_loopback_port, mail_to_loopback
from tests.factories import make_member
from tests.helpers import login_as
from webapp.extensions import db
from webapp.models import AuditEntry, Member, OrgUnit, OutboxMail
from webapp.models.choices import JobStatus, RecipientStatus, SendOutChannel, SendOutStatus
from webapp.models.outreach import Job, Segment, SendOut, SendOutRecipient
from webapp.services import mail as outbox
from webapp.services import sendouts
from webapp.services.sms import LoggingSmsSender

LINK = re.compile(r"https?://\S+/avmelding/(\S+)")
REFUSED = (302, 401, 403)

# Who an e-mail to the members of a unit and the units below reaches, written without the app's code: the
# membership current today, not anonymised, a yes to e-mail, and the chosen address (else private, work, login).
INDEPENDENT_EMAIL_QUERY = """
WITH RECURSIVE tree(id) AS (
    SELECT id FROM org_unit WHERE id = :unit
    UNION ALL SELECT org_unit.id FROM org_unit JOIN tree ON org_unit.parent_id = tree.id
)
SELECT address FROM (
    SELECT COALESCE(CASE m.email_to WHEN 'work' THEN NULLIF(m.email_work, '')
                                    WHEN 'private' THEN NULLIF(m.email_private, '') END,
                    NULLIF(m.email_private, ''), NULLIF(m.email_work, ''),
                    (SELECT NULLIF(u.email, '') FROM ab_user u WHERE u.id = m.user_id)) AS address
    FROM member m
    WHERE m.home_unit_id IN (SELECT id FROM tree) AND m.joined_on <= :today
      AND (m.left_on IS NULL OR m.left_on >= :today) AND m.anonymised_at IS NULL AND m.info_by_email = :yes
) chosen WHERE address IS NOT NULL
"""


def expected_addresses(app, unit_id: int) -> list[str]:
    with app.app_context():
        found = sorted(db.session.scalars(text(INDEPENDENT_EMAIL_QUERY),
                                          {"unit": unit_id, "today": dt.date.today(), "yes": True}))
        db.session.remove()
    return found


@pytest.fixture()
def dbs(clean_app):
    """The database in an app context of its own for each use (`with dbs() as s:`), apart from the requests'."""

    @contextmanager
    def session():
        with clean_app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()

    return session


@pytest.fixture()
def people(clean_app, world):
    """AV1 gets members who said no to e-mail, have no address, left, or were anonymised; AV2 one more."""
    with clean_app.app_context():
        av1, av2 = db.session.get(OrgUnit, world.units["AV1"].id), db.session.get(OrgUnit, world.units["AV2"].id)
        ids = {}
        for key, unit, values in (
            ("said_no", av1, {"info_by_email": False}),
            ("no_address", av1, {"email_private": None}),
            ("left", av1, {"left_on": dt.date.today() - dt.timedelta(days=60)}),
            ("anonymised", av1, {"anonymised_at": dt.date.today()}),
            ("work_address", av1, {"email_work": "arbeid@example.no", "email_to": "work"}),
            ("av2_extra", av2, {}),
        ):
            member = make_member(unit, key.capitalize(), "Testesen")
            for name, value in values.items():
                setattr(member, name, value)
            ids[key] = member.id
        db.session.commit()
        db.session.remove()
    return ids


def _make_draft(client, unit_id=None, **fields) -> int:
    data = {"status": "active", "unit_id": str(unit_id or ""), "unit_below": "1", "channel": "email",
            "subject": "Lønnsoppgjøret 2026", "body": "Hei!\n\nHer er nytt om oppgjøret.", "action": "preview"}
    data.update(fields)
    response = client.post("/sendouts/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _send(client, send_out_id: int) -> int:
    response = client.post(f"/sendouts/{send_out_id}/send")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    assert "/jobs/" in location
    return int(location.rstrip("/").rsplit("/", 1)[1])


def _received(smtp_server) -> dict[str, str]:
    """Each received message's address and its text (one address per message)."""
    found = {}
    for captured, body in zip(smtp_server.messages, smtp_server.bodies()):
        (address,) = captured["to"]
        assert address not in found, f"{address} got the send-out twice"
        found[address] = body
    return found


# ------------------------------------------------------------------ the office sends


def test_a_send_out_reaches_exactly_the_segment_minus_those_who_said_no_or_have_no_address(
        client, world, people, smtp_server, dbs):
    av1 = world.units["AV1"].id
    login_as(client, world.logins["office"])
    # The count before sending, on the server.
    page = client.post("/sendouts/new", data={"unit_id": str(av1), "unit_below": "1", "channel": "email",
                                              "action": "count"}).get_data(as_text=True)
    expected = expected_addresses(client.application, av1)
    assert f'data-reachable="{len(expected)}"' in page
    send_out_id = _make_draft(client, av1)
    preview = client.get(f"/sendouts/{send_out_id}").get_data(as_text=True)
    assert "Lønnsoppgjøret 2026" in preview and "/avmelding/" in preview and 'id="send-button"' in preview
    assert smtp_server.messages == []  # a preview sends nothing

    job_id = _send(client, send_out_id)
    received = _received(smtp_server)
    assert sorted(received) == expected
    assert "arbeid@example.no" in received  # the chosen (work) address
    for body in received.values():
        assert "Her er nytt om oppgjøret." in body
        assert len(LINK.findall(body)) == 1
    with dbs() as s:
        for key in ("said_no", "no_address", "left", "anonymised", "av2_extra"):
            assert s.get(Member, people[key]).email_private not in received
        job = s.get(Job, job_id)
        assert (job.status, job.done, job.total) == (JobStatus.done, len(expected), len(expected))
        send_out = s.get(SendOut, send_out_id)
        assert (send_out.status, send_out.recipient_count, send_out.sent_count) == (
            SendOutStatus.sent, len(expected), len(expected))
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "send_out_sent", AuditEntry.object_id == send_out_id)) == 1
    # Sending again: one winner, nothing more goes out.
    assert client.post(f"/sendouts/{send_out_id}/send").status_code == 302
    assert len(smtp_server.messages) == len(expected)
    listing = client.get("/sendouts/").get_data(as_text=True)
    assert f'data-sendout="{send_out_id}" data-status="sent"' in listing


def test_the_unsubscribe_link_works_once_without_login_and_cannot_be_forged(client, world, people, smtp_server,
                                                                           clean_app):
    login_as(client, world.logins["office"])
    _send(client, _make_draft(client, world.units["AV1"].id))
    client.get("/logout/")
    received = _received(smtp_server)
    body = received["arbeid@example.no"]
    token = LINK.search(body).group(1)
    member_id = people["work_address"]

    def state():
        with clean_app.app_context():
            member = db.session.get(Member, member_id)
            used = db.session.scalar(select(SendOutRecipient.unsubscribed_at).where(
                SendOutRecipient.member_id == member_id))
            audits = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "unsubscribe", AuditEntry.member_id == member_id))
            db.session.remove()
            return member.info_by_email, used is not None, audits

    # Forged and altered tokens: a clear page, nothing changed.
    other_salt = sendouts.URLSafeSerializer(clean_app.config["SECRET_KEY"], salt="set-password")
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "1.abc", "x" * 300,
                   other_salt.dumps(1), token.split(".")[0] + ".forged"):
        for method in (client.get, client.post):
            response = method(f"/avmelding/{forged}")
            assert response.status_code == 404
            assert 'id="unsubscribe-invalid"' in response.get_data(as_text=True)
    assert state() == (True, False, 0)

    confirm = client.get(f"/avmelding/{token}")
    assert confirm.status_code == 200 and 'id="unsubscribe-form"' in confirm.get_data(as_text=True)
    assert state() == (True, False, 0)  # the page only asks
    done = client.post(f"/avmelding/{token}")
    assert done.status_code == 200 and 'id="unsubscribe-done"' in done.get_data(as_text=True)
    assert state() == (False, True, 1)
    # The second use: already used, nothing changes (the member says yes again on Min side meanwhile).
    with clean_app.app_context():
        db.session.get(Member, member_id).info_by_email = True
        db.session.commit()
        db.session.remove()
    again = client.post(f"/avmelding/{token}")
    assert again.status_code == 200 and 'id="unsubscribe-already"' in again.get_data(as_text=True)
    assert 'id="unsubscribe-already"' in client.get(f"/avmelding/{token}").get_data(as_text=True)
    assert state() == (True, True, 1)


def test_a_survey_invitation_leaves_out_those_who_said_no_to_surveys(client, world, people, smtp_server, dbs):
    with dbs() as s:
        s.get(Member, people["work_address"]).surveys = False
        s.commit()
    login_as(client, world.logins["office"])
    _send(client, _make_draft(client, world.units["AV1"].id, survey_url="https://survey.example/s/42"))
    received = _received(smtp_server)
    assert "arbeid@example.no" not in received
    expected = set(expected_addresses(client.application, world.units["AV1"].id))
    assert sorted(received) == sorted(expected - {"arbeid@example.no"})
    assert all("https://survey.example/s/42" in body for body in received.values())


def test_an_sms_send_out_goes_to_the_chosen_mobiles_with_the_closing_line(client, world, people, dbs):
    with dbs() as s:
        for key, mobile in (("work_address", "+4791111111"), ("said_no", "+4792222222"),
                            ("no_address", "+4793333333")):
            s.get(Member, people[key]).mobile_private = mobile
        s.get(Member, people["said_no"]).info_by_sms = False
        s.commit()
    LoggingSmsSender.sent.clear()
    login_as(client, world.logins["office"])
    send_out_id = _make_draft(client, world.units["AV1"].id, channel="sms", subject="", body="Møte i kveld kl 18.")
    preview = client.get(f"/sendouts/{send_out_id}").get_data(as_text=True)
    assert "Svar ikke – endre valg på Min side" in preview
    _send(client, send_out_id)
    sent = list(LoggingSmsSender.sent)
    assert sorted(message["to"] for message in sent) == ["+4791111111", "+4793333333"]
    assert all(message["text"] == "Møte i kveld kl 18.\nSvar ikke – endre valg på Min side" for message in sent)
    with dbs() as s:
        assert s.get(SendOut, send_out_id).sent_count == 2


# ------------------------------------------------------------------ failures and retries


def test_a_retry_after_a_failure_half_way_sends_no_one_twice(client, world, people, smtp_server, dbs, monkeypatch):
    client.application.config["SENDOUT_BATCH"] = 2
    real_message, calls = sendouts.email_message, {"n": 0}

    def breaking(*args):
        calls["n"] += 1
        if calls["n"] == 6:  # in the middle of the third batch (its first mail went)
            raise RuntimeError("the worker broke")
        return real_message(*args)

    monkeypatch.setattr(sendouts, "email_message", breaking)
    try:
        login_as(client, world.logins["office"])
        send_out_id = _make_draft(client, world.units["AV1"].id)
        job_id = _send(client, send_out_id)
        with dbs() as s:
            assert s.get(Job, job_id).status == JobStatus.failed
            assert "the worker broke" in s.get(Job, job_id).error
            assert s.get(SendOut, send_out_id).status == SendOutStatus.failed
            marked = s.scalar(select(func.count()).select_from(SendOutRecipient).where(
                SendOutRecipient.send_out_id == send_out_id, SendOutRecipient.status == RecipientStatus.sent))
        assert len(smtp_server.messages) == 5
        assert marked == 5  # the batch's mail that went before the break is marked too

        assert client.post(f"/jobs/{job_id}/retry").status_code == 302
        received = _received(smtp_server)  # asserts that no address got two
        assert sorted(received) == expected_addresses(client.application, world.units["AV1"].id)
        with dbs() as s:
            assert s.get(Job, job_id).status == JobStatus.done and s.get(Job, job_id).attempts == 2
            assert s.get(SendOut, send_out_id).status == SendOutStatus.sent
    finally:
        client.application.config["SENDOUT_BATCH"] = 500


def test_mail_the_server_does_not_take_waits_in_the_outbox_and_goes_later(client, world, people, dbs, app):
    from tests.conftest import CapturedMail

    port = free_loopback_port()  # nobody listens here yet
    login_as(client, world.logins["office"])
    send_out_id = _make_draft(client, world.units["AV1"].id)
    with mail_to_loopback(app, port):
        _send(client, send_out_id)
    expected = expected_addresses(client.application, world.units["AV1"].id)
    with dbs() as s:
        rows = s.execute(select(SendOutRecipient.status, SendOutRecipient.error)
                         .where(SendOutRecipient.send_out_id == send_out_id)).all()
        assert outbox.waiting_count() == len(expected)
    assert len(rows) == len(expected)
    assert all(status == RecipientStatus.failed and "waits in the outbox" in error for status, error in rows)
    page = client.get(f"/sendouts/{send_out_id}").get_data(as_text=True)
    assert 'id="failed-recipients"' in page

    from aiosmtpd.controller import Controller

    handler = CapturedMail()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with mail_to_loopback(app, port), app.app_context():
            report = outbox.retry_queued()
            db.session.remove()
    finally:
        controller.stop()
    assert report.sent == len(expected) and report.waiting == 0
    addresses = sorted(address for message in handler.messages for address in message["to"])
    assert addresses == expected
    assert all(len(LINK.findall(body)) == 1 for body in handler.bodies())
    with dbs() as s:
        assert s.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.sent_at.is_(None))) == 0


# ------------------------------------------------------------------ officers: their own units only


def test_an_officer_cannot_send_outside_their_units(client, world, people, smtp_server, dbs):
    login_as(client, world.logins["leader"], "leader")
    form = client.get("/sendouts/new")
    assert form.status_code == 200 and 'id="officer-scope"' in form.get_data(as_text=True)
    # A unit beside or above theirs, typed into the form: refused naming the field, nothing saved.
    for unit in ("AV2", "LF1", "NTF"):
        response = client.post("/sendouts/new", data={"unit_id": str(world.units[unit].id), "channel": "email",
                                                      "subject": "S", "body": "B", "action": "preview"})
        assert response.status_code == 422
        assert 'data-field="unit_id"' in response.get_data(as_text=True)
    with dbs() as s:
        assert s.scalar(select(func.count(SendOut.id))) == 0

    # Without a unit: the leader's unit and below, never more.
    send_out_id = _make_draft(client)
    _send(client, send_out_id)
    assert sorted(_received(smtp_server)) == expected_addresses(client.application, world.units["AV1"].id)
    with dbs() as s:
        assert s.get(SendOut, send_out_id).unit_id == world.units["AV1"].id
        assert s.get(Member, people["av2_extra"]).email_private not in _received(smtp_server)
        # Another unit's send-out and the office's answer 404 (show, change, send).
        office_one = SendOut(channel=SendOutChannel.email, criteria="{}", subject="Kontoret", body="B",
                             status=SendOutStatus.draft, created_at=dt.datetime.now(), sent_count=0)
        av2_one = SendOut(channel=SendOutChannel.email, criteria="{}", subject="AV2", body="B",
                          unit_id=world.units["AV2"].id, status=SendOutStatus.draft, created_at=dt.datetime.now(),
                          sent_count=0)
        s.add_all([office_one, av2_one])
        s.commit()
        others = (office_one.id, av2_one.id)
    for other in others:
        assert client.get(f"/sendouts/{other}").status_code == 404
        assert client.get(f"/sendouts/{other}/edit").status_code == 404
        assert client.post(f"/sendouts/{other}/send").status_code == 404
    listing = client.get("/sendouts/").get_data(as_text=True)
    assert "Kontoret" not in listing and f'data-sendout="{send_out_id}"' in listing
    with dbs() as s:
        assert s.get(SendOut, others[1]).status == SendOutStatus.draft


def test_an_officers_segments_are_their_units_and_a_forged_segment_id_is_ignored(client, world, dbs):
    with dbs() as s:
        foreign = Segment(name="AV2-segmentet", criteria='{"status": "active"}', unit_id=world.units["AV2"].id,
                          created_at=dt.datetime.now())
        s.add(foreign)
        s.commit()
        foreign_id = foreign.id
    login_as(client, world.logins["leader"], "leader")
    saved = client.post("/segments/new", data={"status": "active", "categories": ["ordinary"], "channel": "email",
                                               "segment_name": "Alle ordinære", "action": "save"})
    assert saved.status_code == 302
    with dbs() as s:
        segment = s.scalars(select(Segment).where(Segment.name == "Alle ordinære")).one()
        assert segment.unit_id == world.units["AV1"].id
    page = client.get("/segments/").get_data(as_text=True)
    assert "Alle ordinære" in page and "AV2-segmentet" not in page
    assert client.get(f"/sendouts/new?segment={foreign_id}").status_code == 404
    assert client.post(f"/segments/{foreign_id}/delete").status_code == 404
    # The same name again in the same unit: refused naming the field.
    again = client.post("/segments/new", data={"status": "active", "channel": "email",
                                               "segment_name": "alle ordinære", "action": "save"})
    assert again.status_code == 422 and 'data-field="segment_name"' in again.get_data(as_text=True)
    # Reused: the form comes filled in.
    reused = client.get(f"/sendouts/new?segment={segment.id}").get_data(as_text=True)
    assert 'value="ordinary" checked' in reused
    draft = _make_draft(client, segment_id=str(foreign_id))
    with dbs() as s:
        assert s.get(SendOut, draft).segment_id is None


@pytest.mark.parametrize("role", ["treasurer", "member_data_admin", "workplace_trustee", "deduction_contact",
                                  "member", "analyst"])
def test_other_roles_get_403(client, world, role):
    login_as(client, world.logins[role], role if role not in ("office", "analyst") else None)
    for path in ("/sendouts/", "/sendouts/new", "/segments/", "/segments/new", "/sendouts/1"):
        assert client.get(path).status_code in REFUSED, path
    for path in ("/sendouts/new", "/sendouts/1/send", "/segments/new", "/segments/1/delete"):
        assert client.post(path, data={"action": "preview"}).status_code in REFUSED, path


# ------------------------------------------------------------------ what was sent to the member


def test_the_member_page_and_min_side_list_what_was_sent_to_the_member(client, world, people, smtp_server):
    login_as(client, world.logins["office"])
    _send(client, _make_draft(client, world.units["AV1"].id, subject="Årsmøte i avdelingen"))
    inside = world.members["inside"].id
    page = client.get(f"/memberview/show/{inside}").get_data(as_text=True)
    assert 'id="member-sendouts"' in page and "Årsmøte i avdelingen" in page
    outside_page = client.get(f"/memberview/show/{world.members['outside'].id}").get_data(as_text=True)
    assert 'id="member-sendouts"' in outside_page and "Årsmøte i avdelingen" not in outside_page
    client.get("/logout/")

    login_as(client, world.logins["member"], "member")
    mine = client.get("/minside/").get_data(as_text=True)
    assert 'id="sendouts-received"' in mine and "Årsmøte i avdelingen" in mine
    assert dt.date.today().strftime("%d.%m.%Y") in mine.split('id="sendouts-received"')[1]
    client.get("/logout/")
    # The member outside the segment sees nothing sent.
    login_as(client, world.members["outside"].member_no, "member")
    assert "Årsmøte i avdelingen" not in client.get("/minside/").get_data(as_text=True)


def test_bad_message_fields_are_refused_naming_the_field(client, world):
    login_as(client, world.logins["office"])
    base = {"status": "active", "channel": "email", "subject": "S", "body": "B", "action": "preview"}
    for changes, field in (({"channel": "pigeon"}, "channel"), ({"subject": ""}, "subject"),
                           ({"body": "  "}, "body"), ({"survey_url": "javascript:alert(1)"}, "survey_url"),
                           ({"survey_url": "https://x.example/" + "a" * 500}, "survey_url"),
                           ({"channel": "sms", "body": "x" * 321}, "body"), ({"subject": "a\nBcc: x"}, "subject"),
                           ({"age_min": "ti"}, "age_min")):
        response = client.post("/sendouts/new", data={**base, **changes})
        assert response.status_code == 422, changes
        assert f'data-field="{field}"' in response.get_data(as_text=True), changes
    with client.application.app_context():
        assert db.session.scalar(select(func.count(SendOut.id))) == 0


def test_the_privacy_purge_forgets_which_send_outs_went_to_an_anonymised_member(client, world, people, smtp_server,
                                                                                 dbs):
    from webapp.services import retention

    login_as(client, world.logins["office"])
    send_out_id = _make_draft(client, world.units["AV1"].id)
    _send(client, send_out_id)
    with dbs() as s:
        member = s.get(Member, world.members["club"].id)
        member.left_on = dt.date.today() - dt.timedelta(days=366 * 6)
        s.commit()
        before = s.scalar(select(func.count(SendOutRecipient.id)))
        retention.purge()
        assert s.scalar(select(func.count(SendOutRecipient.id)).where(
            SendOutRecipient.member_id == world.members["club"].id)) == 0
        assert s.scalar(select(func.count(SendOutRecipient.id))) == before - 1
        assert s.get(SendOut, send_out_id).sent_count == before  # the send-out keeps its numbers
