"""A scoped datamodel with columns computed from the row and filters of our own.

FAB's list and show widgets read every column through the datamodel (`_get_attr_value`), so a column that
is no attribute of the model (an invoice's status as the user sees it, with "overdue" derived from the due
date) can be computed there, once, for lists and detail pages alike. Filters that are no comparison of one
column with a value (the status as shown, a member by membership number) are given per column; they replace
FAB's own filters of that column.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_appbuilder.models.sqla.filters import SQLAFilterConverter

from webapp.views.scoped_interface import ScopedInterface


class _ConverterWithOwnFilters(SQLAFilterConverter):
    """FAB's filters per column type, except for the columns the datamodel names filters of its own for."""

    def convert(self, col_name):
        own = getattr(self.datamodel, "own_filters", {}).get(col_name)
        if own:
            return [filter_class(col_name, self.datamodel) for filter_class in own]
        return super().convert(col_name)


class ComputedInterface(ScopedInterface):
    """ScopedInterface plus computed columns (name -> function of the row) and own filters (column -> classes)."""

    filter_converter_class = _ConverterWithOwnFilters

    def __init__(self, obj, session=None, eager: tuple[str, ...] = (),
                 computed: dict[str, Callable] | None = None, own_filters: dict[str, list] | None = None):
        self.computed = dict(computed or {})
        self.own_filters = dict(own_filters or {})
        super().__init__(obj, session=session, eager=eager)

    def _get_attr_value(self, item, col):
        if col in self.computed:
            return self.computed[col](item)
        return super()._get_attr_value(item, col)
