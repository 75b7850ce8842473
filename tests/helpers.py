"""Helpers for driving the app as a user would: log in, choose a role, call the API."""

from __future__ import annotations

import os
from contextlib import contextmanager

from tests.factories import PASSWORD


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login/", data={"username": username, "password": password}, follow_redirects=False)


def login_as(client, username: str, role: str | None = None):
    """Log in; when the user has several roles, choose `role` (first option of that role)."""
    response = login(client, username)
    assert response.status_code == 302, response.data[:500]
    if role is not None:
        from webapp.extensions import db
        from webapp.security.scope import acting_options

        with client.application.app_context():
            user = client.application.appbuilder.sm.find_user(username=username)
            keys = [o.key for o in acting_options(user) if o.role == role]
            db.session.remove()
        assert keys, f"{username} cannot act as {role}"
        assert client.post("/acting/switch", data={"key": keys[0]}).status_code == 302
    return response


def api_token(client, username: str, password: str = PASSWORD) -> dict:
    response = client.post(
        "/api/v1/security/login", json={"username": username, "password": password, "provider": "db", "refresh": False}
    )
    assert response.status_code == 200, response.data
    return {"Authorization": f"Bearer {response.json['access_token']}"}


@contextmanager
def huey_consumer(app, queue_file):
    """A real Huey consumer in threads of this process over a SQLite queue file; afterwards the jobs run at once
    again (the test configuration's immediate mode), so no later test meets a queue."""
    from webapp import jobs

    jobs.configure("sqlite:///" + str(queue_file), immediate=False)
    jobs.use_app(app)
    running = jobs.start_consumer_thread(workers=1)
    try:
        yield running
    finally:
        jobs.stop_consumer(running)
        jobs.configure("memory://", immediate=True)


def fresh_app(tmp_path_factory, name: str, **settings):
    """A test app over a fresh schema for a module's own seeded data: TEST_DATABASE_URL's database, else a new
    SQLite file in a temporary folder named `name`."""
    from webapp import create_app
    from webapp.services.database import upgrade_schema

    url = os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + str(tmp_path_factory.mktemp(name) / "seed.db")
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url, **settings)
    with app.app_context():
        upgrade_schema(fresh=True)
    return app
