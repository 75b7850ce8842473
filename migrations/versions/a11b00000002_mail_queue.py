"""outgoing mail queued and retried

Revision ID: a11b00000002
Revises: a11b00000001
Create Date: 2026-11-30 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a11b00000002'
down_revision = 'a11b00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=255), nullable=True),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_mail_outbox_created_at'), 'mail_outbox', ['created_at'], unique=False)
    op.create_index(op.f('ix_mail_outbox_sent_at'), 'mail_outbox', ['sent_at'], unique=False)
    op.create_table('mail_outbox_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mail_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['mail_id'], ['mail_outbox.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_mail_outbox_attachment_mail_id'), 'mail_outbox_attachment', ['mail_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_mail_outbox_attachment_mail_id'), table_name='mail_outbox_attachment')
    op.drop_table('mail_outbox_attachment')
    op.drop_index(op.f('ix_mail_outbox_sent_at'), table_name='mail_outbox')
    op.drop_index(op.f('ix_mail_outbox_created_at'), table_name='mail_outbox')
    op.drop_table('mail_outbox')
