"""The datamodel of every scoped screen and REST API.

The scope lives in the datamodel: `ScopedInterface` adds the row filter of the
acting scope to every query FAB makes through it (lists, counts, show, edit,
delete, actions, related dropdowns and the lookups behind submitted ids), so no
view can forget it.
"""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import Column, asc, desc, func
from sqlalchemy.orm import aliased, joinedload

from webapp.security.rowfilters import visible_clause
from webapp.security.scope import get_scope

# A list counts its rows up to this many; past it, the list says "more than" (ListCount.more_than).
COUNT_CAP = 10_000
# A list of at most this many rows (counted exactly) has them found first and sorted, not read off the index of
# its sort column (ScopedInterface.sorted_match_ids).
SORT_MATCHES_UP_TO = COUNT_CAP
# A page that needs this many rows counted (page 3,996 and on at 25 a page) counts every row the filters reach,
# with no limit: a limit keeps PostgreSQL from counting in parallel and SQLite from counting an index's entries
# without reading them one by one. The last page of a million members: 150 ms -> 100 ms for the count alone.
PLAIN_COUNT_FROM = 100_000


class ListCount(int):
    """The row count of a list, exact unless `more_than` is set (then there are more rows than that)."""

    more_than: int | None

    def __new__(cls, value: int, more_than: int | None = None):
        count = super().__new__(cls, value)
        count.more_than = more_than
        return count


class ScopedInterface(SQLAInterface):
    """SQLAInterface that only ever reaches rows of the acting scope."""

    view_name: str | None = None

    def __init__(self, obj, session=None, eager: tuple[str, ...] = ()):
        super().__init__(obj, session=session)
        self.eager = eager

    def get_related_interface(self, col_name: str):
        return ScopedInterface(self.get_related_model(col_name))

    def _apply_inner_all(self, query, filters=None, *args, **kwargs):
        grants = get_scope().grants_for_view(self.view_name)
        query = query.filter(visible_clause(self.obj, grants))
        return super()._apply_inner_all(query, filters, *args, **kwargs)

    def apply_all(self, query, *args, **kwargs):
        """The rows themselves (not the count) load the listed relations in the same query."""
        query = super().apply_all(query, *args, **kwargs)
        if self.eager:
            query = query.options(*(joinedload(getattr(self.obj, name)) for name in self.eager))
        return query

    def list_count(self, filters, page: int | None, page_size: int) -> ListCount:
        """The rows the filters reach, counted up to COUNT_CAP (or a few pages past the page asked for)."""
        primary_key = self.obj.__mapper__.primary_key[0]
        limit = max(COUNT_CAP, ((page or 0) + 4) * page_size)
        reached = self._apply_inner_all(self.session.query(primary_key), filters, aliases_mapping={})
        if limit >= PLAIN_COUNT_FROM:
            return ListCount(self.session.query(func.count()).select_from(reached.subquery()).scalar())
        found = self.session.query(func.count()).select_from(reached.limit(limit + 1).subquery()).scalar()
        return ListCount(found, more_than=limit if found > limit else None)

    def query(self, filters=None, order_column="", order_direction="", page=None, page_size=None,
              select_columns=None, outer_default_load=False):
        """A page in two steps: the page's ids through the narrow indexes, then those rows.

        Sorting whole rows to keep 25 is what made list pages slow; sorting ids is cheap, and with an index per
        sortable column (ending in the id, FAB's tie-breaker) a page is read off the index. The count stops at
        COUNT_CAP: counting a million rows for every page cost more than the page.
        """
        if page_size is None or (select_columns and self.exists_col_to_many(select_columns)):
            return super().query(filters, order_column, order_direction, page, page_size, select_columns,
                                 outer_default_load)
        primary_key = self.obj.__mapper__.primary_key[0]
        count = self.list_count(filters, page, page_size)
        if not order_column:  # a list without an order (the API's) pages by id, not the engine's whim
            order_column, order_direction = primary_key.key, "asc"
        ids = self.page_ids(filters, order_column, order_direction, page or 0, page_size, count)
        if not ids:
            return count, []
        rows = self.session.query(self.obj).filter(primary_key.in_(ids))
        if select_columns:  # the API: only the columns it lists, as FAB's own query loads them
            rows = self.apply_inner_select_joins(rows, select_columns, aliases_mapping={})
        elif self.eager:
            rows = rows.options(*(joinedload(getattr(self.obj, name)) for name in self.eager))
        items = [getattr(row, self.obj.__name__, row) for row in rows.all()]
        position = {pk: index for index, pk in enumerate(ids)}
        return count, sorted(items, key=lambda item: position[getattr(item, primary_key.key)])

    def page_ids(self, filters, order_column: str, order_direction: str, page: int, page_size: int,
                 count: ListCount) -> list:
        """The ids of the page, in the list's order.

        A page in the back half of a list counted exactly is read from the end: the order reversed (each column of
        ORDER BY turned, the id too, so NULLs also come the other way round on both engines), skipping the rows
        after the page, then turned back. Skipping 999,975 rows for the last page of a million took 1.2 s (API) to
        9 s (screen) on SQLite; from the end it skips none, and what is left is the count, which such a page needs
        anyway (list_count counts past the page asked for)."""
        primary_key = self.obj.__mapper__.primary_key[0]
        offset = page * page_size
        if count.more_than is None and 0 < count <= SORT_MATCHES_UP_TO and offset < count:
            sorted_ids = self.sorted_match_ids(filters, order_column, order_direction, offset, page_size)
            if sorted_ids is not None:
                return sorted_ids
        after = count - offset - page_size  # rows after the page
        if count.more_than is not None or offset >= count or offset <= after:
            id_query = self._apply_inner_all(self.session.query(primary_key), filters, order_column, order_direction,
                                             page, page_size, aliases_mapping={})
            return [row[0] for row in id_query.all()]
        reverse = "desc" if order_direction == "asc" else "asc"
        id_query = self._apply_inner_all(self.session.query(primary_key), filters, order_column, reverse,
                                         aliases_mapping={})
        id_query = id_query.offset(max(after, 0)).limit(page_size + min(after, 0))
        return [row[0] for row in id_query.all()][::-1]

    def sorted_match_ids(self, filters, order_column: str, order_direction: str, offset: int,
                         page_size: int) -> list | None:
        """The ids of a page of a short list (SORT_MATCHES_UP_TO rows or fewer): its rows found first, then sorted
        (None when the list is sorted by something other than a column of the model).

        Left to itself, the planner reads such a page off the index of its sort column, expecting the rows the
        filters keep to be spread over it, and stops at the page's end; rows that all sort together (a name search
        for 'Rønning' sorted by last name) make it read the index up to them. The rows are selected in a subquery
        with OFFSET 0, which neither engine merges into the query around it, so its filters use their own indexes
        (the name search's trigram index), and then at most SORT_MATCHES_UP_TO rows are sorted."""
        attribute = self.obj.__mapper__.column_attrs.get(order_column)
        if attribute is None or not isinstance(attribute.columns[0], Column):
            return None
        primary_key = self.obj.__mapper__.primary_key[0]
        selected = dict.fromkeys((primary_key, attribute.columns[0]))  # the id once when the list is sorted by it
        matches = self._apply_inner_all(self.session.query(*selected), filters, aliases_mapping={})
        row = aliased(self.obj, matches.offset(0).subquery("match"))
        direction = asc if order_direction == "asc" else desc
        page = (self.session.query(getattr(row, primary_key.key))
                .order_by(direction(getattr(row, order_column)), direction(getattr(row, primary_key.key)))
                .offset(offset).limit(page_size))
        return [row_id for (row_id,) in page.all()]
