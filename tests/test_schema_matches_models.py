"""The migrations build exactly the schema the models describe: a model and its migration cannot drift apart.

Alembic's autogenerate comparison of the migrated database with the models' metadata finds nothing to add,
drop or alter (tables, columns, types, nullability, indexes).

Left out: what a migration makes for one engine alone, outside the models: the member name search of
a18b00000001, a18b00000005 and a18b00000006 (trigram GIN indexes on PostgreSQL; on SQLite the FTS5 table and the
shadow tables it keeps).
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.extensions import db
from webapp.models import Model

ENGINE_ONLY_NAMES = {
    "ix_member_last_trgm", "ix_member_first_trgm", "ix_member_no_lower_trgm",
    "member_name_search", "member_name_search_data", "member_name_search_idx", "member_name_search_docsize",
    "member_name_search_config", "member_name_search_content",
}


def _compared(name, type_, parent_names) -> bool:
    return name not in ENGINE_ONLY_NAMES


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": _compared})
        return compare_metadata(context, Model.metadata)


def test_migrated_schema_matches_the_models(app_ctx):
    differences = schema_differences()
    assert differences == [], "\n".join(map(str, differences))
