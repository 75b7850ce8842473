"""Every file the app hands out goes through here: audited, and never cached by the browser."""

from __future__ import annotations

from flask import Response

from webapp.extensions import db
from webapp.services import audit


def download(data: bytes | str, filename: str, mimetype: str, *, object_type: str, object_id: int | None = None,
             member_id: int | None = None, inline: bool = False, **details) -> Response:
    audit.record("download", object_type, object_id, member_id=member_id, file=filename, **details)
    db.session.commit()
    disposition = "inline" if inline else "attachment"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'{disposition}; filename="{filename}"', "Cache-Control": "private, no-store",
    })
