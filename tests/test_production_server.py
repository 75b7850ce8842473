"""The production setup end to end: gunicorn with the repository's gunicorn.conf.py and two workers, the jobs worker
(`flask --app run worker`) on Redis, PostgreSQL and a real SMTP server, all as separate processes in production
mode. The office asks for an approved quarter's largest member list, lands on the job page, follows its progress,
and downloads the finished PDF; /health answers 200, and 503 naming the worker once the worker is stopped.

Runs on PostgreSQL with Redis only (TEST_DATABASE_URL, TEST_REDIS_URL: `.ci/run` provides both)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from tests.conftest import CapturedMail, free_loopback_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql") and REDIS_URL),
    reason="needs PostgreSQL (TEST_DATABASE_URL) and Redis (TEST_REDIS_URL): .ci/run provides both",
)
MEMBERS = 1200
HEARTBEAT_SECONDS, GONE_SECONDS = 1, 3
ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{11}(?!\d)")


def _redis_url() -> str:
    """TEST_REDIS_URL's database, one below it per pytest-xdist worker (gw1: 14), so parallel runs do not meet."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    base, _, number = REDIS_URL.rpartition("/")
    offset = int(worker[2:]) if worker[2:].isdigit() else 0
    return f"{base}/{max(0, int(number or 15) - offset)}"


