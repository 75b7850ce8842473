"""All models, imported so that Alembic and the app see one metadata (FAB's Model)."""

from flask_appbuilder import Model

from webapp.models.organisation import Employer, OrgUnit, Workplace
from webapp.models.members import Employment, Member, Position
from webapp.models.contacts import AccessRequest, DeductionContact
from webapp.models.demo import DemoAccount
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
    "DuesRate",
    "DeductionBasis",
    "DeductionBasisLine",
    "DeductionNotice",
    "DeductionList",
    "DeductionListLine",
    "PaymentImport",
    "Payment",
    "AuditEntry",
]
