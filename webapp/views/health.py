"""`/health` for a load balancer or a monitor: public, JSON, 200 when all is well and 503 otherwise.

    {"status": "ok" | "fail", "checks": {"database": ..., "migrations": ..., "worker": ..., "mail_queue": ...}}

Each check is "ok" or "fail" ("skipped" when the database is down and the check needs it):
- database: a `SELECT 1` answers;
- migrations: the database's Alembic revision is the migrations' head (else `flask --app run db upgrade`);
- worker: a background-jobs worker has written a heartbeat in the last WORKER_GONE_SECONDS;
- mail_queue: at most HEALTH_MAIL_QUEUE_MAX mails wait in the outbox (0: not checked).

The answer names no revision, version, count or error (a failing check's details go to the log, a
warning line with event "health"). No login, no session work, no rate limit (a plain blueprint: no FAB permission,
no limits), GET only (no CSRF).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from functools import cache

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from webapp.extensions import db

blueprint = Blueprint("health", __name__)
log = logging.getLogger(__name__)

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                              "migrations")
OK, FAIL, SKIPPED = "ok", "fail", "skipped"


@cache
def migration_heads() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code (read once a process)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(MIGRATIONS_DIR).get_heads())


def _database() -> tuple[str, str]:
    db.session.execute(text("SELECT 1"))
    return OK, "answers"


def _migrations() -> tuple[str, str]:
    current = frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    heads = migration_heads()
    if current != heads:
        return FAIL, f"database at {sorted(current)}, code at {sorted(heads)}: run `flask --app run db upgrade`"
    return OK, "at head"


def _worker() -> tuple[str, str]:
    from webapp.jobs import worker_seen_at

    seen = worker_seen_at()
    gone_after = float(current_app.config.get("WORKER_GONE_SECONDS", 120))
    if seen is None:
        return FAIL, "no worker has ever written a heartbeat (is `flask --app run worker` running?)"
    age = (dt.datetime.now() - seen).total_seconds()  # heartbeats are the servers' local time, as here
    if age > gone_after:
        return FAIL, f"newest worker heartbeat is {age:.0f} s old (WORKER_GONE_SECONDS={gone_after:g})"
    return OK, f"heartbeat {age:.0f} s ago"


def _mail_queue() -> tuple[str, str]:
    from webapp.services.mail import waiting_count

    limit = int(current_app.config.get("HEALTH_MAIL_QUEUE_MAX") or 0)
    if limit <= 0:
        return OK, "not checked (HEALTH_MAIL_QUEUE_MAX=0)"
    waiting = waiting_count()
    if waiting > limit:
        return FAIL, f"{waiting} mails wait in the outbox (HEALTH_MAIL_QUEUE_MAX={limit})"
    return OK, f"{waiting} waiting"


CHECKS = {"database": _database, "migrations": _migrations, "worker": _worker, "mail_queue": _mail_queue}


def run_checks() -> dict[str, tuple[str, str]]:
    """Every check's result and its detail (for the log); after a failing database the others are skipped."""
    results: dict[str, tuple[str, str]] = {}
    for name, check in CHECKS.items():
        if name != "database" and results["database"][0] != OK:
            results[name] = (SKIPPED, "the database does not answer")
            continue
        try:
            results[name] = check()
        except Exception as exc:  # any failure of a check is that check failing, never a 500
            db.session.rollback()
            results[name] = (FAIL, f"{type(exc).__name__}")
            log.warning("health check %s raised", name, exc_info=True)
    return results


@blueprint.get("/health")
def health():
    started = dt.datetime.now()
    try:
        results = run_checks()
    finally:
        db.session.remove()
    healthy = all(status == OK for status, _ in results.values())
    if not healthy:
        log.warning("health: %s", ", ".join(f"{name} {status}" for name, (status, _) in results.items()
                                             if status != OK),
                    extra={"fields": {"event": "health", "checks": {name: {"status": status, "detail": detail}
                                                                     for name, (status, detail) in results.items()},
                                      "check_ms": round((dt.datetime.now() - started).total_seconds() * 1000)}})
    response = jsonify(status=OK if healthy else FAIL, checks={name: status for name, (status, _) in results.items()})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
