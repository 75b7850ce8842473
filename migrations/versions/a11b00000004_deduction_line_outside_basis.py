"""deduction lines for people outside the employer's basis

Revision ID: a11b00000004
Revises: a11b00000003
Create Date: 2026-11-30 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a11b00000004'
down_revision = 'a11b00000003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deduction_list_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outside_basis', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Lines already stored for someone not on the employer's basis of their month: the unknown ones, and
    # the members the portal used to resolve from the whole register. The employer sees only what it typed.
    line = sa.table('deduction_list_line', sa.column('id'), sa.column('list_id'), sa.column('member_id'),
                    sa.column('outside_basis'))
    deduction_list = sa.table('deduction_list', sa.column('id'), sa.column('employer_id'), sa.column('period'))
    basis = sa.table('deduction_basis', sa.column('id'), sa.column('employer_id'), sa.column('period'))
    basis_line = sa.table('deduction_basis_line', sa.column('basis_id'), sa.column('member_id'))
    on_basis = (
        sa.select(basis_line.c.member_id)
        .join(basis, basis.c.id == basis_line.c.basis_id)
        .join(deduction_list, sa.and_(deduction_list.c.employer_id == basis.c.employer_id,
                                      deduction_list.c.period == basis.c.period))
        .where(deduction_list.c.id == line.c.list_id, basis_line.c.member_id == line.c.member_id)
    )
    op.execute(line.update().where(sa.or_(line.c.member_id.is_(None), ~sa.exists(on_basis)))
               .values(outside_basis=True))


def downgrade():
    with op.batch_alter_table('deduction_list_line', schema=None) as batch_op:
        batch_op.drop_column('outside_basis')
