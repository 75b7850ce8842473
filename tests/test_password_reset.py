"""Forgot password: a one-time link by e-mail or SMS, without revealing whether a username exists."""

from __future__ import annotations

import re

from tests.factories import PASSWORD
from tests.helpers import login
from tests.mypage_helpers import translated
from webapp.extensions import db
from webapp.models import Member
from webapp.services.sms import LoggingSmsSender

NEW_PASSWORD = "Nytt-Passord-2027!xy"
LINK = re.compile(r"http\S+/password/set/\S+")


def ask(client, username: str, channel: str = "email") -> str:
    response = client.post("/password/forgot", data={"username": username, "channel": channel}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_login_page_links_to_forgot_password(client):
    page = client.get("/login/").get_data(as_text=True)
    assert 'id="forgot-password"' in page and "/password/forgot" in page
    assert client.get("/password/forgot").status_code == 200


def test_link_by_email_works_once(client, world, smtp_server):
    username = world.logins["member"]
    answer = translated(client.application,
                        "If the username is registered with us, a link to choose a new password is on its way. "
                        "The link works once and expires in 24 hours.")
    assert answer in ask(client, username)
    assert smtp_server.messages[0]["to"] == ["m1@example.no"]  # the member's chosen address
    link = LINK.search(smtp_server.bodies()[0]).group(0)
    path = link.split("127.0.0.1:5000", 1)[-1]
    assert client.get(path).status_code == 200
    response = client.post(path, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get(path).status_code == 410  # used: works once
    assert login(client, username, NEW_PASSWORD).headers["Location"] != "/login/"
    client.get("/logout/")
    assert "/login" in login(client, username, PASSWORD).headers["Location"]  # the old password is gone


def test_unknown_username_gets_the_same_answer_and_nothing_is_sent(client, world, smtp_server):
    known = ask(client, world.logins["member"])
    smtp_server.messages.clear()
    unknown = ask(client, "75999999")
    def strip(page: str) -> str:  # what differs on every request anyway
        return re.sub(r'(nonce|value)="[^"]*"', "", page)

    assert strip(known) == strip(unknown)
    assert smtp_server.messages == []


def test_a_second_request_at_once_sends_nothing_more(client, world, smtp_server):
    ask(client, world.logins["member"])
    ask(client, world.logins["member"])
    assert len(smtp_server.messages) == 1


def test_link_by_sms_goes_to_the_preferred_mobile(client, clean_app, world, smtp_server):
    with clean_app.app_context():
        member = db.session.get(Member, world.members["inside"].id)
        member.mobile_private = "+4791234567"
        db.session.commit()
        db.session.remove()
    LoggingSmsSender.sent.clear()
    ask(client, world.logins["member"], "sms")
    assert smtp_server.messages == []
    [sms] = list(LoggingSmsSender.sent)
    assert sms["to"] == "+4791234567"
    path = LINK.search(sms["text"]).group(0).split("127.0.0.1:5000", 1)[-1]
    assert client.get(path).status_code == 200


def test_sms_without_a_mobile_falls_back_to_email(client, world, smtp_server):
    LoggingSmsSender.sent.clear()
    ask(client, world.logins["member"], "sms")
    assert list(LoggingSmsSender.sent) == []
    assert smtp_server.messages[0]["to"] == ["m1@example.no"]


def test_a_mail_server_that_is_down_gives_the_same_answer(client, world, monkeypatch):
    from webapp.services import accounts

    def refuse(*_args, **_kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(accounts, "send_password_link", refuse)
    page = ask(client, world.logins["member"])
    assert translated(client.application,
                      "If the username is registered with us, a link to choose a new password is on its "
                      "way. The link works once and expires in 24 hours.") in page
