"""The security manager: FAB's, with roles taken from the acting scope, locking after failed logins,
sessions and tokens that end at logout and on every password change (webapp.security.sessions), and the
login API limited like the login form."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask import abort, current_app, g
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.utils.limit import Limit
from flask_limiter.util import get_remote_address
from werkzeug.security import check_password_hash

from webapp.security import sessions, user_views
from webapp.security.scope import get_scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoleRef:
    """A built-in role by name; its rights are in webapp.security.roles."""

    name: str
    id: None = None


def login_limits() -> list[Limit]:
    """The login form's rate limit (AUTH_RATE_LIMIT per address, when AUTH_RATE_LIMITED) for other public
    endpoints that take credentials or usernames: the login API and the forgotten-password pages."""
    return [Limit(
        limit_value=lambda: current_app.config["AUTH_RATE_LIMIT"],
        key_func=get_remote_address,
        methods=("POST",),
        exempt_when=lambda: not current_app.config.get("AUTH_RATE_LIMITED"),
    )]


class LimitedSecurityApi(SecurityApi):
    """FAB's JWT login (/api/v1/security/login), with the login form's rate limit."""

    limits = login_limits()


class UnionSecurityManager(SecurityManager):
    security_api = LimitedSecurityApi
    # FAB's user screens, with roles by label, yes/no and Norwegian dates (webapp.security.user_views).
    userdbmodelview = user_views.UserDBModelView
    rolemodelview = user_views.RoleModelView
    groupmodelview = user_views.UserGroupModelView
    userstatschartview = user_views.UserStatsChartView

    def get_user_roles(self, user) -> list:
        """The roles of the acting scope, not every role the user could take.

        In the browser that is the one chosen role; for an API client it is
        every role the user holds. Other users (e.g. in user admin) keep
        FAB's answer.
        """
        if not user.is_authenticated:
            return [self.get_public_role()]
        scope = get_scope()
        if scope.user_id != user.id:
            return super().get_user_roles(user)
        return [RoleRef(name) for name in scope.role_names]

    def auth_user_db(self, username, password):
        """FAB's password check, refused while the account is locked (even with the right password).

        After AUTH_MAX_FAILED_LOGINS wrong passwords in a row the account is locked
        for AUTH_LOCK_MINUTES; the next wrong password after that locks it again.
        Every answer costs one password hash check, so the time taken tells nothing about
        whether the username exists or is locked (FAB checks a dummy hash for unknown names).
        """
        from webapp.extensions import db
        from webapp.models import LoginLock
        from webapp.services import audit

        user = self._user_logging_in(username)
        now = dt.datetime.now()
        lock = db.session.get(LoginLock, user.id) if user is not None else None
        if lock is not None and lock.locked_until and lock.locked_until > now:
            check_password_hash(current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"], password or "")
            log.warning("Login refused for locked account %s", username)
            audit.record("login_refused_locked", "user", user.id, username_tried=username)
            db.session.commit()
            return None
        result = super().auth_user_db(username, password)
        if user is None:
            return result
        if result is not None:
            if lock is not None:
                db.session.delete(lock)
                db.session.commit()
            return result
        if lock is None:
            lock = LoginLock(user_id=user.id, failures=0)
            db.session.add(lock)
        if lock.locked_until and lock.locked_until <= now:
            lock.failures, lock.locked_until = 0, None
        lock.failures += 1
        lock.last_failure_at = now
        if lock.failures >= current_app.config["AUTH_MAX_FAILED_LOGINS"]:
            lock.locked_until = now + dt.timedelta(minutes=current_app.config["AUTH_LOCK_MINUTES"])
            audit.record("account_locked", "user", user.id, failures=lock.failures)
        db.session.commit()
        return None

    def _user_logging_in(self, username):
        """The user a login names: by username, else by e-mail address, as FAB's auth_user_db finds them."""
        if not username:
            return None
        return self.find_user(username=username) or self.find_user(email=username)

    # Sessions and tokens: see webapp.security.sessions.

    def _active_user(self, pk):
        user = self.get_user_by_id(int(pk))
        return user if user is not None and user.is_active else None

    def load_user(self, pk):
        """Flask-Login's loader for the session cookie: refused when the cookie is from an ended generation."""
        user = self._active_user(pk)
        if user is None or not sessions.browser_session_is_current(user.id):
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        # The token's generation is checked by token_is_revoked before this runs.
        user = self._active_user(jwt_data["sub"])
        if user is not None:
            g.user = user  # as FAB does: its API views read g.user
        return user

    def create_jwt_manager(self, app):
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(sessions.token_claims)
        jwt_manager.token_in_blocklist_loader(sessions.token_is_revoked)
        return jwt_manager

    def on_user_logout(self, user) -> None:
        """Logout ends every session and token of the user, also copies of this cookie."""
        from webapp.extensions import db

        super().on_user_logout(user)
        sessions.end_all_sessions(user.id)
        db.session.commit()

    def reset_password(self, userid, password):
        """Every password change (the user's own, by the office, or by an e-mailed link) ends every other
        session and token of that user; the user's own browser session, when they changed it, stays."""
        user_id = self._existing_user_id(userid)
        sessions.end_all_sessions(user_id)
        super().reset_password(user_id, password)  # commits
        sessions.keep_own_browser_session(user_id)

    def _existing_user_id(self, userid) -> int:
        """FAB's office screen passes the `pk` argument of its URL as it came: a user that does not exist is a 404."""
        try:
            user_id = int(userid)
        except (TypeError, ValueError):
            abort(404)
        if self.get_user_by_id(user_id) is None:
            abort(404)
        return user_id
