"""logout and password changes end every session and token

Revision ID: a11b00000003
Revises: a11b00000002
Create Date: 2026-11-30 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a11b00000003'
down_revision = 'a11b00000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'session_generation',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )


def downgrade():
    op.drop_table('session_generation')
