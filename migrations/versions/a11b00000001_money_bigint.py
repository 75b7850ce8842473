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


# Every money column (integer øre) that was 32-bit: a large union's monthly payment file passes 2^31 øre.
MONEY_COLUMNS = {
    'dues_rate': ['monthly_min_ore', 'monthly_max_ore', 'contents_insurance_ore', 'travel_insurance_ore',
                  'apprentice_flat_ore'],
    'deduction_basis': ['fixed_total_ore', 'reported_total_ore', 'paid_total_ore'],
    'deduction_basis_line': ['fixed_amount_ore'],
    'deduction_list': ['total_ore'],
    'deduction_list_line': ['amount_ore'],
    'payment_import': ['total_ore'],
    'payment': ['amount_ore'],
    'member_document': ['amount_ore'],
}


def _alter(from_type, to_type):
    for table, columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.alter_column(column, type_=to_type, existing_type=from_type)


def upgrade():
    _alter(sa.Integer(), sa.BigInteger())


def downgrade():
    _alter(sa.BigInteger(), sa.Integer())
