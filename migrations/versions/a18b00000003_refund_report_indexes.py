"""refund calculation and reports: indexes (issue 18)

The snapshot of a refund run's counted members (refund_member, some 100,000 rows a quarter at 100k members) is
written in one INSERT ... SELECT; its per-row foreign-key checks (run -> refund_run with ON DELETE CASCADE,
unit -> org_unit) cost more than the insert itself on PostgreSQL. They go: the rows are written only by the
calculation, from the run it has just stored and the members' home units, and deleted explicitly with their run
(services.refunds, seed.refunds). The single-column unit index goes too: the member lists read the snapshot by
run and unit (ix_refund_member_run_unit).

Revision ID: a18b00000003
Revises: a18b00000002
Create Date: 2026-11-30 15:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a18b00000003'
down_revision = 'a18b00000002'
branch_labels = None
depends_on = None

# SQLite's foreign keys have no name; batch mode names the reflected ones by this convention to drop them.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
FOREIGN_KEYS = (
    # (PostgreSQL's name, column, referred table, ondelete)
    ("refund_member_run_id_fkey", "run_id", "refund_run", "CASCADE"),
    ("refund_member_unit_id_fkey", "unit_id", "org_unit", None),
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, _column, _table, _ondelete in FOREIGN_KEYS:
            op.drop_constraint(name, "refund_member", type_="foreignkey")
        op.drop_index("ix_refund_member_unit_id", table_name="refund_member")
        return
    reflected = sa.inspect(op.get_bind()).get_foreign_keys("refund_member")
    with op.batch_alter_table("refund_member", naming_convention=NAMING) as batch_op:
        for fk in reflected:
            name = fk["name"] or f"fk_refund_member_{fk['constrained_columns'][0]}_{fk['referred_table']}"
            batch_op.drop_constraint(name, type_="foreignkey")
        batch_op.drop_index("ix_refund_member_unit_id")


def downgrade():
    with op.batch_alter_table("refund_member") as batch_op:
        batch_op.create_index("ix_refund_member_unit_id", ["unit_id"], unique=False)
        for name, column, table, ondelete in FOREIGN_KEYS:
            batch_op.create_foreign_key(name, table, [column], ["id"], ondelete=ondelete)
