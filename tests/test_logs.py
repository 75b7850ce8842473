"""Structured logs (webapp/logs.py): one JSON line per request, per job and per outgoing mail, with who and how
long; never a national id (any 11-digit run is masked, in the path, the message, the fields and a traceback),
never a name, an address's local part, a subject or a body.

The tests' app leaves the root logger alone (TestConfig LOG_FORMAT=off); `json_log` adds the production
handler for one test and takes it away after, so pytest's caplog and capture work as before for the others."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from flask_mail import Message
from sqlalchemy import select

from tests.conftest import free_loopback_port, mail_to_loopback
from tests.helpers import login_as
from webapp import logs
from webapp.extensions import db
from webapp.jobs import job_task, report_progress, start_job
from webapp.models import Member
from webapp.services import mail

ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{11}(?!\d)")


class Lines:
    def __init__(self):
        self.stream = io.StringIO()

    def all(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines() if line.strip()]

    def events(self, event: str) -> list[dict]:
        return [line for line in self.all() if line.get("event") == event]

    @property
    def text(self) -> str:
        """Every line but those of the test's SMTP server (aiosmtpd logs what it receives as "mail.log")."""
        return "\n".join(json.dumps(line, ensure_ascii=False) for line in self.all() if line["logger"] != "mail.log")


@pytest.fixture()
def json_log():
    """The production handler (JSON on a stream) on the root logger at INFO for one test; restored after."""
    root = logging.getLogger()
    lines = Lines()
    handler = logs.make_handler("json", lines.stream)
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_request_logs_one_json_line_with_who_and_how_long_and_no_national_id(client, clean_app, world, json_log):
    with clean_app.app_context():
        member = db.session.scalars(select(Member).where(Member.national_id.is_not(None))).first()
        nid, first_name, last_name = member.national_id, member.first_name, member.last_name
        office_id = clean_app.appbuilder.sm.find_user(username=world.logins["office"]).id
        db.session.remove()
    login_as(client, world.logins["office"], "office")
    json_log.stream.truncate(0)
    json_log.stream.seek(0)
    # A search by national id (in the query) and a national id in the path.
    assert client.get(f"/memberview/list/?_flt_0_national_id={nid}").status_code == 200
    assert client.get(f"/api/v1/member/{nid}").status_code in (401, 404)

    search, by_path = json_log.events("request")
    assert search["method"] == "GET" and search["path"] == "/memberview/list/"  # without its query string
    assert search["endpoint"] == "MemberView.list" and search["status"] == 200
    assert search["user_id"] == office_id and search["role"] == "office"
    assert isinstance(search["duration_ms"], (int, float)) and search["duration_ms"] >= 0
    assert re.fullmatch(r"[0-9a-f]{32}", search["request_id"]) and search["request_id"] != by_path["request_id"]
    assert search["level"] == "info" and search["time"].endswith("+00:00")
    assert by_path["path"] == "/api/v1/member/" + "*" * 11
    assert nid not in json_log.text and not ELEVEN_DIGITS.search(json_log.text)
    assert first_name not in json_log.text and last_name not in json_log.text


@job_task("test_log_job")
def log_job_work(job_id: int, params: dict) -> None:
    report_progress(job_id, 1, 1, "Ferdig")


def test_a_job_logs_one_json_line(app_ctx, json_log):
    job = start_job("test_log_job", "Loggtest", log_job_work, {"n": 1}, None)
    (line,) = json_log.events("job")
    assert line["job_id"] == job.id and line["kind"] == "test_log_job" and line["status"] == "done"
    assert line["attempt"] == 1 and line["user_id"] is None and isinstance(line["duration_ms"], int)
    assert line["logger"] == "webapp.jobs" and line["level"] == "info"


def test_every_outgoing_mail_logs_a_line_without_address_subject_or_body(app_ctx, smtp_server, json_log):
    message = Message(subject="Hemmelig emne", body="Hemmelig innhold 01019912345",
                      recipients=["ola.nordmann@Example.NO", ("Kari Nordmann", "kari@forbund.example")],
                      sender="medlem@forbundet.example")
    assert mail.queue_and_send(message)
    assert len(smtp_server.messages) == 1  # really sent
    (line,) = json_log.events("mail")
    assert line["status"] == "sent" and line["recipients"] == 2 and line["error"] is None
    assert line["domains"] == ["example.no", "forbund.example"] and isinstance(line["outbox_id"], int)
    for secret in ("ola.nordmann", "kari@", "Kari", "Nordmann", "Hemmelig", "01019912345"):
        assert secret not in json_log.text


