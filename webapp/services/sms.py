"""Text messages (SMS): one small interface, the backend chosen in config (SMS_BACKEND).

The logging backend is for development and tests: it writes each message to the
log and keeps the last ones in memory. A real gateway is a class with the same
`send(to, text)` method, named by its import path in SMS_BACKEND.
"""

from __future__ import annotations

import logging
from collections import deque
from importlib import import_module
from typing import Protocol

from flask import current_app

log = logging.getLogger("webapp.sms")


class SmsError(RuntimeError):
    pass


class SmsSender(Protocol):
    def send(self, to: str, text: str) -> None: ...


class LoggingSmsSender:
    """Writes messages to the log instead of sending them."""

    sent: deque = deque(maxlen=100)  # shared by every instance, so tests can read what went out

    def __init__(self, sender_name: str = ""):
        self.sender_name = sender_name

    def send(self, to: str, text: str) -> None:
        log.info("SMS from %s to %s: %s", self.sender_name, to, text)
        self.sent.append({"to": to, "text": text, "sender": self.sender_name})


def sms_sender() -> SmsSender:
    """The configured backend, made for the current app."""
    path = current_app.config.get("SMS_BACKEND", "webapp.services.sms.LoggingSmsSender")
    module_name, _, class_name = path.rpartition(".")
    try:
        backend = getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SmsError(f"SMS_BACKEND: cannot load {path!r} ({exc})") from None
    return backend(current_app.config.get("SMS_SENDER_NAME", ""))


def send_sms(to: str, text: str) -> None:
    sms_sender().send(to, text)
