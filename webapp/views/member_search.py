"""Name search in the member lists at a million members.

FAB's "contains" filter is an ILIKE '%text%', which reads every member unless an index serves it. On PostgreSQL
the trigram GIN indexes of migration a18b00000001 serve the ILIKE itself; a search of at most COUNT_CAP matches
has them sorted (ScopedInterface.sorted_match_ids), not read off the sort column's index.
On SQLite the FTS5 table member_name_search (trigram tokenizer, kept by triggers on member) finds the candidates
first; FAB's own condition then keeps exactly the rows it always kept (the trigram match folds case more widely
than SQLite's LIKE, so it finds a superset, never fewer).
"""

from __future__ import annotations

from flask_appbuilder.models.sqla.filters import FilterContains, SQLAFilterConverter
from sqlalchemy import literal_column, select, table

from webapp.views.scoped_interface import ScopedInterface

NAME_SEARCH_TABLE = "member_name_search"
NAME_SEARCH_COLUMNS = ("last_name", "first_name")
# The trigram index needs three characters in a row; LIKE's wildcards in the text break them up.
SHORTEST_INDEXED = 3


def name_candidates(column: str, value: str):
    """The ids of members whose `column` may contain `value`, from the FTS5 table (SQLite).

    A quoted phrase of the trigram tokenizer matches where the text's trigrams stand in a row (case folded), which
    is cheaper than the table's own LIKE: that one reads every candidate's name again."""
    phrase = '"' + value.replace('"', '""') + '"'
    return select(literal_column("rowid")).select_from(table(NAME_SEARCH_TABLE)).where(
        literal_column(NAME_SEARCH_TABLE).op("MATCH")(f"{column} : {phrase}"))


class NameContains(FilterContains):
    """FAB's "contains" for a member's name, narrowed by the name search table on SQLite."""

    def apply(self, query, value):
        query = super().apply(query, value)
        text = str(value)
        dialect = self.datamodel.session.get_bind().dialect.name
        if dialect == "sqlite" and len(text) >= SHORTEST_INDEXED and "%" not in text and "_" not in text:
            query = query.filter(self.model.id.in_(name_candidates(self.column_name, text)))
        return query


class _MemberFilterConverter(SQLAFilterConverter):
    def convert(self, col_name):
        filters = super().convert(col_name)
        if col_name not in NAME_SEARCH_COLUMNS:
            return filters
        return [NameContains(col_name, self.datamodel) if type(f) is FilterContains else f for f in filters or []]


class MemberInterface(ScopedInterface):
    """The scoped datamodel of the member screens and API, with the fast name search."""

    filter_converter_class = _MemberFilterConverter


def with_name_search(filters):
    """The API's filters with FAB's own "contains" on a name swapped for NameContains (FAB's REST filters take
    the class of an operator from one global table, not from the datamodel's converter)."""
    for index, flt in enumerate(filters.filters):
        if type(flt) is FilterContains and flt.column_name in NAME_SEARCH_COLUMNS:
            filters.filters[index] = NameContains(flt.column_name, flt.datamodel)
    return filters
