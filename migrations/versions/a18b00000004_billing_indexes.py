"""invoices and claims: indexes (issue 18)

Revision ID: a18b00000004
Revises: a18b00000003
Create Date: 2026-11-30 15:30:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a18b00000004'
down_revision = 'a18b00000003'
branch_labels = None
depends_on = None


def upgrade():
    # A period's invoices of one method: the AvtaleGiro claims file, the sending, the recomputing and the
    # months already billed all read the invoices by first month (the unique key leads with the member).
    op.create_index("ix_invoice_first_month_method", "invoice", ["first_month", "method"])


def downgrade():
    op.drop_index("ix_invoice_first_month_method", table_name="invoice")
