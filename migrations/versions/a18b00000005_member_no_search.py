"""lists: the member type-ahead searches member numbers by index too (issue 18)

The type-ahead (webapp.views.typeahead) looks for each typed term in the member number, first name and last name
(ILIKE '%term%'). On PostgreSQL a trigram GIN index on member_no joins those of a18b00000001 on the names, so the
three conditions are one BitmapOr. On SQLite the FTS5 trigram table member_name_search gets member_no as a third
column (rebuilt with its triggers), so one MATCH finds every member a term may be in.

Revision ID: a18b00000005
Revises: a18b00000004
Create Date: 2026-11-30 18:30:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a18b00000005'
down_revision = 'a18b00000004'
branch_labels = None
depends_on = None

TRIGRAM_INDEX = "ix_member_no_trgm"
TRIGGERS = ("insert", "delete", "update")


def sqlite_search(columns: list[str]) -> list[str]:
    """The statements that make the FTS5 table over `columns` of member, fill it and keep it in step."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE member_name_search USING fts5({names}, content='member', content_rowid='id', "
        "tokenize='trigram')",
        "INSERT INTO member_name_search(member_name_search) VALUES ('rebuild')",
        "CREATE TRIGGER member_name_search_insert AFTER INSERT ON member BEGIN "
        f"INSERT INTO member_name_search(rowid, {names}) VALUES (new.id, {new}); END",
        "CREATE TRIGGER member_name_search_delete AFTER DELETE ON member BEGIN "
        f"INSERT INTO member_name_search(member_name_search, rowid, {names}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER member_name_search_update AFTER UPDATE OF id, {names} ON member BEGIN "
        f"INSERT INTO member_name_search(member_name_search, rowid, {names}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO member_name_search(rowid, {names}) VALUES (new.id, {new}); END",
    ]


def drop_sqlite_search():
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER member_name_search_{trigger}")
    op.execute("DROP TABLE member_name_search")


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"CREATE INDEX {TRIGRAM_INDEX} ON member USING gin (member_no gin_trgm_ops)")
        op.execute("ANALYZE member")
    elif dialect == "sqlite":
        drop_sqlite_search()
        for statement in sqlite_search(["last_name", "first_name", "member_no"]):
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP INDEX {TRIGRAM_INDEX}")
    elif dialect == "sqlite":
        drop_sqlite_search()
        for statement in sqlite_search(["last_name", "first_name"]):
            op.execute(statement)
