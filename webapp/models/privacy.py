"""Tables of the privacy and login-protection rules."""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import relationship


class LoginLock(Model):
    """Failed logins of a user in a row, and until when the account is locked."""

    __tablename__ = "login_lock"

    user_id = Column(Integer, ForeignKey("ab_user.id"), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    last_failure_at = Column(DateTime)
    locked_until = Column(DateTime)


class ConfidentialityDeclaration(Model):
    """An officer's confirmed duty of confidentiality, required before the first member list."""

    __tablename__ = "confidentiality_declaration"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, unique=True)
    confirmed_at = Column(DateTime, nullable=False)
    text_version = Column(String(20), nullable=False)

    user = relationship(User)
