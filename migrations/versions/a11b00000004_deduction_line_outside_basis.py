"""deduction lines for people outside the employer's basis

Revision ID: a11b00000004
Revises: a11b00000003
Create Date: 2026-11-30 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11b00000004'
down_revision = 'a11b00000003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
