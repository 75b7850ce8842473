"""Cells of every CSV and XLSX export, so that no text becomes a live formula in a spreadsheet (CSV injection).

A name such as `=HYPERLINK("http://…")` or `@SUM(1)` typed by a member or an employer would otherwise run
when the office opens the file. Text that starts with a character a spreadsheet reads as a formula gets a
leading apostrophe, which makes it text; numbers stay numbers. Every writer calls `neutralised_row`, and
a reader of our own files (the deduction-list upload) calls `restored` to get back what was typed.
"""

from __future__ import annotations

from collections.abc import Iterable

# = + - @ start a formula; a tab or carriage return in front of one still starts it in some spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"


def neutralised(value):
    """The value as a cell: text that a spreadsheet would run gets a leading apostrophe; other values as given."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return TEXT_MARK + value
    return value


def neutralised_row(values: Iterable) -> list:
    return [neutralised(value) for value in values]


def restored(text: str) -> str:
    """A cell read back from one of our files: the apostrophe `neutralised` added is dropped."""
    if text.startswith(TEXT_MARK) and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
