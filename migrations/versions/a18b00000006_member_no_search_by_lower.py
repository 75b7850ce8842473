"""lists: the member number's trigram index is on lower(member_no), so equality lookups never take it (issue 18)

a18b00000005 put a trigram GIN index on member_no itself. pg_trgm's operator class serves `=` too, and for a list
of a few hundred member numbers (`member_no IN (...)`: resolving the KIDs of an AvtaleGiro agreements file, the
numbers taken) PostgreSQL's planner chose it over the unique btree index: 5 to 8 s a statement at 100,000 members
instead of milliseconds. The index is now on the expression lower(member_no), which only the type-ahead's search
(lower(member_no) ILIKE '%term%', webapp.views.typeahead) names; SQLite is unchanged (its FTS5 table).

Revision ID: a18b00000006
Revises: a18b00000005
Create Date: 2026-12-01 01:40:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a18b00000006'
down_revision = 'a18b00000005'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_member_no_trgm")
        op.execute("CREATE INDEX ix_member_no_lower_trgm ON member USING gin (lower(member_no) gin_trgm_ops)")
        op.execute("ANALYZE member")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_member_no_lower_trgm")
        op.execute("CREATE INDEX ix_member_no_trgm ON member USING gin (member_no gin_trgm_ops)")
