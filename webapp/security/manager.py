"""The security manager: FAB's, with roles taken from the acting scope and locking after failed logins."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask import current_app
from flask_appbuilder.security.sqla.manager import SecurityManager

from webapp.security.scope import get_scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoleRef:
    """A built-in role by name; its rights are in webapp.security.roles."""

    name: str
    id: None = None


class UnionSecurityManager(SecurityManager):
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
        """
        from webapp.extensions import db
        from webapp.models import LoginLock
        from webapp.services import audit

        user = self.find_user(username=username) if username else None
        now = dt.datetime.now()
        lock = db.session.get(LoginLock, user.id) if user is not None else None
        if lock is not None and lock.locked_until and lock.locked_until > now:
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
