"""Secure messages: members and deduction contacts write; officers and the office answer; e-mail says only
that a message waits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.helpers import login, login_as
from webapp.extensions import db
from webapp.models import DeductionContact, Member, Message, MessageThread

SECRET = "Jeg har en sykemelding og trenger råd om permisjon (hemmelig-7731)"


def write(client, data: dict) -> MessageThread:
    response = client.post("/messages/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_member_writes_to_the_office_and_the_reply_mail_holds_no_text(client, world, dbs, smtp_server):
    login_as(client, world.logins["member"], "member")
    thread_id = write(client, {"to": "office", "subject": "Permisjon", "body": SECRET})
    # The office's shared mailbox is told that a message waits: not what it says, nor who wrote it.
    assert [mail["to"] for mail in smtp_server.messages] == [["post@forbundet.example"]]
    notice, notice_subject = smtp_server.bodies()[0], str(smtp_server.messages[0]["message"]["subject"])
    for text in (SECRET, "hemmelig-7731", "Permisjon", "Kari", "Nordmann", world.logins["member"]):
        assert text not in notice and text not in notice_subject
    assert f"/messages/{thread_id}" in notice and "Forbundskontoret" in notice_subject
    client.get("/logout/")

    login(client, world.logins["office"])
    inbox = client.get("/messages/").get_data(as_text=True)
    assert "Permisjon" in inbox and "Kari Nordmann" in inbox
    assert SECRET in client.get(f"/messages/{thread_id}").get_data(as_text=True)
    reply = "Svar om permisjon: du beholder medlemskapet (svar-4410)"
    assert client.post(f"/messages/{thread_id}/reply", data={"body": reply}).status_code == 302

    assert len(smtp_server.messages) == 2
    mail = smtp_server.messages[1]
    assert mail["to"] == ["m1@example.no"]  # the member's chosen address (private)
    body, subject = smtp_server.bodies()[1], str(mail["message"]["subject"])
    for text in (reply, "svar-4410", SECRET, "hemmelig-7731", "Permisjon"):
        assert text not in body and text not in subject
    assert f"/messages/{thread_id}" in body
    assert dbs.scalars(select(Message).where(Message.from_party.is_(False))).one().notified_at is not None
    dbs.remove()

    client.get("/logout/")
    login_as(client, world.logins["member"], "member")
    thread = client.get(f"/messages/{thread_id}").get_data(as_text=True)
    assert reply in thread and SECRET in thread  # the thread stays readable


def test_notice_goes_to_the_work_address_when_the_member_chose_it(client, clean_app, world, smtp_server):
    with clean_app.app_context():
        from webapp.models import Member
        from webapp.models.choices import ContactChoice

        member = db.session.get(Member, world.members["inside"].id)
        member.email_work, member.email_to = "kari@jobb.no", ContactChoice.work
        db.session.commit()
        from webapp.services import messaging

        thread = messaging.start_thread(subject="Til deg", body=SECRET, author_id=None, from_party=False,
                                        member_id=member.id)
        assert smtp_server.messages[0]["to"] == ["kari@jobb.no"]
        assert SECRET not in smtp_server.bodies()[0]
        assert thread.party_unread is True
        db.session.remove()


def test_unit_threads_reach_the_units_officers_only(client, world, dbs, smtp_server):
    login_as(client, world.logins["member"], "member")
    unit_thread = write(client,
                        {"to": str(world.units["AV1"].id), "subject": "Lokale forhandlinger",
                         "body": "Når starter de?"})
    # AV1's own leader and treasurer are told at their chosen addresses (LF1's admin above answers, unmailed).
    officers = [dbs.get(Member, world.members[key].id) for key in ("leader", "treasurer")]
    assert [mail["to"] for mail in smtp_server.messages] == sorted([officer.email_private] for officer in officers)
    assert all("Avdeling Øst" in str(mail["message"]["subject"]) for mail in smtp_server.messages)
    assert all("Når starter de?" not in body for body in smtp_server.bodies())
    smtp_server.messages.clear()
    office_thread = write(client, {"to": "office", "subject": "Til kontoret", "body": "Bare til kontoret"})
    refused = client.post("/messages/new", data={"to": str(world.units["AV2"].id), "subject": "x", "body": "y"})
    assert refused.status_code == 422
    assert dbs.scalar(select(db.func.count(MessageThread.id))) == 2
    client.get("/logout/")

    for role in ("leader", "treasurer", "member_data_admin"):  # AV1's officers, and LF1's above it
        login_as(client, world.logins[role], role)
        assert "Lokale forhandlinger" in client.get("/messages/").get_data(as_text=True)
        assert client.get(f"/messages/{unit_thread}").status_code == 200
        assert client.get(f"/messages/{office_thread}").status_code == 404
        client.get("/logout/")

    login_as(client, world.logins["leader"], "leader")
    assert client.post(f"/messages/{unit_thread}/reply", data={"body": "I mars."}).status_code == 302
    client.get("/logout/")

    # The leader of AV2 (the 'outside' member) and a workplace trustee reach nothing.
    login_as(client, world.members["outside"].member_no, "leader")
    assert "Lokale forhandlinger" not in client.get("/messages/").get_data(as_text=True)
    assert client.get(f"/messages/{unit_thread}").status_code == 404
    assert client.post(f"/messages/{unit_thread}/reply", data={"body": "Hei"}).status_code == 404
    client.get("/logout/")
    login_as(client, world.logins["workplace_trustee"], "workplace_trustee")
    assert client.get(f"/messages/{unit_thread}").status_code in (302, 403, 404)

    client.get("/logout/")
    login_as(client, world.logins["member"], "member")
    page = client.get(f"/messages/{unit_thread}").get_data(as_text=True)
    assert "I mars." in page and "Avdeling Øst" in page
    assert len(dbs.scalars(select(Message).where(Message.thread_id == unit_thread)).all()) == 2


def test_officer_writes_to_a_member_in_scope_only(client, world, dbs):
    login_as(client, world.logins["leader"], "leader")
    thread_id = write(client, {"member_id": world.members["club"].id, "subject": "Velkommen", "body": "Hei Ola"})
    thread = dbs.get(MessageThread, thread_id)
    assert (thread.member_id, thread.org_unit_id) == (world.members["club"].id, world.units["AV1"].id)
    refused = client.post("/messages/new", data={"member_id": world.members["outside"].id, "subject": "x", "body": "y"})
    assert refused.status_code == 422
    assert dbs.scalar(select(db.func.count(MessageThread.id))) == 1


def test_a_deduction_contacts_messages_follow_the_user_across_employers(client, clean_app, world, dbs, smtp_server):
    e1, e2 = world.employers["E1"], world.employers["E2"]
    contact = world.logins["deduction_contact"]  # contact for E1; made contact for E2 too
    with clean_app.app_context():
        user = clean_app.appbuilder.sm.find_user(username=contact)
        db.session.add(DeductionContact(user_id=user.id, employer_id=e2.id,
                                        start_date=dt.date.today() - dt.timedelta(days=5)))
        db.session.commit()
        db.session.remove()
    login_as(client, contact, "deduction_contact")
    choice = client.get("/messages/new").get_data(as_text=True)
    assert "Virksomhet E1" in choice and "Virksomhet E2" in choice
    e1_thread = write(client, {"employer_id": e1.id, "subject": "Trekk for E1", "body": "Liste for E1 kommer"})
    e2_thread = write(client, {"employer_id": e2.id, "subject": "Trekk for E2", "body": "Liste for E2 kommer"})
    inbox = client.get("/messages/").get_data(as_text=True)
    assert "Trekk for E1" in inbox and "Trekk for E2" in inbox  # one box, whichever employer is chosen
    portal = client.get("/portal/").get_data(as_text=True)
    assert 'id="messages"' in portal and "Trekk for E2" in portal
    client.get("/logout/")

    # The other contact of E2 shares E2's thread, not E1's.
    login(client, "20000002")
    assert client.get(f"/messages/{e2_thread}").status_code == 200
    assert client.get(f"/messages/{e1_thread}").status_code == 404
    assert "Trekk for E1" not in client.get("/portal/").get_data(as_text=True)
    client.get("/logout/")

    # Both threads are with the office: its mailbox was told twice. The office answers E2: both of
    # E2's current contacts are told, without the text.
    assert [mail["to"] for mail in smtp_server.messages] == [["post@forbundet.example"]] * 2
    smtp_server.messages.clear()
    login(client, world.logins["office"])
    client.post(f"/messages/{e2_thread}/reply", data={"body": "Takk, mottatt (svar-9911)"})
    recipients = sorted(to for mail in smtp_server.messages for to in mail["to"])
    assert recipients == [f"{contact}@test.invalid", "20000002@test.invalid"]
    assert all("svar-9911" not in body for body in smtp_server.bodies())


def test_a_member_cannot_write_for_an_employer_or_another_member(client, world, dbs):
    login_as(client, world.logins["member"], "member")
    response = client.post("/messages/new", data={"to": "office", "subject": "Hei", "body": "Tekst",
                                                  "member_id": world.members["outside"].id,
                                                  "employer_id": world.employers["E2"].id})
    assert response.status_code == 302
    thread = dbs.scalars(select(MessageThread)).one()
    assert (thread.member_id, thread.employer_id) == (world.members["inside"].id, None)
    empty = client.post("/messages/new", data={"to": "office", "subject": "Hei", "body": "   "})
    assert empty.status_code == 422
