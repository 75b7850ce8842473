"""privacy: login locks, confidentiality declarations, anonymised members

Revision ID: b1a7e5c0ffee
Revises: 470df9a48564
Create Date: 2026-11-22 05:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b1a7e5c0ffee'
down_revision = '470df9a48564'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.Date(), nullable=True))
    op.create_table(
        'login_lock',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(), nullable=True),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'confidentiality_declaration',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=False),
        sa.Column('text_version', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id'),
    )


def downgrade():
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
    op.drop_table('confidentiality_declaration')
    op.drop_table('login_lock')
