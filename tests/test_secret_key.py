"""The session key is never a published string: made at random on the first start, kept in the instance
folder (mode 600); a published or short SECRET_KEY stops the app (webapp/security/secret_key.py)."""

from __future__ import annotations

import os
import stat

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from webapp import create_app
from webapp.security.secret_key import KEY_FILE, InsecureSecretKey

# Nothing here depends on the database engine: run once, in the SQLite pass.
pytestmark = pytest.mark.engine_independent

PUBLISHED = "dev-only-change-me"  # the old default of config.Config


def production_app(app, instance_path, **overrides):
    """An app with the production settings (config.Config) over the test database."""
    settings = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "SERVER_NAME": "localhost",
                "SECRET_KEY": None}
    settings.update(overrides)
    return create_app("config.Config", instance_path=str(instance_path), **settings)


def test_without_secret_key_a_random_key_is_made_once_and_kept(app, tmp_path):
    first = production_app(app, tmp_path)
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert first.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 32 and first.config["SECRET_KEY"] != PUBLISHED

    second = production_app(app, tmp_path)
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]  # cookies survive a restart
    assert production_app(app, tmp_path / "elsewhere").config["SECRET_KEY"] != first.config["SECRET_KEY"]


def forged_session_cookie(secret_key: str, user_id: int) -> str:
    """What anyone who read the published key could sign: a session of the given user."""
    forger = Flask("forger")
    forger.secret_key = secret_key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    return serializer.dumps({"_user_id": str(user_id), "_fresh": True, "_id": "x", "session_generation": 0})


def test_a_cookie_signed_with_the_published_key_does_not_open_the_office_screens(app, world, tmp_path):
    production = production_app(app, tmp_path)
    with production.app_context():
        office_id = production.appbuilder.sm.find_user(username=world.logins["office"]).id
    client = production.test_client()
    client.set_cookie("session", forged_session_cookie(PUBLISHED, office_id))
    response = client.get("/memberview/list/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]

    # The forgery is right in every other respect: signed with the app's own key, the same cookie opens the page.
    client.set_cookie("session", forged_session_cookie(production.config["SECRET_KEY"], office_id))
    assert client.get("/memberview/list/").status_code == 200


@pytest.mark.parametrize("key", [PUBLISHED, "\2\1thisismyscretkey\1\2\\e\\y\\y\\h", "short-but-not-published"])
def test_a_published_or_short_secret_key_stops_the_app(app, tmp_path, key):
    with pytest.raises(InsecureSecretKey, match="SECRET_KEY"):
        production_app(app, tmp_path, SECRET_KEY=key)
    assert not (tmp_path / KEY_FILE).exists()


def test_a_long_random_secret_key_is_used_as_given(app, tmp_path):
    key = "k" * 8 + os.urandom(24).hex()
    assert production_app(app, tmp_path, SECRET_KEY=key).config["SECRET_KEY"] == key
    assert not (tmp_path / KEY_FILE).exists()


def test_the_test_configuration_still_starts_with_its_own_key(app, tmp_path):
    tests_app = create_app("config.TestConfig", instance_path=str(tmp_path),
                           SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    assert tests_app.testing and tests_app.config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert tests_app.test_client().get("/login/").status_code == 200
