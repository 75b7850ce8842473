"""deduction basis: indexes its set-based generation needs (issue 18)

Revision ID: a18b00000002
Revises: a18b00000001
Create Date: 2026-11-30 15:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = 'a18b00000002'
down_revision = 'a18b00000001'
branch_labels = None
depends_on = None


def upgrade():
    # Nothing to add: the set-based generation reads the employments in one pass (hash joins and a sort for the
    # window functions), last month's lines through ix_deduction_basis_period and ix_deduction_basis_line_basis_id,
    # and the new bases through ix_deduction_basis_employer_id, all already there. Its plans on PostgreSQL needed
    # statistics, not indexes: the generation ANALYZEs the bases and lines it writes.
    pass


def downgrade():
    pass
