"""Production mode: the settings the app refuses to start with (webapp/production.py), each named in one line, in
the function, in create_app and in a real gunicorn started with the repository's gunicorn.conf.py."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from webapp import create_app, jobs
from webapp.production import ProductionSettingsError, problems

# Nothing here depends on the database engine: run once, in the SQLite pass.
pytestmark = pytest.mark.engine_independent

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POSTGRES = "postgresql+psycopg://app@db.example/medlem"
GOOD = {"SQLALCHEMY_DATABASE_URI": POSTGRES, "MAIL_SERVER": "smtp.example", "SECRET_KEY": "x" * 64}


def test_good_settings_have_no_problem():
    assert problems(GOOD, web_workers=4) == []
    assert problems({**GOOD, "SQLALCHEMY_DATABASE_URI": "sqlite:////srv/medlem.db"}, web_workers=1) == []


def test_sqlite_with_more_than_one_web_worker_is_refused():
    (line,) = problems({**GOOD, "SQLALCHEMY_DATABASE_URI": "sqlite:////srv/medlem.db"}, web_workers=2)
    assert line.startswith("DATABASE_URL: SQLite takes one web worker only, and WEB_WORKERS is 2")


@pytest.mark.parametrize("server", [None, "", "  "])
def test_no_mail_server_is_refused(server):
    (line,) = problems({**GOOD, "MAIL_SERVER": server}, web_workers=2)
    assert line.startswith("MAIL_SERVER: no mail server is set")


def test_no_secret_key_is_refused_and_every_problem_is_listed():
    found = problems({"SQLALCHEMY_DATABASE_URI": "sqlite://", "MAIL_SERVER": ""}, web_workers=3)
    assert [line.split(":")[0] for line in found] == ["DATABASE_URL", "MAIL_SERVER", "SECRET_KEY"]


def _config_value(name: str, **env) -> str:
    """A setting of config.Config as a fresh process with this environment reads it."""
    clean = {k: v for k, v in os.environ.items() if k not in ("APP_ENV", "MAIL_SERVER")}
    code = f"import config; print(repr(config.Config.{name}))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_the_mail_server_has_no_default_in_production_mode():
    assert _config_value("MAIL_SERVER") == "'127.0.0.1'"
    assert _config_value("MAIL_SERVER", APP_ENV="production") == "''"
    assert _config_value("MAIL_SERVER", APP_ENV="production", MAIL_SERVER="smtp.example") == "'smtp.example'"


def test_create_app_refuses_in_production_mode(app, monkeypatch, tmp_path):
    monkeypatch.setenv("WEB_WORKERS", "2")
    try:
        with pytest.raises(ProductionSettingsError) as refused:
            create_app("config.TestConfig", instance_path=str(tmp_path), APP_ENV="production", MAIL_SERVER="",
                       SQLALCHEMY_DATABASE_URI="sqlite:///" + str(tmp_path / "medlem.db"))
        assert [line.split(":")[0] for line in refused.value.problems] == ["DATABASE_URL", "MAIL_SERVER"]
        assert str(refused.value).startswith("Refusing to start in production mode (APP_ENV=production):\n- ")
        assert not (tmp_path / "secret_key").exists()  # refused before anything was made
        monkeypatch.setenv("WEB_WORKERS", "1")
        fine = create_app("config.TestConfig", instance_path=str(tmp_path), APP_ENV="production",
                          SQLALCHEMY_DATABASE_URI="sqlite:///" + str(tmp_path / "medlem.db"))
        assert fine.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    finally:
        jobs.use_app(app)


def _gunicorn(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`gunicorn -c gunicorn.conf.py ...` run from another folder, with a production environment plus `env`."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("MAIL_", "DATABASE_URL", "APP_", "WEB_", "SECRET_KEY", "HUEY_", "BIND"))}
    settings = {"DATABASE_URL": "sqlite:///" + str(tmp_path / "medlem.db"), "MAIL_SERVER": "127.0.0.1",
                "SECRET_KEY": secrets.token_hex(32), "HUEY_URL": "sqlite:///" + str(tmp_path / "huey.db"),
                "BIND": "127.0.0.1:0", **env}
    return subprocess.run([sys.executable, "-m", "gunicorn", "-c", os.path.join(ROOT, "gunicorn.conf.py"), *args],
                          cwd=tmp_path, env={**clean, **settings}, capture_output=True, text=True, timeout=120)


def test_gunicorn_refuses_sqlite_with_two_workers(tmp_path):
    result = _gunicorn(tmp_path, WEB_WORKERS="2")
    assert result.returncode == 1
    assert "Refusing to start in production mode" in result.stderr
    assert "DATABASE_URL: SQLite takes one web worker only, and WEB_WORKERS is 2" in result.stderr
    assert "Booting worker" not in result.stderr  # refused before a worker started
    # A `-w` flag counts as WEB_WORKERS does.
    result = _gunicorn(tmp_path, "-w", "3", WEB_WORKERS="1")
    assert result.returncode == 1 and "WEB_WORKERS is 3" in result.stderr


def test_gunicorn_refuses_without_a_mail_server(tmp_path):
    result = _gunicorn(tmp_path, WEB_WORKERS="1", MAIL_SERVER="")
    assert result.returncode == 1
    assert "MAIL_SERVER: no mail server is set" in result.stderr and "DATABASE_URL" not in result.stderr


def test_gunicorn_check_config_loads_the_app_and_it_refuses_too(tmp_path):
    """--check-config skips the hooks and loads the app: create_app's own check (WEB_WORKERS) refuses."""
    assert _gunicorn(tmp_path, "--check-config", WEB_WORKERS="1").returncode == 0
    result = _gunicorn(tmp_path, "--check-config", WEB_WORKERS="2")
    assert result.returncode == 1
    assert "DATABASE_URL: SQLite takes one web worker only, and WEB_WORKERS is 2" in result.stderr


@pytest.mark.parametrize(("proxies", "client_address"), [("0", "127.0.0.1"), ("1", "203.0.113.9")])
def test_wsgi_reads_the_client_address_behind_proxy_count_proxies(monkeypatch, proxies, client_address):
    """Behind PROXY_COUNT reverse proxies the app sees the client's address from X-Forwarded-For (the rate limits
    count users, not the proxy); without, the header is not trusted."""
    import runpy

    from werkzeug.middleware.proxy_fix import ProxyFix
    from werkzeug.test import EnvironBuilder

    monkeypatch.setenv("APP_CONFIG", "config.TestConfig")
    monkeypatch.setenv("PROXY_COUNT", proxies)
    monkeypatch.delenv("APP_ENV", raising=False)
    app = runpy.run_path(os.path.join(ROOT, "wsgi.py"))["app"]
    seen = []

    def remember(environ, _start):
        seen.append(environ["REMOTE_ADDR"])
        return []

    outer = app.wsgi_app
    if isinstance(outer, ProxyFix):
        outer.app = remember  # the app behind the proxy fix sees what it made of the request
    else:
        outer = remember
    outer(EnvironBuilder(path="/", headers={"X-Forwarded-For": "203.0.113.9"},
                         environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ(), lambda *args: None)
    assert seen == [client_address]
