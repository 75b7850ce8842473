"""What the notebooks share: a reader that runs service and report functions in the app's context, and chart selections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def app_reader() -> Callable[..., Any]:
    """An app with the same settings as the web app (DATABASE_URL chooses the database), and
    `read(function, *args)` that calls a service or report function inside its context."""
    from webapp import create_app

    flask_app = create_app()

    def read(function: Callable[..., Any], *args: Any) -> Any:
        with flask_app.app_context():
            return function(*args)

    return read


def chosen(chart, field: str) -> list:
    """The values of `field` in a marimo altair chart's selection; empty when nothing is selected."""
    value = chart.value
    if value is None or len(value) == 0 or field not in value.columns:
        return []
    return sorted(set(value[field].to_list()))
