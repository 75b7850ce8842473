"""Login protection, security headers, CSRF, safe redirects, confidentiality declaration, audit of reads."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.factories import PASSWORD, make_member, make_user
from tests.helpers import login, login_as
from webapp.extensions import db
from webapp.models import AuditEntry, ConfidentialityDeclaration, LoginLock, OrgUnit, Position
from webapp.models.choices import PositionType


def test_account_locks_after_wrong_passwords_even_for_the_right_one(client, world, dbs, clean_app):
    username = world.logins["office"]
    attempts = clean_app.config["AUTH_MAX_FAILED_LOGINS"]
    for _ in range(attempts):
        assert "/login/" in login(client, username, "Wrong-Password-1!").headers["Location"]
    locked = login(client, username, PASSWORD)
    assert "/login/" in locked.headers["Location"]  # right password, still refused
    user = clean_app.appbuilder.sm.find_user(username=username)
    lock = dbs.get(LoginLock, user.id)
    assert lock.locked_until > dt.datetime.now()
    api = client.post("/api/v1/security/login", json={"username": username, "password": PASSWORD, "provider": "db"})
    assert api.status_code == 401

    # When the lock period has passed, the right password works again.
    lock.locked_until = dt.datetime.now() - dt.timedelta(seconds=1)
    dbs.commit()
    assert login(client, username, PASSWORD).headers["Location"].endswith("/")
    dbs.expire_all()
    assert dbs.get(LoginLock, user.id) is None
    actions = set(dbs.scalars(select(AuditEntry.action)))
    assert {"account_locked", "login_refused_locked"} <= actions


def test_security_headers(client, world):
    response = client.get("/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'nonce-" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)


def test_session_cookie_flags(client, world):
    response = login(client, world.logins["office"])
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # permanent session: it expires when idle


def test_login_does_not_redirect_elsewhere(client, world):
    response = client.post("/login/?next=https://elsewhere.example/steal",
                           data={"username": world.logins["office"], "password": PASSWORD})
    assert response.status_code == 302
    assert "elsewhere.example" not in response.headers["Location"]


@pytest.fixture()
def csrf_client(app):
    """The same database through an app with CSRF protection switched on, as in production."""
    from webapp import create_app

    protected = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                           WTF_CSRF_ENABLED=True)
    return protected.test_client()


def test_form_post_without_csrf_token_is_refused(csrf_client, world, dbs):
    response = csrf_client.post("/login/", data={"username": world.logins["office"], "password": PASSWORD})
    assert response.status_code == 400  # no token, no login
    page = csrf_client.get("/login/").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = csrf_client.post("/login/",
                          data={"username": world.logins["office"], "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 302
    before = dbs.scalar(select(db.func.count()).select_from(OrgUnit))
    refused = csrf_client.post("/orgunitview/add", data={"code": "X9", "name": "Uten token", "level": "club",
                                                         "parent": str(world.units["AV1"].id)})
    assert refused.status_code == 400
    assert dbs.scalar(select(db.func.count()).select_from(OrgUnit)) == before


def test_officer_confirms_confidentiality_before_first_member_list(client, world, dbs, clean_app):
    with clean_app.app_context():
        unit = db.session.get(OrgUnit, world.units["AV1"].id)
        member = make_member(unit, "Ny", "Leder")
        user = make_user(member.member_no, "Ny", "Leder")
        member.user = user
        db.session.add(Position(member=member, type=PositionType.leader, org_unit=unit,
                                start_date=dt.date.today() - dt.timedelta(days=1)))
        db.session.commit()
        username = user.username
        db.session.remove()
    login_as(client, username, "leader")
    response = client.get("/memberview/list/")
    assert response.status_code == 302 and "/confidentiality/" in response.headers["Location"]
    assert client.get(f"/memberview/show/{world.members['inside'].id}").status_code == 302
    confirmed = client.post("/confidentiality/", data={"confirm": "yes", "next": "/memberview/list/"})
    assert confirmed.headers["Location"].endswith("/memberview/list/")
    page = client.get("/memberview/list/").get_data(as_text=True)
    assert "Taushetsplikt" in page
    declaration = dbs.scalars(select(ConfidentialityDeclaration).join(ConfidentialityDeclaration.user)
                              .where(ConfidentialityDeclaration.user.has(username=username))).one()
    assert declaration.confirmed_at.date() == dt.date.today()


def test_opening_a_member_record_is_audited(client, world, dbs):
    login_as(client, world.logins["treasurer"], "treasurer")
    member_id = world.members["inside"].id
    assert client.get(f"/memberview/show/{member_id}").status_code == 200
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "open_member")).one()
    assert entry.member_id == member_id
    assert entry.username == world.logins["treasurer"] and entry.role == "treasurer"


def test_changes_are_audited_with_fields_and_found_by_member(client, world, dbs):
    member = world.members["inside"]
    login_as(client, world.logins["member_data_admin"], "member_data_admin")
    from tests.helpers import api_token

    headers = api_token(client, world.logins["member_data_admin"])
    assert client.put(f"/api/v1/member/{member.id}", json={"city": "Ås", "national_id": "15108695088"},
                      headers=headers).status_code == 200
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "update",
                                                 AuditEntry.member_id == member.id)).one()
    import json

    fields = json.loads(entry.details)["fields"]
    assert fields["city"][1] == "Ås"
    assert fields["national_id"] == [member.national_id[:6] + "*****", "151086*****"]  # masked, old and new
    assert entry.username == world.logins["member_data_admin"]

    client.get("/logout/")
    login_as(client, world.logins["office"])
    page = client.get(f"/auditlogview/list/?_flt_0_member_id={member.id}").get_data(as_text=True)
    assert "update" in page
    assert client.get(f"/auditlogview/edit/{entry.id}").status_code in (302, 403, 404, 405)
    assert client.post(f"/auditlogview/delete/{entry.id}").status_code in (302, 403, 404, 405)
    assert dbs.get(AuditEntry, entry.id) is not None


def test_repeated_logins_from_one_address_are_slowed_down(app, world):
    from webapp import create_app

    limited = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         RATELIMIT_ENABLED=True, AUTH_RATE_LIMITED=True, AUTH_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    statuses = [client.post("/login/", data={"username": "nobody", "password": "x"}).status_code for _ in range(5)]
    assert statuses[:3] == [302, 302, 302] and 429 in statuses[3:]


def test_downloads_are_audited(client, portal, dbs):
    world = portal
    login(client, world.logins["deduction_contact"])
    client.post("/portal/lists/new/2026-03")
    from webapp.models import DeductionList

    draft = dbs.scalars(select(DeductionList)).one()
    assert client.get(f"/portal/lists/{draft.id}/template.csv").status_code == 200
    assert client.get(f"/portal/lists/{draft.id}/pdf").status_code == 200
    entries = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "download")).all()
    assert {e.details.split('"file": "')[1].split('"')[0].rsplit(".", 1)[1] for e in entries} == {"csv", "pdf"}
    assert all(e.username == world.logins["deduction_contact"] for e in entries)