def test_a_mail_the_server_does_not_take_logs_queued_with_the_error_class(app_ctx, json_log):
    port = free_loopback_port()  # nothing listens there
    with mail_to_loopback(app_ctx, port):
        assert not mail.queue_and_send(Message(subject="Emne", body="Tekst", recipients=["per@example.no"],
                                               sender="medlem@forbundet.example"))
    (line,) = json_log.events("mail")
    assert line["status"] == "queued" and line["error"] == "ConnectionRefusedError"
    assert line["domains"] == ["example.no"] and "per@" not in json_log.text


def test_a_request_id_never_holds_what_the_log_masks(monkeypatch):
    """A random id with a run of exactly 11 digits would be masked in the log: such a draw is drawn again."""
    import uuid

    draws = iter([uuid.UUID("853f2c34af9745b12345678901c11e93"), uuid.UUID("853f2c34af9745b1234567890ac11e93")])
    monkeypatch.setattr(logs.uuid, "uuid4", lambda: next(draws))
    assert logs.new_request_id() == "853f2c34af9745b1234567890ac11e93"


def test_the_formatter_masks_every_eleven_digit_run_and_merges_fields():
    formatter = logs.JsonFormatter()
    try:
        raise ValueError("duplicate national id 01019912345")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "member %s (%s)", ("01019912345", 1234567890),
                                   sys.exc_info())
    record.fields = {"event": "test", "nid": 1019912345, "nested": {"ids": ["01019912345", 12345678901]},
                     "account": "123456789012"}
    line = json.loads(formatter.format(record))
    assert line["message"] == "member *********** (1234567890)"  # ten digits are not a national id
    assert line["event"] == "test" and line["nid"] == 1019912345
    assert line["nested"] == {"ids": ["*" * 11, "*" * 11]}
    assert line["account"] == "123456789012"  # twelve digits neither
    assert "01019912345" not in line["exc"] and "ValueError" in line["exc"]


def test_the_text_format_is_scrubbed_too():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "member %s", ("01019912345",), None)
    record.fields = {"event": "test", "id": "01019912345"}
    text = logs.TextFormatter().format(record)
    assert "01019912345" not in text and "event=test" in text


def test_configure_replaces_its_handler_and_off_leaves_the_root_logger_alone(clean_app):
    root = logging.getLogger()
    original, level = list(root.handlers), root.level
    # An app another test built with the default LOG_FORMAT may have left its handler here; configure replaces it.
    before = [h for h in original if not getattr(h, "_medlem_log", False)]
    try:
        for log_format in ("json", "text"):
            clean_app.config["LOG_FORMAT"] = log_format
            logs.configure(clean_app)
        ours = [h for h in root.handlers if getattr(h, "_medlem_log", False)]
        assert len(ours) == 1 and isinstance(ours[0].formatter, logs.TextFormatter)
        clean_app.config["LOG_FORMAT"] = "off"
        root.removeHandler(ours[0])
        logs.configure(clean_app)
        assert root.handlers == before
        clean_app.config["LOG_FORMAT"] = "xml"
        with pytest.raises(ValueError, match="LOG_FORMAT"):
            logs.configure(clean_app)
    finally:
        clean_app.config["LOG_FORMAT"] = "off"
        for handler in [h for h in root.handlers if getattr(h, "_medlem_log", False)]:
            root.removeHandler(handler)
        for handler in original:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        for hooks in (clean_app.before_request_funcs[None], clean_app.after_request_funcs[None]):
            while hooks.count(hooks[0]) > 1:  # the hooks configure added again
                hooks.pop(0)


def test_caplog_still_sees_the_app_records(app_ctx, caplog):
    """The tests' own logging setup leaves pytest's capture working (LOG_FORMAT=off in TestConfig)."""
    caplog.set_level(logging.INFO, logger="webapp.jobs")
    start_job("test_log_job", "Loggtest", log_job_work, {}, None)
    assert any(getattr(r, "fields", {}).get("event") == "job" for r in caplog.records)
