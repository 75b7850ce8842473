"""lists: sort indexes and name search (issue 18)

Every column a member list may be sorted by gets an index ending in the id (FAB adds the id as the tie-breaker),
so a page is read from the index instead of sorting every member. Name search (FAB's "contains", an ILIKE
'%text%'): on PostgreSQL trigram GIN indexes (pg_trgm) serve the ILIKE itself; on SQLite an FTS5 table with the
trigram tokenizer over the member's names (external content, kept by triggers) narrows the rows first
(webapp.views.member_search).

Revision ID: a18b00000001
Revises: a17b00000002
Create Date: 2026-11-30 15:30:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a18b00000001'
down_revision = 'a17b00000002'
branch_labels = None
depends_on = None

SORT_INDEXES = {
    "ix_member_last_id": ["last_name", "id"],
    "ix_member_first_id": ["first_name", "id"],
    "ix_member_joined_id": ["joined_on", "id"],
    "ix_member_left_id": ["left_on", "id"],
}
TRIGRAM_INDEXES = {"ix_member_last_trgm": "last_name", "ix_member_first_trgm": "first_name"}

SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE member_name_search USING fts5(last_name, first_name, content='member', "
    "content_rowid='id', tokenize='trigram')",
    "INSERT INTO member_name_search(member_name_search) VALUES ('rebuild')",
    "CREATE TRIGGER member_name_search_insert AFTER INSERT ON member BEGIN "
    "INSERT INTO member_name_search(rowid, last_name, first_name) VALUES (new.id, new.last_name, new.first_name); "
    "END",
    "CREATE TRIGGER member_name_search_delete AFTER DELETE ON member BEGIN "
    "INSERT INTO member_name_search(member_name_search, rowid, last_name, first_name) "
    "VALUES ('delete', old.id, old.last_name, old.first_name); END",
    "CREATE TRIGGER member_name_search_update AFTER UPDATE OF id, last_name, first_name ON member BEGIN "
    "INSERT INTO member_name_search(member_name_search, rowid, last_name, first_name) "
    "VALUES ('delete', old.id, old.last_name, old.first_name); "
    "INSERT INTO member_name_search(rowid, last_name, first_name) VALUES (new.id, new.last_name, new.first_name); "
    "END",
]


def upgrade():
    for name, columns in SORT_INDEXES.items():
        op.create_index(name, "member", columns)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in TRIGRAM_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON member USING gin ({column} gin_trgm_ops)")
        op.execute("ANALYZE member")
    elif dialect == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
        # Without statistics SQLite takes a scope's `home_unit_id IN (...)` for selective and sorts every member
        # in it instead of reading the sort index in order (nothing is written for an empty table).
        op.execute("ANALYZE member")


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX {name}")
    elif dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER member_name_search_{trigger}")
        op.execute("DROP TABLE member_name_search")
    for name in SORT_INDEXES:
        op.drop_index(name, table_name="member")
