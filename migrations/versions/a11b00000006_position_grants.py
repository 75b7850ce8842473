"""officer roles granted by the office or a leader above

Revision ID: a11b00000006
Revises: a11b00000005
Create Date: 2026-11-30 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11b00000006'
down_revision = 'a11b00000005'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
