"""/health for a load balancer: 200 when the database answers, the schema is at the migrations' head, a worker
has beaten lately and the outbox is short; 503 naming the failing check otherwise, with nothing else told."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text, update

from tests.helpers import login_as
from webapp import create_app, jobs
from webapp.extensions import db
from webapp.models import OutboxMail, WorkerHeartbeat
from webapp.views.health import migration_heads

CHECKS = {"database", "migrations", "worker", "mail_queue"}


def _beat(app, age_seconds: float = 0.0) -> None:
    """A worker's heartbeat, `age_seconds` old."""
    with app.app_context():
        jobs.beat("test-worker:1", dt.datetime.now())
        db.session.execute(update(WorkerHeartbeat).values(
            seen_at=dt.datetime.now() - dt.timedelta(seconds=age_seconds)))
        db.session.commit()
        db.session.remove()


def _health(client) -> tuple[int, dict]:
    response = client.get("/health")
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.json


def test_all_well_answers_200(client, clean_app):
    _beat(clean_app)
    assert _health(client) == (200, {"status": "ok", "checks": dict.fromkeys(CHECKS, "ok")})


def test_no_worker_heartbeat_answers_503(client, clean_app):
    status, body = _health(client)
    assert status == 503
    assert body == {"status": "fail", "checks": {"database": "ok", "migrations": "ok", "worker": "fail",
                                                  "mail_queue": "ok"}}


def test_an_old_heartbeat_answers_503_and_a_recent_one_200(client, clean_app):
    gone = clean_app.config["WORKER_GONE_SECONDS"]
    _beat(clean_app, age_seconds=gone + 5)
    status, body = _health(client)
    assert (status, body["checks"]["worker"]) == (503, "fail")
    _beat(clean_app, age_seconds=gone - 5)
    assert _health(client)[0] == 200


def test_migrations_behind_answer_503(client, clean_app):
    _beat(clean_app)
    (head,) = migration_heads()
    with clean_app.app_context():
        from alembic.script import ScriptDirectory

        from webapp.views.health import MIGRATIONS_DIR

        previous = ScriptDirectory(MIGRATIONS_DIR).get_revision(head).down_revision
        db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": previous})
        db.session.commit()
        try:
            status, body = _health(client)
        finally:
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
            db.session.commit()
            db.session.remove()
    assert status == 503
    assert body["checks"] == {"database": "ok", "migrations": "fail", "worker": "ok", "mail_queue": "ok"}
    assert head not in json.dumps(body) and previous not in json.dumps(body)  # no revision is told


def test_a_long_mail_queue_answers_503_and_the_limit_can_be_off(client, clean_app, monkeypatch):
    _beat(clean_app)
    monkeypatch.setitem(clean_app.config, "HEALTH_MAIL_QUEUE_MAX", 2)
    with clean_app.app_context():
        for number in range(3):
            db.session.add(OutboxMail(sender="medlem@forbundet.example", recipients=json.dumps([f"m{number}@x.no"]),
                                      subject="s", body="b", created_at=dt.datetime.now(), attempts=0))
        db.session.commit()
        db.session.remove()
    status, body = _health(client)
    assert (status, body["checks"]["mail_queue"]) == (503, "fail")
    assert "3" not in json.dumps(body)  # the count stays in the log
    monkeypatch.setitem(clean_app.config, "HEALTH_MAIL_QUEUE_MAX", 0)
    assert _health(client)[0] == 200


def test_an_unreachable_database_answers_503_not_500_and_tells_nothing(app, tmp_path, caplog):
    url = "sqlite:///" + str(tmp_path / "no-such-folder" / "medlem.db")
    down = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url)
    try:
        response = down.test_client().get("/health")
    finally:
        jobs.use_app(app)  # the tests' app runs the jobs again
    assert response.status_code == 503
    assert response.json == {"status": "fail", "checks": {"database": "fail", "migrations": "skipped",
                                                           "worker": "skipped", "mail_queue": "skipped"}}
    body = response.get_data(as_text=True)
    assert "no-such-folder" not in body and "Error" not in body and "sqlite" not in body
    # The details are in the log, for whoever runs the server.
    assert any(getattr(r, "fields", {}).get("event") == "health" for r in caplog.records)


def test_health_failure_details_go_to_the_log(client, clean_app, caplog):
    caplog.set_level("WARNING", logger="webapp.views.health")
    _health(client)
    (record,) = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "health"]
    assert record.fields["checks"]["worker"]["status"] == "fail"
    assert "heartbeat" in record.fields["checks"]["worker"]["detail"]


@pytest.mark.parametrize("role", [None, "member", "office"])
def test_health_is_public_and_the_same_for_everyone(client, clean_app, world, role):
    """No login needed, no role choice in the way, and a login changes nothing (access matrix: public)."""
    _beat(clean_app)
    if role:
        login_as(client, world.logins[role], role)
    assert _health(client) == (200, {"status": "ok", "checks": dict.fromkeys(CHECKS, "ok")})
    assert client.post("/health").status_code == 405  # read only
