"""Test fixtures: one app per test session, a clean database for every test.

The suite runs on SQLite by default, and on PostgreSQL when TEST_DATABASE_URL
points at one (`.ci/run` does both). Run in parallel (pytest-xdist, `-n 2` in
tests/run.sh), each worker has a database of its own: a SQLite file in its
temporary folder, or on PostgreSQL the database TEST_DATABASE_URL names with the
worker's name appended, made when missing.
"""

from __future__ import annotations

import os
import pathlib
import socket
from contextlib import contextmanager

import pytest

from webapp import create_app
from webapp.extensions import db
from webapp.services.database import upgrade_schema


def _worker_database_url(url: str, worker: str) -> str:
    """The PostgreSQL database of one xdist worker beside the one `url` names, created when missing."""
    from sqlalchemy import create_engine, make_url, text

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


# Before any test module reads it: every fixture and test of this worker uses the worker's own database.
if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
    os.environ["TEST_DATABASE_URL"] = _worker_database_url(os.environ["TEST_DATABASE_URL"],
                                                           os.environ["PYTEST_XDIST_WORKER"])

# Tables that hold reference data every test needs (FAB's role rows).
KEPT_TABLES = {"ab_role", "ab_permission", "ab_view_menu", "ab_permission_view", "ab_permission_view_role",
               "alembic_version"}


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "engine_independent: the test checks what no database engine changes (catalogs, configuration, markup, "
        "screenshots, the browser's side of a page); it runs once, in the SQLite pass, and is skipped in the "
        "PostgreSQL pass. Every test under tests/browser/ counts as one",
    )


# The longest test files (pytest --durations), handed to the xdist workers first: a long file started last would
# leave the other worker idle to the end.
LONGEST_FILES = ["test_norwegian_everywhere.py", "test_screen_fuzz.py", "test_reports_demo.py", "test_refunds.py",
                 "test_seed_direct_billing.py", "test_guide_screens.py", "test_accessibility.py", "test_api_fuzz.py",
                 "test_production.py", "test_access_matrix.py", "test_pages.py", "test_reminders_arrears.py"]


# The browser tests check what the browser does with the pages (scripts, layout, accessibility, language); the
# requests under them are the ones the test-client tests send on both engines. They run in the SQLite pass.
BROWSER_TESTS = pathlib.Path(__file__).resolve().parent / "browser"


def pytest_collection_modifyitems(config, items):
    def longest_first(item) -> int:
        name = item.path.name
        return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=longest_first)  # stable: each file's tests keep their order
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        return
    once = pytest.mark.skip(reason="engine independent: runs in the SQLite pass")
    for item in items:
        if item.get_closest_marker("engine_independent") or BROWSER_TESTS in item.path.parents:
            item.add_marker(once)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url, SERVER_NAME="localhost")
    with app.app_context():
        upgrade_schema(fresh=True)
    yield app


def wipe_database() -> None:
    """Delete every row but the role definitions, children first. One query finds the tables that have rows (a
    test fills a few of the ~80), so the empty ones cost no statement of their own."""
    from flask_appbuilder import Model
    from sqlalchemy import text

    db.session.rollback()
    tables = [table for table in Model.metadata.sorted_tables if table.name not in KEPT_TABLES]
    quote = db.engine.dialect.identifier_preparer.quote
    filled = set(db.session.scalars(text(" UNION ALL ".join(
        f"SELECT '{table.name}' WHERE EXISTS (SELECT 1 FROM {quote(table.name)})" for table in tables
    ))))
    for table in reversed(tables):
        if table.name in filled:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def jobs_run_at_once():
    """Every test starts with TestConfig's jobs: run at once where started. The process has one Huey, and a test
    that made an app of another configuration (a notebook's, from config.Config) pointed it at a queue file."""
    from webapp import jobs

    if not jobs.huey.immediate:
        jobs.configure("memory://", immediate=True)


@pytest.fixture()
def clean_app(app):
    """The app over an empty database. Tests open their own app context for DB checks,
    so that each request runs in a fresh context and session, as in production."""
    with app.app_context():
        wipe_database()
        db.session.remove()
    return app


@pytest.fixture()
def app_ctx(clean_app):
    """An app context held for the whole test, for tests of services without requests."""
    with clean_app.app_context():
        yield clean_app
        db.session.remove()


@pytest.fixture()
def client(clean_app):
    return clean_app.test_client()


@pytest.fixture()
def world(clean_app):
    """A small register with one login for every role (see tests/factories.py).

    Its rows are detached and loaded, so tests read ids and values freely."""
    from tests.factories import build_world

    with clean_app.app_context():
        built = build_world()
        db.session.remove()
    return built


# The month the `portal` fixture makes the deduction bases of.
PORTAL_PERIOD = "2026-03"


@pytest.fixture()
def portal(clean_app, world):
    """World with the March basis made for both employers: the deduction portal has a month to show."""
    from tests.factories import add_initial_rate
    from webapp.services import deduction_basis
    from webapp.services.periods import Month

    with clean_app.app_context():
        add_initial_rate()
        deduction_basis.generate(Month.parse(PORTAL_PERIOD))
        db.session.remove()
    return world


@pytest.fixture()
def dbs(clean_app):
    """The database session inside an app context, for checks after requests."""
    with clean_app.app_context():
        yield db.session
        db.session.remove()


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP on loopback by a threaded server: browsers and concurrent clients use it."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class CapturedMail:
    """The messages a real SMTP server on loopback received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"to": envelope.rcpt_tos, "message": message})
        return "250 OK"

    def bodies(self) -> list[str]:
        return [m["message"].get_body(preferencelist=("plain",)).get_content() for m in self.messages]


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def mail_to_loopback(app, port: int):
    """The app's mail goes to 127.0.0.1:`port` (really sent) inside the block; its settings come back after."""
    state = app.extensions["mail"]
    saved = (state.server, state.port, state.suppress)
    state.server, state.port, state.suppress = "127.0.0.1", port, False
    try:
        yield
    finally:
        state.server, state.port, state.suppress = saved


@pytest.fixture()
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on 127.0.0.1; the app's mail goes to it during the test."""
    from aiosmtpd.controller import Controller

    port = free_loopback_port()
    handler = CapturedMail()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with mail_to_loopback(app, port):
            yield handler
    finally:
        controller.stop()
