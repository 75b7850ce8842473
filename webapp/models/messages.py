"""Secure messages: threads between a party (a member, or an employer's deduction contacts) and the union.

The text stays in the system; e-mail only says that a message is waiting.
"""

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship


class MessageThread(Model):
    __tablename__ = "message_thread"

    id = Column(Integer, primary_key=True)
    subject = Column(String(200), nullable=False)
    # The party: a member, or an employer (whose current deduction contacts share the thread).
    member_id = Column(Integer, ForeignKey("member.id"), index=True)
    employer_id = Column(Integer, ForeignKey("employer.id"), index=True)
    # The union side: an org unit (its officers answer), or empty for the union office.
    org_unit_id = Column(Integer, ForeignKey("org_unit.id"), index=True)
    created_at = Column(DateTime, nullable=False)
    last_message_at = Column(DateTime, nullable=False, index=True)
    party_unread = Column(Boolean, nullable=False, default=False)
    union_unread = Column(Boolean, nullable=False, default=False)

    member = relationship("Member")
    employer = relationship("Employer")
    org_unit = relationship("OrgUnit")
    messages = relationship("Message", back_populates="thread", order_by="Message.id", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("(member_id IS NULL) <> (employer_id IS NULL)", name="ck_message_thread_one_party"),
    )

    def __repr__(self) -> str:
        return self.subject


class Message(Model):
    __tablename__ = "message"

    id = Column(Integer, primary_key=True)
    thread_id = Column(Integer, ForeignKey("message_thread.id"), nullable=False, index=True)
    author_id = Column(Integer, ForeignKey("ab_user.id"), index=True)
    # True when written by the party (member or deduction contact), False when by the union side.
    from_party = Column(Boolean, nullable=False)
    body = Column(Text, nullable=False)
    sent_at = Column(DateTime, nullable=False)
    # When the party was told by e-mail that this message waits; empty while not (yet) told.
    notified_at = Column(DateTime)

    thread = relationship("MessageThread", back_populates="messages")
    author = relationship(User)
