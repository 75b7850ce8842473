"""The union's own tree (org units) and the employers with their workplaces."""

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from webapp.models.choices import EmployerAssociation, OrgLevel, Sector, enum_column_type


class OrgUnit(Model):
    __tablename__ = "org_unit"

    id = Column(Integer, primary_key=True)
    code = Column(String(20), unique=True, nullable=False)
    name = Column(String(150), nullable=False)
    level = Column(enum_column_type(OrgLevel), nullable=False)
    parent_id = Column(Integer, ForeignKey("org_unit.id"), index=True)
    bank_account = Column(String(11))
    receives_refunds = Column(Boolean, nullable=False, default=True)

    parent = relationship("OrgUnit", remote_side=[id], backref="children")

    def __repr__(self) -> str:
        return f"{self.code} {self.name}"


class Employer(Model):
    __tablename__ = "employer"

    id = Column(Integer, primary_key=True)
    org_number = Column(String(9), unique=True, nullable=False)
    name = Column(String(150), nullable=False, index=True)
    address = Column(String(150))
    postcode = Column(String(4))
    city = Column(String(80))
    association = Column(enum_column_type(EmployerAssociation), nullable=False, default=EmployerAssociation.none)
    sector = Column(enum_column_type(Sector), nullable=False)
    has_deduction_agreement = Column(Boolean, nullable=False, default=False)
    customer_no = Column(String(8), unique=True, nullable=False)

    def __repr__(self) -> str:
        return self.name


class Workplace(Model):
    __tablename__ = "workplace"

    id = Column(Integer, primary_key=True)
    employer_id = Column(Integer, ForeignKey("employer.id"), nullable=False, index=True)
    name = Column(String(150), nullable=False)
    municipality = Column(String(80))
    county = Column(String(40), index=True)
    org_unit_id = Column(Integer, ForeignKey("org_unit.id"), nullable=False, index=True)
    # The employer's region or operating unit the workplace belongs to, if any (webapp/models/regions.py).
    operating_unit_id = Column(Integer, ForeignKey("operating_unit.id"), index=True)

    employer = relationship("Employer", backref="workplaces")
    org_unit = relationship("OrgUnit")
    operating_unit = relationship("OperatingUnit", backref="workplaces")

    def __repr__(self) -> str:
        return f"{self.name} ({self.employer.name})" if self.employer else self.name
