"""No exception text reaches a person through a flash message.

Our views flash the refusals of the services, worded for people. FAB's generic screens flash `str(e)` of
whatever their add, delete and post-hooks raise, and a library error ("[Errno 111] Connection refused", an SQL
error) would reach the page in English. Every flashed message passes here: one that reads as exception text is
logged in full and replaced by a Norwegian sentence that says what the person can do.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, message_flashed, session
from flask_babel import gettext as _

log = logging.getLogger(__name__)

EXCEPTION_TEXT = re.compile(
    r"\[Errno -?\d+\]|Traceback \(most recent call last\)|\((?:sqlite3|psycopg2?|pymysql)\.|sqlalche\.me"
    r"|<class '[\w.]+'>|\b(?:Connection|Timeout|OS|Operational|Integrity|Programming|Data|Database|Attribute|Key|"
    r"Type|Value|Runtime)Error\b|\bSMTP\w*(?:Exception|Error)\b|Connection refused"
)


def looks_like_exception_text(message) -> bool:
    return bool(EXCEPTION_TEXT.search(str(message)))


def _replace_exception_text(_app, message, category) -> None:
    if not looks_like_exception_text(message):
        return
    log.error("exception text flashed, replaced for the user: %s", message)
    flashes = session.get("_flashes", [])
    for index in range(len(flashes) - 1, -1, -1):
        if flashes[index][1] == message:
            flashes[index] = ("danger", _("Something went wrong. Check whether your change was saved, and try "
                                          "again; if it happens again, contact the union office."))
            break
    session["_flashes"] = flashes


def register_flash_guard(app: Flask) -> None:
    message_flashed.connect(_replace_exception_text, app)
