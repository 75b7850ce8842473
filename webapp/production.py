"""Production mode (APP_ENV=production; gunicorn.conf.py sets it): the settings the app refuses to start with.

`problems(config, web_workers)` lists them, one line each naming the setting and the rule. gunicorn.conf.py's
`on_starting` hook calls it with gunicorn's worker count and stops the server with the lines (exit status 1)
before any worker starts; create_app calls it too (worker count from WEB_WORKERS), so `flask --app run worker`
and any other start in production mode refuse the same settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy.engine import make_url

PRODUCTION = "production"


class ProductionSettingsError(RuntimeError):
    """Settings unfit for production: the message has one line per problem."""

    def __init__(self, found: list[str]):
        self.problems = found
        super().__init__("Refusing to start in production mode (APP_ENV=production):\n" + "\n".join(
            f"- {line}" for line in found))


def is_production(config: Mapping) -> bool:
    return str(config.get("APP_ENV") or "").strip().lower() == PRODUCTION


def web_workers_from_env(default: int = 2) -> int:
    """WEB_WORKERS (gunicorn's worker count; gunicorn.conf.py reads it too)."""
    value = os.environ.get("WEB_WORKERS", "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ProductionSettingsError([f"WEB_WORKERS: {value!r} is not a whole number"]) from None


def problems(config: Mapping, web_workers: int) -> list[str]:
    """What is wrong with these settings for production, one line a problem (empty: nothing)."""
    found = []
    url = config.get("SQLALCHEMY_DATABASE_URI") or ""
    if url and make_url(url).get_backend_name() == "sqlite" and web_workers > 1:
        found.append(f"DATABASE_URL: SQLite takes one web worker only, and WEB_WORKERS is {web_workers}: "
                     "use PostgreSQL (postgresql+psycopg://...) or WEB_WORKERS=1")
    if not str(config.get("MAIL_SERVER") or "").strip():
        found.append("MAIL_SERVER: no mail server is set: set MAIL_SERVER (and MAIL_PORT, MAIL_USERNAME, "
                     "MAIL_PASSWORD, MAIL_USE_TLS as the server needs); mail would only pile up in the outbox")
    if not config.get("SECRET_KEY"):
        found.append("SECRET_KEY: not set: set it to one long random value shared by every web worker and machine "
                     "(a key file made in one machine's instance folder is not)")
    return found


def check(app) -> None:
    """create_app's check in production mode (before the secret key file is made): raise ProductionSettingsError
    listing every problem.

    Production also hides the values of failed SQL statements from errors and logs (they may name a member), and
    tests a pooled database connection before use (a restarted PostgreSQL does not fail the next request)."""
    if not is_production(app.config):
        return
    found = problems(app.config, web_workers_from_env())
    if found:
        raise ProductionSettingsError(found)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "hide_parameters": True, "pool_pre_ping": True, **(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})}
