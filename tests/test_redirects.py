"""Every redirect stays on this site, whatever `next=`, Referer or page history asks for
(webapp/security/redirects.py)."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.helpers import login, login_as
from webapp.security.redirects import safe_next

HOSTILE_TARGETS = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "https://evil.example/steal",
    "http://evil.example",
    "HTTPS://EVIL.EXAMPLE",
    "http:/evil.example",
    "https:evil.example",
    "http://localhost@evil.example/",
    "http://localhost:9999/evil",
    "http://127.0.0.1/evil",
    "//localhost@evil.example",
    "javascript:alert('evil')",
    "JaVaScRiPt:alert('evil')",
    "data:text/html,evil",
    "evil.example/path",
]


def stays_on_site(location: str) -> bool:
    """An independent check of a Location header: a plain path of this site, nothing of the hostile target."""
    path = location.split("?", 1)[0]
    return (location.startswith("/") and not location.startswith(("//", "/\\")) and "evil" not in location.lower()
            and ":" not in path and not any(ord(char) < 33 for char in location))


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_safe_next_refuses_other_sites(app, target):
    with app.test_request_context("/", base_url="http://localhost"):
        assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target, expected", [
    ("/memberview/list/?psize_MemberView=25", "/memberview/list/?psize_MemberView=25"),
    ("/minside/", "/minside/"),
    ("http://localhost/memberview/show/3?x=1", "/memberview/show/3?x=1"),  # FAB's page history keeps full URLs
    ("", "/fallback"),
    (None, "/fallback"),
])
def test_safe_next_keeps_paths_of_this_site(app, target, expected):
    with app.test_request_context("/", base_url="http://localhost"):
        assert safe_next(target, "/fallback") == expected


def test_login_form_next(client, world):
    for target in HOSTILE_TARGETS:
        response = client.post("/login/", query_string={"next": target},
                               data={"username": world.logins["office"], "password": PASSWORD})
        assert response.status_code == 302 and stays_on_site(response.headers["Location"]), (target, response.headers)
        already = client.get("/login/", query_string={"next": target})  # logged in: FAB redirects to next at once
        assert already.status_code == 302 and stays_on_site(already.headers["Location"]), target
        client.get("/logout/", query_string={"next": target})


def test_logout_next(client, world):
    for target in HOSTILE_TARGETS:
        login(client, world.logins["office"])
        response = client.get("/logout/", query_string={"next": target})
        assert response.status_code == 302 and stays_on_site(response.headers["Location"]), target


def test_confidentiality_declaration_next(client, world):
    login_as(client, world.logins["leader"], "leader")  # an officer who has not yet declared
    for target in HOSTILE_TARGETS:
        page = client.get("/confidentiality/", query_string={"next": target}).get_data(as_text=True)
        assert "evil" not in page.lower(), target  # not carried into the form either
        response = client.post("/confidentiality/", data={"confirm": "yes", "next": target})
        assert response.status_code == 302 and stays_on_site(response.headers["Location"]), target


def test_language_switch_and_acting_role_switch(client, world):
    login(client, world.logins["office"])
    client.get("/memberview/list/")
    for target in HOSTILE_TARGETS:
        headers = {"Referer": target} if target.isprintable() else {}
        response = client.get("/lang/en", query_string={"next": target}, headers=headers)
        assert response.status_code == 302 and stays_on_site(response.headers["Location"]), target
        switched = client.post("/acting/switch", query_string={"next": target}, data={"key": "office:all:0"},
                               headers=headers)
        assert switched.status_code == 302 and stays_on_site(switched.headers["Location"]), target


def test_any_redirect_the_app_answers_is_kept_on_site(app):
    """The guard covers every code path, also one that redirects to whatever it is given (as FAB's add does with
    the Referer): an app with such a route, over the same database."""
    from flask import redirect, request

    from webapp import create_app

    guarded = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         SERVER_NAME="localhost")
    guarded.add_url_rule("/bounce", "bounce", lambda: redirect(request.args["to"]))
    client = guarded.test_client()
    for target in (t for t in HOSTILE_TARGETS if "\n" not in t):  # werkzeug itself refuses a newline in a header
        response = client.get("/bounce", query_string={"to": target})
        assert response.status_code == 302 and response.headers["Location"] == "/", target
    assert client.get("/bounce", query_string={"to": "/minside/?tab=2"}).headers["Location"] == "/minside/?tab=2"
    assert client.get("/bounce", query_string={"to": "http://localhost/minside/"}).headers["Location"] == "/minside/"