def _prepare_register(app) -> dict:
    """A register of MEMBERS members, the last complete quarter calculated and approved (its documents not kept
    yet); what the largest unit's list must show, and the office's login."""
    from seed.generator import generate
    from seed.refunds import ensure_default_policy, last_quarters
    from webapp.extensions import db
    from webapp.models import DemoAccount, RefundDocument, RefundUnit
    from webapp.services import refunds

    with app.app_context():
        generate(members=MEMBERS, employers=MEMBERS // 10, seed=1, reset=False, progress=False)
        ensure_default_policy()
        quarter = last_quarters(dt.date.today(), 1)[0]
        run = refunds.calculate(quarter, pool_ore=MEMBERS * 65_00, actor="test")
        refunds.approve(quarter, actor="test")
        largest = db.session.scalars(
            select(RefundUnit).where(RefundUnit.run_id == run.id, RefundUnit.receives_refunds.is_(True))
            .order_by(RefundUnit.member_count.desc(), RefundUnit.id)).first()
        counted = list(refunds.counted_members(largest))
        office = db.session.scalar(select(DemoAccount.username).where(DemoAccount.role == "office"))
        facts = {"unit_id": largest.id, "unit_name": largest.name, "count": len(counted),
                 "members": [(m.member_no, m.name) for m in (counted[0], counted[len(counted) // 2], counted[-1])],
                 "office": office, "password": app.config["DEMO_PASSWORD"],
                 "kept": db.session.scalar(select(func.count(RefundDocument.id)))}
        db.session.remove()
    assert facts["count"] >= 200, facts["count"]  # a few hundred members in the largest unit
    assert facts["kept"] == 0  # the list is rendered by the job, not already kept
    return facts


class Processes:
    """The test's subprocesses, each in a session of its own (killed with its children), logs in files."""

    def __init__(self, folder):
        self.folder = folder
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        out = open(self.folder / f"{name}.log", "w")  # closed in stop()
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        process.log_file = out
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text()

    def check_alive(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}")

    def stop(self, name: str, timeout: float = 20) -> int:
        process = self.running[name]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        process.log_file.close()
        return process.returncode

    def stop_all(self) -> None:
        for name in list(self.running):
            try:
                self.stop(name)
            except ProcessLookupError:
                pass


def _wait_for(what: str, condition, timeout: float, processes: Processes | None = None, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        if processes is not None:
            processes.check_alive()
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def _health(base: str) -> tuple[int, dict] | None:
    import requests

    try:
        response = requests.get(base + "/health", timeout=5)
    except (requests.ConnectionError, requests.Timeout):  # not listening yet, or its workers still booting
        return None
    return response.status_code, response.json()


def _json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_gunicorn_and_the_worker_on_postgres_and_redis_render_the_largest_list_as_a_job(clean_app, tmp_path):
    import redis
    import requests
    from aiosmtpd.controller import Controller
    from pypdf import PdfReader

    started = time.monotonic()
    facts = _prepare_register(clean_app)
    prepared = time.monotonic() - started
    queue = redis.Redis.from_url(_redis_url())
    queue.flushdb()
    smtp_port, web_port = free_loopback_port(), free_loopback_port()
    smtp = Controller(CapturedMail(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    base = f"http://127.0.0.1:{web_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "HUEY_", "APP_", "WEB_", "LOG_"))}
    env.update({
        "APP_ENV": "production", "DATABASE_URL": clean_app.config["SQLALCHEMY_DATABASE_URI"],
        "HUEY_URL": _redis_url(), "SECRET_KEY": secrets.token_hex(32), "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port), "WEB_WORKERS": "2", "BIND": f"127.0.0.1:{web_port}",
        "WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS), "WORKER_GONE_SECONDS": str(GONE_SECONDS),
        "LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1",
    })
    processes = Processes(tmp_path)
    try:
        processes.start("gunicorn", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], env)
        processes.start("worker", [sys.executable, "-m", "flask", "--app", "run", "worker"], env)
        _wait_for("/health 200", lambda: (_health(base) or (0,))[0] == 200, 120, processes)
        serving = time.monotonic() - started

        session = requests.Session()
        form = session.get(base + "/login/", timeout=10)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text).group(1)
        login = session.post(base + "/login/", data={"username": facts["office"], "password": facts["password"],
                                                     "csrf_token": token}, allow_redirects=False, timeout=30)
        assert login.status_code == 302 and "/login" not in login.headers["Location"], login.text[:300]

        list_url = f"/refunds/{facts['unit_id']}/list.pdf"
        asked = time.monotonic()
        answer = session.get(base + list_url, allow_redirects=False, timeout=10)
        answer_ms = (time.monotonic() - asked) * 1000
        assert answer.status_code == 303, answer.text[:300]
        job_path = answer.headers["Location"].replace(base, "")
        job_id = int(re.fullmatch(r"/jobs/(\d+)", job_path).group(1))
        page = session.get(base + job_path, timeout=10)
        assert page.status_code == 200 and 'role="progressbar"' in page.text

        states = []

        def finished():
            state = session.get(f"{base}/jobs/{job_id}.json", timeout=10).json()
            states.append(state)
            return state if state["finished"] else None

        final = _wait_for("the job to finish", finished, 60, processes, every=0.1)
        assert final["status"] == "done", final
        assert final["percent"] == 100 and final["total"] and final["log"]
        assert final["result_url"] == list_url

        pdf = session.get(base + final["result_url"], timeout=30)
        assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
        pages = PdfReader(io.BytesIO(pdf.content)).pages
        text = "\n".join(page.extract_text() for page in pages).replace("\u00a0", " ")
        assert facts["unit_name"] in text and str(facts["count"]) in text
        for member_no, name in facts["members"]:
            assert member_no in text and name in text, (member_no, name)

        status, body = _health(base)
        assert (status, body) == (200, {"status": "ok", "checks": {"database": "ok", "migrations": "ok",
                                                                    "worker": "ok", "mail_queue": "ok"}})
        stopped = time.monotonic()
        assert processes.stop("worker") == 0  # SIGTERM: the worker finishes and leaves
        status, body = _wait_for("/health 503", lambda: (h := _health(base)) and h[0] == 503 and h, GONE_SECONDS + 10)
        assert time.monotonic() - stopped >= GONE_SECONDS - HEARTBEAT_SECONDS
        assert body == {"status": "fail", "checks": {"database": "ok", "migrations": "ok", "worker": "fail",
                                                     "mail_queue": "ok"}}

        # The logs: a JSON line for every request (the office's, with its role), one for the job; no national id.
        web_log, worker_log = processes.log("gunicorn"), processes.log("worker")
        requests_logged = [line for line in _json_lines(web_log) if line.get("event") == "request"]
        (asked_line,) = [line for line in requests_logged if line["path"] == list_url and line["status"] == 303]
        assert asked_line["role"] == "office" and asked_line["user_id"] and asked_line["duration_ms"] >= 0
        assert any(line["path"] == "/health" and line["status"] == 503 for line in requests_logged)
        assert any(line.get("event") == "job" and line["job_id"] == job_id and line["status"] == "done"
                   for line in _json_lines(worker_log))
        assert not ELEVEN_DIGITS.search(web_log + worker_log)
        print(f"\nprepared {MEMBERS} members in {prepared:.1f} s, serving after {serving:.1f} s; the list of "
              f"{facts['count']} members answered a job page in {answer_ms:.0f} ms, the job took "
              f"{len(states)} polls; total {time.monotonic() - started:.1f} s")
    finally:
        processes.stop_all()
        smtp.stop()
        queue.flushdb()
