"""The migrations build exactly the schema the models describe: a model and its migration cannot drift apart.

Alembic's autogenerate comparison of the migrated database with the models' metadata finds nothing to add,
drop or alter (tables, columns, types, nullability, indexes).
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.extensions import db
from webapp.models import Model


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Model.metadata)


def test_migrated_schema_matches_the_models(app_ctx):
    differences = schema_differences()
    assert differences == [], "\n".join(map(str, differences))
