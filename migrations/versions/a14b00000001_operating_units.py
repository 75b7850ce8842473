"""operating units (regions) inside an employer

Revision ID: a14b00000001
Revises: a13b00000001
Create Date: 2026-11-30 08:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a14b00000001'
down_revision = 'a13b00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('operating_unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=150), nullable=False),
    sa.ForeignKeyConstraint(['employer_id'], ['employer.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['operating_unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('operating_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operating_unit_employer_id'), ['employer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_operating_unit_parent_id'), ['parent_id'], unique=False)

    with op.batch_alter_table('workplace', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operating_unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_workplace_operating_unit_id'), ['operating_unit_id'], unique=False)
        batch_op.create_foreign_key('fk_workplace_operating_unit', 'operating_unit', ['operating_unit_id'], ['id'])

    with op.batch_alter_table('position', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operating_unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_position_operating_unit_id'), ['operating_unit_id'], unique=False)
        batch_op.create_foreign_key('fk_position_operating_unit', 'operating_unit', ['operating_unit_id'], ['id'])


def downgrade():
    with op.batch_alter_table('position', schema=None) as batch_op:
        batch_op.drop_constraint('fk_position_operating_unit', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_position_operating_unit_id'))
        batch_op.drop_column('operating_unit_id')

    with op.batch_alter_table('workplace', schema=None) as batch_op:
        batch_op.drop_constraint('fk_workplace_operating_unit', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_workplace_operating_unit_id'))
        batch_op.drop_column('operating_unit_id')

    with op.batch_alter_table('operating_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operating_unit_parent_id'))
        batch_op.drop_index(batch_op.f('ix_operating_unit_employer_id'))

    op.drop_table('operating_unit')
