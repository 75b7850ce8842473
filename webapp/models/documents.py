"""Documents on a member's page: letters, invoices and course certificates."""

from flask_appbuilder import Model
from sqlalchemy import BigInteger, Column, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import relationship

from webapp.models.choices import DocumentKind, enum_column_type


class MemberDocument(Model):
    """A stored PDF, or the facts to render one on demand (a letter's text, an invoice, a certificate)."""

    __tablename__ = "member_document"

    id = Column(Integer, primary_key=True)
    member_id = Column(Integer, ForeignKey("member.id"), nullable=False, index=True)
    kind = Column(enum_column_type(DocumentKind), nullable=False)
    title = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False, index=True)
    body = Column(Text)
    amount_ore = Column(BigInteger)
    due_date = Column(Date)
    pdf = Column(LargeBinary)
    course_application_id = Column(Integer, ForeignKey("course_application.id"), unique=True)

    member = relationship("Member")
    course_application = relationship("CourseApplication")

    def __repr__(self) -> str:
        return self.title
