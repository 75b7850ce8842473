"""one winner per state change

Revision ID: a11b00000005
Revises: a11b00000004
Create Date: 2026-11-30 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11b00000005'
down_revision = 'a11b00000004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
