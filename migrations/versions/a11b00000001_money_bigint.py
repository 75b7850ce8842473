"""every øre column 64-bit

Revision ID: a11b00000001
Revises: f781eb55fe98
Create Date: 2026-11-30 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11b00000001'
down_revision = 'f781eb55fe98'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
