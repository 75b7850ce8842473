"""The demo logins made by the seed command, one or more per role."""

from flask_appbuilder import Model
from sqlalchemy import Column, Integer, String


class DemoAccount(Model):
    __tablename__ = "demo_account"

    id = Column(Integer, primary_key=True)
    username = Column(String(128), nullable=False, index=True)
    role = Column(String(32), nullable=False)
    # Unit code, employer customer number or member number; empty for office and analyst.
    scope = Column(String(32), nullable=False, default="")
    note = Column(String(200))
