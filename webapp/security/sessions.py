"""Ending sessions for real: every browser session and API token carries its user's session generation.

Flask's session is a cookie signed by the server and kept by the client, so clearing it at
logout does not stop a copy of it from working, and a JWT stays valid until it expires. The
server therefore keeps one number per user, the session generation, and every session cookie
and token carries the generation it was issued in. Logout and every password change raise the
number: each cookie and token issued before no longer matches and is refused.
"""

from __future__ import annotations

import datetime as dt

from flask import has_request_context, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, user_logged_in
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import SessionGeneration

SESSION_KEY = "session_generation"
TOKEN_CLAIM = "gen"


def current_generation(user_id: int) -> int:
    generation = db.session.scalar(select(SessionGeneration.generation).where(SessionGeneration.user_id == user_id))
    return generation or 0


def end_all_sessions(user_id: int) -> None:
    """Raise the user's generation in the caller's transaction: every cookie and token issued before stops working."""
    now = dt.datetime.now()
    raised = db.session.execute(
        update(SessionGeneration).where(SessionGeneration.user_id == user_id)
        .values(generation=SessionGeneration.generation + 1, changed_at=now)
    ).rowcount
    if raised:
        return
    try:
        with db.session.begin_nested():
            db.session.add(SessionGeneration(user_id=user_id, generation=1, changed_at=now))
    except IntegrityError:  # a concurrent first raise inserted the row: raise it once more
        end_all_sessions(user_id)


def stamp_browser_session(user_id: int) -> None:
    """Mark this browser session as issued in the user's current generation."""
    session[SESSION_KEY] = current_generation(user_id)


def browser_session_is_current(user_id: int) -> bool:
    return session.get(SESSION_KEY) == current_generation(user_id)


def keep_own_browser_session(user_id: int) -> None:
    """After a password change the changer's own browser session stays; every other one has ended."""
    if has_request_context() and current_user and current_user.is_authenticated and current_user.id == user_id:
        stamp_browser_session(user_id)


def token_claims(identity) -> dict:
    """Extra claims of a new JWT (flask_jwt_extended's additional_claims_loader; FAB's identity is the user id)."""
    return {TOKEN_CLAIM: current_generation(int(identity))}


def token_is_revoked(_jwt_header, jwt_data: dict) -> bool:
    """A token from an earlier generation (flask_jwt_extended's token_in_blocklist_loader) answers 401."""
    return jwt_data.get(TOKEN_CLAIM) != current_generation(int(jwt_data["sub"]))


def _stamp_on_login(_app, user, **_kwargs) -> None:
    stamp_browser_session(user.id)


# Where a browser says the request came from (Fetch Metadata); a link on another site says "cross-site".
_OWN_ORIGINS = {"same-origin", "none"}


def refuse_logout_from_other_sites():
    """Logout is a link (GET) and ends every session of the user on every device: a link or an image on
    another site must not be able to do that. Browsers mark such requests with Sec-Fetch-Site; one that
    came from elsewhere goes to the home page, logged in as before. Clients that send no such header
    (an old browser, the tests) log out as they ask."""
    if request.endpoint and request.endpoint.endswith(".logout"):
        origin = request.headers.get("Sec-Fetch-Site")
        if origin is not None and origin not in _OWN_ORIGINS:
            return redirect("/")
    return None


def is_static_file_request() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


class StaticQuietSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, not sent again with a static file's response.

    Sessions are permanent (idle expiry), so Flask re-sends the cookie with every response. A stylesheet still
    loading when the user switched the language (or logged in) answered with the session as it was when its
    request started, and the browser kept that older cookie: the change was lost. Static files never change the
    session; the pages and the API keep the idle expiry fresh."""

    def should_set_cookie(self, app, session) -> bool:
        if has_request_context() and is_static_file_request():
            return False
        return super().should_set_cookie(app, session)


def init_sessions(app) -> None:
    app.session_interface = StaticQuietSessionInterface()
    user_logged_in.connect(_stamp_on_login, app)
    app.before_request(refuse_logout_from_other_sites)
