"""The security manager: FAB's, with roles taken from the acting scope."""

from __future__ import annotations

from dataclasses import dataclass

from flask_appbuilder.security.sqla.manager import SecurityManager

from webapp.security.scope import get_scope


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
