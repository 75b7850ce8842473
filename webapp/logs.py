"""Structured logs: one JSON object a line on stderr (LOG_FORMAT=json, the default) or plain text (LOG_FORMAT=text).

- Every record's `extra={"fields": {...}}` is merged into its line (the jobs' line per run, the mail line).
- One line per request (`event: "request"`): method, path without its query string, endpoint, status,
  duration_ms, user_id, the acting role and a request id. Written after the response is made, from what the
  request has already loaded (no query of its own: it also works when the database is down).
- Never a national id: every run of exactly 11 digits in a message, a field or a traceback is masked
  (SQL errors carry the values of their statement). Never a name: callers log ids, counts and kinds, not
  free text from users; production mode also hides the SQL parameters of database errors
  (webapp/production.py).

`configure(app)` is called by create_app; it replaces the handler an earlier call installed (tests and run.py
build more than one app in a process). With LOG_FORMAT=off (the tests' setting) the root logger is left
alone, so pytest's caplog sees the records as usual; the request hooks still log their records.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request

request_log = logging.getLogger("webapp.requests")

NATIONAL_ID = re.compile(r"(?<!\d)\d{11}(?!\d)")
MASK = "*" * 11
# The attributes every LogRecord has: anything else on a record came through `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "fields"}
FORMATS = ("json", "text", "off")


def scrub(value):
    """The value with every 11-digit run masked (strings, numbers, and inside lists and dicts)."""
    if isinstance(value, str):
        return NATIONAL_ID.sub(MASK, value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return MASK if NATIONAL_ID.fullmatch(str(abs(value))) else value
    if isinstance(value, dict):
        return {str(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [scrub(v) for v in value]
    return scrub(str(value))


def record_fields(record: logging.LogRecord) -> dict:
    """The structured fields of a record: its `fields` dict and any other `extra` attribute."""
    fields = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
    fields.update(getattr(record, "fields", None) or {})
    return fields


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: time, level, logger, message, the record's fields, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(record_fields(record))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        return json.dumps(scrub(line), ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A record as text (a developer's console), its fields as key=value, scrubbed like the JSON lines."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = record_fields(record)
        if fields:
            text += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return NATIONAL_ID.sub(MASK, text)


def make_handler(log_format: str, stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler._medlem_log = True  # found and replaced by the next configure()
    return handler


def configure(app: Flask) -> None:
    """Install the log handler on the root logger (LOG_FORMAT, LOG_LEVEL) and the request log hooks."""
    log_format = str(app.config.get("LOG_FORMAT") or "json").lower()
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT: {log_format!r} is not one of {', '.join(FORMATS)}")
    if log_format != "off":
        root = logging.getLogger()
        for old in [h for h in root.handlers if getattr(h, "_medlem_log", False)]:
            root.removeHandler(old)
        root.addHandler(make_handler(log_format))
        root.setLevel(str(app.config.get("LOG_LEVEL") or "INFO").upper())
        # The request line replaces the development server's own access line; Flask-AppBuilder's start-up chatter
        # ("Initializing AppBuilder", at every CLI command) is left out.
        for noisy in ("werkzeug", "flask_appbuilder"):
            logging.getLogger(noisy).setLevel(max(root.level, logging.WARNING))
    # First of the before-request hooks (the duration counts theirs), last of the after-request ones (the status
    # is final).
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request_funcs.setdefault(None, []).insert(0, _log_request)


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = new_request_id()


def new_request_id() -> str:
    """32 random hex digits, drawn again when they hold a run of exactly 11 decimal digits (about one in 45):
    the log would mask that run as a national id, and the id in the log would no longer be the request's."""
    while NATIONAL_ID.search(drawn := uuid.uuid4().hex):
        pass
    return drawn


def request_id() -> str | None:
    return g.get("request_id")


def _who() -> tuple[int | None, str | None]:
    """The user id and acting role as this request resolved them (g.scope), without a query of its own."""
    scope = g.get("scope")
    if scope is not None and scope.user_id is not None:
        if scope.active is not None:
            return scope.user_id, scope.active.role
        return scope.user_id, ",".join(scope.role_names) or None
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return getattr(user, "id", None), None
    return None, None


def _log_request(response):
    started = g.get("request_started")
    user_id, role = _who()
    fields = {
        "event": "request", "method": request.method, "path": request.path, "endpoint": request.endpoint,
        "status": response.status_code, "user_id": user_id, "role": role, "request_id": request_id(),
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
    }
    request_log.info("%s %s %s", request.method, request.path, response.status_code, extra={"fields": fields})
    return response
