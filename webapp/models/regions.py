"""Operating units (regions) inside an employer: a tree of any depth that groups its workplaces.

An employer with many offices organises them in regions and operating units
("driftsenhet eller region i en virksomhet med flere kontorsteder under seg").
A workplace may belong to one operating unit of its own employer; a position
(a workplace representative or an officer) may be held for an operating unit,
and then reaches every workplace in it and in the units below it.
"""

from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship


class OperatingUnit(Model):
    __tablename__ = "operating_unit"

    id = Column(Integer, primary_key=True)
    employer_id = Column(Integer, ForeignKey("employer.id"), nullable=False, index=True)
    parent_id = Column(Integer, ForeignKey("operating_unit.id"), index=True)
    name = Column(String(150), nullable=False)

    employer = relationship("Employer")
    parent = relationship("OperatingUnit", remote_side=[id], backref="children")

    def __repr__(self) -> str:
        return f"{self.name} ({self.employer.name})" if self.employer else self.name
