"""invoices and claims: indexes (issue 18)

Revision ID: a18b00000004
Revises: a18b00000003
Create Date: 2026-11-30 15:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'a18b00000004'
down_revision = 'a18b00000003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
