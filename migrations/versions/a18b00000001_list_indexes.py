"""lists: sort indexes and name search (issue 18)

Revision ID: a18b00000001
Revises: a17b00000002
Create Date: 2026-11-30 15:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'a18b00000001'
down_revision = 'a17b00000002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
