"""Logout and password changes end every session and token of the user, also copies of the cookie;
the login API and the forgotten-password page are limited like the login form and take the same time
whether or not a username exists (webapp/security/sessions.py, webapp/security/manager.py)."""

from __future__ import annotations

import re

import pytest

from tests.concurrency import browser_session, fire_together, postgres_only
from tests.factories import PASSWORD
from tests.helpers import api_token, login
from tests.mypage_helpers import translated
from webapp.extensions import db

NEW_PASSWORD = "Nytt-Passord-2027!xy"
OFFICE_PAGE = "/memberview/list/"
MEMBER_PAGE = "/minside/"
LINK = re.compile(r"http\S+/password/set/\S+")


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def opens_with(app, cookie: str, path: str) -> bool:
    """Whether a browser holding (a copy of) this session cookie gets the page, rather than the login."""
    other_browser = app.test_client()
    other_browser.set_cookie("session", cookie)
    response = other_browser.get(path)
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login/" in response.headers["Location"], response.status_code
    return False


def logged_in(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    return client


def test_a_copied_cookie_is_refused_after_logout(client, clean_app, world):
    assert login(client, world.logins["office"]).status_code == 302
    copy = session_cookie(client)
    assert opens_with(clean_app, copy, OFFICE_PAGE)  # the copy works while the session lives
    client.get("/logout/")
    assert not opens_with(clean_app, copy, OFFICE_PAGE)
    assert client.get(OFFICE_PAGE).status_code == 302


@pytest.mark.parametrize("origin", ["cross-site", "same-site"])
def test_a_logout_link_on_another_site_ends_nothing(client, clean_app, world, origin):
    assert login(client, world.logins["office"]).status_code == 302
    copy = session_cookie(client)
    response = client.get("/logout/", headers={"Sec-Fetch-Site": origin})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get(OFFICE_PAGE).status_code == 200
    assert opens_with(clean_app, copy, OFFICE_PAGE)
    client.get("/logout/", headers={"Sec-Fetch-Site": "same-origin"})  # the user's own click on the menu
    assert client.get(OFFICE_PAGE).status_code == 302


def test_logout_ends_the_users_other_sessions_and_tokens_but_not_other_users(clean_app, world):
    laptop, phone = logged_in(clean_app, world.logins["office"]), logged_in(clean_app, world.logins["office"])
    colleague = logged_in(clean_app, world.logins["member"])
    tokens = clean_app.test_client()
    headers = api_token(tokens, world.logins["office"])
    assert tokens.get("/api/v1/member/", headers=headers).status_code == 200

    laptop.get("/logout/")
    assert phone.get(OFFICE_PAGE).status_code == 302
    assert tokens.get("/api/v1/member/", headers=headers).status_code == 401
    assert colleague.get(MEMBER_PAGE).status_code == 200
    again = logged_in(clean_app, world.logins["office"])  # a new login works
    assert again.get(OFFICE_PAGE).status_code == 200


def test_a_copied_cookie_is_refused_after_a_password_reset_by_link(clean_app, world, smtp_server):
    member = logged_in(clean_app, world.logins["member"])
    copy = session_cookie(member)
    assert opens_with(clean_app, copy, MEMBER_PAGE)

    visitor = clean_app.test_client()
    visitor.post("/password/forgot", data={"username": world.logins["member"], "channel": "email"},
                 follow_redirects=True)
    path = LINK.search(smtp_server.bodies()[0]).group(0).split("127.0.0.1:5000", 1)[-1]
    assert visitor.post(path, data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}).status_code == 302

    assert not opens_with(clean_app, copy, MEMBER_PAGE)
    assert member.get(MEMBER_PAGE).status_code == 302
    assert logged_in(clean_app, world.logins["member"], NEW_PASSWORD).get(MEMBER_PAGE).status_code == 200


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(client, clean_app, world):
    assert login(client, world.logins["office"]).status_code == 302
    copy = session_cookie(client)
    other_device = logged_in(clean_app, world.logins["office"])

    response = client.post("/resetmypassword/form", data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert response.status_code == 302

    assert not opens_with(clean_app, copy, OFFICE_PAGE)
    assert other_device.get(OFFICE_PAGE).status_code == 302
    assert client.get(OFFICE_PAGE).status_code == 200  # the browser that changed it stays logged in


def test_an_api_token_from_before_a_password_change_is_refused(clean_app, world):
    api = clean_app.test_client()
    headers = api_token(api, world.logins["office"])
    assert api.get("/api/v1/member/", headers=headers).status_code == 200
    refresh_token = api.post("/api/v1/security/login", json={"username": world.logins["office"], "password": PASSWORD,
                                                             "provider": "db", "refresh": True}).json["refresh_token"]
    refresh = {"Authorization": f"Bearer {refresh_token}"}
    assert api.post("/api/v1/security/refresh", headers=refresh).status_code == 200
    with clean_app.app_context():
        user = clean_app.appbuilder.sm.find_user(username=world.logins["office"])
        clean_app.appbuilder.sm.reset_password(user.id, NEW_PASSWORD)
        db.session.remove()

    refused = api.get("/api/v1/member/", headers=headers)
    assert refused.status_code == 401 and refused.is_json
    assert api.post("/api/v1/security/refresh", headers=refresh).status_code == 401
    assert api.get("/api/v1/member/", headers=api_token(api, world.logins["office"], NEW_PASSWORD)).status_code == 200


def test_the_office_resetting_a_password_ends_that_users_sessions_only(client, clean_app, world):
    member = logged_in(clean_app, world.logins["member"])
    with clean_app.app_context():
        member_id = clean_app.appbuilder.sm.find_user(username=world.logins["member"]).id
        db.session.remove()
    assert login(client, world.logins["office"]).status_code == 302

    response = client.post(f"/resetpassword/form?pk={member_id}",
                           data={"password": NEW_PASSWORD, "conf_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert member.get(MEMBER_PAGE).status_code == 302
    assert client.get(OFFICE_PAGE).status_code == 200
    assert client.post("/resetpassword/form?pk=999999", data={"password": NEW_PASSWORD,
                                                             "conf_password": NEW_PASSWORD}).status_code == 404


def test_a_remember_me_cookie_opens_no_session(client, clean_app, world):
    """FAB issues none, but one made with the app's own key (as Flask-Login would) is refused too."""
    from flask_login.utils import encode_cookie

    with clean_app.app_context():
        office_id = clean_app.appbuilder.sm.find_user(username=world.logins["office"]).id
        db.session.remove()
    with clean_app.test_request_context():
        client.set_cookie("remember_token", encode_cookie(str(office_id)))
    assert client.get(OFFICE_PAGE).status_code == 302


@pytest.fixture()
def limited_client(app, world):
    """The same database through an app whose login rate limit is on, as in production."""
    from webapp import create_app

    limited = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         RATELIMIT_ENABLED=True, AUTH_RATE_LIMITED=True, AUTH_RATE_LIMIT="3 per minute",
                         AUTH_MAX_FAILED_LOGINS=100)
    return limited.test_client()


def test_the_login_api_is_rate_limited_like_the_form(limited_client, world):
    statuses = [limited_client.post("/api/v1/security/login", json={
        "username": world.logins["office"], "password": "Wrong-Password-1!", "provider": "db"}).status_code
        for _ in range(5)]
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]


def test_the_forgotten_password_page_is_rate_limited(limited_client, world):
    statuses = [limited_client.post("/password/forgot", data={"username": "75999999"}).status_code for _ in range(5)]
    assert statuses[:3] == [302, 302, 302] and statuses[3:] == [429, 429]


def test_wrong_passwords_through_the_api_lock_the_account(client, clean_app, world):
    username = world.logins["office"]
    for _ in range(clean_app.config["AUTH_MAX_FAILED_LOGINS"]):
        response = client.post("/api/v1/security/login",
                               json={"username": username, "password": "Wrong-1!", "provider": "db"})
        assert response.status_code == 401
    right = client.post("/api/v1/security/login", json={"username": username, "password": PASSWORD, "provider": "db"})
    assert right.status_code == 401  # locked: the right password is refused too
    assert "/login/" in login(client, username).headers["Location"]  # and in the form


@pytest.fixture()
def hash_work(monkeypatch):
    """Counts the password hash computations a request makes (werkzeug's one hashing function, whatever the method)."""
    import werkzeug.security

    calls = []
    real = werkzeug.security._hash_internal

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(werkzeug.security, "_hash_internal", counting)
    return calls


def _lock(clean_app, username: str) -> None:
    client = clean_app.test_client()
    for _ in range(clean_app.config["AUTH_MAX_FAILED_LOGINS"]):
        login(client, username, "Wrong-Password-1!")


@pytest.mark.parametrize("channel", ["form", "api"])
def test_unknown_and_locked_usernames_cost_the_same_hash_work_as_known_ones(client, clean_app, world, hash_work,
                                                                            channel):
    def attempt(username: str) -> int:
        hash_work.clear()
        if channel == "form":
            assert login(client, username, "Wrong-Password-1!").status_code == 302
        else:
            body = {"username": username, "password": "Wrong-Password-1!", "provider": "db"}
            assert client.post("/api/v1/security/login", json=body).status_code == 401
        return len(hash_work)

    known = attempt(world.logins["member"])
    _lock(clean_app, world.logins["office"])
    assert known == 1
    assert attempt("75999999") == known
    assert attempt(world.logins["office"]) == known  # locked


def test_the_forgotten_password_page_answers_before_looking_the_username_up(client, world, monkeypatch):
    from webapp.services import password_reset

    looked_up = []
    monkeypatch.setattr(password_reset, "request_reset", lambda username, channel: looked_up.append(username))
    answers = []
    for username in (world.logins["member"], "75999999"):
        response = client.post("/password/forgot", data={"username": username, "channel": "email"})
        assert looked_up == answers  # the answer is made, the lookup has not started
        answers.append(username)
        assert (response.status_code, response.headers["Location"]) == (302, "/password/forgot")
        response.close()  # the server has sent the answer
        assert looked_up == answers
    page = client.get("/password/forgot").get_data(as_text=True)
    assert translated(client.application, "If the username is registered with us, a link to choose a new password is "
                                          "on its way. The link works once and expires in 24 hours.") in page


@postgres_only
def test_concurrent_logouts_of_one_user_all_answer_and_end_every_session(clean_app, world, live_server):
    browsers = [browser_session(live_server, world.logins["office"]) for _ in range(4)]
    copies = [browser.cookies.get("session") for browser in browsers]
    responses = fire_together([lambda b=browser: b.get(f"{live_server}/logout/", allow_redirects=False)
                               for browser in browsers])
    assert [r.status_code for r in responses] == [302] * 4
    with clean_app.app_context():
        for copy in copies:
            assert not opens_with(clean_app, copy, OFFICE_PAGE)


def test_a_static_file_does_not_send_the_session_cookie_again_a_page_does(client, clean_app, world):
    """A stylesheet answered after the language switch must not put back the session from before it (the switch
    was lost when it did); a page keeps the idle expiry fresh."""
    login(client, world.logins["office"], PASSWORD)
    for path in ("/static/favicon.svg", "/static/appbuilder/css/ab.css"):
        response = client.get(path)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path
    page = client.get("/lang/en")
    assert "session=" in page.headers.get("Set-Cookie", "")
    assert "session=" in client.get("/unit/", follow_redirects=True).request.headers.get("Cookie", "")
