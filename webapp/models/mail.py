"""Outgoing e-mail: every mail the app sends is stored here first and sent from here (webapp.services.mail)."""

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import relationship


class OutboxMail(Model):
    """One e-mail: waiting while `sent_at` is empty, retried by `flask mail retry` and by the next sending."""

    __tablename__ = "mail_outbox"

    id = Column(Integer, primary_key=True)
    sender = Column(String(255))
    # JSON list of addresses.
    recipients = Column(Text, nullable=False)
    subject = Column(String(255), nullable=False)
    # Blanked once sent: a body may hold a login link, which must not outlive its delivery in the database.
    body = Column(Text, nullable=False, default="")
    html = Column(Text)
    created_at = Column(DateTime, nullable=False, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    # The last failure, short and without the server's credentials.
    last_error = Column(String(200))
    # A sender took the mail at this time; others leave it alone until the claim times out.
    claimed_at = Column(DateTime)
    sent_at = Column(DateTime, index=True)

    attachments = relationship("OutboxAttachment", cascade="all, delete-orphan", order_by="OutboxAttachment.id")

    def __repr__(self) -> str:
        return f"{self.subject} ({self.recipients})"


class OutboxAttachment(Model):
    """A file attached to an outgoing e-mail (the membership reports' PDF, CSV and XLSX); dropped once sent."""

    __tablename__ = "mail_outbox_attachment"

    id = Column(Integer, primary_key=True)
    mail_id = Column(Integer, ForeignKey("mail_outbox.id", ondelete="CASCADE"), nullable=False, index=True)
    filename = Column(String(255), nullable=False)
    content_type = Column(String(100), nullable=False)
    data = Column(LargeBinary, nullable=False)
