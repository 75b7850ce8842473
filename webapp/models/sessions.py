"""The session generation of a login: every cookie and token carries the generation it was issued in."""

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer


class SessionGeneration(Model):
    """Raised by logout and every password change, which ends each session and token issued before.

    A user without a row is in generation 0.
    """

    __tablename__ = "session_generation"

    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    generation = Column(Integer, nullable=False, default=0)
    changed_at = Column(DateTime, nullable=False)
