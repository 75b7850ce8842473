"""All models, imported so that Alembic and the app see one metadata (FAB's Model)."""

from flask_appbuilder import Model

from webapp.models.billing import (
    AvtaleGiroMandate,
    DirectDuesRate,
    IncomeBand,
    Invoice,
    InvoiceAdjustment,
    PaymentAllocation,
)
from webapp.models.contacts import AccessRequest, DeductionContact
from webapp.models.courses import Course, CourseApplication
from webapp.models.deductions import (
    AuditEntry,
    DeductionBasis,
    DeductionBasisLine,
    DeductionList,
    DeductionListLine,
    DeductionNotice,
    DeductionReminder,
    DuesRate,
    Payment,
    PaymentImport,
)
from webapp.models.demo import DemoAccount
from webapp.models.documents import MemberDocument
from webapp.models.lifecycle import (
    HomeUnitRule,
    LoUnion,
    MembershipApplication,
    MembershipTransfer,
    NumberCounter,
    PolicyText,
    Postcode,
)
from webapp.models.mail import OutboxAttachment, OutboxMail
from webapp.models.member_requests import EmploymentChange
from webapp.models.members import Employment, Member, Position
from webapp.models.messages import Message, MessageThread
from webapp.models.organisation import Employer, OrgUnit, Workplace
from webapp.models.outreach import (
    AgreementCategory,
    AgreementEmployer,
    Ballot,
    BallotVoter,
    CollectiveAgreement,
    Job,
    JobFile,
    Segment,
    SendOut,
    SendOutRecipient,
    WorkerHeartbeat,
)
from webapp.models.privacy import ConfidentialityDeclaration, LoginLock
from webapp.models.recruitment import PointsAccount, Prize, PrizeOrder, Recruitment
from webapp.models.refunds import (
    RefundDocument,
    RefundMember,
    RefundPolicy,
    RefundPool,
    RefundRun,
    RefundUnit,
    RefundUnitCategory,
)
from webapp.models.regions import OperatingUnit
from webapp.models.reports import ReportDispatch
from webapp.models.sessions import SessionGeneration

metadata = Model.metadata

__all__ = [
    "AccessRequest",
    "AgreementCategory",
    "AgreementEmployer",
    "AuditEntry",
    "AvtaleGiroMandate",
    "Ballot",
    "BallotVoter",
    "CollectiveAgreement",
    "ConfidentialityDeclaration",
    "Course",
    "CourseApplication",
    "DeductionBasis",
    "DeductionBasisLine",
    "DeductionContact",
    "DeductionList",
    "DeductionListLine",
    "DeductionNotice",
    "DeductionReminder",
    "DemoAccount",
    "DirectDuesRate",
    "DuesRate",
    "Employer",
    "Employment",
    "EmploymentChange",
    "HomeUnitRule",
    "IncomeBand",
    "Invoice",
    "InvoiceAdjustment",
    "Job",
    "JobFile",
    "LoUnion",
    "LoginLock",
    "Member",
    "MemberDocument",
    "MembershipApplication",
    "MembershipTransfer",
    "Message",
    "MessageThread",
    "Model",
    "NumberCounter",
    "OperatingUnit",
    "OrgUnit",
    "OutboxAttachment",
    "OutboxMail",
    "Payment",
    "PaymentAllocation",
    "PaymentImport",
    "PointsAccount",
    "PolicyText",
    "Position",
    "Postcode",
    "Prize",
    "PrizeOrder",
    "Recruitment",
    "RefundDocument",
    "RefundMember",
    "RefundPolicy",
    "RefundPool",
    "RefundRun",
    "RefundUnit",
    "RefundUnitCategory",
    "ReportDispatch",
    "Segment",
    "SendOut",
    "SendOutRecipient",
    "SessionGeneration",
    "WorkerHeartbeat",
    "Workplace",
    "metadata",
]
