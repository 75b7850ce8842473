"""All models, imported so that Alembic and the app see one metadata (FAB's Model)."""

from flask_appbuilder import Model

from webapp.models.organisation import Employer, OrgUnit, Workplace
from webapp.models.members import Employment, Member, Position
from webapp.models.contacts import AccessRequest, DeductionContact
from webapp.models.demo import DemoAccount
from webapp.models.privacy import ConfidentialityDeclaration, LoginLock
from webapp.models.deductions import (
    AuditEntry,
    DeductionBasis,
    DeductionBasisLine,
    DeductionList,
    DeductionListLine,
    DeductionNotice,
    DuesRate,
    Payment,
    PaymentImport,
)
from webapp.models.messages import Message, MessageThread
from webapp.models.courses import Course, CourseApplication
from webapp.models.recruitment import PointsAccount, Prize, PrizeOrder, Recruitment
from webapp.models.documents import MemberDocument
from webapp.models.member_requests import EmploymentChange
from webapp.models.refunds import RefundMember, RefundPolicy, RefundPool, RefundRun, RefundUnit, RefundUnitCategory
from webapp.models.reports import ReportDispatch

metadata = Model.metadata

__all__ = [
    "Model",
    "metadata",
    "OrgUnit",
    "Employer",
    "Workplace",
    "Member",
    "Employment",
    "Position",
    "DeductionContact",
    "AccessRequest",
    "DemoAccount",
    "LoginLock",
    "ConfidentialityDeclaration",
    "DuesRate",
    "DeductionBasis",
    "DeductionBasisLine",
    "DeductionNotice",
    "DeductionList",
    "DeductionListLine",
    "PaymentImport",
    "Payment",
    "AuditEntry",
    "MessageThread",
    "Message",
    "Course",
    "CourseApplication",
    "Recruitment",
    "Prize",
    "PrizeOrder",
    "PointsAccount",
    "MemberDocument",
    "EmploymentChange",
    "RefundPolicy",
    "RefundPool",
    "RefundRun",
    "RefundUnit",
    "RefundUnitCategory",
    "RefundMember",
    "ReportDispatch",
]
